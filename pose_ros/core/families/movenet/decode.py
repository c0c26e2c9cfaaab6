"""MoveNet decoding (pure numpy).

MultiPose: the model's own head has already done the bottom-up work inside the graph (a person-centre heatmap,
then for each of the 6 strongest centres the joints regressed from it and snapped to the nearest keypoint-heatmap
peaks), so its output (1, 6, 56) is, per candidate person: 17 x (y, x, score) normalised to the input, then the box
(ymin, xmin, ymax, xmax) normalised and the instance score. Decoding is scaling and the pose-score cut, as
pose-detection 2.1.3's movenet multipose path does (hand-written here: the reference is JavaScript).

SinglePose (lightning/thunder): output (1, 1, 17, 3) of (y, x, score) normalised to the crop.
"""
from __future__ import annotations

import numpy as np

NUM_KEYPOINTS = 17


def decode_multipose(output: np.ndarray, scale_hw: tuple[float, float],
                     min_pose_score: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(6, 56) -> boxes (N, 4 xyxy), scores (N,), keypoints (N, 17, 3: x, y, score): the normalised coordinates
    times ``scale_hw`` (the input's size for input pixels; MultiPoseInput.normalised_scale for frame pixels), in
    float64 as pose-detection computes them, rounded to float32 once at the end."""
    rows = np.asarray(output, dtype=np.float32).reshape(-1, 3 * NUM_KEYPOINTS + 5)
    rows = rows[rows[:, 55] >= min_pose_score].astype(np.float64)
    h, w = scale_hw
    kps = rows[:, :51].reshape(-1, NUM_KEYPOINTS, 3)
    keypoints = np.stack([kps[..., 1] * w, kps[..., 0] * h, kps[..., 2]], axis=-1).astype(np.float32)
    box = rows[:, 51:55]
    boxes = np.stack([box[:, 1] * w, box[:, 0] * h, box[:, 3] * w, box[:, 2] * h], axis=1).astype(np.float32)
    return boxes, rows[:, 55].astype(np.float32), keypoints


def decode_singlepose(output: np.ndarray, crop_hw: tuple[int, int]) -> np.ndarray:
    """(..., 17, 3) normalised (y, x, score) -> (17, 3: x, y, score) in crop pixels."""
    kps = np.asarray(output, dtype=np.float32).reshape(NUM_KEYPOINTS, 3)
    h, w = crop_hw
    return np.stack([kps[:, 1] * w, kps[:, 0] * h, kps[:, 2]], axis=-1).astype(np.float32)
