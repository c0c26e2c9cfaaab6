"""BlazePose's full-body landmark model on every person's rotated crop (top-down, multi-person).

MediaPipe's own graph tracks one person; here every person found gets landmarks:

  region:    a rotated square per person (regions.py), from BlazePose's detector or another model's people
  landmarks: rotated crop to 256, RGB in [0, 1] -> 39 landmarks (x, y, z, visibility, presence) + heatmap
             -> heatmap refinement -> projection to source pixels

The constants follow MediaPipe 0.10.14's graphs (pose_landmark_by_roi_cpu.pbtxt,
tensors_to_pose_landmarks_and_segmentation.pbtxt); the models are the same weights, converted to ONNX by
devtools/tflite2onnx.
"""
from __future__ import annotations

import cv2
import numpy as np

from pose_ros.core.config import PoseConfig
from pose_ros.core.families.base import PoseModel, TopDownModel, disagrees_with_detector
from pose_ros.core.families.blazepose.regions import (PersonRegions, regions_from_alignment,
                                                      regions_from_coco_keypoints)
from pose_ros.core.families.common.outputs import sigmoid
from pose_ros.core.geometry import box_iou, boxes_of_points, clip_boxes, warp_affine_fixed_point
from pose_ros.core.result import Poses
from pose_ros.core.runtime.backend import Backend
from pose_ros.core.runtime.timing import StageTimer
from pose_ros.core.runtime.torch_ops import TorchPreprocessor
from pose_ros.core.skeletons import BLAZEPOSE33, Skeleton, keypoint_mapping, keypoints_by_name

LANDMARK_SIZE = 256
NUM_LANDMARKS = 33  # the model outputs 39: 33 pose landmarks + 6 auxiliary ones (for tracking ROIs)
PRESENCE_THRESHOLD = 0.5  # landmark model's pose-presence flag below this: not a person
HEATMAP_KERNEL = 7
HEATMAP_MIN_CONFIDENCE = 0.5


def crop_matrices(regions: PersonRegions, size: int = LANDMARK_SIZE) -> np.ndarray:
    """(N, 2, 3) affine maps from source pixels to the ``size`` x ``size`` crop: the region's corners land on
    the crop's corners (0,0)..(size,size), as MediaPipe's ImageToTensorCalculator (OpenCV path) maps them."""
    dst = np.array([[0, size], [0, 0], [size, 0]], np.float32)
    return np.stack([cv2.getAffineTransform(c[:3].astype(np.float32), dst)
                     for c in regions.corners()]).astype(np.float32)


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
    # MediaPipe 0.10.14 tests `center_col >= hm_height` where it means the row: a landmark just below the heatmap
    # (rows height .. height + 2) is refined from the part of its window still inside, as there.
    inside = (cols >= 0) & (cols < width) & (rows >= 0) & (cols < height)
    window = np.arange(-offset, offset + 1)
    win_rows = rows[..., None] + window  # (N, K, 7)
    win_cols = cols[..., None] + window
    # Cells outside the heatmap get confidence 0: the same sums as MediaPipe's clipped window.
    valid = ((win_rows >= 0) & (win_rows < height))[..., :, None] & ((win_cols >= 0) & (win_cols < width))[..., None, :]
    logits = heatmaps[np.arange(n)[:, None, None, None], np.clip(win_rows, 0, height - 1)[..., :, None],
                      np.clip(win_cols, 0, width - 1)[..., None, :], np.arange(k)[None, :, None, None]]
    confidence = np.where(valid, sigmoid(logits), 0.0)  # (N, K, 7, 7)
    total = confidence.sum(axis=(-2, -1))
    refine = inside & (confidence.max(axis=(-2, -1)) >= HEATMAP_MIN_CONFIDENCE) & (total > 0)
    safe_total = np.where(total > 0, total, 1.0)
    refined_x = (confidence * win_cols[..., None, :]).sum(axis=(-2, -1)) / safe_total / width
    refined_y = (confidence * win_rows[..., :, None]).sum(axis=(-2, -1)) / safe_total / height
    out = xy_norm.copy()
    out[..., 0] = np.where(refine, refined_x, xy_norm[..., 0])
    out[..., 1] = np.where(refine, refined_y, xy_norm[..., 1])
    return out


def repeated_people(boxes: np.ndarray, landmarks_found: np.ndarray, iou: float = 0.5) -> np.ndarray:
    """(N,) True for a person whose landmark box overlaps an earlier kept person's by more than ``iou``: the
    same person reported twice by the detector (people in the detector's priority order; boxes (N, 4) from
    the landmarks). Only people with landmarks (``landmarks_found``) are compared: a detection the landmark
    model rejected has only the detector's box and is never removed."""
    repeated = np.zeros(len(boxes), bool)
    kept: list[int] = []
    for i in np.flatnonzero(landmarks_found):
        if kept and box_iou(boxes[[i]], boxes[kept]).max() > iou:
            repeated[i] = True
        else:
            kept.append(i)
    return repeated


class BlazePoseLandmarks(TopDownModel):
    """Top-down BlazePose: person regions (BlazePose's detector, or another model's COCO-17 people), then the
    full-body landmark model on every person's rotated crop, all crops in one call when the batch is free."""

    family = "blazepose_landmark"

    def __init__(self, backend: Backend, detector: PoseModel, config: PoseConfig, output_skeleton: Skeleton,
                 torch_pre: TorchPreprocessor | None = None, name: str = ""):
        super().__init__(backend, output_skeleton, config, detector, name)
        self.torch_pre = torch_pre  # crops cut on the model's device with torch ops; None = OpenCV
        self._mapping = keypoint_mapping(BLAZEPOSE33.name, output_skeleton.name)
        self._input_name = backend.input_names[0]
        batch = backend.input_shapes[0][0]
        self._batched = not isinstance(batch, int) or batch != 1  # a dynamic batch takes all crops in one call
        skip = getattr(backend, "skip_outputs", None)
        if skip is not None and len(backend.output_names) == 5:  # the segmentation mask and world landmarks are
            skip((backend.output_names[2], backend.output_names[4]))  # unused: never fetched (None in their place)
        self.repeats_removed = 0  # detections the landmarks showed to be a person already found (diagnostics)

    def regions(self, people: Poses) -> PersonRegions:
        """Where to crop each person the detector found."""
        if people.skeleton.name == "blazepose_alignment":
            return regions_from_alignment(people.keypoints[..., :2])
        return regions_from_coco_keypoints(people.boxes, people.keypoints, self.config.keypoint_threshold)

    def _run_landmarks(self, crops) -> list[np.ndarray]:
        """Landmark model on (N, 256, 256, 3) crops (numpy, or torch on the model's device): one call for all
        when the model allows, else one each."""
        if self._batched:
            return self.backend.run({self._input_name: crops})
        per_crop = [self.backend.run({self._input_name: crop[None]}) for crop in crops]
        return [None if outputs[0] is None else np.concatenate(outputs) for outputs in zip(*per_crop)]

    def crops(self, image: np.ndarray, regions: PersonRegions):
        """The model input: one (256, 256, 3) RGB crop in [0, 1] per region (numpy, or torch on the device)."""
        matrices = crop_matrices(regions)
        if self.torch_pre is not None:
            return self.torch_pre.warp_crops(image, matrices, LANDMARK_SIZE)
        crops = np.empty((len(matrices), LANDMARK_SIZE, LANDMARK_SIZE, 3), np.float32)
        for crop, matrix in zip(crops, matrices):
            # BORDER_REPLICATE and 1/32 px sampling as MediaPipe's CPU image-to-tensor (its OpenCV 3.4) does.
            warped = warp_affine_fixed_point(image, matrix, (LANDMARK_SIZE, LANDMARK_SIZE), cv2.BORDER_REPLICATE)
            np.multiply(warped[..., ::-1], np.float32(1 / 255), out=crop, dtype=np.float32)
        return crops

    def crop_people(self, people: Poses) -> Poses:
        """Every person the detector reports, in its order: BlazePose's regions come from the detector's alignment
        points or joints, not its boxes, and MediaPipe keeps its detector's order (the parity tests compare it)."""
        return people

    def _keypoints(self, image: np.ndarray, people: Poses, timer: StageTimer) -> Poses:
        if len(people) == 0:
            return Poses.empty(self.skeleton)
        regions = self.regions(people)
        with timer.stage("preprocess"):
            crops = self.crops(image, regions)
        with timer.stage("infer"):
            landmarks, presence, _segmentation, heatmaps = self._run_landmarks(crops)[:4]
        with timer.stage("decode"):
            return self.decode(image.shape[:2], people, regions, landmarks, presence, heatmaps)

    def decode(self, image_hw, people: Poses, regions: PersonRegions, landmarks, presence, heatmaps) -> Poses:
        """One person per detected person, in the detector's order by score. Where the landmark model says its
        crop holds no person (presence < 0.5) the detector's person is still published: with the detector's
        own keypoints when they are body joints (keypoint_source DETECTOR), else with every score 0
        (NO_KEYPOINTS), and the detector's box. A planner never loses a person the detector saw."""
        n = len(people)
        raw = landmarks.reshape(n, -1, 5)[:, :NUM_LANDMARKS]
        xy = refine_from_heatmap(raw[..., :2] / LANDMARK_SIZE, heatmaps[:, :, :, :NUM_LANDMARKS])
        keypoints = np.empty((n, NUM_LANDMARKS, 3), np.float32)
        keypoints[..., :2] = regions.to_source(xy)
        keypoints[..., 2] = sigmoid(raw[..., 3])  # visibility
        # Keypoints are not clipped: like MediaPipe, a joint the model places beyond the border (a hidden
        # foot, say) keeps its extrapolated position; its visibility says how much to trust it.
        # A person's box is the extent of its 33 landmarks (BlazePose's detector box is the face).
        boxes = boxes_of_points(keypoints[..., :2])
        clip_boxes(boxes, *image_hw)
        if self._mapping is not None:
            keypoints = np.ascontiguousarray(keypoints[:, self._mapping])
        # A crop whose landmarks lie on someone else than the detector's pose of the person counts as rejected.
        elsewhere = disagrees_with_detector(keypoints, self.skeleton, people)
        keypoints = self.threshold(keypoints)
        source = np.full(n, Poses.KEYPOINT_MODEL, np.uint8)
        rejected = (presence.reshape(n) < PRESENCE_THRESHOLD) | elsewhere
        for i in np.flatnonzero(rejected):
            keypoints[i], source[i] = self.detector_keypoints(people[[i]])
            boxes[i] = people.boxes[i]
        keep = np.ones(n, bool)
        if self.detector.may_repeat_people:
            keep = ~repeated_people(boxes, ~rejected)
            self.repeats_removed += int((~keep).sum())
        order = np.flatnonzero(keep)[np.argsort(-people.scores[keep], kind="stable")]
        return Poses(boxes[order], people.scores[order].astype(np.float32), keypoints[order], self.skeleton,
                     keypoint_source=source[order])

    def status(self) -> dict[str, str]:
        status = super().status()
        if self.detector.may_repeat_people:
            status["repeated detections removed"] = str(self.repeats_removed)
        return status

    def detector_keypoints(self, people: Poses) -> tuple[np.ndarray, int]:
        """What to publish for people the landmark model rejected: the detector's joints in the output layout
        (by joint name, thresholded) and DETECTOR, or, when the detector gives no body joints (BlazePose's
        alignment points), all scores 0 and NO_KEYPOINTS."""
        keypoints = keypoints_by_name(people.keypoints, people.skeleton, self.skeleton)
        if not keypoints[..., 2].any():
            return keypoints, Poses.NO_KEYPOINTS
        return self.threshold(keypoints), Poses.DETECTOR
