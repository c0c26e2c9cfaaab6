"""What a planner sees of a video's people: people per frame, track ids, re-births (issue 20's definitions).

A *re-birth*: a track ends inside the image (its last box clear of the border) and, within ``gap_frames``
source frames after it was last seen, a new id starts where it ended (its first box centre within one
person height of the ended track's last box centre). Each new id counts at most once. On a fixed camera
that is almost always the same person losing their id (walking behind someone, a missed detection or two).
Core-only (no ROS): used by devtools/video/compare_trackers.py and the benchmark's video section.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BORDER_FRACTION = 0.02  # a box this close to the image edge (fraction of the side) "leaves the image"


@dataclass(frozen=True)
class TrackedFrame:
    index: int  # source frame index
    ids: np.ndarray  # (N,) track ids (-1 untracked)
    boxes: np.ndarray  # (N, 4)


@dataclass(frozen=True)
class VideoMetrics:
    frames: int
    people_per_frame: float
    ids: int
    rebirths: int

    def row(self) -> str:
        return f"{self.frames} frames, {self.people_per_frame:.2f} people/frame, {self.ids} ids, {self.rebirths} re-births"


def video_metrics(frames: list[TrackedFrame], image_hw: tuple[int, int], gap_frames: int = 20) -> VideoMetrics:
    h, w = image_hw
    first: dict[int, tuple[int, np.ndarray]] = {}
    last: dict[int, tuple[int, np.ndarray]] = {}
    people = 0
    for frame in frames:
        people += len(frame.ids)
        for track, box in zip(frame.ids.tolist(), frame.boxes):
            if track < 0:
                continue
            first.setdefault(track, (frame.index, box))
            last[track] = (frame.index, box)
    end = frames[-1].index if frames else 0
    mx, my = BORDER_FRACTION * w, BORDER_FRACTION * h
    reborn: set[int] = set()
    for track, (f_end, box) in last.items():
        if f_end >= end or box[0] <= mx or box[1] <= my or box[2] >= w - mx or box[3] >= h - my:
            continue  # still there at the end, or left through the border
        centre, height = 0.5 * (box[:2] + box[2:]), max(box[3] - box[1], 1.0)
        for other, (f_start, obox) in first.items():
            if other in reborn or other == track or not f_end < f_start <= f_end + gap_frames:
                continue
            if np.linalg.norm(0.5 * (obox[:2] + obox[2:]) - centre) <= height:
                reborn.add(other)
                break
    return VideoMetrics(len(frames), people / max(len(frames), 1), len(first), len(reborn))
