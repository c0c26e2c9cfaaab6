"""PoseTracker on designed sequences of real poses: people walking, crossing, occluded, leaving."""
from __future__ import annotations


import numpy as np
import pytest

from pose_ros.core.config import ConfigError
from pose_ros.core.result import Poses
from pose_ros.core.skeletons import BLAZEPOSE33, COCO17
from pose_ros.core.geometry import box_iou
from pose_ros.core.stream.tracking import PoseTracker, TrackerConfig, pose_similarity
from devtools.fixtures.synthetic_motion import SCENARIOS, frame, id_switches, person, run_scenario

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
        ids, _ = run_scenario(actors, TrackerConfig(motion_prediction=motion), seed=seed, noise=noise)
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
        ids, _ = run_scenario([(0, (400, 300), (0, 0), hidden), (2, (900, 280), (0, 0), ())], config, frames=30)
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
