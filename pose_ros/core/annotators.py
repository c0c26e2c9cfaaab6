"""Drawing poses on images (debug overlays). Small annotator objects, kept out of the node."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pose_ros.core.result import Poses


@dataclass(frozen=True)
class SkeletonAnnotator:
    """Limbs and joints that are published as found (score > 0: at or above the keypoint_threshold the poses
    were made with); ``min_score`` draws only the surer ones."""

    min_score: float = 0.0
    thickness: int = 2
    radius: int = 3
    limb_color: tuple[int, int, int] = (255, 128, 0)
    joint_color: tuple[int, int, int] = (0, 255, 255)

    def annotate(self, image: np.ndarray, poses: Poses) -> np.ndarray:
        edges = np.asarray(poses.skeleton.edges, dtype=np.int64).reshape(-1, 2)
        for kps in poses.keypoints:
            visible = (kps[:, 2] > 0) & (kps[:, 2] >= self.min_score)
            xy = np.round(kps[:, :2]).astype(np.int32)
            for a, b in edges[visible[edges[:, 0]] & visible[edges[:, 1]]]:
                cv2.line(image, tuple(xy[a]), tuple(xy[b]), self.limb_color, self.thickness, cv2.LINE_AA)
            for x, y in xy[visible]:
                cv2.circle(image, (int(x), int(y)), self.radius, self.joint_color, -1, cv2.LINE_AA)
        return image


@dataclass(frozen=True)
class BoxAnnotator:
    """Person boxes with their score (and track id when tracked)."""

    color: tuple[int, int, int] = (0, 200, 0)
    thickness: int = 2

    def annotate(self, image: np.ndarray, poses: Poses) -> np.ndarray:
        for box, score, track in zip(np.round(poses.boxes).astype(np.int32), poses.scores, poses.track_ids):
            x0, y0, x1, y1 = (int(v) for v in box)
            cv2.rectangle(image, (x0, y0), (x1, y1), self.color, self.thickness)
            label = f"{score:.2f}" if track < 0 else f"#{track} {score:.2f}"
            cv2.putText(image, label, (x0, max(y0 - 4, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, self.color, 1,
                        cv2.LINE_AA)
        return image


def draw_poses(image: np.ndarray, poses: Poses) -> np.ndarray:
    """Copy of ``image`` with boxes and skeletons drawn (the default overlay)."""
    canvas = np.array(image, copy=True)
    BoxAnnotator().annotate(canvas, poses)
    return SkeletonAnnotator().annotate(canvas, poses)
