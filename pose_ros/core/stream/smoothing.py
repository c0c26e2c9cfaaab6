"""Temporal smoothing of keypoints: the One-Euro filter (Casiez, Roussel & Vogel, CHI 2012), vectorised.

The 1€ filter is a first-order low-pass whose cutoff rises with the signal's speed:

    dx      = (x - x_hat_prev) / dt                      speed from the previous *filtered* value
    dx_hat  = lowpass(dx, cutoff=d_cutoff)
    cutoff  = min_cutoff + beta * |dx_hat|               Hz
    x_hat   = lowpass(x, cutoff)                         alpha = 1 / (1 + tau / dt), tau = 1 / (2 pi cutoff)

so a still joint is smoothed hard (low cutoff: little jitter) and a moving one lightly (little lag).
Units: ``min_cutoff`` and ``d_cutoff`` in Hz, ``beta`` in 1/(signal unit), here 1/pixel: with the
defaults a joint moving at 100 px/s gets a cutoff of 6 Hz or more (test_smoothing.py measures 0.55
frames of lag at 30 Hz) and a still one about 1 Hz plus its jitter's contribution (2 px of noise: the
jitter drops by ~56 %). Each coordinate is filtered on its own.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from pose_ros.core.settings import check_settings, setting
from pose_ros.core.result import Poses


def _alpha(dt: np.ndarray, cutoff: np.ndarray | float) -> np.ndarray:
    tau = 1.0 / (2.0 * np.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """One-Euro filter applied elementwise to arrays of any (fixed) shape.

    Each element has its own state (filtered value, filtered speed, time of its last sample), so
    elements may be left out of an update with ``mask`` (a joint that was not found) without corrupting
    their state: when they come back, ``dt`` is the time since *their* last sample.

    ``f(x, t)`` / ``f(x, t, mask)``: ``x`` array of any shape, ``t`` time in seconds,
    ``mask`` bool array broadcastable to ``x`` (True = feed this element). Returns a float64 array of
    ``x``'s shape: the filtered values of the fed elements; the other elements are returned unchanged
    from ``x``. An element's first sample passes through and initialises it; a sample whose ``dt <= 0``
    (repeated or older time stamp) leaves the state unchanged and returns the previous filtered value.
    A change of shape starts the filter anew.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.05, d_cutoff: float = 1.0) -> None:
        SmootherConfig(min_cutoff, beta, d_cutoff)  # validates (the limits live on SmootherConfig's fields)
        self.min_cutoff, self.beta, self.d_cutoff = float(min_cutoff), float(beta), float(d_cutoff)
        self.reset()

    def reset(self) -> None:
        self._x: np.ndarray | None = None  # filtered value
        self._dx: np.ndarray | None = None  # filtered speed, units per second
        self._t: np.ndarray | None = None  # time of the element's last sample; NaN = never fed

    def __call__(self, x: np.ndarray, t: float, mask: np.ndarray | None = None) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self._x is None or self._x.shape != x.shape:
            self._x, self._dx = np.zeros(x.shape), np.zeros(x.shape)
            self._t = np.full(x.shape, np.nan)
        feed = np.ones(x.shape, bool) if mask is None else np.broadcast_to(np.asarray(mask, bool), x.shape)
        out, self._x, self._dx, self._t = _one_euro_step(
            x, feed, float(t), self._x, self._dx, self._t, self.min_cutoff, self.beta, self.d_cutoff)
        return out


def _one_euro_step(x: np.ndarray, feed: np.ndarray, t: float, x_prev: np.ndarray, dx_prev: np.ndarray,
                   t_prev: np.ndarray, min_cutoff: float, beta: float, d_cutoff: float):
    """One filter step on same-shaped arrays (state ``x_prev``, ``dx_prev``, ``t_prev``, NaN times for
    never-fed elements). Returns ``(out, x_new, dx_new, t_new)`` (new arrays, inputs untouched).

    Whole-array arithmetic, then a per-element choice: cheaper than boolean indexing on pose-sized
    arrays. Never-fed elements have NaN ``dt``: they are neither stepped nor stale.
    """
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        dt = t - t_prev
        first = feed & np.isnan(t_prev)
        step = feed & (dt > 0)
        dt = np.where(step, dt, 1.0)
        a_d = _alpha(dt, d_cutoff)
        dx_hat = a_d * ((x - x_prev) / dt) + (1.0 - a_d) * dx_prev
        a = _alpha(dt, min_cutoff + beta * np.abs(dx_hat))
        x_hat = a * x + (1.0 - a) * x_prev
    x_new = np.where(step, x_hat, np.where(first, x, x_prev))
    dx_new = np.where(step, dx_hat, np.where(first, 0.0, dx_prev))
    t_new = np.where(step | first, t, t_prev)
    # Fed elements: the new filtered value (stale ones, dt <= 0: the previous one); the others: raw.
    return np.where(feed, x_new, x), x_new, dx_new, t_new


@dataclass(frozen=True)
class SmootherConfig:
    """Parameters of the keypoint smoother (see the module docstring for the filter)."""

    # 1 Hz removes most detector jitter at 30 Hz.
    min_cutoff: float = setting(1.0, "One-Euro cutoff of a still joint, Hz: lower = smoother, more lag",
                                change="read_only", above=0.0, high=1000.0)
    # 0.05: 6 Hz at 100 px/s, i.e. < 1 frame of lag at walking speed in a 640-px image while still leaving a still
    # pose's jitter under half.
    beta: float = setting(0.05, "One-Euro cutoff increase per px/s of joint speed: higher = less lag when moving",
                          change="read_only", low=0.0, high=1000.0)
    d_cutoff: float = setting(1.0, "One-Euro cutoff of the speed estimate, Hz (1 Hz as in the paper)",
                              change="read_only", above=0.0, high=1000.0)
    # Above the tracker's default 0.5 s memory, so a track that comes back after an occlusion resumes its filter.
    forget_after_s: float = setting(1.0, "seconds after which the filter state of a track not seen is dropped",
                                    change="read_only", above=0.0, high=3600.0)

    def __post_init__(self) -> None:
        check_settings(self)


class PoseSmoother:
    """Smooths the keypoints x, y of tracked people: one One-Euro filter state per track id.

    * Joints with score 0 are not fed to the filter: they keep their raw value and the filter state.
    * A track id not in the state (new track, or forgotten) starts a fresh filter.
    * People with track id -1 pass through unchanged. Boxes, scores and keypoint scores are unchanged.
    * State of tracks unseen for more than ``forget_after_s`` is dropped.
    * A time stamp older than the previous one (a bag replayed in a loop, a clock reset) drops all state;
      the same time stamp again returns the previous filtered values.
    * A change of the number of keypoints (another skeleton) drops all state.

    The states of all tracks live in one table (row per track: ``_x``, ``_dx``, ``_t`` of shape
    (rows, K, 2)), so each update filters every tracked person in a single vectorised step (the same
    arithmetic as :class:`OneEuroFilter`). Each track id must appear at most once per frame.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.05, d_cutoff: float = 1.0,
                 forget_after_s: float = 1.0) -> None:
        self.config = SmootherConfig(min_cutoff, beta, d_cutoff, forget_after_s)
        self.reset()

    @classmethod
    def from_config(cls, config: SmootherConfig) -> "PoseSmoother":
        return cls(**dataclasses.asdict(config))

    def reset(self) -> None:
        self._rows: dict[int, int] = {}  # track id -> row of the state table
        self._last_seen: dict[int, float] = {}
        self._free: list[int] = []
        self._x, self._dx, self._t = np.zeros((0, 0, 2)), np.zeros((0, 0, 2)), np.zeros((0, 0, 2))
        self._last_t: float | None = None

    @property
    def num_tracks(self) -> int:
        return len(self._rows)

    def _row_for(self, track: int, k: int) -> int:
        row = self._rows.get(track)
        if row is None:
            if not self._free:  # grow the table (doubling)
                old = len(self._x)
                grow = max(old, 8)
                self._x = np.concatenate([self._x, np.zeros((grow, k, 2))])
                self._dx = np.concatenate([self._dx, np.zeros((grow, k, 2))])
                self._t = np.concatenate([self._t, np.full((grow, k, 2), np.nan)])
                self._free = list(range(old + grow - 1, old - 1, -1))
            row = self._rows[track] = self._free.pop()
            self._t[row] = np.nan  # a fresh filter
        return row

    def update(self, poses: Poses, t: float) -> Poses:
        """Smoothed copy of ``poses`` (same people, same order); ``t`` is the image time in seconds."""
        t = float(t)
        k = poses.skeleton.num_keypoints
        if (self._last_t is not None and t < self._last_t) or (len(self._x) and self._x.shape[1] != k):
            self.reset()
        if not len(self._x):
            self._x, self._dx, self._t = np.zeros((0, k, 2)), np.zeros((0, k, 2)), np.zeros((0, k, 2))
        self._last_t = t
        cfg = self.config
        keypoints = poses.keypoints.copy()
        people = np.flatnonzero(poses.track_ids >= 0)
        if len(people):
            tracks = poses.track_ids[people].tolist()
            rows = np.array([self._row_for(track, k) for track in tracks])
            feed = np.broadcast_to(keypoints[people, :, 2:3] > 0, (len(people), k, 2))
            out, self._x[rows], self._dx[rows], self._t[rows] = _one_euro_step(
                keypoints[people, :, :2].astype(np.float64), feed, t, self._x[rows], self._dx[rows],
                self._t[rows], cfg.min_cutoff, cfg.beta, cfg.d_cutoff)
            keypoints[people, :, :2] = out
            self._last_seen.update(dict.fromkeys(tracks, t))
        for track in [tr for tr, seen in self._last_seen.items() if t - seen > cfg.forget_after_s]:
            self._free.append(self._rows.pop(track))
            del self._last_seen[track]
        return dataclasses.replace(poses, keypoints=keypoints)
