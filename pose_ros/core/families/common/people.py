"""The people a top-down model crops: the detector's people that have a crop, best first, at most max_people."""
from __future__ import annotations

import numpy as np


def select_people(boxes: np.ndarray, scores: np.ndarray, max_people: int) -> tuple[np.ndarray, np.ndarray]:
    """(boxes (n, 4), scores (n,)) of the detector's people, new arrays: degenerate boxes (not finite, or no width
    or height: their crop would be a singular warp) dropped, the rest by descending score (ties in detector
    order), the best ``max_people`` kept."""
    ok = np.isfinite(boxes).all(axis=1) & (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    order = np.flatnonzero(ok)[np.argsort(-scores[ok], kind="stable")][:max_people]
    return boxes[order], scores[order]
