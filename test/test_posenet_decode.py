"""PoseNet decoding (families/posenet/decode.py) on synthetic tensors, and the estimator on the sample photos."""
import numpy as np
import pytest

from pose_ros.core.families.posenet.decode import (POSE_CHAIN, decode_multiple_poses, js_round,
                                                   part_candidates)

STRIDE = 16


@pytest.mark.parametrize("value, expected", [(0.5, 1.0), (1.5, 2.0), (2.5, 3.0), (-0.5, 0.0), (-1.5, -1.0),
                                             (0.49, 0.0)])
def test_js_round_rounds_halves_up(value, expected):
    assert js_round(value) == expected


@pytest.mark.parametrize("cells, threshold, expected", [
    ({(1, 1): 0.9}, 0.5, [(1, 1)]),                       # one peak
    ({(1, 1): 0.4}, 0.5, []),                             # below threshold
    ({(1, 1): 0.9, (1, 2): 0.8}, 0.5, [(1, 1)]),          # neighbour is not a local maximum
    ({(1, 1): 0.9, (1, 3): 0.8}, 0.5, [(1, 1), (1, 3)]),  # two cells apart: both maxima, higher first
    ({(0, 0): 0.7, (0, 1): 0.7}, 0.5, [(0, 0), (0, 1)]),  # ties: neither strictly greater, both kept, scan order
    ({(4, 4): 0.6}, 0.5, [(4, 4)]),                       # corner: window clipped at the border
])
def test_part_candidates(cells, threshold, expected):
    scores = np.zeros((5, 5, 17), np.float32)
    for (y, x), v in cells.items():
        scores[y, x, 3] = v
    values, found = part_candidates(scores, threshold)
    assert [(int(y), int(x)) for y, x, _ in found] == expected
    assert all(p == 3 for *_, p in found)
    assert list(values) == sorted(values, reverse=True)


def synthetic(people, size=12):
    """Heatmaps with each person's 17 parts at one cell (zero offsets/displacements): decoding must find each
    person at that cell, whatever part is its root."""
    scores = np.zeros((size, size, 17), np.float32)
    for (y, x), score in people:
        scores[y, x, :] = score
        scores[y, x, 0] = score + 0.05  # the nose is the root
    zeros = np.zeros((size, size, 34), np.float32)
    disp = np.zeros((size, size, 2 * len(POSE_CHAIN)), np.float32)
    return scores, zeros, disp, disp


@pytest.mark.parametrize("people, nms_radius, max_poses, expected_cells", [
    ([((2, 2), 0.9)], 20.0, 5, [(2, 2)]),
    ([((2, 2), 0.9), ((8, 8), 0.7)], 20.0, 5, [(2, 2), (8, 8)]),
    ([((2, 2), 0.7), ((8, 8), 0.9)], 20.0, 5, [(8, 8), (2, 2)]),       # highest root first
    ([((2, 2), 0.9), ((8, 8), 0.7)], 200.0, 5, [(2, 2)]),              # second root inside the NMS radius
    ([((2, 2), 0.9), ((8, 8), 0.7)], 20.0, 1, [(2, 2)]),               # max poses
    ([((2, 2), 0.4)], 20.0, 5, []),                                    # below the part threshold
])
def test_decode_multiple_poses(people, nms_radius, max_poses, expected_cells):
    keypoints, scores = decode_multiple_poses(*synthetic(people), STRIDE, max_poses, 0.5, nms_radius)
    assert keypoints.shape == (len(expected_cells), 17, 3)
    for pose, (y, x) in zip(keypoints, expected_cells):
        np.testing.assert_allclose(pose[:, 0], x * STRIDE)
        np.testing.assert_allclose(pose[:, 1], y * STRIDE)
    score_of = dict(people)
    for score, cell in zip(scores, expected_cells):
        assert score == pytest.approx((score_of[cell] * 17 + 0.05) / 17, abs=1e-6)


def test_displacements_and_offsets_place_the_children():
    """A root nose at cell (5, 5); the left eye displaced by (-1, +1) cells forward plus an offset of (3, -2) px."""
    scores, offsets, fwd, bwd = synthetic([])
    scores[5, 5, 0] = 0.9
    scores[4, 6, 1] = 0.8
    fwd[5, 5, 0], fwd[5, 5, len(POSE_CHAIN)] = -STRIDE, STRIDE  # edge 0 = nose -> left eye (y, x)
    offsets[4, 6, 1], offsets[4, 6, 1 + 17] = 3.0, -2.0
    keypoints, _ = decode_multiple_poses(scores, offsets, fwd, bwd, STRIDE, 1, 0.5, 20.0)
    np.testing.assert_allclose(keypoints[0, 1], [6 * STRIDE - 2.0, 4 * STRIDE + 3.0, 0.8])


def test_posenet_finds_the_bus_people(bus_image):
    from pose_ros.core.config import PoseConfig
    from pose_ros.core.pipeline import build_estimator
    from pose_ros.core.profiles import load_profile

    config = load_profile("posenet", PoseConfig)
    poses = build_estimator(config)(bus_image)
    assert 2 <= len(poses.scores) <= 4
    assert poses.keypoints.shape[1:] == (17, 3)
    assert np.all(poses.scores >= config.person_threshold)
    # Boxes are the keypoints' extent: standing people, taller than wide, in the frame's lower half.
    heights = poses.boxes[:, 3] - poses.boxes[:, 1]
    assert np.all(heights > poses.boxes[:, 2] - poses.boxes[:, 0])
