"""PoseNet (MobileNetV1 0.75, stride 16): the keypoints-first bottom-up family.

The model (TF.js graph converted to ONNX; input 1xHxWx3 float32 RGB in [-1, 1]) outputs per stride-16 cell the
17 part heatmaps (logits), short-range offsets (34) and mid-range forward/backward displacements (32, one y/x
pair per skeleton edge). No boxes: every joint is found first and the joints are grouped into people by
following the displacement fields (decode.py); each person's box is the extent of their keypoints.
The frame is pre-processed as pose-detection 2.1.3 does it (tfjs_preprocess.PoseNetInput: the whole frame grown
to the square input's aspect, bilinear at exact positions, replicated border), and keypoints are mapped back
with its own formula, so a camera frame of any size gives pose-detection's poses.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pose_ros.core.config import PoseConfig
from pose_ros.core.families.base import PoseModel
from pose_ros.core.families.common.outputs import sigmoid
from pose_ros.core.families.posenet.decode import decode_multiple_poses
from pose_ros.core.families.tfjs_preprocess import PoseNetInput
from pose_ros.core.geometry import boxes_of_points, clip_boxes, clip_points
from pose_ros.core.result import Poses
from pose_ros.core.runtime.backend import Backend
from pose_ros.core.runtime.timing import StageTimer
from pose_ros.core.skeletons import Skeleton

# Output roles by the TF.js graph's output names (their order in the file is not fwd/heatmap/bwd/offset by design).
OUTPUT_ROLES = {"heatmap": "heatmap", "offset": "offset", "displacement_fwd": "fwd", "displacement_bwd": "bwd"}
# pose-detection's PoseNet default: a pose's keypoints within this many model-input pixels of an earlier pose's
# same part make that part "taken" (root skipped, no score for the instance).
NMS_RADIUS = 20.0
# pose-detection's default scoreThreshold: the least part score that may be a root or local-maximum candidate.
PART_SCORE_THRESHOLD = 0.5


def output_roles(names: Sequence[str]) -> dict[str, int]:
    """Role -> output index, found by the layer name in each output name; names the missing ones."""
    roles: dict[str, int] = {}
    for index, name in enumerate(names):
        layer = name.split("/")[1] if "/" in name else name
        for prefix, role in OUTPUT_ROLES.items():
            if layer.startswith(prefix):
                roles[role] = index
    missing = sorted(set(OUTPUT_ROLES.values()) - set(roles))
    if missing:
        raise ValueError(f"PoseNet model lacks outputs {missing}; outputs are {list(names)}")
    return roles


class PoseNet(PoseModel):
    family = "posenet"
    paradigm = "keypoints_first"

    def __init__(self, backend: Backend, skeleton: Skeleton, input_hw: tuple[int, int], config: PoseConfig,
                 stride: int = 16, name: str = ""):
        super().__init__(backend, skeleton, config, name)
        self.input_hw = input_hw
        self.stride = stride
        self._input_name = backend.input_names[0]
        self._roles = output_roles(backend.output_names)
        self._geometry: PoseNetInput | None = None  # of the last frame size (a camera's size rarely changes)
        self._tensor: np.ndarray | None = None

    def preprocess(self, image: np.ndarray) -> tuple[np.ndarray, PoseNetInput]:
        """(1, h, w, 3) float32 RGB in [-1, 1], exactly pose-detection's, and the frame's input geometry."""
        if self._geometry is None or self._geometry.src_hw != image.shape[:2]:
            self._geometry = PoseNetInput.fit(image.shape[:2], self.input_hw)
        self._tensor = self._geometry.tensor(image, self._tensor)
        return self._tensor, self._geometry

    def decode(self, outputs: Sequence[np.ndarray], geometry: PoseNetInput, height: int, width: int) -> Poses:
        cfg = self.config
        r = self._roles
        scores = sigmoid(outputs[r["heatmap"]][0])
        keypoints, instance = decode_multiple_poses(scores, outputs[r["offset"]][0], outputs[r["fwd"]][0],
                                                    outputs[r["bwd"]][0], self.stride, cfg.max_people,
                                                    PART_SCORE_THRESHOLD, NMS_RADIUS)
        keep = instance >= cfg.person_threshold
        keypoints, instance = keypoints[keep], instance[keep]
        keypoints[..., :2] = geometry.to_source(keypoints[..., :2])
        keypoints = keypoints.astype(np.float32)
        clip_points(keypoints[..., :2], height, width)
        boxes = boxes_of_points(keypoints[..., :2])
        clip_boxes(boxes, height, width)
        return Poses(boxes, instance, self.threshold(keypoints), self.skeleton)

    def _estimate(self, images: Sequence[np.ndarray], timer: StageTimer) -> list[Poses]:
        results = []
        for image in images:
            with timer.stage("preprocess"):
                tensor, geometry = self.preprocess(image)
            with timer.stage("infer"):
                outputs = self.backend.run({self._input_name: tensor})
            with timer.stage("decode"):
                results.append(self.decode(outputs, geometry, *image.shape[:2]))
        return results
