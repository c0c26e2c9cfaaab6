"""PoseNet multi-person decoding (pure numpy): a port of decodeMultiplePoses from @tensorflow-models/pose-detection
2.1.3 (src/posenet/calculators/decode_multiple_poses.ts and its helpers).

Hand-written because the reference is JavaScript and no Python library ships it. Keypoints first, then grouping:
  1. part candidates = heatmap scores >= score_threshold that are the maximum of their (2r+1)^2 local window
     (vectorised with scipy's maximum_filter), visited from the highest score down;
  2. a candidate within nms_radius of the same part of an already decoded pose is skipped;
  3. from the root part, the pose is grown along the skeleton tree: up the tree with the backward displacements,
     then down with the forward ones, each step refined twice with the target part's short-range offsets;
  4. instance score = mean over the 17 parts of the scores of parts not within nms_radius of an earlier pose.
Inputs are one image's tensors, (H, W, C) as the model outputs them: scores after the sigmoid (H, W, 17), offsets
(H, W, 34: y then x), displacements fwd/bwd (H, W, 32: y then x per edge). Coordinates: model-input pixels.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import maximum_filter

NUM_KEYPOINTS = 17
# COCO-17 ids: nose, l_eye, r_eye, l_ear, r_ear, l_sho, r_sho, l_elb, r_elb, l_wri, r_wri, l_hip, r_hip, l_knee,
# r_knee, l_ank, r_ank. POSE_CHAIN as in pose-detection (parent, child); the displacement channels follow it.
POSE_CHAIN = (
    (0, 1), (1, 3), (0, 2), (2, 4), (0, 5), (5, 7), (7, 9), (5, 11), (11, 13), (13, 15),
    (0, 6), (6, 8), (8, 10), (6, 12), (12, 14), (14, 16),
)
LOCAL_MAXIMUM_RADIUS = 1
OFFSET_REFINE_STEPS = 2


def js_round(values: np.ndarray | float) -> np.ndarray:
    """JavaScript's Math.round: halves go up (numpy rounds halves to even)."""
    return np.floor(np.asarray(values) + 0.5)


def part_candidates(scores: np.ndarray, score_threshold: float,
                    radius: int = LOCAL_MAXIMUM_RADIUS) -> tuple[np.ndarray, np.ndarray]:
    """(score, (y, x, part)) of every local maximum >= threshold, highest score first.

    The reference keeps a part when no neighbour in its window is strictly greater, so ties stay candidates; the
    window is clipped at the border (cval=-inf does the same)."""
    size = (2 * radius + 1, 2 * radius + 1, 1)
    local_max = maximum_filter(scores, size=size, mode="constant", cval=-np.inf)
    ys, xs, parts = np.nonzero((scores >= score_threshold) & (scores >= local_max))
    values = scores[ys, xs, parts]
    # Stable sort: equal scores keep the reference's scan order (y, x, part) as far as a heap allows.
    order = np.argsort(-values, kind="stable")
    return values[order], np.stack([ys, xs, parts], axis=1)[order]


# Steps 2-4 work on one point at a time, as the reference does: plain Python floats (float64, like JavaScript's
# numbers) read with ndarray.item(), several times faster than numpy scalar arithmetic, which keeps the decode's
# cost small next to the model's as the crowd grows.

def _strided_index(y: float, x: float, stride: int, height: int, width: int) -> tuple[int, int]:
    return (min(max(math.floor(y / stride + 0.5), 0), height - 1),
            min(max(math.floor(x / stride + 0.5), 0), width - 1))


def _image_coords(y: int, x: int, part: int, stride: int, offsets) -> tuple[float, float]:
    return y * stride + offsets.item(y, x, part), x * stride + offsets.item(y, x, part + NUM_KEYPOINTS)


def _traverse(edge: int, source: tuple[float, float], target: int, scores, offsets, stride: int,
              displacements, shape: tuple[int, int]) -> tuple[float, float, float]:
    height, width = shape
    num_edges = displacements.shape[2] // 2
    sy, sx = _strided_index(*source, stride, height, width)
    y, x = source[0] + displacements.item(sy, sx, edge), source[1] + displacements.item(sy, sx, num_edges + edge)
    for _ in range(OFFSET_REFINE_STEPS):
        ty, tx = _strided_index(y, x, stride, height, width)
        y, x = _image_coords(ty, tx, target, stride, offsets)
    ty, tx = _strided_index(y, x, stride, height, width)
    return y, x, scores.item(ty, tx, target)


def decode_pose(root_score: float, root: tuple[int, int, int], scores, offsets, stride: int, fwd, bwd,
                shape: tuple[int, int]) -> list:
    """One pose, 17 (y, x, score) triples grown from a root part along POSE_CHAIN (tensors (H, W, C), ``shape`` =
    (H, W))."""
    keypoints: list = [None] * NUM_KEYPOINTS
    y, x, part = root
    keypoints[part] = (*_image_coords(y, x, part, stride, offsets), root_score)
    for edge in range(len(POSE_CHAIN) - 1, -1, -1):  # up the tree: child -> parent, backward displacements
        parent, child = POSE_CHAIN[edge]
        if keypoints[child] is not None and keypoints[parent] is None:
            keypoints[parent] = _traverse(edge, keypoints[child][:2], parent, scores, offsets, stride, bwd, shape)
    for edge, (parent, child) in enumerate(POSE_CHAIN):  # down the tree: forward displacements
        if keypoints[parent] is not None and keypoints[child] is None:
            keypoints[child] = _traverse(edge, keypoints[parent][:2], child, scores, offsets, stride, fwd, shape)
    return keypoints


def _near_existing(poses: list, y: float, x: float, part: int, squared_radius: float) -> bool:
    return any((pose[part][0] - y) ** 2 + (pose[part][1] - x) ** 2 <= squared_radius for pose in poses)


def decode_multiple_poses(scores: np.ndarray, offsets: np.ndarray, fwd: np.ndarray, bwd: np.ndarray, stride: int,
                          max_poses: int = 5, score_threshold: float = 0.5,
                          nms_radius: float = 20.0) -> tuple[np.ndarray, np.ndarray]:
    """Poses (N, 17, 3: x, y, score) in model-input pixels (float64, as JavaScript's numbers: the caller maps
    them to the frame before rounding to float32) and their instance scores (N,), in decoding order."""
    squared_radius = nms_radius * nms_radius
    poses: list[list] = []
    pose_scores: list[float] = []
    values, candidates = part_candidates(scores, score_threshold)
    shape = scores.shape[:2]
    for value, (y, x, part) in zip(values.tolist(), candidates.tolist()):
        if len(poses) >= max_poses:
            break
        if _near_existing(poses, *_image_coords(y, x, part, stride, offsets), part, squared_radius):
            continue
        keypoints = decode_pose(value, (y, x, part), scores, offsets, stride, fwd, bwd, shape)
        not_overlapped = sum(kp[2] for i, kp in enumerate(keypoints)
                             if not _near_existing(poses, kp[0], kp[1], i, squared_radius))
        poses.append(keypoints)
        pose_scores.append(not_overlapped / NUM_KEYPOINTS)
    if not poses:
        return np.zeros((0, NUM_KEYPOINTS, 3), np.float64), np.zeros(0, np.float32)
    out = np.asarray(poses, np.float64)[:, :, [1, 0, 2]]  # (y, x) -> (x, y)
    return out, np.asarray(pose_scores, np.float32)
