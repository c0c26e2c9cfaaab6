"""One-stage pose with YOLO-pose ONNX models: letterbox -> backend.run -> decode.

The exported model (ultralytics; input Bx3xHxW, RGB in [0, 1]; B is free in pose_ros' export, so several
cameras' frames go through in one call) outputs (B, 5 + 3K, A): for each of A anchors, box centre/size
(cx, cy, w, h) and person score, then K keypoints (x, y, score), all in model-input pixels, scores already
sigmoid-activated. One-stage: boxes first, each box's keypoints regressed with it (not keypoints first).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pose_ros.core.config import PoseConfig
from pose_ros.core.families.base import PoseModel
from pose_ros.core.families.common.outputs import letterbox_to_source
from pose_ros.core.families.yolo_pose.decode import decode_yolo_pose
from pose_ros.core.geometry import Letterbox
from pose_ros.core.result import Poses
from pose_ros.core.runtime.backend import Backend
from pose_ros.core.runtime.timing import StageTimer
from pose_ros.core.runtime.torch_ops import TorchPreprocessor
from pose_ros.core.skeletons import Skeleton


class YoloPose(PoseModel):
    """YOLO-pose estimator for one model file.

    ``torch_pre``: letterbox on the model's device with torch ops (``preprocess: torch``); None = OpenCV/numpy.
    """

    family = "yolo_pose"
    paradigm = "one_stage"

    def __init__(self, backend: Backend, skeleton: Skeleton, input_hw: tuple[int, int], config: PoseConfig,
                 torch_pre: TorchPreprocessor | None = None, name: str = ""):
        super().__init__(backend, skeleton, config, name)
        self.input_hw = input_hw
        self.torch_pre = torch_pre
        self._input_name = backend.input_names[0]
        # Buffers reused frame after frame: the letterboxed image and the model's input tensor per batch size
        # (numpy, or torch on the model's device).
        self._canvas: np.ndarray | None = None
        self._inputs: dict[int, object] = {}

    @property
    def can_batch(self) -> bool:
        """True when the model's batch axis is free: several frames then run in one call."""
        return not isinstance(self.backend.input_shapes[0][0], int)

    @property
    def useful_long_side(self) -> int:
        return max(self.input_hw)

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
        boxes = letterbox_to_source(letterbox, (height, width), keypoints, boxes)
        return Poses(boxes, scores, self.threshold(keypoints), self.skeleton)

    def _estimate(self, images: Sequence[np.ndarray], timer: StageTimer) -> list[Poses]:
        with timer.stage("preprocess"):
            tensor = self._input(len(images))
            letterboxes = [self.preprocess(image, out) for image, out in zip(images, tensor)]
        with timer.stage("infer"):
            (output,) = self.backend.run({self._input_name: tensor})[:1]
        with timer.stage("decode"):
            return [self.postprocess(out, letterbox, *image.shape[:2])
                    for out, letterbox, image in zip(output, letterboxes, images)]
