"""PoseTracker on designed sequences of real poses: people walking, crossing, occluded, leaving."""
from __future__ import annotations

import time

import numpy as np
import pytest

from pose_ros.core.config import ConfigError
from pose_ros.core.result import Poses
from pose_ros.core.skeletons import BLAZEPOSE33, COCO17
from pose_ros.core.smoothing import PoseSmoother
from pose_ros.core.tracking import PoseTracker, TrackerConfig, box_iou, pose_similarity

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


def person(template: int, x: float, y: float) -> tuple[np.ndarray, np.ndarray]:
    """Box (4,) and keypoints (17, 3) of bus person ``template`` with its box's top-left at (x, y)."""
    size, kps = TEMPLATES[template]
    kps = kps.copy()
    kps[:, :2] += (x, y)
    return np.array([x, y, x + size[0], y + size[1]], np.float32), kps


def frame(people: list[tuple[np.ndarray, np.ndarray]], rng: np.random.Generator | None = None,
          skeleton=COCO17) -> tuple[Poses, np.ndarray]:
    """Poses of ``people`` in a random order (the tracker must not rely on it), and that order."""
    n = len(people)
    order = rng.permutation(n) if rng is not None else np.arange(n)
    boxes = np.array([people[i][0] for i in order], np.float32).reshape(n, 4)
    kps = np.array([people[i][1] for i in order], np.float32).reshape(n, skeleton.num_keypoints, 3)
    return Poses(boxes, np.full(n, 0.9, np.float32), kps, skeleton), order


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


def run(actors, config: TrackerConfig, frames: int = 30, seed: int = 0, noise: float = 0.0):
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
        assert np.array_equal(out.keypoints, poses.keypoints) and np.array_equal(out.boxes, poses.boxes)
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


# Scenarios the tracker gets right even without motion prediction (with noise or not).
NO_MOTION_NEEDED = ("walking", "overtaking", "occluded", "running")
SEEDS = range(5)  # detection order and noise


@pytest.mark.parametrize("noise", [0.0, 2.0], ids=["exact", "noise2px"])
@pytest.mark.parametrize("name", list(SCENARIOS))
@pytest.mark.parametrize("motion", [True, False], ids=["motion", "no_motion"])
def test_no_id_switch_on_designed_sequences(name, motion, noise, capsys):
    """Zero id switches with the default tracker (motion prediction on); without the prediction,
    crossings and occlusions do cause switches (printed for comparison, asserted only where none)."""
    actors = SCENARIOS[name]
    switches = 0
    for seed in SEEDS:
        ids, _ = run(actors, TrackerConfig(motion_prediction=motion), seed=seed, noise=noise)
        switches += id_switches(ids)
        assert (ids[ids != -2] >= 1).all()  # min_hits = 1: everyone has an id from the first frame
        # Distinct actors carry distinct ids.
        assert len({int(c[c != -2][0]) for c in ids.T}) == len(actors)
    with capsys.disabled():
        print(f"\n[tracking] {name:20s} noise={noise:.0f}px motion_prediction={motion!s:5s} "
              f"id switches over {len(SEEDS)} runs of 30 frames: {switches}")
    if motion or name in NO_MOTION_NEEDED:
        assert switches == 0


def test_person_missing_longer_than_max_missed_gets_a_new_id():
    config = TrackerConfig(max_missed=15)
    for hidden, same in ((range(5, 20), True), (range(5, 21), False)):  # 15 frames: kept; 16: dropped
        ids, _ = run([(0, (400, 300), (0, 0), hidden), (2, (900, 280), (0, 0), ())], config, frames=30)
        before, after = ids[4, 0], ids[hidden.stop, 0]
        assert (before == after) == same, (len(hidden), before, after)
        assert (ids[:, 1] == ids[0, 1]).all()
        if not same:
            assert after > ids.max(initial=0, where=np.arange(30)[:, None] < hidden.stop)


def test_ids_are_never_reused():
    tracker = PoseTracker(TrackerConfig(max_missed=2))
    seen: list[int] = []
    for f in range(42):
        # A person at the same place for 3 frames, then gone 3 frames (> max_missed): each a new track.
        people = [person(1, 400, 300)] if f % 6 < 3 else []
        out = tracker.update(frame(people)[0])
        if f % 6 == 0:
            seen.append(int(out.track_ids[0]))
        if f % 6 in (1, 2):
            assert out.track_ids[0] == seen[-1]
    assert seen == sorted(seen) and len(set(seen)) == len(seen) == 7
    tracker.reset()
    again = tracker.update(frame([person(1, 400, 300)])[0]).track_ids[0]
    assert again > max(seen) and tracker.num_tracks == 1


def test_empty_frames_age_tracks_and_are_returned_empty():
    tracker = PoseTracker(TrackerConfig(max_missed=3))
    first = tracker.update(frame([person(0, 100, 300), person(2, 700, 300)])[0]).track_ids.tolist()
    for _ in range(3):
        out = tracker.update(Poses.empty(COCO17))
        assert len(out) == 0 and out.track_ids.dtype == np.int32
    assert tracker.num_tracks == 2
    again = tracker.update(frame([person(2, 700, 300), person(0, 100, 300)])[0]).track_ids.tolist()
    assert again == first[::-1]
    for _ in range(4):
        tracker.update(Poses.empty(COCO17))
    assert tracker.num_tracks == 0


def test_tentative_tracks_are_reported_as_untracked_until_min_hits():
    tracker = PoseTracker(TrackerConfig(min_hits=3))
    reported = [tracker.update(frame([person(1, 300 + 5 * f, 300)])[0]).track_ids[0] for f in range(5)]
    assert reported[:2] == [-1, -1] and reported[2] == reported[3] == reported[4] == 1
    # A one-frame false positive is never confirmed, is dropped, and uses up no id.
    out = tracker.update(frame([person(1, 325, 300), person(0, 900, 300)])[0])
    assert out.track_ids.tolist() == [1, -1]
    tracker.update(frame([person(1, 330, 300)])[0])
    assert tracker.num_tracks == 1
    ids = [tracker.update(frame([person(1, 335 + 5 * f, 300), person(2, 900, 300)])[0]).track_ids.tolist()
           for f in range(3)]
    assert ids == [[1, -1], [1, -1], [1, 2]]


def test_input_ids_are_overwritten_and_order_kept():
    poses, _ = frame([person(0, 100, 300), person(1, 500, 300), person(2, 900, 300)])
    poses = Poses(poses.boxes, poses.scores, poses.keypoints, COCO17, np.array([7, 7, 7], np.int32))
    assert PoseTracker().update(poses).track_ids.tolist() == [1, 2, 3]


def test_skeleton_change_resets_the_tracks():
    tracker = PoseTracker()
    tracker.update(frame([person(0, 100, 300)])[0])
    other = Poses(np.array([[0, 0, 10, 10]], np.float32), np.ones(1, np.float32),
                  np.zeros((1, 33, 3), np.float32), BLAZEPOSE33)
    assert tracker.update(other).track_ids.tolist() == [2] and tracker.num_tracks == 1


@pytest.mark.parametrize("field, value, message", [
    ("match_threshold", -0.1, r"outside \[0, 1\]"),
    ("match_threshold", 1.5, r"outside \[0, 1\]"),
    ("oks_weight", 2.0, r"outside \[0, 1\]"),
    ("max_missed", -1, ">= 0"),
    ("min_hits", 0, ">= 1"),
])
def test_invalid_config_is_rejected(field, value, message):
    with pytest.raises(ConfigError, match=f"{field}.*{message}"):
        TrackerConfig(**{field: value})


@pytest.mark.parametrize("shift, expected", [
    ((0, 0), 1.0),  # identical
    ((2000, 0), 0.0),  # far apart
])
def test_similarity_extremes(shift, expected):
    box, kps = person(1, 300, 300)
    box2, kps2 = person(1, 300 + shift[0], 300 + shift[1])
    sim = pose_similarity(kps[None], box[None], kps2[None], box2[None], COCO17.oks_sigmas, 0.5)
    assert sim.shape == (1, 1) and sim[0, 0] == pytest.approx(expected, abs=1e-6)


def test_similarity_uses_only_joints_visible_in_both_and_falls_back_to_iou():
    box, kps = person(1, 300, 300)
    moved = kps.copy()
    moved[:8, :2] += 500  # joints 0..7 far off, but hidden in one pose: they must not count
    moved[:8, 2] = 0
    sim = pose_similarity(kps[None], box[None], moved[None], box[None], COCO17.oks_sigmas, 0.5)
    assert sim[0, 0] == pytest.approx(1.0)
    hidden = kps.copy()
    hidden[:, 2] = 0
    half = box + np.array([61.1, 0, 61.1, 0], np.float32)  # shifted by half the width: IoU 1/3
    sim = pose_similarity(kps[None], box[None], hidden[None], half[None], COCO17.oks_sigmas, 0.5)
    assert sim[0, 0] == pytest.approx(box_iou(box[None], half[None])[0, 0]) == pytest.approx(1 / 3, abs=1e-4)


def test_tracking_and_smoothing_time_per_frame_for_20_people(capsys):
    """Benchmark (printed, not asserted): tracker + smoother on 20 people walking, 300 frames."""
    rng = np.random.default_rng(1)
    start = rng.uniform((0, 0), (1800, 600), size=(20, 2))
    velocity = rng.uniform(-6, 6, size=(20, 2))
    tracker, smoother = PoseTracker(), PoseSmoother()
    times = []
    for f in range(300):
        people = [person(i % 3, *(start[i] + f * velocity[i])) for i in range(20)]
        poses, _ = frame(people, rng)
        noisy = poses.keypoints.copy()
        noisy[..., :2] += rng.normal(0, 2, noisy[..., :2].shape).astype(np.float32)
        poses = Poses(poses.boxes, poses.scores, noisy, COCO17)
        t0 = time.perf_counter()
        tracked = tracker.update(poses)
        smoother.update(tracked, f / 30)
        times.append(time.perf_counter() - t0)
    ms = np.array(times[10:]) * 1e3
    with capsys.disabled():
        print(f"\n[benchmark] tracking+smoothing, 20 people: mean {ms.mean():.2f} ms/frame, "
              f"median {np.median(ms):.2f}, p95 {np.percentile(ms, 95):.2f}, max {ms.max():.2f}")
    assert tracker.num_tracks == 20
