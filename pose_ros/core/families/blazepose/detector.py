"""MediaPipe's BlazePose person detector: letterbox to 224, RGB in [-1, 1] -> SSD boxes + 4 alignment points for
2254 anchors -> score threshold -> weighted NMS -> letterbox removal; optionally over overlapping tiles too.

The constants follow MediaPipe 0.10.14's pose_detection_cpu.pbtxt; the model is the same weights, converted to
ONNX by devtools/tflite2onnx.
"""
from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from pose_ros.core.config import PoseConfig
from pose_ros.core.families.base import PoseModel
from pose_ros.core.families.blazepose.regions import corners_extent, regions_from_alignment
from pose_ros.core.families.common.outputs import sigmoid
from pose_ros.core.geometry import box_iou, warp_affine_fixed_point
from pose_ros.core.result import Poses
from pose_ros.core.runtime.backend import Backend
from pose_ros.core.runtime.timing import StageTimer
from pose_ros.core.skeletons import BLAZEPOSE_ALIGNMENT

DETECTOR_SIZE = 224
NMS_IOU = 0.3  # MediaPipe's min_suppression_threshold for pose detection


def ssd_anchors(input_size: int = DETECTOR_SIZE, strides=(8, 16, 32, 32, 32), anchors_per_layer: int = 2) -> np.ndarray:
    """Anchor centres (A, 2), normalised, in the order of the model output (MediaPipe SsdAnchorsCalculator
    with fixed anchor size: consecutive layers of equal stride share one grid, and every layer adds
    ``anchors_per_layer`` anchors per cell). 224 input: 28x28x2 + 14x14x2 + 7x7x6 = 2254 anchors."""
    centres = []
    layer = 0
    while layer < len(strides):
        same = 1
        while layer + same < len(strides) and strides[layer + same] == strides[layer]:
            same += 1
        grid = int(np.ceil(input_size / strides[layer]))
        ys, xs = np.meshgrid((np.arange(grid) + 0.5) / grid, (np.arange(grid) + 0.5) / grid, indexing="ij")
        cells = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(cells, anchors_per_layer * same, axis=0))
        layer += same
    return np.concatenate(centres).astype(np.float32)


def weighted_nms(boxes: np.ndarray, scores: np.ndarray, keypoints: np.ndarray, iou_threshold: float,
                 max_detections: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe's WEIGHTED non-maximum suppression: each kept detection is the score-weighted mean of
    itself and the candidates overlapping it by more than ``iou_threshold`` (its own score kept).

    Hand-written because neither OpenCV nor torchvision offer the weighted variant, which is what makes
    BlazePose's alignment keypoints stable. boxes (M, 4) xyxy, keypoints (M, J, 2); returns the kept ones.
    """
    order = np.argsort(-scores, kind="stable")
    boxes, scores, keypoints = boxes[order], scores[order], keypoints[order]
    areas = np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0, None), axis=1)
    remaining = np.ones(len(scores), bool)
    kept_boxes, kept_scores, kept_kps = [], [], []
    for i in range(len(scores)):
        if not remaining[i]:
            continue
        top_left = np.maximum(boxes[i, :2], boxes[:, :2])
        bottom_right = np.minimum(boxes[i, 2:], boxes[:, 2:])
        inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=1)
        iou = inter / np.maximum(areas[i] + areas - inter, 1e-12)
        group = remaining & (iou > iou_threshold)
        group[i] = True
        weights = scores[group][:, None]
        kept_boxes.append((boxes[group] * weights).sum(0) / weights.sum())
        kept_kps.append((keypoints[group] * weights[:, :, None]).sum(0) / weights.sum())
        kept_scores.append(scores[i])
        remaining &= ~group
        if len(kept_scores) == max_detections:
            break
    if not kept_scores:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, keypoints.shape[1], 2), np.float32)
    return (np.array(kept_boxes, np.float32), np.array(kept_scores, np.float32), np.array(kept_kps, np.float32))


def decode_detections(raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, score_threshold: float,
                      max_detections: int, input_size: int = DETECTOR_SIZE):
    """Raw detector outputs of one image -> (boxes (N, 4) xyxy, scores (N,), keypoints (N, 4, 2)),
    normalised to the letterboxed detector input.

    raw_boxes (A, 12): centre offset, size, then 4 keypoint offsets, in input pixels relative to the anchor
    centre (anchor size 1); raw_scores (A,) logits (clipped to +-100 as MediaPipe does).
    """
    scores = sigmoid(np.clip(raw_scores, -100.0, 100.0))
    keep = scores > score_threshold
    raw, anchors, scores = raw_boxes[keep] / input_size, anchors[keep], scores[keep]
    centre = raw[:, 0:2] + anchors
    half = raw[:, 2:4] / 2
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    keypoints = raw[:, 4:12].reshape(-1, 4, 2) + anchors[:, None, :]
    return weighted_nms(boxes, scores, keypoints, NMS_IOU, max_detections)


def add_tile_detections(whole, tiles, max_detections: int):
    """The whole image's detections (boxes, scores, points), unchanged, plus the people only the tiles found.

    A person the whole-image pass found keeps its own detection: averaging it with the tiles' views of the same
    person would move its region, and the landmark model's answer with it. Tile detections are merged among
    themselves (weighted NMS, as within one window), then, best first, added only when they are not the same
    person as one already kept: a tile that cuts a close person in half often "finds" a smaller face inside
    that person's face box (box IoU < 0.3, so NMS keeps it), hence the test is face-box centre containment.
    Some tile views of a close person still pass (a "face" found on a shoulder): the landmark model, which
    sees the whole person, removes those (see ``may_repeat_people``). Returned whole-image detections first,
    then the tiles' additions, each best first.
    """
    boxes, scores, points = (np.concatenate(parts) for parts in zip(*tiles))
    boxes, scores, points = weighted_nms(boxes, scores, points, NMS_IOU, max_detections)
    kept_boxes, added = list(whole[0]), []
    for i in range(len(scores)):  # weighted_nms returns them best first
        if not any(same_face(boxes[i], other) for other in kept_boxes):
            kept_boxes.append(boxes[i])
            added.append(i)
    # Whole-image detections first: a keypoint model that finds two of these to be one person keeps the first.
    return tuple(np.concatenate([w, t[added]])[:max_detections] for w, t in zip(whole, (boxes, scores, points)))


def same_face(a: np.ndarray, b: np.ndarray) -> bool:
    """True when face boxes a and b (xyxy) hold each other's centre, or overlap by IoU > NMS_IOU."""
    def holds(box, point):
        return bool(np.all(box[:2] <= point) and np.all(point <= box[2:]))

    return (holds(a, (b[:2] + b[2:]) / 2) or holds(b, (a[:2] + a[2:]) / 2)
            or box_iou(a[None], b[None])[0, 0] > NMS_IOU)


def detection_windows(height: int, width: int, tiled: bool) -> list[tuple[int, int, int, int]]:
    """Image regions (x0, y0, w, h) the detector looks at: the whole image, plus, when ``tiled``, square tiles
    of 2/3 of the shorter side overlapping by a quarter. BlazePose's detector was trained on people close to
    the camera; at 224 px for a whole street scene it finds only the most prominent person, while the tiles
    show it everyone else 1.5x larger."""
    windows = [(0, 0, width, height)]
    if tiled:
        side = max(int(round(min(height, width) * 2 / 3)), 1)
        step = side * 3 / 4

        def starts(length: int) -> np.ndarray:
            count = int(np.ceil(max(length - side, 0) / step)) + 1
            return np.linspace(0, length - side, count).round().astype(int)

        windows += [(int(x0), int(y0), side, side) for y0 in starts(height) for x0 in starts(width)]
    return windows


class BlazePoseDetector(PoseModel):
    """MediaPipe's pose (person) detector as a PoseModel: people with the four alignment points
    (skeleton ``blazepose_alignment``, each point scored with its person's score) and, as box, the extent of
    the person's full-body region, for any top-down keypoint model."""

    family = "blazepose_detector"
    paradigm = "detector"
    stages = ("detect",)

    def __init__(self, backend: Backend, config: PoseConfig, name: str = ""):
        super().__init__(backend, BLAZEPOSE_ALIGNMENT, config, name)
        self.tiled = config.detector_tiling
        self._anchors = ssd_anchors()
        self._input_name = backend.input_names[0]
        self._tensor = np.empty((1, DETECTOR_SIZE, DETECTOR_SIZE, 3), np.float32)

    def _detect_window(self, image: np.ndarray, window: tuple[int, int, int, int]):
        """Detections in one window, as (boxes, scores, keypoints) in source pixels (before the final NMS)."""
        x0, y0, width, height = window
        # Letterbox with zero padding (MediaPipe keep_aspect_ratio + BORDER_ZERO), RGB in [-1, 1]; one affine
        # warp does the window crop, the resize and the padding together. As in MediaPipe, the window is
        # grown to a square around its centre whose corners land on the tensor's corners (no rounding).
        scale = DETECTOR_SIZE / max(height, width)
        gain = np.array([scale, scale], np.float32)
        pad = np.array([(DETECTOR_SIZE - width * scale) / 2, (DETECTOR_SIZE - height * scale) / 2], np.float32)
        offset = pad - gain * (x0, y0)
        matrix = np.array([[gain[0], 0, offset[0]], [0, gain[1], offset[1]]], np.float32)
        # Sampled at 1/32 px as MediaPipe's OpenCV 3.4 (geometry.warp_affine_fixed_point): this very tensor.
        canvas = warp_affine_fixed_point(image, matrix, (DETECTOR_SIZE, DETECTOR_SIZE), cv2.BORDER_CONSTANT, 0)
        np.multiply(canvas[..., ::-1], np.float32(2 / 255), out=self._tensor[0], dtype=np.float32)
        self._tensor -= 1.0
        raw_boxes, raw_scores = self.backend.run({self._input_name: self._tensor})[:2]
        boxes, scores, keypoints = decode_detections(raw_boxes[0], raw_scores[0, :, 0], self._anchors,
                                                     self.config.person_threshold, self.config.max_people)
        # letterboxed-normalised -> source pixels
        boxes_px = (boxes.reshape(-1, 2) * DETECTOR_SIZE - offset) / gain
        keypoints_px = (keypoints * DETECTOR_SIZE - offset) / gain
        return boxes_px.reshape(-1, 4), scores, keypoints_px

    def detect(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """MediaPipe's native output in source pixels: face boxes (N, 4), scores (N,), alignment points
        (N, 4, 2), merged over the windows (whole-image detections first)."""
        whole, *tiles = [self._detect_window(image, w) for w in detection_windows(*image.shape[:2], self.tiled)]
        if tiles:
            whole = add_tile_detections(whole, tiles, self.config.max_people)
        return tuple(part.astype(np.float32) for part in whole)

    def _estimate(self, images: Sequence[np.ndarray], timer: StageTimer) -> list[Poses]:
        out = []
        for image in images:
            with timer.stage("detect"):
                _, scores, points = self.detect(image)
            keypoints = np.concatenate([points, np.broadcast_to(scores[:, None, None], (len(scores), 4, 1))], -1)
            boxes = corners_extent(regions_from_alignment(points), *image.shape[:2])
            out.append(Poses(boxes, scores, keypoints.astype(np.float32), self.skeleton))
        return out

    @property
    def may_repeat_people(self) -> bool:
        return self.tiled

    def _configured(self) -> None:
        self.tiled = self.config.detector_tiling
