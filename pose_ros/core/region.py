"""A region of interest: the part of every frame the models look at, as fractions of the image, for a fixed camera
whose people appear in a known part of the view (a walkway, a doorway, the floor in front of a robot arm).

The frame is cropped to the region before the model, so the model's input (a fixed 640 px letterbox for YOLO11n-
pose, say) spends its pixels there: a region half the frame's width shows everyone in it about twice as large, for
one model run (sliced inference, families/tiling.py, runs N x N + 1). People outside the region are not looked
for. Keypoints and boxes are published in the whole frame's pixels. Applied by the stream (core/stream), for every
mode and family alike; a live setting (no reload).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from pose_ros.core.result import Poses
from pose_ros.core.settings import ConfigError, check_settings, setting


def _edge(default: float, what: str):
    return setting(default, f"region of interest: {what}, a fraction of the image (the models look only inside "
                            f"the region; 0 0 1 1 = the whole frame)", change="live", low=0.0, high=1.0)


@dataclass(frozen=True)
class RegionConfig:
    """The region the models look at. Flat setting names: roi_x_min, roi_y_min, roi_x_max, roi_y_max."""

    x_min: float = _edge(0.0, "left edge")
    y_min: float = _edge(0.0, "top edge")
    x_max: float = _edge(1.0, "right edge")
    y_max: float = _edge(1.0, "bottom edge")

    def __post_init__(self) -> None:
        check_settings(self)
        for axis in ("x", "y"):
            low, high = getattr(self, f"{axis}_min"), getattr(self, f"{axis}_max")
            if not low < high:
                raise ConfigError(f"roi_{axis}_min ({low:g}) must be below roi_{axis}_max ({high:g}); to move the "
                                  f"region, set the edge that widens it first, or both at once "
                                  f"(set_parameters_atomically)")

    @property
    def whole(self) -> bool:
        return (self.x_min, self.y_min, self.x_max, self.y_max) == (0.0, 0.0, 1.0, 1.0)

    def window(self, height: int, width: int) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) in pixels of an image of this size: the region's edges rounded outwards, at least
        one pixel wide and high."""
        x0, y0 = int(math.floor(self.x_min * width)), int(math.floor(self.y_min * height))
        x1 = min(width, max(x0 + 1, int(math.ceil(self.x_max * width))))
        y1 = min(height, max(y0 + 1, int(math.ceil(self.y_max * height))))
        return min(x0, width - 1), min(y0, height - 1), x1, y1


def estimate_in_region(estimate: Callable[[Sequence[np.ndarray]], list[Poses]], images: Sequence[np.ndarray],
                       region: RegionConfig) -> list[Poses]:
    """``estimate`` (a model's ``batch``) on each image cropped to ``region``, the people in the image's pixels."""
    if region.whole:
        return estimate(images)
    windows = [region.window(*image.shape[:2]) for image in images]
    found = estimate([image[y0:y1, x0:x1] for image, (x0, y0, x1, y1) in zip(images, windows)])
    return [poses.translated(x0, y0) for poses, (x0, y0, _, _) in zip(found, windows)]
