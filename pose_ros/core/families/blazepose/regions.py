"""Where BlazePose's landmark model looks: a rotated square region per person (pure geometry).

From BlazePose's own detector (its alignment points, as MediaPipe's pose_detection_to_roi.pbtxt) or from another
model's COCO-17 people (so the landmark model can run after a one-stage or bottom-up model).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pose_ros.core.geometry import boxes_of_points, clip_boxes, rotate, upright_rotation

ROI_SCALE = 1.25  # MediaPipe's RectTransformationCalculator scale for the landmark region


@dataclass(frozen=True)
class PersonRegions:
    """Rotated square regions: centres (N, 2) and sides (N,) in source pixels, rotations (N,) in radians such
    that rotating the region by it makes the body upright."""

    centres: np.ndarray
    sides: np.ndarray
    rotations: np.ndarray

    def __len__(self) -> int:
        return len(self.sides)

    def corners(self) -> np.ndarray:
        """Corners (N, 4, 2), in cv2.boxPoints order: bottom-left, top-left, top-right, bottom-right of the
        upright crop."""
        unit = np.array([[-1, 1], [-1, -1], [1, -1], [1, 1]], np.float32)
        local = unit[None] * (self.sides[:, None, None] / 2)
        return rotate(local, self.rotations[:, None]) + self.centres[:, None, :]

    def to_source(self, xy_norm: np.ndarray) -> np.ndarray:
        """Points (N, K, 2) normalised to each upright crop ([0, 1]) -> source pixels (rotate about the crop
        centre, scale by the side, translate)."""
        return rotate((xy_norm - 0.5) * self.sides[:, None, None], self.rotations[:, None]) + self.centres[:, None]


def regions_from_alignment(points: np.ndarray) -> PersonRegions:
    """Regions from BlazePose's alignment points (N, 4, 2) in source pixels: point 0 is the hips' centre, 1 a
    point on the circle enclosing the full body; side = circle diameter x 1.25, rotated so that the
    centre -> circle direction points up (MediaPipe AlignmentPointsRectsCalculator, target angle 90 degrees, then
    RectTransformationCalculator scale 1.25, square_long)."""
    centre, end = points[:, 0], points[:, 1]
    delta = end - centre
    sides = 2.0 * np.hypot(delta[:, 0], delta[:, 1]) * ROI_SCALE
    return PersonRegions(centre.astype(np.float32), sides.astype(np.float32), upright_rotation(delta).astype(np.float32))


def regions_from_coco_keypoints(boxes: np.ndarray, keypoints: np.ndarray, min_score: float) -> PersonRegions:
    """Regions from another model's COCO-17 people (boxes (N, 4), keypoints (N, 17, 3)); a joint counts when its
    score is at least ``min_score``.

    Mirrors what BlazePose's detector gives, whose region the landmark model was trained on: centred on the
    mid-hip, a circle holding the whole body, turned so that hips -> shoulders points up. Without hips in view
    (a portrait, an upper body, a person cut by the border) BlazePose still centres on where the hips would
    be: so here they are estimated one torso length below the shoulders, away from the face (torso =
    max(1.3 x shoulder width, 2 x face-to-shoulders distance): adult proportions). Circle radius = farthest
    keypoint found from the centre x 1.15 (the head top and toes lie beyond the outermost keypoints), at
    least half the box's long side. Upright when neither hips nor a face give the direction.
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
    face, has_face = mean_of([0, 1, 2, 3, 4])
    upright = np.array([0.0, -1.0])
    up = np.where((has_hip & has_shoulder)[:, None], shoulder - hip,
                  np.where((has_face & has_shoulder)[:, None], face - shoulder, upright))
    length = np.hypot(up[:, 0], up[:, 1])
    up = np.where((length > 0)[:, None], up / np.maximum(length, 1e-6)[:, None], upright)
    shoulder_width = np.where(found[:, 5] & found[:, 6], np.hypot(*(xy[:, 5] - xy[:, 6]).T), 0.0)
    face_to_shoulders = np.where(has_face & has_shoulder, np.hypot(*(face - shoulder).T), 0.0)
    torso = np.maximum(1.3 * shoulder_width, 2.0 * face_to_shoulders)
    estimated_hip = shoulder - up * torso[:, None]
    centre = np.where(has_hip[:, None], hip,
                      np.where((has_shoulder & (torso > 0))[:, None], estimated_hip, box_centre))
    distance = np.hypot(*(xy - centre[:, None]).transpose(2, 0, 1))  # (N, 17)
    radius = np.maximum(np.where(found, distance, 0).max(axis=1, initial=0) * 1.15,
                        0.5 * np.max(boxes[:, 2:] - boxes[:, :2], axis=1))
    return PersonRegions(centre.astype(np.float32), (2 * radius * ROI_SCALE).astype(np.float32),
                         upright_rotation(up).astype(np.float32))


def corners_extent(regions: PersonRegions, height: int, width: int) -> np.ndarray:
    """Axis-aligned boxes (N, 4) of the regions, clipped to the image: a person box for box-based models."""
    boxes = boxes_of_points(regions.corners()) if len(regions) else np.zeros((0, 4), np.float32)
    clip_boxes(boxes, height, width)
    return boxes
