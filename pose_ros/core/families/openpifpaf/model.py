"""OpenPifPaf (CIF/CAF composite fields): the keypoints-first bottom-up family.

The ONNX model (exported from OpenPifPaf 0.13.11 by the models step; input ``input_batch`` 1x3xHxW float32 RGB,
ImageNet-normalised; H and W of the form 16k + 1, as OpenPifPaf's CenterPadTight(16) makes them) outputs per field
cell the composite intensity fields ``cif`` (1, 17, 5, h, w) and composite association fields ``caf`` (1, 19, 8, h, w)
already decoded by the heads (sigmoid confidences, absolute cell coordinates, softplus scales). Joints are found first
(CIF seeds on a high-resolution confidence map), then grouped into people along the CAF connections (decode.py, the
library's default decoder); each person's box is the extent of their found joints.

Pre- and post-processing are the shared letterbox (geometry.Letterbox, common/outputs.py). That differs from
OpenPifPaf's Predictor in one way: it pads with grey 114 (OpenPifPaf's
CenterPadTight pads with the ImageNet mean colour) and resizes with OpenCV (OpenPifPaf with PIL). Decoder parity is
tested on fields, where this does not enter.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pose_ros.core.config import PoseConfig
from pose_ros.core.families.base import PoseModel
from pose_ros.core.families.common.outputs import letterbox_to_source
from pose_ros.core.families.openpifpaf.decode import decode_cifcaf, sanitize_fields
from pose_ros.core.geometry import Letterbox
from pose_ros.core.result import Poses
from pose_ros.core.runtime.backend import Backend
from pose_ros.core.runtime.timing import StageTimer
from pose_ros.core.skeletons import Skeleton

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32) * 255
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32) * 255


def boxes_of_found(keypoints: np.ndarray) -> np.ndarray:
    """xyxy boxes (N, 4) spanning each person's joints with a score > 0 (a person has at least one)."""
    found = keypoints[..., 2] > 0
    xy = keypoints[..., :2]
    lo = np.where(found[..., None], xy, np.inf).min(axis=1)
    hi = np.where(found[..., None], xy, -np.inf).max(axis=1)
    return np.concatenate([lo, hi], axis=1).astype(np.float32)


class OpenPifPaf(PoseModel):
    family = "openpifpaf"
    paradigm = "keypoints_first"

    def __init__(self, backend: Backend, skeleton: Skeleton, input_hw: tuple[int, int], config: PoseConfig,
                 stride: int = 16, name: str = ""):
        super().__init__(backend, skeleton, config, name)
        self.input_hw = input_hw
        self.stride = stride
        self._input_name = backend.input_names[0]
        names = list(backend.output_names)
        if "cif" not in names or "caf" not in names:
            raise ValueError(f"an OpenPifPaf model has outputs 'cif' and 'caf'; this one has {names}")
        self._cif, self._caf = names.index("cif"), names.index("caf")
        self._canvas: np.ndarray | None = None

    @property
    def useful_long_side(self) -> int:
        return max(self.input_hw)

    def preprocess(self, image: np.ndarray) -> tuple[np.ndarray, Letterbox]:
        letterbox = Letterbox.fit(image.shape[:2], self.input_hw)
        self._canvas = letterbox.apply(image, self._canvas)
        rgb = self._canvas[..., ::-1].astype(np.float32)
        tensor = ((rgb - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)[None]
        return np.ascontiguousarray(tensor), letterbox

    def check_fields(self, cif: np.ndarray, caf: np.ndarray) -> None:
        """The grid must be the input's at this stride (a model exported for another stride would mis-place joints)."""
        h, w = self.input_hw
        want = ((h - 1) // self.stride + 1, (w - 1) // self.stride + 1)
        if cif.shape[-2:] != want or caf.shape[-2:] != want:
            raise ValueError(f"OpenPifPaf fields {cif.shape} / {caf.shape} are not on the {want[0]}x{want[1]} grid "
                             f"of a {h}x{w} input at stride {self.stride}")

    def decode(self, cif: np.ndarray, caf: np.ndarray, letterbox: Letterbox, height: int, width: int) -> Poses:
        cfg = self.config
        self.check_fields(cif, caf)
        joints, scores = decode_cifcaf(sanitize_fields(cif[0]), sanitize_fields(caf[0]), self.stride)
        order = np.argsort(-scores, kind="stable")   # published best first (OpenPifPaf orders by mean joint value)
        keep = order[scores[order] >= cfg.person_threshold][:cfg.max_people]
        joints, scores = joints[keep], scores[keep].astype(np.float32)
        keypoints = np.empty((len(keep), joints.shape[1], 3), dtype=np.float32)
        keypoints[..., :2] = joints[..., 1:3]
        keypoints[..., 2] = joints[..., 0]
        letterbox_to_source(letterbox, (height, width), keypoints)
        boxes = boxes_of_found(keypoints) if len(keep) else np.zeros((0, 4), np.float32)
        return Poses(boxes, scores, self.threshold(keypoints), self.skeleton)

    def _estimate(self, images: Sequence[np.ndarray], timer: StageTimer) -> list[Poses]:
        results = []
        for image in images:
            with timer.stage("preprocess"):
                tensor, letterbox = self.preprocess(image)
            with timer.stage("infer"):
                outputs = self.backend.run({self._input_name: tensor})
            with timer.stage("decode"):
                results.append(self.decode(outputs[self._cif], outputs[self._caf], letterbox, *image.shape[:2]))
        return results
