"""Top-down BlazePose (MediaPipe's pose detector + full-body landmark model), multi-person.

MediaPipe's own graph tracks one person; here every detected person gets landmarks:

  detector:  letterbox to 224, RGB in [-1, 1] -> SSD boxes + 4 alignment keypoints for 2254 anchors
             -> score threshold -> weighted NMS -> letterbox removal          (BlazePoseDetector)
  region:    centre = mid-hip keypoint, side = 2 x |hip -> full-body circle point| x 1.25, rotated so the
             hip -> circle direction points up                                 (person_regions)
  landmarks: rotated crop to 256, RGB in [0, 1] -> 39 landmarks (x, y, z, visibility, presence) + heatmap
             -> heatmap refinement -> projection to source pixels             (BlazePoseLandmarks)

The constants follow MediaPipe 0.10.14's graphs (pose_detection_cpu.pbtxt, pose_detection_to_roi.pbtxt,
pose_landmark_by_roi_cpu.pbtxt, tensors_to_pose_landmarks_and_segmentation.pbtxt); the models are the
same weights, converted to ONNX by devtools/tflite2onnx.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Protocol

import cv2
import numpy as np

from pose_ros.core.backend import Backend
from pose_ros.core.config import PoseConfig
from pose_ros.core.geometry import clip_boxes
from pose_ros.core.result import Poses
from pose_ros.core.skeletons import BLAZEPOSE33, Skeleton, keypoint_mapping
from pose_ros.core.torch_ops import TorchPreprocessor

DETECTOR_SIZE = 224
LANDMARK_SIZE = 256
NUM_LANDMARKS = 33  # the model outputs 39: 33 pose landmarks + 6 auxiliary ones (for tracking ROIs)
NMS_IOU = 0.3  # MediaPipe's min_suppression_threshold for pose detection
ROI_SCALE = 1.25
PRESENCE_THRESHOLD = 0.5  # landmark model's pose-presence flag below this: not a person
HEATMAP_KERNEL = 7
HEATMAP_MIN_CONFIDENCE = 0.5


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # = 1 / (1 + exp(-x)), without overflow for large logits


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
    scores = _sigmoid(np.clip(raw_scores, -100.0, 100.0))
    keep = scores > score_threshold
    raw, anchors, scores = raw_boxes[keep] / input_size, anchors[keep], scores[keep]
    centre = raw[:, 0:2] + anchors
    half = raw[:, 2:4] / 2
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    keypoints = raw[:, 4:12].reshape(-1, 4, 2) + anchors[:, None, :]
    return weighted_nms(boxes, scores, keypoints, NMS_IOU, max_detections)


def person_regions(keypoints_px: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rotated square regions from the alignment keypoints (N, 4, 2) in source pixels.

    Keypoint 0 is the mid-hip centre, 1 a point on the circle enclosing the full body. Returns centres (N, 2),
    sides (N,) in pixels (circle diameter x 1.25) and rotations (N,) in radians, such that rotating the region
    by it makes the body upright (MediaPipe AlignmentPointsRectsCalculator, target angle 90 degrees, then
    RectTransformationCalculator scale 1.25, square_long).
    """
    centre, end = keypoints_px[:, 0], keypoints_px[:, 1]
    delta = end - centre
    sides = 2.0 * np.hypot(delta[:, 0], delta[:, 1]) * ROI_SCALE
    rotations = np.pi / 2 - np.arctan2(-delta[:, 1], delta[:, 0])
    rotations = (rotations + np.pi) % (2 * np.pi) - np.pi
    return centre.astype(np.float32), sides.astype(np.float32), rotations.astype(np.float32)


def region_corners(centres: np.ndarray, sides: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """Corners (N, 4, 2) of the rotated regions, in cv2.boxPoints order: bottom-left, top-left, top-right,
    bottom-right of the upright crop."""
    half = sides[:, None] / 2
    local = np.array([[-1, 1], [-1, -1], [1, -1], [1, 1]], np.float32)[None] * half[:, :, None]
    cos, sin = np.cos(rotations)[:, None], np.sin(rotations)[:, None]
    x = local[..., 0] * cos - local[..., 1] * sin
    y = local[..., 0] * sin + local[..., 1] * cos
    return np.stack([x, y], axis=-1) + centres[:, None, :]


def crop_matrices(centres: np.ndarray, sides: np.ndarray, rotations: np.ndarray, size: int = LANDMARK_SIZE) -> np.ndarray:
    """(N, 2, 3) affine maps from source pixels to the ``size`` x ``size`` crop: the region's corners land on
    the crop's corners (0,0)..(size,size), as MediaPipe's ImageToTensorCalculator (OpenCV path) maps them."""
    corners = region_corners(centres, sides, rotations)
    dst = np.array([[0, size], [0, 0], [size, 0]], np.float32)
    return np.stack([cv2.getAffineTransform(c[:3].astype(np.float32), dst) for c in corners]).astype(np.float32)


def refine_from_heatmap(xy_norm: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
    """Move each landmark to the confidence-weighted mean of the 7x7 heatmap cells around it, where that window
    is confident enough (MediaPipe RefineLandmarksFromHeatmapCalculator: cell (row, col) counts at (col, row),
    window clipped to the heatmap). xy_norm (N, K, 2) in [0, 1] of the crop, heatmaps (N, H, W, K) logits.
    Returns the refined (N, K, 2); all people and keypoints at once."""
    n, height, width, k = heatmaps.shape
    offset = (HEATMAP_KERNEL - 1) // 2
    # C++ int conversion truncates toward zero: a landmark just left of/above the heatmap still counts.
    cols = np.trunc(xy_norm[..., 0] * width).astype(np.int64)  # (N, K)
    rows = np.trunc(xy_norm[..., 1] * height).astype(np.int64)
    inside = (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)
    window = np.arange(-offset, offset + 1)
    win_rows = rows[..., None] + window  # (N, K, 7)
    win_cols = cols[..., None] + window
    # Cells outside the heatmap get confidence 0: the same sums as MediaPipe's clipped window.
    valid = ((win_rows >= 0) & (win_rows < height))[..., :, None] & ((win_cols >= 0) & (win_cols < width))[..., None, :]
    logits = heatmaps[np.arange(n)[:, None, None, None], np.clip(win_rows, 0, height - 1)[..., :, None],
                      np.clip(win_cols, 0, width - 1)[..., None, :], np.arange(k)[None, :, None, None]]
    confidence = np.where(valid, _sigmoid(logits), 0.0)  # (N, K, 7, 7)
    total = confidence.sum(axis=(-2, -1))
    refine = inside & (confidence.max(axis=(-2, -1)) >= HEATMAP_MIN_CONFIDENCE) & (total > 0)
    safe_total = np.where(total > 0, total, 1.0)
    refined_x = (confidence * win_cols[..., None, :]).sum(axis=(-2, -1)) / safe_total / width
    refined_y = (confidence * win_rows[..., :, None]).sum(axis=(-2, -1)) / safe_total / height
    out = xy_norm.copy()
    out[..., 0] = np.where(refine, refined_x, xy_norm[..., 0])
    out[..., 1] = np.where(refine, refined_y, xy_norm[..., 1])
    return out


@dataclass(frozen=True)
class PersonRegions:
    """Where to crop each person for the landmark model: detector scores (N,), region centres (N, 2) and
    sides (N,) in source pixels, rotations (N,) in radians (see person_regions)."""

    scores: np.ndarray
    centres: np.ndarray
    sides: np.ndarray
    rotations: np.ndarray


def regions_from_coco_keypoints(boxes: np.ndarray, keypoints: np.ndarray, min_score: float = 0.3) -> tuple:
    """BlazePose regions from another model's COCO-17 people (boxes (N, 4), keypoints (N, 17, 3)), so the
    landmark model can run after the one-stage detector.

    Mirrors what BlazePose's detector gives: centre = mid-hip (mean of the hips found; the box centre if
    none), circle radius = farthest keypoint found from it x 1.15 (the head top and toes lie beyond the
    outermost keypoints) but at least half the box's long side, rotation from the hip -> shoulder direction
    (upright when no shoulder is found).
    """
    xy, found = keypoints[..., :2], keypoints[..., 2] >= min_score

    def mean_of(indices: list[int]) -> tuple[np.ndarray, np.ndarray]:
        weight = found[:, indices].astype(np.float32)
        total = weight.sum(axis=1)
        mean = (xy[:, indices] * weight[..., None]).sum(axis=1) / np.maximum(total, 1)[:, None]
        return mean, total > 0

    box_centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    hip, has_hip = mean_of([11, 12])
    shoulder, has_shoulder = mean_of([5, 6])
    centre = np.where(has_hip[:, None], hip, box_centre)
    distance = np.hypot(*(xy - centre[:, None]).transpose(2, 0, 1))  # (N, 17)
    radius = np.maximum(np.where(found, distance, 0).max(axis=1) * 1.15,
                        0.5 * np.max(boxes[:, 2:] - boxes[:, :2], axis=1))
    up = np.where((has_hip & has_shoulder)[:, None], shoulder - hip, np.array([0.0, -1.0]))
    rotations = np.pi / 2 - np.arctan2(-up[:, 1], up[:, 0])
    rotations = (rotations + np.pi) % (2 * np.pi) - np.pi
    return centre.astype(np.float32), (2 * radius * ROI_SCALE).astype(np.float32), rotations.astype(np.float32)


@dataclass(frozen=True)
class PersonDetections:
    """Detector output in source pixels: boxes (N, 4) xyxy (the face box BlazePose detects), scores (N,),
    alignment keypoints (N, 4, 2)."""

    boxes: np.ndarray
    scores: np.ndarray
    keypoints: np.ndarray


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


class BlazePoseDetector:
    """MediaPipe's pose (person) detector. ``detect`` gives its native output; calling it gives person boxes
    (the axis-aligned extent of each full-body region) for any top-down keypoint model."""

    family = "blazepose_detector"

    def __init__(self, backend: Backend, score_threshold: float, max_people: int, tiled: bool = True):
        self.backend = backend
        self.score_threshold = score_threshold
        self.max_people = max_people
        self.tiled = tiled
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
        canvas = cv2.warpAffine(image, matrix, (DETECTOR_SIZE, DETECTOR_SIZE), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        np.multiply(canvas[..., ::-1], np.float32(2 / 255), out=self._tensor[0], dtype=np.float32)
        self._tensor -= 1.0
        raw_boxes, raw_scores = self.backend.run({self._input_name: self._tensor})[:2]
        boxes, scores, keypoints = decode_detections(raw_boxes[0], raw_scores[0, :, 0], self._anchors,
                                                     self.score_threshold, self.max_people)
        # letterboxed-normalised -> source pixels
        boxes_px = (boxes.reshape(-1, 2) * DETECTOR_SIZE - offset) / gain
        keypoints_px = (keypoints * DETECTOR_SIZE - offset) / gain
        return boxes_px.reshape(-1, 4), scores, keypoints_px

    def detect(self, image: np.ndarray) -> PersonDetections:
        found = [self._detect_window(image, w) for w in detection_windows(*image.shape[:2], self.tiled)]
        boxes, scores, keypoints = (np.concatenate(parts) for parts in zip(*found))
        if len(found) > 1:  # one person seen in several windows: merge, as within one window
            boxes, scores, keypoints = weighted_nms(boxes, scores, keypoints, NMS_IOU, self.max_people)
        return PersonDetections(boxes.astype(np.float32), scores.astype(np.float32), keypoints.astype(np.float32))

    def with_config(self, config: PoseConfig) -> "BlazePoseDetector":
        return BlazePoseDetector(self.backend, config.person_threshold, config.max_people, self.tiled)

    def regions(self, image: np.ndarray) -> PersonRegions:
        found = self.detect(image)
        return PersonRegions(found.scores, *person_regions(found.keypoints))

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        found = self.detect(image)
        corners = region_corners(*person_regions(found.keypoints))
        boxes = np.concatenate([corners.min(axis=1), corners.max(axis=1)], axis=1).astype(np.float32)
        clip_boxes(boxes, *image.shape[:2])
        return boxes, found.scores


class RegionSource(Protocol):
    """What the landmark model runs after: anything that finds people and says where to crop them."""

    def regions(self, image: np.ndarray) -> PersonRegions: ...

    def with_config(self, config: PoseConfig) -> "RegionSource": ...


class CocoPoseRegions:
    """Regions from a one-stage COCO-17 pose estimator's people (e.g. YOLO-pose), for crowds the BlazePose
    detector does not see."""

    def __init__(self, estimator):
        self.estimator = estimator

    def regions(self, image: np.ndarray) -> PersonRegions:
        people = self.estimator(image)
        return PersonRegions(people.scores, *regions_from_coco_keypoints(people.boxes, people.keypoints))

    def with_config(self, config: PoseConfig) -> "CocoPoseRegions":
        # The landmark model grades keypoints itself: the detector keeps raw keypoint scores.
        return CocoPoseRegions(self.estimator.with_config(replace(config, keypoint_threshold=0.0)))


class BlazePoseLandmarks:
    """Top-down BlazePose: person regions (BlazePose's detector or another model's people), then the
    full-body landmark model on every person's rotated crop."""

    family = "blazepose_landmark"

    def __init__(self, backend: Backend, detector: RegionSource, config: PoseConfig, output_skeleton: Skeleton,
                 torch_pre: TorchPreprocessor | None = None):
        self.backend = backend
        self.detector = detector
        self.torch_pre = torch_pre  # crops cut on the model's device with torch ops; None = OpenCV
        self.config = config
        self.skeleton = output_skeleton
        self._mapping = keypoint_mapping(BLAZEPOSE33.name, output_skeleton.name)
        self._input_name = backend.input_names[0]
        batch = backend.input_shapes[0][0]
        self._batched = not isinstance(batch, int) or batch != 1  # a dynamic batch takes all crops in one call
        self.timings: dict[str, float] = {}

    def with_config(self, config: PoseConfig) -> "BlazePoseLandmarks":
        return BlazePoseLandmarks(self.backend, self.detector.with_config(config), config, self.skeleton,
                                  self.torch_pre)

    def _run_landmarks(self, crops) -> list[np.ndarray]:
        """Landmark model on (N, 256, 256, 3) crops (numpy, or torch on the model's device): one call for all
        when the model allows, else one each."""
        if self._batched:
            return self.backend.run({self._input_name: crops})
        per_crop = [self.backend.run({self._input_name: crop[None]}) for crop in crops]
        return [np.concatenate(outputs) for outputs in zip(*per_crop)]

    def __call__(self, image: np.ndarray) -> Poses:
        t0 = time.perf_counter()
        regions = self.detector.regions(image)
        t1 = time.perf_counter()
        if len(regions.scores) == 0:
            self.timings = {"detect": t1 - t0, "preprocess": 0.0, "infer": 0.0, "decode": 0.0}
            return Poses.empty(self.skeleton)
        matrices = crop_matrices(regions.centres, regions.sides, regions.rotations)
        if self.torch_pre is not None:
            crops = self.torch_pre.warp_crops(image, matrices, LANDMARK_SIZE)
        else:
            crops = np.empty((len(matrices), LANDMARK_SIZE, LANDMARK_SIZE, 3), np.float32)
            for crop, matrix in zip(crops, matrices):
                # BORDER_REPLICATE as MediaPipe's CPU image-to-tensor does for the landmark crop.
                warped = cv2.warpAffine(image, matrix, (LANDMARK_SIZE, LANDMARK_SIZE), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_REPLICATE)
                np.multiply(warped[..., ::-1], np.float32(1 / 255), out=crop, dtype=np.float32)
        t2 = time.perf_counter()
        landmarks, presence, _segmentation, heatmaps = self._run_landmarks(crops)[:4]
        t3 = time.perf_counter()
        poses = self._decode(image.shape[:2], regions, landmarks, presence, heatmaps)
        t4 = time.perf_counter()
        self.timings = {"detect": t1 - t0, "preprocess": t2 - t1, "infer": t3 - t2, "decode": t4 - t3}
        return poses

    def _decode(self, image_hw, regions: PersonRegions, landmarks, presence, heatmaps) -> Poses:
        n = len(regions.scores)
        raw = landmarks.reshape(n, -1, 5)[:, :NUM_LANDMARKS]
        xy = refine_from_heatmap(raw[..., :2] / LANDMARK_SIZE, heatmaps[:, :, :, :NUM_LANDMARKS])
        # Crop-normalised -> source pixels: rotate about the crop centre, scale by the region side, translate.
        local = (xy - 0.5) * regions.sides[:, None, None]
        cos, sin = np.cos(regions.rotations)[:, None], np.sin(regions.rotations)[:, None]
        keypoints = np.empty((n, NUM_LANDMARKS, 3), np.float32)
        keypoints[..., 0] = local[..., 0] * cos - local[..., 1] * sin + regions.centres[:, None, 0]
        keypoints[..., 1] = local[..., 0] * sin + local[..., 1] * cos + regions.centres[:, None, 1]
        keypoints[..., 2] = _sigmoid(raw[..., 3])  # visibility
        height, width = image_hw
        # A person's box is the extent of its landmarks (BlazePose's detector box is the face).
        boxes = np.concatenate([keypoints[..., :2].min(axis=1), keypoints[..., :2].max(axis=1)], axis=1)
        clip_boxes(boxes, height, width)
        # Keypoints are not clipped: like MediaPipe, a joint the model places beyond the border (a hidden
        # foot, say) keeps its extrapolated position; its visibility says how much to trust it.
        keep = presence.reshape(n) >= PRESENCE_THRESHOLD
        # Two regions on one person (seen by two tiles, say) give the same landmarks: keep the best one.
        if keep.sum() > 1:
            candidates = np.flatnonzero(keep)
            xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)[candidates]
            unique = np.asarray(cv2.dnn.NMSBoxes(xywh, regions.scores[candidates], 0.0, 0.5), np.int64).reshape(-1)
            keep[:] = False
            keep[candidates[unique]] = True
        keypoints, boxes, scores = keypoints[keep], boxes[keep].astype(np.float32), regions.scores[keep]
        if self._mapping is not None:
            keypoints = np.ascontiguousarray(keypoints[:, self._mapping])
        keypoints[..., 2][keypoints[..., 2] < self.config.keypoint_threshold] = 0.0
        order = np.argsort(-scores, kind="stable")
        return Poses(boxes[order], scores[order].astype(np.float32), keypoints[order], self.skeleton)
