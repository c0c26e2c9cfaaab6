"""YOLO-pose output decoding (pure numpy + OpenCV's NMS)."""
from __future__ import annotations

import cv2
import numpy as np


def decode_yolo_pose(output: np.ndarray, num_keypoints: int, score_threshold: float, nms_iou: float,
                     max_people: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode one image's raw output (5 + 3K, A) into people, in model-input pixels.

    Returns boxes (N, 4) xyxy, scores (N,) and keypoints (N, K, 3), highest score first, after the score
    threshold and greedy IoU non-maximum suppression (as ultralytics' non_max_suppression, single class).
    """
    if output.shape[0] != 5 + 3 * num_keypoints:
        raise ValueError(f"YOLO-pose output has {output.shape[0]} rows, expected 5 + 3*{num_keypoints}")
    candidates = output[:, output[4] > score_threshold].T  # (M, 5 + 3K), a copy of the few kept anchors
    if len(candidates) == 0:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, num_keypoints, 3), np.float32)
    centre, size, scores = candidates[:, 0:2], candidates[:, 2:4], candidates[:, 4]
    # OpenCV's NMS (greedy, sorted by score) takes boxes as x, y, w, h.
    top_left = centre - size / 2
    keep = cv2.dnn.NMSBoxes(np.concatenate([top_left, size], axis=1), scores, score_threshold, nms_iou)
    keep = np.asarray(keep, dtype=np.int64).reshape(-1)[:max_people]
    boxes = np.concatenate([top_left[keep], top_left[keep] + size[keep]], axis=1).astype(np.float32)
    keypoints = candidates[keep, 5:].reshape(len(keep), num_keypoints, 3).astype(np.float32)
    return boxes, scores[keep].astype(np.float32), keypoints
