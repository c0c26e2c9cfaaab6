"""The people a top-down model crops: the detector's people that have a crop, best first, at most max_people."""
from __future__ import annotations

import numpy as np

from pose_ros.core.result import Poses


def crop_order(boxes: np.ndarray, scores: np.ndarray, max_people: int) -> np.ndarray:
    """Indices of the people to crop: degenerate boxes (not finite, or no width or height: their crop would be a
    singular warp) dropped, the rest by descending score (ties in detector order), the best ``max_people``."""
    ok = np.isfinite(boxes).all(axis=1) & (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    return np.flatnonzero(ok)[np.argsort(-scores[ok], kind="stable")][:max_people]


def select_people(people: Poses, max_people: int) -> Poses:
    """The detector's people to crop (:func:`crop_order`), as new arrays: boxes, scores and the detector's own
    joints stay together (the keypoint model's pose is checked against those joints)."""
    return people[crop_order(people.boxes, people.scores, max_people)]
