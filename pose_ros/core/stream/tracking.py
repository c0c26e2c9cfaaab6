"""Frame-to-frame identity of people: a pose tracker giving each person a persistent ``track_id``.

Each frame, every live track is scored against every detection with

    similarity = oks_weight * OKS + (1 - oks_weight) * IoU          (both in [0, 1])

and the detections are assigned to tracks by ``scipy.optimize.linear_sum_assignment`` (maximising the
total similarity); assigned pairs scoring under ``match_threshold`` are rejected. Unmatched detections
start new tracks; tracks die once unseen for longer than ``max_age`` seconds.

Details and choices (measured on a real street video, vtest.avi, and on the designed sequences of
devtools/fixtures; the numbers are in README "Tracking" and DEVELOPERS.md):

* OKS is the COCO object keypoint similarity with the skeleton's ``oks_sigmas``:
  ``mean_j exp(-d_j^2 / (2 * s^2 * (2 sigma_j)^2))`` over the joints visible (score > 0) in both poses,
  with ``s^2`` the mean of the two association boxes' areas. When two poses share no visible joint, the
  similarity is the box IoU alone.
* Association boxes: a person's box widened to at least ``_PERSON_ASPECT`` (0.4) of its height and to at
  least ``min_box_size`` px on each side. Keypoints-first models (PoseNet) give the keypoints' extent as the
  box, a few pixels wide for a person seen side-on: a 10 px step left such boxes without overlap and made
  the OKS scale tiny, so every frame started a new track. Small, far people get the same floor.
* Motion: each track is compared with its last seen pose and, when ``motion_prediction`` is on, also with
  that pose moved by a constant-velocity prediction of its box centre over the time since it was last seen
  (velocity in px/s from the stamps, averaged over matches); the higher similarity counts. The prediction
  keeps people who walk past each other, or behind something, on their own track; the unmoved pose keeps a
  person who stopped while unseen.
* Two passes (ByteTrack's idea): people scoring at least ``new_track_score`` (an argument of ``update``: the
  stream passes person_threshold when ``low_score`` lets weaker people through) are matched first; the others
  (a person half hidden, blurred, far) may then continue a track left unmatched whose best score reached
  ``new_track_score`` (so raising person_threshold live does not keep weaker people published), but never
  start one: they are reported untracked (-1) and the stream drops them.
* Time, not frames: ``update`` takes the frame's stamp; a track unseen for more than ``max_age`` seconds is
  dropped before matching, so a camera gap of a few seconds starts afresh whatever the frame rate. Without a
  stamp, frames count as 1/30 s apart.
* A new track is tentative (reported as -1) until it has been seen in ``min_hits`` frames; a tentative
  track that misses a frame is dropped. Confirmed tracks are given ids 1, 2, 3, ... in order of
  confirmation. Ids are never reused, not even after :meth:`PoseTracker.reset` (0 and -1 are never
  ids, so a zero-initialised message field is never mistaken for a track).
* A change of skeleton or of image size between frames resets the tracker (ids still not reused).
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
_PERSON_ASPECT = 0.4  # a standing person's box is about 0.4 as wide as tall (COCO median); association boxes are at least that
_DEFAULT_PERIOD_S = 1.0 / 30.0  # frame spacing assumed when update() is given no stamp


@dataclass(frozen=True)
class TrackerConfig:
    """How detections are chained into tracks (see the module docstring for the similarity)."""

    # 0.3 accepts a person who moved about a third of their width between frames while rejecting a different
    # person next to them.
    match_threshold: float = setting(0.1, "minimum pose similarity (OKS and box IoU) to continue a track",
                                     change="read_only", low=0.0, high=1.0)
    # 1.5 s bridges a person walking behind another (about a second at walking pace on vtest) without carrying
    # a stale track into someone who walks in later.
    max_age: float = setting(2.0, "seconds a track survives unseen (then a reappearing person gets a new id)",
                             change="read_only", low=0.0, high=3600.0)
    min_hits: int = setting(1, "frames a track must be seen in before its id is published (1: at once)",
                            change="read_only", low=1)
    # OKS separates people whose boxes overlap (crossing paths, crowds); IoU still works when few joints are
    # visible. 0.5 uses both.
    oks_weight: float = setting(0.5, "weight of keypoint similarity (OKS) against box IoU in the match",
                                change="read_only", low=0.0, high=1.0)
    motion_prediction: bool = setting(True, "also match against a constant-velocity prediction of each track",
                                      change="read_only")
    min_box_size: float = setting(48.0, "association boxes are at least this many pixels wide and tall (small, "
                                        "far people; keypoint-extent boxes)", change="read_only", low=0.0,
                                  high=10_000.0)
    # 0.1: on vtest (yolo11n_pose, person_threshold 0.5) people walking behind others score 0.1-0.5 for a few
    # frames; continuing their tracks took re-births from 7 to 0 and people per frame from 1.19 to 1.85.
    low_score: float = setting(0.1, "bottom-up models: people scoring from this up to person_threshold may "
                                    "continue a track (a second matching pass) and are then published; they start "
                                    "none. 0: off", change="read_only", low=0.0, high=1.0)

    def __post_init__(self) -> None:
        check_settings(self)


def association_boxes(boxes: np.ndarray, min_size: float) -> np.ndarray:
    """``boxes`` (N, 4) widened about their centre to at least ``_PERSON_ASPECT`` x height wide and
    ``min_size`` on each side (float64)."""
    boxes = boxes.astype(np.float64)
    centre = 0.5 * (boxes[:, :2] + boxes[:, 2:])
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    half = 0.5 * np.stack([np.maximum(np.maximum(w, _PERSON_ASPECT * h), min_size), np.maximum(h, min_size)], 1)
    return np.concatenate([centre - half, centre + half], 1)


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
    per second, ``_hits`` (T,) frames seen, ``_best`` (T,) best person score, ``_seen`` (T,) stamp last seen, ``_ids`` (T,) reported id
    (-1 while tentative).
    """

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self._next_id = 1
        self.reset()

    def reset(self) -> None:
        """Forget every track (ids already given out are still never reused)."""
        self._skeleton: Skeleton | None = None
        self._image_hw: tuple[int, int] | None = None
        self._stamp: float | None = None
        self._boxes = np.zeros((0, 4), np.float64)
        self._kps = np.zeros((0, 0, 3), np.float64)
        self._vel = np.zeros((0, 2), np.float64)
        self._hits = np.zeros(0, np.int64)
        self._best = np.zeros(0, np.float64)
        self._seen = np.zeros(0, np.float64)
        self._ids = np.zeros(0, np.int32)

    @property
    def num_tracks(self) -> int:
        """Live tracks, tentative ones included."""
        return len(self._ids)

    def update(self, poses: Poses, stamp_s: float | None = None, image_hw: tuple[int, int] | None = None,
               new_track_score: float = 0.0) -> Poses:
        """Match one frame's people to the tracks; returns ``poses`` (same people, same order) with
        ``track_ids`` filled: the track's id, or -1 for a track still tentative (< ``min_hits``) or a
        low-score person that continued no track. ``stamp_s``: the frame's time (default: 1/30 s after the
        previous frame); ``image_hw``: its size (a change resets the tracks); people under ``new_track_score``
        only continue tracks (second pass)."""
        cfg = self.config
        if (self._skeleton is not None and poses.skeleton != self._skeleton) or (
                image_hw is not None and self._image_hw is not None and tuple(image_hw) != self._image_hw):
            self.reset()
        if self._skeleton is None:
            self._skeleton = poses.skeleton
            self._kps = np.zeros((0, poses.skeleton.num_keypoints, 3), np.float64)
        if image_hw is not None:
            self._image_hw = tuple(image_hw)
        last = self._stamp
        now = float(stamp_s) if stamp_s is not None else (0.0 if last is None else last + _DEFAULT_PERIOD_S)
        self._stamp = now

        self._keep(now - self._seen <= cfg.max_age)  # tracks unseen for too long cannot match

        n = len(poses)
        det_boxes = poses.boxes.astype(np.float64)
        det_kps = poses.keypoints.astype(np.float64)
        det_track = np.full(n, -1, np.int64)  # track index of each detection
        strong = poses.scores >= new_track_score
        free = np.ones(len(self._ids), bool)
        if n and len(self._ids):
            sim = self._similarity(det_kps, det_boxes, now)
            # ByteTrack's two passes; a weak person may only continue a track that was once a person by the
            # current threshold (a live raise of person_threshold must not keep weaker people published).
            for people, eligible in ((np.flatnonzero(strong), free),
                                     (np.flatnonzero(~strong), self._best >= new_track_score)):
                tracks = np.flatnonzero(free & eligible)
                if not len(people) or not len(tracks):
                    continue
                part = sim[np.ix_(tracks, people)]
                rows, cols = linear_sum_assignment(part, maximize=True)
                keep = part[rows, cols] >= cfg.match_threshold
                det_track[people[cols[keep]]] = tracks[rows[keep]]
                free[tracks[rows[keep]]] = False
            self._update_matched(det_track, det_boxes, det_kps, now)
            matched = det_track >= 0
            self._best[det_track[matched]] = np.maximum(self._best[det_track[matched]], poses.scores[matched])
        # Tentative tracks that missed this frame are dropped.
        alive = (self._ids >= 0) | ~free
        remap = np.cumsum(alive) - 1
        det_track[det_track >= 0] = remap[det_track[det_track >= 0]]
        self._keep(alive)

        # Unmatched strong detections start tracks (in detection order, i.e. by decreasing person score).
        new = np.flatnonzero((det_track < 0) & strong)
        if len(new):
            det_track[new] = len(self._ids) + np.arange(len(new))
            self._boxes = np.concatenate([self._boxes, det_boxes[new]])
            self._kps = np.concatenate([self._kps, det_kps[new]])
            self._vel = np.concatenate([self._vel, np.zeros((len(new), 2))])
            self._hits = np.concatenate([self._hits, np.ones(len(new), np.int64)])
            self._best = np.concatenate([self._best, poses.scores[new].astype(np.float64)])
            self._seen = np.concatenate([self._seen, np.full(len(new), now)])
            self._ids = np.concatenate([self._ids, np.full(len(new), -1, np.int32)])

        # Confirm the tracks that reached min_hits, ids in detection order. Every tentative track was
        # seen this frame (one that missed a frame was dropped above), so each has a detection.
        tracked = det_track >= 0
        detection_of = np.full(len(self._ids), n, np.int64)
        detection_of[det_track[tracked]] = np.flatnonzero(tracked)
        confirm = np.flatnonzero((self._ids < 0) & (self._hits >= cfg.min_hits) & (detection_of < n))
        if len(confirm):
            confirm = confirm[np.argsort(detection_of[confirm])]
            self._ids[confirm] = self._next_id + np.arange(len(confirm), dtype=np.int32)
            self._next_id += len(confirm)

        ids = np.full(n, -1, np.int32)
        ids[tracked] = self._ids[det_track[tracked]]
        return dataclasses.replace(poses, track_ids=ids)

    def _similarity(self, det_kps: np.ndarray, det_boxes: np.ndarray, now: float) -> np.ndarray:
        """(T, N): each track against each detection, the better of its last pose and its predicted one."""
        cfg, sigmas = self.config, self._skeleton.oks_sigmas
        det_assoc = association_boxes(det_boxes, cfg.min_box_size)
        sim = pose_similarity(self._kps, association_boxes(self._boxes, cfg.min_box_size), det_kps, det_assoc,
                              sigmas, cfg.oks_weight)
        if cfg.motion_prediction:
            shift = self._vel * (now - self._seen)[:, None]  # (T, 2)
            pred_kps = self._kps.copy()
            pred_kps[..., :2] += shift[:, None, :]
            pred_boxes = association_boxes(self._boxes + np.tile(shift, 2), cfg.min_box_size)
            sim = np.maximum(sim, pose_similarity(pred_kps, pred_boxes, det_kps, det_assoc, sigmas, cfg.oks_weight))
        return sim

    def _update_matched(self, det_track: np.ndarray, det_boxes: np.ndarray, det_kps: np.ndarray,
                        now: float) -> None:
        """Matched tracks take the detection's pose; velocity from the box-centre displacement per second."""
        cols = np.flatnonzero(det_track >= 0)
        rows = det_track[cols]
        if not len(rows):
            return
        elapsed = np.maximum(now - self._seen[rows], _EPS)[:, None]
        step = (_centres(det_boxes[cols]) - _centres(self._boxes[rows])) / elapsed
        first = (self._hits[rows] == 1)[:, None]
        self._vel[rows] = np.where(first, step, 0.5 * self._vel[rows] + 0.5 * step)
        self._boxes[rows] = det_boxes[cols]
        self._kps[rows] = det_kps[cols]
        self._hits[rows] += 1
        self._seen[rows] = now

    def _keep(self, alive: np.ndarray) -> None:
        for name in ("_boxes", "_kps", "_vel", "_hits", "_best", "_seen", "_ids"):
            setattr(self, name, getattr(self, name)[alive])


def _centres(boxes: np.ndarray) -> np.ndarray:
    return 0.5 * (boxes[:, :2] + boxes[:, 2:])
