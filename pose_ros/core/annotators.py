"""Drawing poses on images (debug overlays, videos). Small annotator objects, kept out of the node."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pose_ros.core.result import Poses

# Box colours by track id (BGR, saturated enough to show on grass, asphalt and skin alike); untracked: grey.
_PALETTE = ((0, 200, 0), (255, 128, 0), (0, 128, 255), (200, 0, 200), (0, 200, 200), (255, 0, 128),
            (128, 0, 255), (0, 90, 255), (160, 160, 0), (255, 60, 60))
_UNTRACKED = (160, 160, 160)


def track_color(track: int) -> tuple[int, int, int]:
    """A colour per track id (the same id keeps its colour across frames)."""
    return _UNTRACKED if track < 0 else _PALETTE[(int(track) - 1) % len(_PALETTE)]


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
    """Person boxes, coloured by track id (grey when untracked)."""

    thickness: int = 2

    def annotate(self, image: np.ndarray, poses: Poses) -> np.ndarray:
        for box, track in zip(np.round(poses.boxes).astype(np.int32), poses.track_ids):
            x0, y0, x1, y1 = (int(v) for v in box)
            cv2.rectangle(image, (x0, y0), (x1, y1), track_color(track), self.thickness)
        return image


@dataclass(frozen=True)
class LabelAnnotator:
    """``#id score`` labels: dark text on a light box with a border in the track's colour, readable over any
    background. Each label goes to the first place, of above the box / below it / inside its top / further up,
    that overlaps neither the image border nor a label already placed (people in a group have adjacent boxes
    whose labels would otherwise print over each other)."""

    font_scale: float = 0.45
    text_color: tuple[int, int, int] = (20, 20, 20)
    fill_color: tuple[int, int, int] = (235, 235, 235)
    pad: int = 2

    def annotate(self, image: np.ndarray, poses: Poses) -> np.ndarray:
        h, w = image.shape[:2]
        placed: list[tuple[int, int, int, int]] = []
        for box, score, track in zip(poses.boxes, poses.scores, poses.track_ids):
            text = f"{score:.2f}" if track < 0 else f"#{track} {score:.2f}"
            (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, self.font_scale, 1)
            lw, lh = tw + 2 * self.pad, th + base + 2 * self.pad
            rect = self.place(tuple(float(v) for v in box), lw, lh, w, h, placed)
            placed.append(rect)
            x0, y0, x1, y1 = rect
            cv2.rectangle(image, (x0, y0), (x1, y1), self.fill_color, -1)
            cv2.rectangle(image, (x0, y0), (x1, y1), track_color(track), 1)
            cv2.putText(image, text, (x0 + self.pad, y1 - self.pad - base), cv2.FONT_HERSHEY_SIMPLEX,
                        self.font_scale, self.text_color, 1, cv2.LINE_AA)
        return image

    @staticmethod
    def place(box, lw: int, lh: int, w: int, h: int,
              placed: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
        """Rectangle (x0, y0, x1, y1) of a ``lw`` x ``lh`` label for ``box``, clear of ``placed`` if possible."""
        bx0, by0, bx1, by1 = (int(round(v)) for v in box)
        x = min(max(bx0, 0), max(w - lw, 0))
        tops = [by0 - lh, by1 + 1, by0 + 1] + [by0 - lh * k for k in range(2, 6)] + [by1 + 1 + lh * k for k in range(1, 5)]
        candidates = [(x, min(max(t, 0), max(h - lh, 0))) for t in tops]
        for cx, cy in candidates:
            rect = (cx, cy, cx + lw, cy + lh)
            if not any(_overlap(rect, other) for other in placed):
                return rect
        cx, cy = candidates[0]
        return cx, cy, cx + lw, cy + lh


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@dataclass(frozen=True)
class RegionAnnotator:
    """The region of interest the models looked at (roi_*): its outline, so a user placing it sees where it is."""

    color: tuple[int, int, int] = (255, 255, 255)
    thickness: int = 1

    def annotate(self, image: np.ndarray, window: tuple[int, int, int, int] | None) -> np.ndarray:
        if window is not None:
            x0, y0, x1, y1 = window
            cv2.rectangle(image, (x0, y0), (x1 - 1, y1 - 1), self.color, self.thickness, cv2.LINE_AA)
        return image


def draw_poses(image: np.ndarray, poses: Poses, region: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """Copy of ``image`` with the region of interest (a StreamResult's ``region``, when set), boxes, skeletons
    and labels drawn (the default overlay)."""
    canvas = np.array(image, copy=True)
    RegionAnnotator().annotate(canvas, region)
    BoxAnnotator().annotate(canvas, poses)
    SkeletonAnnotator().annotate(canvas, poses)
    return LabelAnnotator().annotate(canvas, poses)
