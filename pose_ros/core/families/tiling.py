"""Sliced inference for bottom-up models: the whole frame plus overlapping tiles, merged without duplicates.

A one-stage or keypoints-first model letterboxes the frame to its input (640 px for YOLO11n-pose, 257 x 353 for
PoseNet), so a 60 px person in a 768 x 576 street view is 50 px to YOLO, below what it finds reliably. Each of
``N x N`` tiles (overlapping by ``tile_overlap`` of a tile side) is scaled up by the same letterbox, showing the
model everyone about N times larger. Shared by every bottom-up family (wraps any of them); BlazePose's detector
tiles on its own (families/blazepose/detector.py).

Merging: the whole frame's people are kept as they are (a close person, which a tile may cut, is best seen
whole); the tiles' people, best first, are added unless they are the same person as one already kept: most of
the smaller box inside the other (``_SAME_PERSON`` of its area), which also catches the half-person a tile border
leaves when the neighbouring tile or the whole frame saw the full one.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pose_ros.core.families.base import PoseModel
from pose_ros.core.result import Poses
from pose_ros.core.runtime.timing import StageTimer

_SAME_PERSON = 0.6  # intersection over the smaller box's area above which two boxes are one person


def tile_windows(height: int, width: int, grid: int, overlap: float) -> list[tuple[int, int, int, int]]:
    """``grid`` x ``grid`` windows (x0, y0, w, h) covering the image, neighbours overlapping by ``overlap`` of a
    window side."""
    def spans(length: int) -> list[tuple[int, int]]:
        side = length / (grid - (grid - 1) * overlap)
        step = side * (1 - overlap)
        return [(int(round(i * step)), int(round(min(i * step + side, length)) - round(i * step)))
                for i in range(grid)]

    return [(x0, y0, w, h) for y0, h in spans(height) for x0, w in spans(width)]


def merge_people(whole: Poses, tiles: Sequence[Poses], max_people: int) -> Poses:
    """The whole frame's people, then the tiles' people not already kept (best first), at most ``max_people``."""
    if not tiles:
        return whole
    extra = _concat(list(tiles), whole)
    order = np.argsort(-extra.scores, kind="stable")
    kept = [b for b in whole.boxes]
    added = []
    for i in order:
        if len(kept) >= max_people:
            break
        if not any(_same_person(extra.boxes[i], other) for other in kept):
            kept.append(extra.boxes[i])
            added.append(i)
    if not added:
        return whole
    return _concat([whole, extra[np.array(added)]], whole)


def _concat(parts: list[Poses], like: Poses) -> Poses:
    return Poses(np.concatenate([p.boxes for p in parts]).reshape(-1, 4),
                 np.concatenate([p.scores for p in parts]),
                 np.concatenate([p.keypoints for p in parts]).reshape(-1, like.skeleton.num_keypoints, 3),
                 like.skeleton, np.concatenate([p.track_ids for p in parts]),
                 np.concatenate([p.keypoint_source for p in parts]))


def _same_person(a: np.ndarray, b: np.ndarray) -> bool:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return False
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h >= _SAME_PERSON * max(smaller, 1e-6)


class TiledModel(PoseModel):
    """A bottom-up model run on the whole frame and ``bottom_up_tiles`` x ``bottom_up_tiles`` tiles (one batched
    model call per frame where the family batches), people merged (see the module docstring)."""

    def __init__(self, inner: PoseModel):
        super().__init__(inner.backend, inner.skeleton, inner.config, inner.name)
        self.inner = inner
        self.family, self.paradigm, self.stages = inner.family, inner.paradigm, inner.stages

    def _configured(self) -> None:
        self.inner = self.inner.with_config(self.config)

    @property
    def windows_per_frame(self) -> int:
        return self.config.bottom_up_tiles ** 2 + 1

    def _estimate(self, images: Sequence[np.ndarray], timer: StageTimer) -> list[Poses]:
        out = []
        for image in images:
            windows = tile_windows(*image.shape[:2], self.config.bottom_up_tiles, self.config.tile_overlap)
            crops = [image] + [image[y0:y0 + h, x0:x0 + w] for x0, y0, w, h in windows]
            found = self.inner.batch(crops)
            for stage, seconds in self.inner.timings.items():
                timer.times[stage] = timer.times.get(stage, 0.0) + seconds
            tiles = [p.translated(x0, y0) for p, (x0, y0, _, _) in zip(found[1:], windows)]
            out.append(merge_people(found[0], tiles, self.config.max_people))
        return out

    def status(self) -> dict[str, str]:
        n = self.config.bottom_up_tiles
        return {**self.inner.status(), "tiles": f"whole frame + {n}x{n} tiles, {self.config.tile_overlap:.0%} overlap"}
