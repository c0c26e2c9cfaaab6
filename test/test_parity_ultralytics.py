"""Parity with the reference implementation of the same weights: ultralytics' own predict() on the same
ONNX file (run in the tool environment, where ultralytics lives; the runtime never imports it)."""
import json
import os
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from pose_ros.core.cache import cache_dir
from pose_ros.core.models import resolve_model

REPO = Path(__file__).resolve().parents[1]
TOOLS_PYTHON = cache_dir() / "venv-tools/bin/python"
PHOTOS = ["astronaut.png", "camera.png", "grace_hopper.jpg", "bus.jpg", "zidane.jpg"]
TOLERANCE_PX = 0.5


@pytest.fixture(scope="module")
def reference(photos):
    assert TOOLS_PYTHON.exists(), f"{TOOLS_PYTHON} missing: run `make models` (it builds the tool environment)"
    cmd = [str(TOOLS_PYTHON), str(REPO / "devtools/reference/ultralytics_predict.py"),
           "--model", str(resolve_model("yolo11n_pose").path), *(str(photos[name]) for name in PHOTOS)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return {Path(entry["path"]).name: entry for entry in json.loads(result.stdout)["images"]}


@pytest.mark.parametrize("name", PHOTOS)
def test_boxes_and_keypoints_match_ultralytics_predict(name, photos, reference, yolo_estimator):
    ours = yolo_estimator(cv2.imread(str(photos[name]), cv2.IMREAD_COLOR))
    ref = reference[name]
    ref_boxes = np.array(ref["boxes"], np.float32).reshape(-1, 4)
    assert len(ours) == len(ref_boxes) > 0, f"{name}: {len(ours)} people vs ultralytics {len(ref_boxes)}"
    np.testing.assert_allclose(ours.scores, ref["scores"], atol=1e-4)
    np.testing.assert_allclose(ours.boxes, ref_boxes, atol=TOLERANCE_PX)
    np.testing.assert_allclose(ours.keypoints[..., :2], np.array(ref["keypoints"])[..., :2], atol=TOLERANCE_PX)
    np.testing.assert_allclose(ours.keypoints[..., 2], np.array(ref["keypoints"])[..., 2], atol=1e-4)
