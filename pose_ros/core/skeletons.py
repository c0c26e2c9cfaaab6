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

# MediaPipe BlazePose's 33 landmarks (mediapipe/python/solutions/pose.py PoseLandmark, POSE_CONNECTIONS).
_COCO_SIGMA = dict(zip(COCO17.keypoint_names, COCO17.oks_sigmas.tolist()))
BLAZEPOSE33 = Skeleton(
    name="blazepose33",
    keypoint_names=(
        "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
        "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right",
        "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
        "left_pinky", "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb",
        "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
        "left_heel", "right_heel", "left_foot_index", "right_foot_index",
    ),
    edges=(
        (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10), (11, 12), (11, 13),
        (13, 15), (15, 17), (15, 19), (15, 21), (17, 19), (12, 14), (14, 16), (16, 18), (16, 20), (16, 22),
        (18, 20), (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28), (27, 29), (28, 30),
        (29, 31), (30, 32), (27, 31), (28, 32),
    ),
    flip_pairs=((1, 4), (2, 5), (3, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16), (17, 18), (19, 20),
                (21, 22), (23, 24), (25, 26), (27, 28), (29, 30), (31, 32)),
    # There are no official OKS sigmas for this layout: joints COCO also has take COCO's value; eye corners
    # take the eye's, mouth corners the nose's, fingers the wrist's, heels and toes COCO-WholeBody's foot
    # values (0.066 heel, 0.068 big toe).
    oks_sigmas=np.array(
        [_COCO_SIGMA["nose"]] + [_COCO_SIGMA["left_eye"]] * 6 + [_COCO_SIGMA["left_ear"]] * 2
        + [_COCO_SIGMA["nose"]] * 2
        + [_COCO_SIGMA[n] for n in ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
                                    "left_wrist", "right_wrist")]
        + [_COCO_SIGMA["left_wrist"]] * 6
        + [_COCO_SIGMA[n] for n in ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
                                    "right_ankle")]
        + [0.066, 0.066, 0.068, 0.068], dtype=np.float32),
)

# BlazePose's person detector gives four alignment points per person, not joints: the hips' centre and a point on
# the circle enclosing the full body, the shoulders' centre and a point on the upper body's circle (MediaPipe's
# pose_detection.tflite). Its sigmas are the hips' and shoulders' (they are never published: detector output only
# feeds the landmark model, or tells a planner nothing but the box when the landmark model rejects a person).
BLAZEPOSE_ALIGNMENT = Skeleton(
    name="blazepose_alignment",
    keypoint_names=("hip_centre", "full_body_circle", "shoulder_centre", "upper_body_circle"),
    edges=((0, 1), (2, 3)),
    flip_pairs=(),
    oks_sigmas=np.array([_COCO_SIGMA["left_hip"]] * 2 + [_COCO_SIGMA["left_shoulder"]] * 2, dtype=np.float32),
)

# Layouts a model can publish (the detector's alignment points are not one).
SKELETONS: dict[str, Skeleton] = {s.name: s for s in (COCO17, BLAZEPOSE33)}

# Keypoint index maps between layouts: target joint j is source joint MAPPINGS[(source, target)][j].
MAPPINGS: dict[tuple[str, str], np.ndarray] = {
    ("blazepose33", "coco17"): np.array([BLAZEPOSE33.keypoint_names.index(n) for n in COCO17.keypoint_names]),
}


def keypoint_mapping(source: str, target: str) -> np.ndarray | None:
    """Indices taking ``source`` keypoints to the ``target`` layout; None when they are the same layout."""
    if source == target:
        return None
    try:
        return MAPPINGS[(source, target)]
    except KeyError:
        valid = sorted({t for s, t in MAPPINGS if s == source} | {source})
        raise KeyError(f"cannot output skeleton {target!r} from a {source!r} model; valid: {', '.join(valid)}") from None


def keypoints_by_name(keypoints: np.ndarray, source: Skeleton, target: Skeleton) -> np.ndarray:
    """Keypoints (N, K_source, 3) laid out as ``target`` (N, K_target, 3): each target joint takes the source
    joint of the same name; a joint the source does not have gets score 0 (a missing joint, never a guess)."""
    out = np.zeros((len(keypoints), target.num_keypoints, 3), np.float32)
    index = {name: i for i, name in enumerate(source.keypoint_names)}
    for j, name in enumerate(target.keypoint_names):
        if name in index:
            out[:, j] = keypoints[:, index[name]]
    return out


def get_skeleton(name: str) -> Skeleton:
    try:
        return SKELETONS[name]
    except KeyError:
        raise KeyError(f"unknown skeleton {name!r}; valid: {', '.join(sorted(SKELETONS))}") from None
