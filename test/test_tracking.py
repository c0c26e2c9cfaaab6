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


def test_person_missing_longer_than_max_age_gets_a_new_id():
    config = TrackerConfig(max_age=0.52)  # frames 1/30 s apart (no stamps given)
    for hidden, same in ((range(5, 19), True), (range(5, 20), False)):  # unseen 0.5 s: kept; 0.53 s: dropped
        ids, _ = run_scenario([(0, (400, 300), (0, 0), hidden), (2, (900, 280), (0, 0), ())], config, frames=30)
        before, after = ids[4, 0], ids[hidden.stop, 0]
        assert (before == after) == same, (len(hidden), before, after)
        assert (ids[:, 1] == ids[0, 1]).all()
        if not same:
            assert after > ids.max(initial=0, where=np.arange(30)[:, None] < hidden.stop)


def test_tracks_expire_by_time_not_frames():
    """The same two frames in a row keep the id when 0.1 s apart, not after a 5 s camera gap; a frame rate of
    100 Hz or 5 Hz makes no difference to how long a track lives."""
    for stamps, same in (((0.0, 0.1), True), ((0.0, 5.0), False), ((0.0, 1.4), True), ((0.0, 1.6), False)):
        tracker = PoseTracker(TrackerConfig(max_age=1.5))
        first = tracker.update(frame([person(1, 400, 300)])[0], stamps[0]).track_ids[0]
        again = tracker.update(frame([person(1, 402, 300)])[0], stamps[1]).track_ids[0]
        assert (first == again) == same, stamps
    fast = PoseTracker(TrackerConfig(max_age=0.5))
    ids = [fast.update(frame([person(1, 400, 300)] if f in (0, 45) else [])[0], f / 100).track_ids.tolist()
           for f in range(46)]
    assert ids[0] == ids[45] == [1]  # 0.45 s unseen at 100 Hz (45 frames): kept


def test_a_resolution_change_resets_the_tracks():
    tracker = PoseTracker()
    assert tracker.update(frame([person(1, 400, 300)])[0], 0.0, (720, 1280)).track_ids.tolist() == [1]
    assert tracker.update(frame([person(1, 400, 300)])[0], 0.1, (720, 1280)).track_ids.tolist() == [1]
    assert tracker.update(frame([person(1, 200, 150)])[0], 0.2, (360, 640)).track_ids.tolist() == [2]
    assert tracker.num_tracks == 1


def thin_person(x: float, y: float, height: float = 60.0) -> tuple[np.ndarray, np.ndarray]:
    """A small person seen side-on as a keypoints-first model boxes it: the keypoints' extent, 6 px wide."""
    _, kps = person(1, 0, 0)
    kps = kps.copy()
    xy = kps[:, :2]
    xy -= xy.min(0)
    xy *= np.array([6.0, height]) / np.maximum(xy.max(0), 1e-6)
    xy += (x, y)
    return np.array([*xy.min(0), *xy.max(0)], np.float32), kps


def test_keypoint_extent_boxes_of_small_people_keep_their_ids():
    """Two 60 px tall people with 6 px wide keypoint-extent boxes running 8 px a frame (10 Hz; a walk is about 5), 40 px apart:
    the association boxes (person aspect, minimum size) and the motion prediction keep both ids. Raw boxes
    this thin never overlap from one frame to the next (a new id every frame, as PoseNet had on vtest)."""
    rng = np.random.default_rng(0)
    tracker = PoseTracker()
    ids = []
    for f in range(20):
        people = [thin_person(100 + 8 * f, 200), thin_person(140 + 8 * f, 203)]
        for _, kps in people:
            kps[:, :2] += rng.normal(0, 1.5, (17, 2)).astype(np.float32)
        poses, order = frame(people, rng)
        out = tracker.update(poses, f / 10).track_ids
        ids.append([int(out[list(order).index(i)]) for i in range(2)])
    assert ids == [ids[0]] * 20 and sorted(ids[0]) == [1, 2], ids
    box_a, _ = thin_person(100, 200)
    box_b, _ = thin_person(108, 200)
    assert box_iou(box_a[None], box_b[None])[0, 0] == 0.0


def test_low_score_people_continue_tracks_but_start_none():
    """ByteTrack's second pass: a person whose score drops under new_track_score keeps the id; a low-score
    person who matches no track is reported untracked (-1) and leaves no track behind."""
    tracker = PoseTracker()

    def poses(people, scores):
        p, _ = frame(people)
        return Poses(p.boxes, np.array(scores, np.float32), p.keypoints, COCO17)

    assert tracker.update(poses([person(1, 300, 300)], [0.9]), 0.0, None, 0.5).track_ids.tolist() == [1]
    out = tracker.update(poses([person(1, 305, 300), person(2, 900, 280)], [0.3, 0.3]), 0.1, None, 0.5)
    assert out.track_ids.tolist() == [1, -1] and tracker.num_tracks == 1
    out = tracker.update(poses([person(1, 310, 300), person(2, 900, 280)], [0.8, 0.6]), 0.2, None, 0.5)
    assert out.track_ids.tolist() == [1, 2]


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
    ("max_age", -1.0, ">= 0"),
    ("min_box_size", -1.0, ">= 0"),
    ("low_score", 1.5, r"outside \[0, 1\]"),
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


def test_stream_second_pass_keeps_tracked_people_through_a_blurred_frame(photos):
    """Real model, real photo: zidane.jpg sharp, then blurred and darkened (both people now score 0.2-0.45, under
    person_threshold 0.5). With track_low_score (default 0.1) the stream keeps both on their tracks; without,
    the blurred frame publishes nobody. A weak person that continues no track is never published: on the first
    frame only people at or above person_threshold are."""
    import cv2

    from pose_ros.core.config import PoseConfig
    from pose_ros.core.pipeline import build_models
    from pose_ros.core.stream import Frame, PoseStream, StreamConfig

    sharp = cv2.imread(str(photos["zidane.jpg"]))
    blurred = (cv2.GaussianBlur(sharp, (0, 0), 15) * 0.3).astype(np.uint8)
    models = build_models(PoseConfig(device="cpu"))
    weak = models.by_mode["bottom_up"].with_config(PoseConfig(device="cpu", person_threshold=0.1))(blurred)
    assert len(weak) >= 2 and (weak.scores < 0.5).all()  # the premise: every person found is weak

    published = {}
    for low in (0.1, 0.0):
        stream = PoseStream(models, StreamConfig(tracker=TrackerConfig(low_score=low)))
        first = stream.process(Frame(sharp, 0.0, "cam")).poses
        second = stream.process(Frame(blurred, 0.1, "cam")).poses
        published[low] = (first, second)
    first, second = published[0.1]
    assert sorted(first.track_ids.tolist()) == [1, 2] and (first.scores >= 0.5).all()
    assert sorted(second.track_ids.tolist()) == [1, 2] and (second.scores < 0.5).all()
    assert len(published[0.0][1]) == 0
    alone = PoseStream(models).process(Frame(blurred, 0.0, "cam")).poses  # nothing to continue: nobody published
    assert len(alone) == 0


def test_a_raised_threshold_is_not_bypassed_by_the_second_pass():
    """A track whose best score (0.8) is under the new threshold (0.95) cannot be continued by weak people."""
    tracker = PoseTracker()
    p, _ = frame([person(1, 300, 300)])
    assert tracker.update(Poses(p.boxes, np.array([0.8], np.float32), p.keypoints, COCO17), 0.0, None,
                          0.5).track_ids.tolist() == [1]
    again = Poses(p.boxes, np.array([0.8], np.float32), p.keypoints, COCO17)
    assert tracker.update(again, 0.1, None, 0.95).track_ids.tolist() == [-1]
    assert tracker.update(again, 0.2, None, 0.5).track_ids.tolist() == [1]  # back to 0.5: the track goes on
