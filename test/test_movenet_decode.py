"""MoveNet decoding (families/movenet/decode.py) on synthetic rows, and MultiPose on the sample photos."""
import numpy as np
import pytest

from pose_ros.core.families.movenet.decode import decode_multipose, decode_singlepose


def row(y, x, score, box):
    kps = np.tile([y, x, 0.8], 17)
    return np.concatenate([kps, box, [score]])


@pytest.mark.parametrize("scores, threshold, kept", [
    ([0.9, 0.1, 0.1, 0.1, 0.1, 0.1], 0.25, [0]),
    ([0.9, 0.3, 0.1, 0.1, 0.1, 0.26], 0.25, [0, 1, 5]),
    ([0.2] * 6, 0.25, []),
    ([0.25] * 6, 0.25, list(range(6))),  # the cut keeps scores equal to the minimum
])
def test_multipose_score_cut(scores, threshold, kept):
    out = np.stack([row(0.5, 0.25, s, [0.1, 0.2, 0.9, 0.4]) for s in scores])
    boxes, got, keypoints = decode_multipose(out, (256, 128), threshold)
    np.testing.assert_allclose(got, np.asarray(scores, np.float32)[kept])
    assert keypoints.shape == (len(kept), 17, 3)


@pytest.mark.parametrize("hw, box, expected_xyxy, expected_xy", [
    ((256, 256), [0.1, 0.2, 0.9, 0.4], [51.2, 25.6, 102.4, 230.4], [64.0, 128.0]),
    ((256, 128), [0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 128.0, 256.0], [32.0, 128.0]),
])
def test_multipose_scales_yx_to_xy_pixels(hw, box, expected_xyxy, expected_xy):
    out = np.stack([row(0.5, 0.25, 0.9, box)] + [row(0, 0, 0.0, [0, 0, 0, 0])] * 5)
    boxes, _, keypoints = decode_multipose(out, hw, 0.25)
    np.testing.assert_allclose(boxes[0], expected_xyxy, rtol=1e-6)
    np.testing.assert_allclose(keypoints[0, :, :2], np.tile(expected_xy, (17, 1)), rtol=1e-6)
    np.testing.assert_allclose(keypoints[0, :, 2], 0.8, rtol=1e-6)


def test_singlepose_scales_to_crop():
    out = np.tile([0.5, 0.25, 0.7], (1, 1, 17, 1))
    np.testing.assert_allclose(decode_singlepose(out, (192, 96))[3], [24.0, 96.0, 0.7], rtol=1e-6)


def test_multipose_on_bus(bus_image):
    from pose_ros.core.config import PoseConfig
    from pose_ros.core.pipeline import build_estimator
    from pose_ros.core.profiles import load_profile

    poses = build_estimator(load_profile("movenet_multipose", PoseConfig))(bus_image)
    # The model finds 2 of bus.jpg's 4 people at its own scores (a property of the model; see the issue).
    assert len(poses.scores) >= 2
    assert np.all(np.diff(poses.scores) <= 0)
    inside = ((poses.keypoints[..., 0] >= poses.boxes[:, None, 0] - 1) & (poses.keypoints[..., 0] <= poses.boxes[:, None, 2] + 1))
    assert inside[poses.keypoints[..., 2] > 0].mean() > 0.9


@pytest.mark.parametrize("profile", ["movenet_lightning", "movenet_thunder"])
def test_topdown_movenet_keypoints_inside_detector_boxes(profile, bus_image):
    from pose_ros.core.config import PoseConfig
    from pose_ros.core.pipeline import build_estimator
    from pose_ros.core.profiles import load_profile

    poses = build_estimator(load_profile(profile, PoseConfig))(bus_image)
    assert len(poses.scores) >= 3
    seen = poses.keypoints[..., 2] > 0
    x, y = poses.keypoints[..., 0], poses.keypoints[..., 1]
    # Padded crops (x1.25) may put a joint a little outside the detector's box, not far.
    margin = 0.15 * (poses.boxes[:, 3] - poses.boxes[:, 1])[:, None]
    inside = ((x >= poses.boxes[:, None, 0] - margin) & (x <= poses.boxes[:, None, 2] + margin)
              & (y >= poses.boxes[:, None, 1] - margin) & (y <= poses.boxes[:, None, 3] + margin))
    assert seen.sum() > 20 and inside[seen].mean() > 0.95
