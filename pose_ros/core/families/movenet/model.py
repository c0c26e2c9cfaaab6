"""MoveNet MultiPose Lightning: a bottom-up model that finds person centres on a heatmap and, per centre, the
joints (regressed, then snapped to keypoint-heatmap peaks) inside the graph; its output is already grouped (6
people max). Input 1xHxWx3 int32 RGB 0..255 (H, W free, multiples of 32): the frame is letterboxed to the
manifest's input size.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pose_ros.core.config import PoseConfig
from pose_ros.core.families.base import PoseModel
from pose_ros.core.families.common.outputs import letterbox_to_source
from pose_ros.core.families.movenet.decode import decode_multipose
from pose_ros.core.geometry import Letterbox
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
        self._input_name = backend.input_names[0]
        self._canvas: np.ndarray | None = None

    def _estimate(self, images: Sequence[np.ndarray], timer: StageTimer) -> list[Poses]:
        cfg = self.config
        results = []
        for image in images:
            height, width = image.shape[:2]
            with timer.stage("preprocess"):
                letterbox = Letterbox.fit(image.shape[:2], self.input_hw)
                self._canvas = letterbox.apply(image, self._canvas)
                tensor = self._canvas[None, ..., ::-1].astype(np.int32)
            with timer.stage("infer"):
                (output,) = self.backend.run({self._input_name: tensor})[:1]
            with timer.stage("decode"):
                boxes, scores, keypoints = decode_multipose(output[0], self.input_hw, cfg.person_threshold)
                order = np.argsort(-scores, kind="stable")[: cfg.max_people]
                boxes, scores, keypoints = boxes[order], scores[order], keypoints[order]
                boxes = letterbox_to_source(letterbox, (height, width), keypoints, boxes)
                results.append(Poses(boxes, scores, self.threshold(keypoints), self.skeleton))
        return results
