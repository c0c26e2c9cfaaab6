"""MoveNet MultiPose Lightning: a bottom-up model that finds person centres on a heatmap and, per centre, the
joints (regressed, then snapped to keypoint-heatmap peaks) inside the graph; its output is already grouped (6
people max). Input 1xHxWx3 int32 RGB 0..255 (H, W free in the graph, multiples of 32).

The frame keeps its aspect, as pose-detection 2.1.3 feeds it (tfjs_preprocess.MultiPoseInput): the longer side
becomes the manifest's input size (256), the other is rounded and padded bottom/right with zeros to a multiple of
32 (1280x720 -> 256x160, 640x480 -> 256x192). The converted graph has free spatial axes (TF.js' own has), so one
file serves every camera shape; a square 256x256 letterbox would show the graph another picture than the
reference's and cost it up to 60 % more pixels on a 16:9 camera.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pose_ros.core.config import PoseConfig
from pose_ros.core.families.base import PoseModel
from pose_ros.core.families.movenet.decode import decode_multipose
from pose_ros.core.families.tfjs_preprocess import MultiPoseInput
from pose_ros.core.geometry import clip_boxes, clip_points
from pose_ros.core.result import Poses
from pose_ros.core.runtime.backend import Backend
from pose_ros.core.runtime.timing import StageTimer
from pose_ros.core.skeletons import Skeleton


class MoveNetMultiPose(PoseModel):
    family = "movenet_multipose"
    paradigm = "centre_bottom_up"

    def __init__(self, backend: Backend, skeleton: Skeleton, input_hw: tuple[int, int], config: PoseConfig,
                 name: str = ""):
        super().__init__(backend, skeleton, config, name)
        self.input_hw = input_hw
        self.max_dimension = max(input_hw)  # pose-detection's multiPoseMaxDimension
        self._input_name = backend.input_names[0]
        self._geometry: MultiPoseInput | None = None  # of the last frame size
        self._tensor: np.ndarray | None = None

    def preprocess(self, image: np.ndarray) -> tuple[np.ndarray, MultiPoseInput]:
        """(1, h, w, 3) int32 RGB, exactly pose-detection's, and the frame's input geometry."""
        if self._geometry is None or self._geometry.src_hw != image.shape[:2]:
            self._geometry = MultiPoseInput.fit(image.shape[:2], self.max_dimension)
        self._tensor = self._geometry.tensor(image, self._tensor)
        return self._tensor, self._geometry

    def _estimate(self, images: Sequence[np.ndarray], timer: StageTimer) -> list[Poses]:
        cfg = self.config
        results = []
        for image in images:
            height, width = image.shape[:2]
            with timer.stage("preprocess"):
                tensor, geometry = self.preprocess(image)
            with timer.stage("infer"):
                (output,) = self.backend.run({self._input_name: tensor})[:1]
            with timer.stage("decode"):
                # Straight to frame pixels: normalised * padded / resized * frame size (pose-detection's way).
                boxes, scores, keypoints = decode_multipose(output[0], geometry.normalised_scale,
                                                            cfg.person_threshold)
                order = np.argsort(-scores, kind="stable")[: cfg.max_people]
                boxes, scores, keypoints = boxes[order], scores[order], keypoints[order]
                clip_boxes(boxes, height, width)
                clip_points(keypoints[..., :2], height, width)
                results.append(Poses(boxes, scores, self.threshold(keypoints), self.skeleton))
        return results
