"""Model lookup: a missing or mismatching file fails with a message naming it and the install command."""
import json
import shutil

import pytest

from pose_ros.core.config import ConfigError, PoseConfig
from pose_ros.core.models import INSTALL_COMMAND, ModelError, default_model_dir, resolve_model
from pose_ros.core.pipeline import resolve_config


@pytest.fixture
def model_copy(tmp_path):
    """A models dir holding a real copy of the installed YOLO model and its manifest entry."""
    spec = resolve_model("yolo11n_pose")
    shutil.copy(spec.path, tmp_path / spec.path.name)
    manifest = json.loads((default_model_dir() / "manifest.json").read_text())
    (tmp_path / "manifest.json").write_text(json.dumps({"models": {"yolo11n_pose": manifest["models"]["yolo11n_pose"]}}))
    return tmp_path


def test_installed_model_resolves_and_verifies(model_copy):
    spec = resolve_model("yolo11n_pose", model_copy)
    assert spec.family == "yolo_pose" and spec.skeleton == "coco17" and spec.input_size == (640, 640)


def test_missing_file_names_the_file_and_the_install_command(model_copy):
    (model_copy / "yolo11n_pose.onnx").unlink()
    with pytest.raises(ModelError) as err:
        resolve_model("yolo11n_pose", model_copy)
    assert "yolo11n_pose.onnx" in str(err.value) and INSTALL_COMMAND in str(err.value)


def test_modified_file_fails_its_sha256_check(model_copy):
    with open(model_copy / "yolo11n_pose.onnx", "r+b") as f:
        f.seek(1000)
        f.write(b"\x00\x01\x02")
    with pytest.raises(ModelError, match="sha256"):
        resolve_model("yolo11n_pose", model_copy)


def test_unknown_model_lists_the_installed_ones(model_copy):
    with pytest.raises(ModelError, match="installed: yolo11n_pose"):
        resolve_model("yolo99_pose", model_copy)


def test_missing_manifest_says_how_to_install(tmp_path):
    with pytest.raises(ModelError, match="make models"):
        resolve_model("yolo11n_pose", tmp_path)


@pytest.mark.parametrize("field, value, message", [
    ("mode", "sideways", "valid: bottom_up"),
    ("device", "tpu", "valid: auto, cpu, cuda, tensorrt"),
    ("person_threshold", 1.5, r"outside \[0, 1\]"),
    ("max_people", 0, ">= 1"),
])
def test_invalid_config_is_rejected_before_any_model_loads(field, value, message):
    with pytest.raises(ConfigError, match=message):
        PoseConfig(**{field: value})


def test_config_is_checked_against_the_manifest_without_loading(model_copy):
    (resolved,) = resolve_config(PoseConfig(model_dir=str(model_copy))).values()
    assert resolved.model.name == "yolo11n_pose" and resolved.detector is None and resolved.skeleton.name == "coco17"


@pytest.mark.parametrize("overrides, message", [
    (dict(mode="top_down"), "is a bottom_up model"),
    (dict(skeleton="blazepose33"), "cannot output skeleton 'blazepose33' from a 'coco17' model"),
    (dict(mode="top_down", model="blazepose_landmark_full", detector="blazepose_landmark_full"),
     "cannot feed 'blazepose_landmark_full'"),
    (dict(model="blazepose_detector"), "not a keypoint model"),
])
def test_inconsistent_choices_are_rejected_with_the_reason(overrides, message):
    with pytest.raises(ConfigError, match=message):
        resolve_config(PoseConfig(**overrides))
