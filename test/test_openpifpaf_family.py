"""The openpifpaf family end to end on a real network: a shufflenetv2k16 initialised at random by OpenPifPaf 0.13.11
(its reference venv), exported to ONNX (TorchScript exporter), run through the family on a photo and through the node
over DDS. Random weights find no real people: this checks the plumbing (input tensor, output names and shapes,
stride, letterbox back to the photo) and that the family decodes the network's own fields as OpenPifPaf does.
Also: without weights, configure fails saying how to install them (the models step's own code writes the reason).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from pose_ros.core.config import PoseConfig
from pose_ros.core.families.openpifpaf import OpenPifPaf
from pose_ros.core.families.openpifpaf.decode import decode_cifcaf, sanitize_fields
from pose_ros.core.models import ModelError, file_sha256
from pose_ros.core.pipeline import build_estimator
from pose_ros.msg import PoseArray

from ros_harness import Collector, RosHarness, image_msg, stamp_ns

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "devtools" / "reference"))
sys.path.insert(0, str(REPO / "devtools" / "models"))
from openpifpaf_env import clean_env, ensure_openpifpaf_env  # noqa: E402

REFERENCE = REPO / "devtools" / "reference" / "openpifpaf_reference.py"
INPUT_HW = (481, 641)


@pytest.fixture(scope="module")
def random_model_dir(tmp_path_factory):
    python = ensure_openpifpaf_env()
    model_dir = tmp_path_factory.mktemp("openpifpaf_models")
    onnx = model_dir / "openpifpaf.onnx"
    proc = subprocess.run([str(python), str(REFERENCE), "export", str(onnx), "--width", str(INPUT_HW[1]),
                           "--height", str(INPUT_HW[0])], env=clean_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    assert info["stride"] == 16
    entry = {"file": onnx.name, "sha256": file_sha256(onnx), "family": "openpifpaf", "input_size": list(INPUT_HW),
             "skeleton": "coco17", "licence": "test: random weights", "stride": info["stride"]}
    (model_dir / "manifest.json").write_text(json.dumps({"models": {"openpifpaf": entry}}))
    return model_dir


def _config(model_dir, **kw):
    return PoseConfig(mode="bottom_up", model="openpifpaf", device="cpu", model_dir=str(model_dir), **kw)


def test_random_shufflenetv2k16_runs_through_the_family(random_model_dir, bus_image, tmp_path):
    estimator = build_estimator(_config(random_model_dir))
    assert isinstance(estimator, OpenPifPaf) and estimator.paradigm == "keypoints_first"
    tensor, letterbox = estimator.preprocess(bus_image)
    assert tensor.shape == (1, 3, *INPUT_HW) and tensor.dtype == np.float32
    outputs = estimator.backend.run({estimator.backend.input_names[0]: tensor})
    cif, caf = (outputs[estimator.backend.output_names.index(n)] for n in ("cif", "caf"))
    assert cif.shape == (1, 17, 5, 31, 41) and caf.shape == (1, 19, 8, 31, 41)   # stride 16 on 481x641
    # the heads' eval-mode decoding is in the graph: confidences in [0, 1], regressions near their cell, scales >= 0
    assert 0 <= cif[:, :, 1].min() and cif[:, :, 1].max() <= 1 and (cif[:, :, 4] >= 0).all()
    offset = cif[0, :, 2] - np.arange(41)[None, None, :]
    assert np.abs(np.median(offset)) < 3
    poses = estimator(bus_image)
    h, w = bus_image.shape[:2]
    assert poses.keypoints.shape[1:] == (17, 3) and len(poses) <= estimator.config.max_people
    assert (poses.keypoints[..., 0] >= 0).all() and (poses.keypoints[..., 0] <= w).all()
    assert (poses.keypoints[..., 1] >= 0).all() and (poses.keypoints[..., 1] <= h).all()

    # the network's own fields, decoded by OpenPifPaf and by the family's decoder: the same people
    np.savez(tmp_path / "fields.npz", stride=np.array(16), cif_net=sanitize_fields(cif[0]),
             caf_net=sanitize_fields(caf[0]))
    proc = subprocess.run([str(ensure_openpifpaf_env()), str(REFERENCE), "decode", str(tmp_path / "fields.npz"),
                           str(tmp_path / "out.npz")], env=clean_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    theirs = np.load(tmp_path / "out.npz")
    joints, scores = decode_cifcaf(sanitize_fields(cif[0]), sanitize_fields(caf[0]), 16)
    assert joints.shape == theirs["joints_net"].shape
    np.testing.assert_allclose(np.sort(scores), np.sort(theirs["scores_net"]), atol=1e-4)


def test_node_answers_with_the_random_network(random_model_dir, bus_image):
    ros = RosHarness()
    try:
        ros.pose_node(mode="bottom_up", model="openpifpaf", device="cpu", model_dir=str(random_model_dir))
        poses = Collector()
        ros.probe.create_subscription(PoseArray, "/pose_node/poses", poses, 10)
        pub = ros.probe.create_publisher(Image, "/image", QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
        ros.wait_for_subscribers(pub)
        pub.publish(image_msg(bus_image, 11))
        assert poses.wait_for(lambda m: any(stamp_ns(p.header) == 11 for p in m), 120.0), "no answer"
        msg = next(p for p in poses.messages if stamp_ns(p.header) == 11)
        assert msg.model == "openpifpaf" and msg.image_width == bus_image.shape[1]
    finally:
        ros.close()


@pytest.fixture
def no_weights(tmp_path, monkeypatch):
    """A models dir where the models step (its own code, no network) found no OpenPifPaf checkpoint."""
    import prepare_models

    monkeypatch.delenv("POSE_ROS_OPENPIFPAF_CHECKPOINT", raising=False)
    ctx = prepare_models.Context(cache=tmp_path, model_dir=tmp_path / "models", force=False, rebuild_venv=False)
    prepare_models.prepare(ctx, prepare_models.MODELS["openpifpaf"])   # not asked for by name: never downloads
    assert not (ctx.model_dir / "openpifpaf.onnx").exists()
    return ctx.model_dir


def test_configure_without_weights_says_how_to_install(no_weights):
    with pytest.raises(ModelError) as err:
        build_estimator(_config(no_weights))
    message = str(err.value)
    assert "POSE_ROS_OPENPIFPAF_CHECKPOINT" in message and "prepare_models.py --only openpifpaf" in message


def test_checkpoint_variable_naming_no_file_is_reported(tmp_path, monkeypatch):
    import prepare_models

    monkeypatch.setenv("POSE_ROS_OPENPIFPAF_CHECKPOINT", str(tmp_path / "nothing.pkl"))
    ctx = prepare_models.Context(cache=tmp_path, model_dir=tmp_path / "models", force=False, rebuild_venv=False)
    prepare_models.prepare(ctx, prepare_models.MODELS["openpifpaf"])
    with pytest.raises(ModelError, match="nothing.pkl is not a file"):
        build_estimator(_config(ctx.model_dir))


def test_node_configure_fails_without_weights_and_recovers(no_weights, random_model_dir):
    ros = RosHarness()
    try:
        ros.pose_node(wait_active=False, autostart=False, mode="bottom_up", model="openpifpaf", device="cpu",
                      model_dir=str(no_weights))
        assert not ros.change_state("configure") and ros.lifecycle_state() == "unconfigured"
        assert ros.set_parameters(("model_dir", str(random_model_dir)))[0].successful
        assert ros.change_state("configure") and ros.lifecycle_state() == "inactive"
    finally:
        ros.close()


def test_models_step_exports_a_user_checkpoint_and_pins_it_on_first_use(tmp_path, monkeypatch, bus_image):
    """POSE_ROS_OPENPIFPAF_CHECKPOINT through the models step's own code: a checkpoint in OpenPifPaf's format (random
    weights: no trained ones here) is exported in the reference venv, recorded with its sha256, and runs; changed
    bytes under the same name are refused afterwards (trust on first use)."""
    import prepare_models

    ckpt = tmp_path / "my-shufflenetv2k16.pkl"
    proc = subprocess.run([str(ensure_openpifpaf_env()), str(REFERENCE), "random-checkpoint", str(ckpt)],
                          env=clean_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    monkeypatch.setenv("POSE_ROS_OPENPIFPAF_CHECKPOINT", str(ckpt))
    monkeypatch.delenv("POSE_ROS_OPENPIFPAF_CHECKPOINT_SHA256", raising=False)
    cache = ensure_openpifpaf_env().parents[2]   # a cache of our own for downloads/ and the manifest, the same venvs
    for venv in ("venv-tools", "venv-openpifpaf"):
        (tmp_path / venv).symlink_to(cache / venv)
    ctx = prepare_models.Context(cache=tmp_path, model_dir=tmp_path / "models", force=False, rebuild_venv=False)
    prepare_models.prepare(ctx, prepare_models.MODELS["openpifpaf"])
    entry = json.loads((ctx.model_dir / "manifest.json").read_text())["models"]["openpifpaf"]
    assert entry["checkpoint_sha256"] == file_sha256(ckpt) and entry["checkpoint_sha256_source"] == "first use"
    assert entry["stride"] == 16 and entry["input_size"] == list(INPUT_HW)
    poses = build_estimator(_config(ctx.model_dir))(bus_image)
    assert poses.keypoints.shape[1:] == (17, 3)

    ckpt.write_bytes(ckpt.read_bytes() + b"\0")   # same name, other bytes
    forced = prepare_models.Context(cache=tmp_path, model_dir=ctx.model_dir, force=True, rebuild_venv=False)
    with pytest.raises(prepare_models.PrepareError, match="first use recorded"):
        prepare_models.prepare(forced, prepare_models.MODELS["openpifpaf"])
