"""decode_yolo_pose on synthetic raw outputs whose people are known exactly."""
import numpy as np
import pytest

from pose_ros.core.families.yolo_pose.decode import decode_yolo_pose

K = 17


def raw_output(people, anchors=50):
    """(5 + 3K, anchors) with the given (cx, cy, w, h, score, keypoints (K, 3)) at the first anchors."""
    out = np.zeros((5 + 3 * K, anchors), np.float32)
    out[4] = 0.01  # background anchors
    for i, (cx, cy, w, h, score, kps) in enumerate(people):
        out[:5, i] = cx, cy, w, h, score
        out[5:, i] = kps.reshape(-1)
    return out


def kps_at(x, y):
    kps = np.zeros((K, 3), np.float32)
    kps[:, 0], kps[:, 1], kps[:, 2] = x + np.arange(K), y, 0.9
    return kps


def test_people_come_back_as_xyxy_with_their_keypoints_best_first():
    out = raw_output([(100, 100, 40, 80, 0.6, kps_at(90, 70)), (300, 200, 20, 20, 0.9, kps_at(295, 195))])
    boxes, scores, kps = decode_yolo_pose(out, K, 0.25, 0.7, 100)
    np.testing.assert_allclose(scores, [0.9, 0.6])
    np.testing.assert_allclose(boxes, [[290, 190, 310, 210], [80, 60, 120, 140]])
    np.testing.assert_allclose(kps[1], kps_at(90, 70))


@pytest.mark.parametrize("second_box, kept", [
    ((102, 100, 40, 80), 1),   # IoU ~0.9 with the first: suppressed
    ((130, 100, 40, 80), 2),   # IoU ~0.14: both kept
])
def test_nms_suppresses_only_overlapping_people(second_box, kept):
    out = raw_output([(100, 100, 40, 80, 0.9, kps_at(0, 0)), (*second_box, 0.8, kps_at(0, 0))])
    boxes, scores, _ = decode_yolo_pose(out, K, 0.25, 0.7, 100)
    assert len(scores) == kept and scores[0] == pytest.approx(0.9)


def test_threshold_is_strict_and_max_people_keeps_the_best():
    people = [(50 * i + 30, 50, 20, 20, s, kps_at(0, 0)) for i, s in enumerate([0.25, 0.3, 0.8, 0.5])]
    _, scores, _ = decode_yolo_pose(raw_output(people), K, 0.25, 0.7, 100)
    np.testing.assert_allclose(scores, [0.8, 0.5, 0.3])
    _, scores, _ = decode_yolo_pose(raw_output(people), K, 0.25, 0.7, 2)
    np.testing.assert_allclose(scores, [0.8, 0.5])


def test_nobody_above_threshold_gives_empty_arrays_of_the_right_shape():
    boxes, scores, kps = decode_yolo_pose(raw_output([]), K, 0.25, 0.7, 100)
    assert boxes.shape == (0, 4) and scores.shape == (0,) and kps.shape == (0, K, 3)


def test_wrong_layout_is_rejected():
    with pytest.raises(ValueError, match=r"56 rows, expected 5 \+ 3\*12"):
        decode_yolo_pose(np.zeros((56, 10), np.float32), 12, 0.25, 0.7, 10)
