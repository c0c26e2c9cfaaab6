"""The MediaPipe reference (mediapipe 0.10.14's own BlazePose, in its test-only venv) runs and answers sensibly.

This checks the reference itself, not our re-implementation: the venv builds (or is found current), the script
prints one JSON document, and on grace_hopper.jpg it finds the one person with plausible landmarks.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "tools/reference/mediapipe_pose.py"

# BlazePose landmark indices (MediaPipe's PoseLandmark enum).
NOSE, LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP = 0, 11, 12, 23, 24


def _load_mediapipe_env():
    spec = importlib.util.spec_from_file_location("mediapipe_env", REPO / "tools/reference/mediapipe_env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def grace_hopper_reference(photos):
    mediapipe_env = _load_mediapipe_env()
    python = mediapipe_env.ensure_mediapipe_env()
    path = photos["grace_hopper.jpg"]
    result = subprocess.run([str(python), str(SCRIPT), str(path)], capture_output=True, text=True, timeout=300,
                            env=mediapipe_env.clean_env(), stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-3000:]
    doc = json.loads(result.stdout)  # stdout is exactly one JSON document: all logging went to stderr
    assert [Path(im["path"]) for im in doc["images"]] == [path]
    return doc["images"][0]


def test_env_second_call_is_fast_and_stable():
    import time

    mediapipe_env = _load_mediapipe_env()
    first = mediapipe_env.ensure_mediapipe_env()
    t0 = time.monotonic()
    again = mediapipe_env.ensure_mediapipe_env()
    assert again == first and again.exists()
    assert time.monotonic() - t0 < 1.0


def test_grace_hopper_has_plausible_landmarks(grace_hopper_reference):
    ref = grace_hopper_reference
    assert ref["shape"] == [600, 512]
    assert ref["found"] is True
    lm = np.array(ref["landmarks"], dtype=np.float64)
    assert lm.shape == (33, 5)
    assert np.isfinite(lm).all()
    xy, visibility, presence = lm[:, :2], lm[:, 3], lm[:, 4]
    assert ((visibility >= 0) & (visibility <= 1)).all() and ((presence >= 0) & (presence <= 1)).all()
    # A head-and-shoulders portrait: the face and shoulders are in view and confidently visible, ...
    upper = [NOSE, *range(1, 11), LEFT_SHOULDER, RIGHT_SHOULDER]
    h, w = ref["shape"]
    assert (visibility[upper] > 0.9).all()
    assert ((xy[upper] >= 0) & (xy[upper] <= [w, h])).all()
    # ... the nose is above the shoulders, which are above the (out of frame) hips, ...
    shoulders_y = xy[[LEFT_SHOULDER, RIGHT_SHOULDER], 1].mean()
    assert xy[NOSE, 1] < shoulders_y < xy[[LEFT_HIP, RIGHT_HIP], 1].mean()
    # ... the person's left shoulder is on the image's right (she faces the camera), shoulders wider than the eyes.
    assert xy[LEFT_SHOULDER, 0] > xy[NOSE, 0] > xy[RIGHT_SHOULDER, 0]
    assert xy[LEFT_SHOULDER, 0] - xy[RIGHT_SHOULDER, 0] > 2 * abs(xy[2, 0] - xy[5, 0])
    # Every visible landmark (visibility > 0.5) lies within the image.
    visible = visibility > 0.5
    assert visible.sum() >= 13
    assert ((xy[visible] >= 0) & (xy[visible] <= [w, h])).all()
