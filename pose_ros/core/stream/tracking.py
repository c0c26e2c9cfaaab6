"""Frame-to-frame identity of people: a pose tracker giving each person a persistent ``track_id``.

Each frame, every live track is scored against every detection with

    similarity = oks_weight * OKS + (1 - oks_weight) * IoU          (both in [0, 1])

and the detections are assigned to tracks by ``scipy.optimize.linear_sum_assignment`` (maximising the
total similarity); assigned pairs scoring under ``match_threshold`` are rejected. Unmatched detections
start new tracks, unmatched tracks age and die once unseen for more than ``max_missed`` frames.

Details and choices:

* OKS is the COCO object keypoint similarity with the skeleton's ``oks_sigmas``:
  ``mean_j exp(-d_j^2 / (2 * s^2 * (2 sigma_j)^2))`` over the joints visible (score > 0) in both poses,
  with ``s^2`` the mean of the two person-box areas (COCO uses the segment area; the box area is what a
  pose model gives, and makes OKS a little more lenient). When two poses share no visible joint, the
  similarity is the box IoU alone.
* Each track is compared with its last seen pose and, when ``motion_prediction`` is on, also with that
  pose shifted by a constant-velocity prediction of its box centre (velocity in pixels per frame from
  the last matches, averaged); the higher of the two similarities counts. The prediction keeps people
  who walk past each other, or walk behind something, on their own track; taking the maximum with the
  unshifted pose keeps a person who stopped while unseen from losing the match.
* Ids count frames, not seconds (``update`` takes no time stamp): ``max_missed`` = 15 is 0.5 s at 30 Hz.
* A new track is tentative (reported as -1) until it has been seen in ``min_hits`` frames; a tentative
  track that misses a frame is dropped. Confirmed tracks are given ids 1, 2, 3, ... in order of
  confirmation. Ids are never reused, not even after :meth:`PoseTracker.reset` (0 and -1 are never
  ids, so a zero-initialised message field is never mistaken for a track).
* A change of skeleton between frames resets the tracker (ids still not reused).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from pose_ros.core.geometry import box_area, box_iou
from pose_ros.core.settings import check_settings, setting
from pose_ros.core.result import Poses
from pose_ros.core.skeletons import Skeleton

_EPS = 1e-9


@dataclass(frozen=True)
class TrackerConfig:
    """How detections are chained into tracks (see the module docstring for the similarity)."""

    # 0.3 accepts a person who moved about a third of their width between frames while rejecting a different
    # person next to them.
    match_threshold: float = setting(0.3, "minimum pose similarity (OKS and box IoU) to continue a track",
                                     change="read_only", low=0.0, high=1.0)
    # 15 is about 0.5 s at 30 Hz: bridges short occlusions, without carrying a stale track into someone else
    # who walks in later.
    max_missed: int = setting(15, "frames a track survives unseen, e.g. 15 = 0.5 s at 30 Hz", change="read_only",
                              low=0)
    min_hits: int = setting(1, "frames a track must be seen in before its id is published (1: at once)",
                            change="read_only", low=1)
    # OKS separates people whose boxes overlap (crossing paths, crowds); IoU still works when few joints are
    # visible. 0.5 uses both.
    oks_weight: float = setting(0.5, "weight of keypoint similarity (OKS) against box IoU in the match",
                                change="read_only", low=0.0, high=1.0)
    motion_prediction: bool = setting(True, "also match against a constant-velocity prediction of each track",
                                      change="read_only")

    def __post_init__(self) -> None:
        check_settings(self)


def pose_similarity(kps_a: np.ndarray, boxes_a: np.ndarray, kps_b: np.ndarray, boxes_b: np.ndarray,
                    sigmas: np.ndarray, oks_weight: float) -> np.ndarray:
    """Similarity (M, N) in [0, 1] of poses ``a`` (M, K, 3) / (M, 4) and ``b`` (N, K, 3) / (N, 4).

    ``oks_weight * OKS + (1 - oks_weight) * IoU``; IoU alone for pairs with no joint visible in both.
    """
    iou = box_iou(boxes_a, boxes_b)
    if oks_weight == 0.0:
        return iou
    xy_a, xy_b = kps_a[..., :2].astype(np.float64), kps_b[..., :2].astype(np.float64)
    d2 = ((xy_a[:, None] - xy_b[None]) ** 2).sum(-1)  # (M, N, K)
    visible = (kps_a[:, None, :, 2] > 0) & (kps_b[None, :, :, 2] > 0)  # (M, N, K)
    scale2 = 0.5 * (box_area(boxes_a.astype(np.float64))[:, None] + box_area(boxes_b.astype(np.float64))[None, :])
    k2 = (2.0 * sigmas.astype(np.float64)) ** 2  # (K,)
    e = d2 / (2.0 * np.maximum(scale2, _EPS)[..., None] * k2)
    count = visible.sum(-1)
    oks = np.where(visible, np.exp(-e), 0.0).sum(-1) / np.maximum(count, 1)
    return np.where(count > 0, oks_weight * oks + (1.0 - oks_weight) * iou, iou)


class PoseTracker:
    """Gives the people of successive frames persistent ids. Not thread-safe; one per image stream.

    Track state is kept as parallel arrays over the T live tracks:
    ``_boxes`` (T, 4), ``_kps`` (T, K, 3) last seen pose, ``_vel`` (T, 2) box-centre velocity in pixels
    per frame, ``_hits`` (T,) frames seen, ``_missed`` (T,) frames unseen since, ``_ids`` (T,) reported id
    (-1 while tentative).
    """

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self._next_id = 1
        self.reset()

    def reset(self) -> None:
        """Forget every track (ids already given out are still never reused)."""
        self._skeleton: Skeleton | None = None
        self._boxes = np.zeros((0, 4), np.float64)
        self._kps = np.zeros((0, 0, 3), np.float64)
        self._vel = np.zeros((0, 2), np.float64)
        self._hits = np.zeros(0, np.int64)
        self._missed = np.zeros(0, np.int64)
        self._ids = np.zeros(0, np.int32)

    @property
    def num_tracks(self) -> int:
        """Live tracks, tentative ones included."""
        return len(self._ids)

    def update(self, poses: Poses) -> Poses:
        """Match one frame's people to the tracks; returns ``poses`` (same people, same order) with
        ``track_ids`` filled: the track's id, or -1 for a track still tentative (< ``min_hits``)."""
        cfg = self.config
        if self._skeleton is not None and poses.skeleton != self._skeleton:
            self.reset()
        if self._skeleton is None:
            self._skeleton = poses.skeleton
            self._kps = np.zeros((0, poses.skeleton.num_keypoints, 3), np.float64)

        n, t = len(poses), len(self._ids)
        det_boxes = poses.boxes.astype(np.float64)
        det_kps = poses.keypoints.astype(np.float64)
        det_track = np.full(n, -1, np.int64)  # track index of each detection

        if n and t:
            sigmas = poses.skeleton.oks_sigmas
            sim = pose_similarity(self._kps, self._boxes, det_kps, det_boxes, sigmas, cfg.oks_weight)
            if cfg.motion_prediction:
                shift = self._vel * (self._missed + 1)[:, None]  # (T, 2)
                pred_boxes = self._boxes + np.tile(shift, 2)
                pred_kps = self._kps.copy()
                pred_kps[..., :2] += shift[:, None, :]
                sim = np.maximum(sim, pose_similarity(pred_kps, pred_boxes, det_kps, det_boxes, sigmas,
                                                      cfg.oks_weight))
            rows, cols = linear_sum_assignment(sim, maximize=True)
            keep = sim[rows, cols] >= cfg.match_threshold
            rows, cols = rows[keep], cols[keep]
            det_track[cols] = rows

            # Update the matched tracks: velocity from the box-centre displacement per elapsed frame.
            elapsed = (self._missed[rows] + 1)[:, None]
            step = (_centres(det_boxes[cols]) - _centres(self._boxes[rows])) / elapsed
            first = (self._hits[rows] == 1)[:, None]
            self._vel[rows] = np.where(first, step, 0.5 * self._vel[rows] + 0.5 * step)
            self._boxes[rows] = det_boxes[cols]
            self._kps[rows] = det_kps[cols]
            self._hits[rows] += 1
            self._missed[rows] = 0

        # Age the unmatched tracks; drop the dead ones and the tentative ones that missed a frame.
        matched = np.zeros(t, bool)
        matched[det_track[det_track >= 0]] = True
        self._missed[~matched] += 1
        alive = matched | ((self._missed <= cfg.max_missed) & (self._ids >= 0))
        remap = np.cumsum(alive) - 1  # new index of each surviving track
        for name in ("_boxes", "_kps", "_vel", "_hits", "_missed", "_ids"):
            setattr(self, name, getattr(self, name)[alive])
        matched_det = det_track >= 0
        det_track[matched_det] = remap[det_track[matched_det]]

        # Unmatched detections start tracks (in detection order, i.e. by decreasing person score).
        new = np.flatnonzero(det_track < 0)
        if len(new):
            det_track[new] = len(self._ids) + np.arange(len(new))
            self._boxes = np.concatenate([self._boxes, det_boxes[new]])
            self._kps = np.concatenate([self._kps, det_kps[new]])
            self._vel = np.concatenate([self._vel, np.zeros((len(new), 2))])
            self._hits = np.concatenate([self._hits, np.ones(len(new), np.int64)])
            self._missed = np.concatenate([self._missed, np.zeros(len(new), np.int64)])
            self._ids = np.concatenate([self._ids, np.full(len(new), -1, np.int32)])

        # Confirm the tracks that reached min_hits, ids in detection order. Every tentative track was
        # seen this frame (one that missed a frame was dropped above), so each has a detection.
        detection_of = np.empty(len(self._ids), np.int64)
        detection_of[det_track] = np.arange(n)
        confirm = np.flatnonzero((self._ids < 0) & (self._hits >= cfg.min_hits))
        if len(confirm):
            confirm = confirm[np.argsort(detection_of[confirm])]
            self._ids[confirm] = self._next_id + np.arange(len(confirm), dtype=np.int32)
            self._next_id += len(confirm)

        return dataclasses.replace(poses, track_ids=self._ids[det_track].astype(np.int32))


def _centres(boxes: np.ndarray) -> np.ndarray:
    return 0.5 * (boxes[:, :2] + boxes[:, 2:])

