"""Bottom-up (one-stage) pose with YOLO-pose ONNX models: letterbox -> backend.run -> decode.

The exported model (ultralytics; input Bx3xHxW, RGB in [0, 1]; B is free in pose_ros' export, so several
cameras' frames go through in one call) outputs (B, 5 + 3K, A): for each of A anchors, box centre/size
(cx, cy, w, h) and person score, then K keypoints (x, y, score), all in model-input pixels, scores already
sigmoid-activated.
"""
from __future__ import annotations

import time
from collections.abc import Sequence

import cv2
import numpy as np

from pose_ros.core.backend import Backend
from pose_ros.core.config import PoseConfig
from pose_ros.core.geometry import Letterbox, clip_boxes, clip_points
from pose_ros.core.result import Poses
from pose_ros.core.skeletons import Skeleton
from pose_ros.core.torch_ops import TorchPreprocessor


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


class YoloPose:
    """YOLO-pose estimator for one model file. Call it with a BGR image, get :class:`Poses`.

    ``torch_pre``: letterbox on the model's device with torch ops (``preprocess: torch``); None = OpenCV/numpy.
    """

    family = "yolo_pose"

    def __init__(self, backend: Backend, skeleton: Skeleton, input_hw: tuple[int, int], config: PoseConfig,
                 torch_pre: TorchPreprocessor | None = None):
        self.backend = backend
        self.skeleton = skeleton
        self.config = config
        self.input_hw = input_hw
        self.torch_pre = torch_pre
        self._input_name = backend.input_names[0]
        # Buffers reused frame after frame: the letterboxed image and the model's input tensor per batch size
        # (numpy, or torch on the model's device).
        self._canvas: np.ndarray | None = None
        self._inputs: dict[int, object] = {}
        self.timings: dict[str, float] = {}

    def with_config(self, config: PoseConfig) -> "YoloPose":
        """Same model, new thresholds (a live parameter change needs no reload)."""
        return YoloPose(self.backend, self.skeleton, self.input_hw, config, self.torch_pre)

    @property
    def batches_frames(self) -> bool:
        """True when the model's batch axis is free: :meth:`batch` then runs several frames in one call."""
        return not isinstance(self.backend.input_shapes[0][0], int)

    def _input(self, frames: int):
        if frames not in self._inputs:
            shape = (frames, 3, *self.input_hw)
            self._inputs[frames] = (self.torch_pre.empty(shape) if self.torch_pre is not None
                                    else np.empty(shape, dtype=np.float32))
        return self._inputs[frames]

    def preprocess(self, image: np.ndarray, out) -> Letterbox:
        """Letterbox ``image`` into ``out``, one frame (3, H, W) of the model input, float32 RGB in [0, 1]."""
        letterbox = Letterbox.fit(image.shape[:2], self.input_hw)
        if self.torch_pre is not None:
            self.torch_pre.letterbox(image, letterbox, out)
            return letterbox
        self._canvas = letterbox.apply(image, self._canvas)
        # BGR HWC uint8 -> RGB CHW float32 in [0, 1], written into the tensor in one pass.
        np.divide(self._canvas[..., ::-1].transpose(2, 0, 1), np.float32(255), out=out, dtype=np.float32)
        return letterbox

    def postprocess(self, output: np.ndarray, letterbox: Letterbox, height: int, width: int) -> Poses:
        cfg = self.config
        boxes, scores, keypoints = decode_yolo_pose(output, self.skeleton.num_keypoints, cfg.person_threshold,
                                                    cfg.nms_iou, cfg.max_people)
        boxes = letterbox.to_source(boxes.reshape(-1, 2)).reshape(-1, 4)
        keypoints[..., :2] = letterbox.to_source(keypoints[..., :2])
        clip_boxes(boxes, height, width)
        clip_points(keypoints[..., :2], height, width)
        keypoints[..., 2][keypoints[..., 2] < cfg.keypoint_threshold] = 0.0
        return Poses(boxes, scores, keypoints, self.skeleton)

    def batch(self, images: Sequence[np.ndarray]) -> list[Poses]:
        """Poses of several frames (one per camera) from one model call; one call per frame when the model's
        batch is fixed. ``timings`` then covers the whole batch."""
        if len(images) == 1 or not self.batches_frames:
            return [self(image) for image in images]
        return self._run(images)

    def __call__(self, image: np.ndarray) -> Poses:
        return self._run([image])[0]

    def _run(self, images: Sequence[np.ndarray]) -> list[Poses]:
        t0 = time.perf_counter()
        tensor = self._input(len(images))
        letterboxes = [self.preprocess(image, out) for image, out in zip(images, tensor)]
        t1 = time.perf_counter()
        (output,) = self.backend.run({self._input_name: tensor})[:1]
        t2 = time.perf_counter()
        poses = [self.postprocess(out, letterbox, *image.shape[:2])
                 for out, letterbox, image in zip(output, letterboxes, images)]
        t3 = time.perf_counter()
        self.timings = {"preprocess": t1 - t0, "infer": t2 - t1, "decode": t3 - t2}
        return poses
