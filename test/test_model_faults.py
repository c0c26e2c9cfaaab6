"""Model faults: a missing, truncated, tampered or non-ONNX model file, or a GPU that is not there, makes
configure fail with a clear reason; the node stays alive and a fixed configuration recovers."""
import json
import shutil

import pytest

from pose_ros.core.runtime.backend import BackendError
from pose_ros.core.config import PoseConfig
from pose_ros.core.models import ModelError, default_model_dir, file_sha256
from pose_ros.core.pipeline import build_estimator

from ros_harness import RosHarness


def _models(tmp_path, damage):
    """A models dir with a copy of the YOLO model, damaged by ``damage(path, manifest_entry)``."""
    manifest = json.loads((default_model_dir() / "manifest.json").read_text())
    entry = dict(manifest["models"]["yolo11n_pose"])
    path = tmp_path / entry["file"]
    shutil.copy(default_model_dir() / entry["file"], path)
    damage(path, entry)
    (tmp_path / "manifest.json").write_text(json.dumps({"models": {"yolo11n_pose": entry}}))
    return tmp_path


def _missing(path, entry):
    path.unlink()


def _truncated(path, entry):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _wrong_sha(path, entry):
    entry["sha256"] = "0" * 64


def _not_onnx(path, entry):
    """Not a model at all, with a manifest that vouches for it: the loader itself must refuse it."""
    path.write_bytes(b"import os; os.system('echo pwned')\n" * 100)
    entry["sha256"] = file_sha256(path)


@pytest.mark.parametrize("damage, error, message", [
    (_missing, ModelError, "is missing"),
    (_truncated, ModelError, "sha256"),
    (_wrong_sha, ModelError, "sha256"),
    (_not_onnx, BackendError, "cannot load model file"),
])
def test_bad_model_files_fail_with_the_file_named(tmp_path, damage, error, message):
    model_dir = _models(tmp_path, damage)
    with pytest.raises(error, match=message) as err:
        build_estimator(PoseConfig(device="cpu", model_dir=str(model_dir)))
    assert "yolo11n_pose.onnx" in str(err.value)


def test_missing_gpu_falls_back_to_cpu_or_fails_when_forbidden():
    estimator = build_estimator(PoseConfig(device="cuda"))  # no GPU here: logged fall back
    assert estimator.backend.providers == ("CPUExecutionProvider",)
    with pytest.raises(BackendError, match="CPU fall back is off"):
        build_estimator(PoseConfig(device="cuda", allow_cpu_fallback=False))


@pytest.mark.parametrize("damage", [_truncated, _not_onnx], ids=["truncated", "not_onnx"])
def test_node_survives_a_bad_model_and_recovers_with_a_fixed_one(tmp_path, damage):
    ros = RosHarness()
    try:
        ros.pose_node(wait_active=False, autostart=False, device="cpu", model_dir=str(_models(tmp_path, damage)))
        assert not ros.change_state("configure") and ros.lifecycle_state() == "unconfigured"
        assert ros.set_parameters(("model_dir", ""))[0].successful
        assert ros.change_state("configure") and ros.change_state("activate")
        assert ros.lifecycle_state() == "active"
    finally:
        ros.close()
