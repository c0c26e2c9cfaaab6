"""MoveNet SinglePose (lightning 192, thunder 256) as a top-down keypoint model on person crops.

The single-person model expects one person filling a square int32 RGB input; each detected person's box is
padded (x1.25, to the input's aspect) and warped to that square with the same affine crop as the MMPose family
(common/crops.py),
the model run once per crop (its batch is fixed at 1), and the (y, x) outputs mapped back through the inverse warp.
Where its pose lies on another person of the crop than the detector's own pose of that person, the detector's
joints are published instead (``TopDownModel.detector_fallback``, keypoint_source DETECTOR).
"""
from __future__ import annotations

import numpy as np

from pose_ros.core.config import PoseConfig
from pose_ros.core.families.base import PoseModel, TopDownModel
from pose_ros.core.families.common.crops import box_to_center_scale, crop_batch, crop_warp_matrices
from pose_ros.core.families.movenet.decode import decode_singlepose
from pose_ros.core.geometry import clip_boxes, clip_points, invert_affine, transform_points
from pose_ros.core.result import Poses
from pose_ros.core.runtime.backend import Backend
from pose_ros.core.runtime.timing import StageTimer
from pose_ros.core.skeletons import Skeleton

PADDING = 1.25


class MoveNetTopDown(TopDownModel):
    family = "movenet"

    def __init__(self, backend: Backend, skeleton: Skeleton, input_hw: tuple[int, int], config: PoseConfig,
                 detector: PoseModel, name: str = ""):
        super().__init__(backend, skeleton, config, detector, name)
        self.input_hw = (int(input_hw[0]), int(input_hw[1]))
        self._input_name = backend.input_names[0]

    def _keypoints(self, image: np.ndarray, people: Poses, timer: StageTimer) -> Poses:
        height, width = image.shape[:2]
        input_wh = (self.input_hw[1], self.input_hw[0])
        boxes, scores = people.boxes.copy(), people.scores
        if len(boxes) == 0:
            return Poses.empty(self.skeleton)
        with timer.stage("preprocess"):
            centers, scales = box_to_center_scale(boxes, input_wh, PADDING)
            matrices = crop_warp_matrices(centers, scales, input_wh)
            # mean 0 / std 1: raw RGB 0..255, as the model's int32 input wants.
            crops = crop_batch(image, matrices, input_wh, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), True)
            tensors = np.rint(crops.transpose(0, 2, 3, 1)).astype(np.int32)
        with timer.stage("infer"):
            outputs = [self.backend.run({self._input_name: t[None]})[0] for t in tensors]
        with timer.stage("decode"):
            kps = np.stack([decode_singlepose(o, self.input_hw) for o in outputs])
            keypoints = kps.copy()
            keypoints[..., :2] = transform_points(kps[..., :2], invert_affine(matrices))
            keypoints, source = self.detector_fallback(keypoints, people)
            clip_boxes(boxes, height, width)
            clip_points(keypoints[..., :2], height, width)
            return Poses(boxes, scores, self.threshold(keypoints), self.skeleton, keypoint_source=source)
