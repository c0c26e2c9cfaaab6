"""Skeleton metadata (keypoint names, limbs, flip pairs, OKS sigmas), looked up by name.

A model's manifest entry names its skeleton; nothing ever guesses a layout from the number of keypoints.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Skeleton:
    """Keypoint layout. ``edges`` and ``flip_pairs`` hold index pairs into ``keypoint_names``."""

    name: str
    keypoint_names: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]
    flip_pairs: tuple[tuple[int, int], ...]
    oks_sigmas: np.ndarray = field(compare=False)

    def __post_init__(self) -> None:
        k = len(self.keypoint_names)
        if len(set(self.keypoint_names)) != k:
            raise ValueError(f"skeleton {self.name!r}: duplicate keypoint names")
        for a, b in (*self.edges, *self.flip_pairs):
            if not (0 <= a < k and 0 <= b < k):
                raise ValueError(f"skeleton {self.name!r}: pair ({a}, {b}) outside 0..{k - 1}")
        if self.oks_sigmas.shape != (k,):
            raise ValueError(f"skeleton {self.name!r}: {self.oks_sigmas.shape[0]} sigmas for {k} keypoints")

    @property
    def num_keypoints(self) -> int:
        return len(self.keypoint_names)


COCO17 = Skeleton(
    name="coco17",
    keypoint_names=(
        "nose", "left_eye", "right_eye", "left_ear", "right_ear",
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
        "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    ),
    edges=(
        (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7),
        (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6),
    ),
    flip_pairs=((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)),
    # COCO keypoint evaluation constants (cocoapi pycocotools/cocoeval.py).
    oks_sigmas=np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62,
                         1.07, 1.07, .87, .87, .89, .89], dtype=np.float32) / 10.0,
)

SKELETONS: dict[str, Skeleton] = {s.name: s for s in (COCO17,)}


def get_skeleton(name: str) -> Skeleton:
    try:
        return SKELETONS[name]
    except KeyError:
        raise KeyError(f"unknown skeleton {name!r}; valid: {', '.join(sorted(SKELETONS))}") from None
