"""Model outputs -> what Poses holds: logits to probabilities, letterboxed model-input pixels to source pixels."""
from __future__ import annotations

import numpy as np

from pose_ros.core.geometry import Letterbox, clip_boxes, clip_points


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # = 1 / (1 + exp(-x)), without overflow for large logits


def letterbox_to_source(letterbox: Letterbox, image_hw: tuple[int, int], keypoints: np.ndarray,
                        boxes: np.ndarray | None = None) -> np.ndarray | None:
    """``keypoints[..., :2]`` (in place) and ``boxes`` (N, 4) from the letterboxed model input to the source
    image's pixels, clipped to the image. Returns the boxes (a new array), None when none were given."""
    height, width = image_hw
    keypoints[..., :2] = letterbox.to_source(keypoints[..., :2])
    clip_points(keypoints[..., :2], height, width)
    if boxes is None:
        return None
    boxes = letterbox.to_source(boxes.reshape(-1, 2)).reshape(-1, 4)
    clip_boxes(boxes, height, width)
    return boxes
