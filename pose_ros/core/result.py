"""The one result type of the pipeline."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from pose_ros.core.skeletons import Skeleton


@dataclass(frozen=True)
class Poses:
    """People found in one image; N people, K = ``skeleton.num_keypoints``.

    boxes:      (N, 4) float32, [x_min, y_min, x_max, y_max] in source-image pixels.
    scores:     (N,) float32 person confidence in [0, 1], in decreasing order.
    keypoints:  (N, K, 3) float32, [x, y, score] per joint in skeleton order, source-image pixels.
                A joint that was not found has score 0 and keeps its slot (its x, y are meaningless).
    track_ids:  (N,) int32, -1 for people that are not tracked.
    keypoint_source: (N,) uint8, what gave each person's keypoints: KEYPOINT_MODEL (0, the normal case), or,
                when a top-down keypoint model rejected the person its detector found, DETECTOR (1: the
                detector's own, coarser keypoints) or NO_KEYPOINTS (2: the box only, every score 0). A person
                found is never dropped for lack of keypoints.
    skeleton:   the layout of the K keypoints.

    Arrays are validated (shape, dtype, finite) on construction. ``poses[mask]`` (a boolean (N,) mask or
    an index array) selects people, keeping every per-person field in step.
    """

    boxes: np.ndarray
    scores: np.ndarray
    keypoints: np.ndarray
    skeleton: Skeleton
    track_ids: np.ndarray | None = None
    keypoint_source: np.ndarray | None = None

    KEYPOINT_MODEL, DETECTOR, NO_KEYPOINTS = 0, 1, 2
    PER_PERSON = ("boxes", "scores", "keypoints", "track_ids", "keypoint_source")

    def __post_init__(self) -> None:
        n, k = len(self.scores), self.skeleton.num_keypoints
        if self.track_ids is None:
            object.__setattr__(self, "track_ids", np.full(n, -1, dtype=np.int32))
        if self.keypoint_source is None:
            object.__setattr__(self, "keypoint_source", np.zeros(n, dtype=np.uint8))
        expected = {"boxes": ((n, 4), np.float32), "scores": ((n,), np.float32),
                    "keypoints": ((n, k, 3), np.float32), "track_ids": ((n,), np.int32),
                    "keypoint_source": ((n,), np.uint8)}
        for name, (shape, dtype) in expected.items():
            value = getattr(self, name)
            if not isinstance(value, np.ndarray) or value.shape != shape or value.dtype != dtype:
                got = f"{value.dtype} {value.shape}" if isinstance(value, np.ndarray) else type(value).__name__
                raise ValueError(f"Poses.{name}: expected {np.dtype(dtype)} {shape}, got {got}")
        if not (np.isfinite(self.boxes).all() and np.isfinite(self.keypoints).all()):
            raise ValueError("Poses: boxes and keypoints must be finite")
        kp_scores = self.keypoints[..., 2]
        if ((kp_scores < 0) | (kp_scores > 1)).any() or ((self.scores < 0) | (self.scores > 1)).any():
            raise ValueError("Poses: scores must lie in [0, 1]")

    def __len__(self) -> int:
        return len(self.scores)

    def __getitem__(self, selection) -> "Poses":
        """The people picked by a boolean mask (N,) or an index array, in that order."""
        selection = np.asarray(selection)
        if selection.dtype == bool and selection.shape != (len(self),):
            raise IndexError(f"Poses: a mask must have shape ({len(self)},), got {selection.shape}")
        return replace(self, **{name: np.ascontiguousarray(getattr(self, name)[selection])
                                for name in self.PER_PERSON})

    def translated(self, dx: float, dy: float) -> "Poses":
        """The same people with boxes and keypoints moved by (dx, dy) pixels (a crop's people in its image's)."""
        if dx == 0 and dy == 0:
            return self
        keypoints = self.keypoints.copy()
        keypoints[..., 0] += dx
        keypoints[..., 1] += dy
        return replace(self, boxes=self.boxes + np.array([dx, dy, dx, dy], np.float32), keypoints=keypoints)

    @classmethod
    def empty(cls, skeleton: Skeleton) -> "Poses":
        k = skeleton.num_keypoints
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32),
                   np.zeros((0, k, 3), np.float32), skeleton)

    def to_dict(self) -> dict:
        """JSON-ready form: one entry per person (used by the CLI)."""
        return {
            "skeleton": self.skeleton.name,
            "people": [
                {"box": box.tolist(), "score": float(score), "track_id": int(track),
                 "keypoint_source": int(source), "keypoints": kps.tolist()}
                for box, score, track, source, kps in zip(self.boxes, self.scores, self.track_ids,
                                                           self.keypoint_source, self.keypoints)
            ],
        }
