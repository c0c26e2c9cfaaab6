"""Synthetic pose sequences with exact ground truth, for the tracker and the smoother.

Real poses (the three people of bus.jpg as yolo11n_pose finds them) are moved along known paths: people
walking, crossing, hidden for a few frames, with Gaussian detector noise. The tests assert on these
sequences (zero id switches on the designed ones, jitter halved, lag within a frame) and the benchmark
(tools/bench/run_bench.py, section "features") reports the same measurements plus a harder sequence.
Core-only: no ROS imports.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from pose_ros.core.result import Poses
from pose_ros.core.skeletons import COCO17, Skeleton
from pose_ros.core.smoothing import PoseSmoother, SmootherConfig
from pose_ros.core.tracking import PoseTracker, TrackerConfig

RATE_HZ = 30.0

# The three people of bus.jpg as yolo11n_pose finds them (default thresholds: joints under 0.3 have
# score 0), keypoints relative to their box's top-left corner, and the box sizes (w, h).
_BUS = [
    ((140.9, 484.9), [[125.1, 40.8, .3], [127.4, 30.7, .4], [123.5, 29.8, 0], [131.3, 37.0, .6],
                      [132.5, 34.7, 0], [134.5, 94.6, .9], [134.9, 88.4, 0], [110.9, 176.4, .8],
                      [110.3, 169.5, 0], [87.7, 172.7, .5], [89.3, 158.8, 0], [125.7, 244.6, .8],
                      [127.9, 241.3, .4], [92.6, 337.6, .8], [101.6, 337.4, .4], [54.9, 447.7, .6],
                      [60.0, 446.6, .4]]),
    ((122.2, 454.1), [[71.3, 46.5, 1], [76.9, 36.7, .9], [61.8, 39.1, 1], [84.3, 39.6, .5],
                      [43.8, 43.7, .9], [100.0, 88.6, 1], [29.8, 93.9, 1], [111.6, 147.2, 1],
                      [26.3, 170.9, 1], [64.9, 130.1, .9], [31.1, 213.2, 1], [86.2, 220.8, 1],
                      [40.8, 221.3, 1], [79.8, 318.0, 1], [41.6, 313.9, 1], [61.4, 401.3, 1],
                      [37.5, 401.7, 1]]),
    ((197.5, 509.6), [[94.8, 46.6, 1], [99.7, 35.8, .9], [83.3, 37.9, 1], [101.7, 41.9, 0],
                      [58.4, 45.5, 1], [111.1, 94.0, 1], [41.4, 103.9, 1], [134.0, 145.3, .9],
                      [57.2, 177.3, 1], [109.8, 108.9, .9], [109.9, 138.4, 1], [108.1, 243.9, 1],
                      [55.2, 248.6, 1], [126.9, 349.0, 1], [41.7, 354.4, 1], [138.5, 458.3, 1],
                      [30.2, 461.8, 1]]),
]
TEMPLATES = [(np.array(size, np.float32), np.array(kps, np.float32)) for size, kps in _BUS]
# The second bus person with all 17 joints visible, placed at (300, 200): the smoother's still pose.
STILL_POSE = TEMPLATES[1][1][:, :2].astype(np.float64) + (300, 200)


def person(template: int, x: float, y: float) -> tuple[np.ndarray, np.ndarray]:
    """Box (4,) and keypoints (17, 3) of bus person ``template`` with its box's top-left at (x, y)."""
    size, kps = TEMPLATES[template]
    kps = kps.copy()
    kps[:, :2] += (x, y)
    return np.array([x, y, x + size[0], y + size[1]], np.float32), kps


def frame(people: list[tuple[np.ndarray, np.ndarray]], rng: np.random.Generator | None = None,
          skeleton: Skeleton = COCO17) -> tuple[Poses, np.ndarray]:
    """Poses of ``people`` in a random order (the tracker must not rely on it), and that order."""
    n = len(people)
    order = rng.permutation(n) if rng is not None else np.arange(n)
    boxes = np.array([people[i][0] for i in order], np.float32).reshape(n, 4)
    kps = np.array([people[i][1] for i in order], np.float32).reshape(n, skeleton.num_keypoints, 3)
    return Poses(boxes, np.full(n, 0.9, np.float32), kps, skeleton), order


def poses_of(xy: np.ndarray, track_ids, scores: np.ndarray | None = None) -> Poses:
    """Poses of people with joints ``xy`` (N, 17, 2), joint scores 1 unless given (N, 17)."""
    n = len(xy)
    kps = np.concatenate([xy, np.ones((n, 17, 1)) if scores is None else scores[..., None]], -1)
    lo, hi = xy.min(1), xy.max(1)
    return Poses(np.concatenate([lo, hi], 1).astype(np.float32), np.full(n, 0.9, np.float32),
                 kps.astype(np.float32), COCO17, np.asarray(track_ids, np.int32))


# An actor: (template, start (x, y), velocity (px/frame), frames in which it is hidden).
SCENARIOS = {
    # Three people walking left and right at different speeds, never overlapping.
    "walking": [(0, (100, 300), (8, 0), ()), (1, (650, 320), (-5, 0), ()), (2, (1000, 280), (2, 1), ())],
    # Two people swap x positions, passing each other 20 px apart vertically, at 15 px/frame each.
    "crossing": [(1, (200, 300), (15, 0), ()), (2, (650, 320), (-15, 0), ())],
    # The same, with two copies of the same person (nothing but geometry to tell them apart).
    "crossing_twins": [(1, (200, 300), (15, 0), ()), (1, (650, 320), (-15, 0), ())],
    # The twins passing only 5 px apart vertically.
    "crossing_twins_close": [(1, (200, 300), (15, 0), ()), (1, (650, 305), (-15, 0), ())],
    # A slow person overtaken by a fast one, with a third standing still.
    "overtaking": [(0, (100, 300), (20, 0), ()), (1, (300, 310), (4, 0), ()), (2, (1100, 280), (0, 0), ())],
    # One walker hidden for 5 frames (behind something) and reappearing further on.
    "occluded": [(0, (100, 300), (10, 0), range(10, 15)), (2, (900, 280), (-3, 0), ())],
    # Crossing, the one walking behind hidden for 5 frames around the crossing point.
    "crossing_occluded": [(1, (200, 300), (15, 0), range(13, 18)), (2, (650, 320), (-15, 0), ())],
    # A person running fast (30 px/frame, 900 px/s) next to a still one.
    "running": [(1, (0, 300), (30, 0), ()), (2, (500, 330), (0, 0), ())],
}

# Beyond the design: six look-alike people (two templates) crossing in both directions through one spot,
# two of them hidden around the crossing, a fast runner through the group; run with 4 px noise. The
# tracker is not expected to be perfect here: the benchmark reports its id switches.
HARD_SCENARIO = [
    (1, (100, 300), (14, 0), range(14, 20)), (1, (700, 310), (-14, 0), ()),
    (2, (150, 260), (12, 2), ()), (2, (650, 340), (-12, -2), range(15, 19)),
    (1, (400, 100), (0, 10), ()), (0, (0, 320), (28, 0), ()),
]


def run_scenario(actors, config: TrackerConfig, frames: int = 30, seed: int = 0,
                 noise: float = 0.0) -> tuple[np.ndarray, PoseTracker]:
    """Feed the scenario, with Gaussian detector noise of ``noise`` px on keypoints and box corners;
    returns the ids (frames, actors) reported for each actor (-2 where hidden) and the tracker."""
    tracker, rng = PoseTracker(config), np.random.default_rng(seed)
    ids = np.full((frames, len(actors)), -2, np.int64)
    for f in range(frames):
        shown = [a for a, (_, _, _, hidden) in enumerate(actors) if f not in hidden]
        people = []
        for a in shown:
            box, kps = person(actors[a][0], actors[a][1][0] + f * actors[a][2][0],
                              actors[a][1][1] + f * actors[a][2][1])
            box = box + rng.normal(0, noise, 4).astype(np.float32)
            kps[:, :2] += rng.normal(0, noise, (len(kps), 2)).astype(np.float32)
            people.append((box, kps))
        poses, order = frame(people, rng)
        out = tracker.update(poses)
        if not (np.array_equal(out.keypoints, poses.keypoints) and np.array_equal(out.boxes, poses.boxes)):
            raise AssertionError("the tracker changed the people it was given")
        for slot, i in enumerate(order):
            ids[f, shown[i]] = out.track_ids[slot]
    return ids, tracker


def id_switches(ids: np.ndarray) -> int:
    """Times an actor's reported id changes between two of its appearances."""
    switches = 0
    for column in ids.T:
        seen = column[column != -2]
        switches += int((seen[1:] != seen[:-1]).sum())
    return switches


@dataclass(frozen=True)
class Jitter:
    raw_std_px: float  # mean over joints of the std of the noisy positions
    smooth_std_px: float  # the same after smoothing
    mean_error_px: float  # smoothed position vs the true still pose

    @property
    def reduction(self) -> float:
        return 1.0 - self.smooth_std_px / self.raw_std_px


def still_pose_jitter(seed: int, sigma_px: float = 2.0, frames: int = 200,
                      config: SmootherConfig | None = None) -> Jitter:
    """A still pose with N(0, sigma) noise at 30 Hz through the smoother; statistics after 1 s of warm-up."""
    rng = np.random.default_rng(seed)
    smoother = PoseSmoother.from_config(config or SmootherConfig())
    raw, smooth = [], []
    for i in range(frames):
        noisy = STILL_POSE + rng.normal(0, sigma_px, STILL_POSE.shape)
        raw.append(noisy)
        smooth.append(smoother.update(poses_of(noisy[None], [1]), i / RATE_HZ).keypoints[0, :, :2])
    warm = int(RATE_HZ)
    raw_a, smooth_a = np.array(raw[warm:]), np.array(smooth[warm:])
    return Jitter(float(raw_a.std(0).mean()), float(smooth_a.std(0).mean()),
                  float(np.linalg.norm(smooth_a - STILL_POSE, axis=-1).mean()))


@dataclass(frozen=True)
class Lag:
    lag_px: float  # mean distance between smoothed and true joints after 2 s at constant speed
    lag_frames: float  # the same in frames of motion (lag_px / per-frame displacement)
    trails: bool  # every joint lies behind the true one along the motion (no overshoot)


def steady_state_lag(speed_px_s: float, direction=(1.0, 0.0), config: SmootherConfig | None = None) -> Lag:
    """Constant-speed motion of the still pose for 2 s at 30 Hz: how far the smoothed pose trails."""
    unit = np.asarray(direction, np.float64) / np.linalg.norm(direction)
    smoother = PoseSmoother.from_config(config or SmootherConfig())
    for i in range(int(2 * RATE_HZ)):
        true = STILL_POSE + unit * speed_px_s * i / RATE_HZ
        out = smoother.update(poses_of(true[None], [1]), i / RATE_HZ).keypoints[0, :, :2]
    lag_px = float(np.linalg.norm(out - true, axis=-1).mean())
    return Lag(lag_px, lag_px / (speed_px_s / RATE_HZ), bool(((true - out) @ unit > 0).all()))


def tracking_time_per_frame(people: int = 20, frames: int = 300, seed: int = 1) -> np.ndarray:
    """Seconds per frame of tracker + smoother on ``people`` walking with 2 px noise (first 10 dropped)."""
    rng = np.random.default_rng(seed)
    start = rng.uniform((0, 0), (1800, 600), size=(people, 2))
    velocity = rng.uniform(-6, 6, size=(people, 2))
    tracker, smoother = PoseTracker(), PoseSmoother()
    times = []
    for f in range(frames):
        poses, _ = frame([person(i % 3, *(start[i] + f * velocity[i])) for i in range(people)], rng)
        noisy = poses.keypoints.copy()
        noisy[..., :2] += rng.normal(0, 2, noisy[..., :2].shape).astype(np.float32)
        poses = Poses(poses.boxes, poses.scores, noisy, COCO17)
        t0 = time.perf_counter()
        smoother.update(tracker.update(poses), f / RATE_HZ)
        times.append(time.perf_counter() - t0)
    if tracker.num_tracks != people:
        raise AssertionError(f"{tracker.num_tracks} tracks for {people} people")
    return np.array(times[10:])
