"""One-Euro filter and PoseSmoother: jitter removed from a still pose, little lag on a moving one."""
from __future__ import annotations

import numpy as np
import pytest

from pose_ros.core.config import ConfigError
from pose_ros.core.result import Poses
from pose_ros.core.skeletons import BLAZEPOSE33, COCO17
from pose_ros.core.stream.smoothing import OneEuroFilter, PoseSmoother, SmootherConfig
from devtools.fixtures.synthetic_motion import RATE_HZ, STILL_POSE, poses_of, steady_state_lag, still_pose_jitter

RATE = RATE_HZ
POSE = STILL_POSE


# ------------------------------------------------------------------------------------------ filter
def test_first_sample_passes_through_and_constant_stays_constant():
    f = OneEuroFilter()
    x = np.arange(12.0).reshape(3, 2, 2)
    for i in range(10):
        np.testing.assert_allclose(f(x, i / RATE), x)


@pytest.mark.parametrize("dt", [0.0, -0.5])
def test_non_increasing_time_returns_previous_output_and_keeps_state(dt):
    f, g = OneEuroFilter(), OneEuroFilter()
    for i in range(5):
        prev = f(np.full(4, float(i)), i / RATE)
        g(np.full(4, float(i)), i / RATE)
    np.testing.assert_array_equal(f(np.full(4, 100.0), 4 / RATE + dt), prev)
    np.testing.assert_array_equal(f(np.full(4, 5.0), 5 / RATE), g(np.full(4, 5.0), 5 / RATE))


def test_filter_is_elementwise_over_any_shape():
    rng = np.random.default_rng(0)
    signal = rng.normal(0, 1, (50, 2, 3, 4)).cumsum(0)
    whole, single = OneEuroFilter(), OneEuroFilter()
    for i, x in enumerate(signal):
        out = whole(x, i / RATE)
        assert out.shape == (2, 3, 4)
        assert out[1, 2, 3] == pytest.approx(single(x[1, 2, 3:4], i / RATE)[0])


def test_masked_elements_pass_through_and_keep_their_state():
    f, ref0, ref1 = OneEuroFilter(), OneEuroFilter(), OneEuroFilter()
    mask = np.array([True, False])
    for i in range(20):
        x = np.array([i * 1.0, 100.0 + i ** 1.5])
        hidden = 5 <= i < 15
        out = f(x, i / RATE, mask if hidden else None)
        assert out[0] == pytest.approx(ref0(x[:1], i / RATE)[0])
        if hidden:
            assert out[1] == x[1]  # raw value
        else:  # element 1 behaves as a filter that never saw frames 5..14 (dt = 11 frames at i = 15)
            assert out[1] == pytest.approx(ref1(x[1:], i / RATE)[0])


@pytest.mark.parametrize("kwargs, message", [
    (dict(min_cutoff=0.0), "min_cutoff"), (dict(min_cutoff=-1.0), "min_cutoff"),
    (dict(beta=-0.1), "beta"), (dict(d_cutoff=0.0), "d_cutoff"), (dict(min_cutoff=float("nan")), "min_cutoff"),
])
def test_invalid_parameters_are_rejected(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        OneEuroFilter(**kwargs)
    with pytest.raises(ConfigError, match=message):
        SmootherConfig(**kwargs)
    with pytest.raises(ConfigError, match=message):
        PoseSmoother(**kwargs)


def test_invalid_forget_time_is_rejected():
    with pytest.raises(ConfigError, match="forget_after_s"):
        SmootherConfig(forget_after_s=0.0)


# ------------------------------------------------------------------------------ smoother on poses
@pytest.mark.parametrize("seed", range(3))
def test_jitter_of_a_still_pose_drops_by_half(seed):
    """Still pose + N(0, 2 px) noise, 200 frames at 30 Hz, default parameters."""
    jitter = still_pose_jitter(seed)
    assert jitter.raw_std_px == pytest.approx(2.0, rel=0.1)
    assert jitter.reduction >= 0.5
    assert jitter.mean_error_px < 2.0  # it stays on the pose: less error than one raw sample


@pytest.mark.parametrize("speed, direction, max_lag_frames", [
    (100.0, (1, 0), 1.0),  # walking across a 640-px image in ~6 s
    (100.0, (0.6, -0.8), 1.0),
    (200.0, (-1, 0), 1.0),
    (400.0, (0, 1), 1.0),
    (30.0, (1, 0), 3.0),  # slow: stronger smoothing, but the lag is only ~1 px
])
def test_steady_state_lag_of_a_moving_pose(speed, direction, max_lag_frames):
    """Constant-speed motion: lag = position error / per-frame displacement, after 2 s."""
    lag = steady_state_lag(speed, direction)
    assert lag.trails  # the filtered pose trails behind (lags), it does not overshoot
    assert lag.lag_frames <= max_lag_frames
    assert lag.lag_px > 0.1  # a filter that did nothing would have no lag (and no jitter reduction)


def test_new_track_starts_a_fresh_filter():
    smoother = PoseSmoother()
    for i in range(30):
        smoother.update(poses_of(POSE[None], [1]), i / RATE)
    far = POSE + 400
    # Same person, new id (the tracker lost it): the first output is the raw pose, not pulled back.
    out = smoother.update(poses_of(far[None], [2]), 30 / RATE)
    np.testing.assert_allclose(out.keypoints[0, :, :2], far, atol=1e-4)
    # Whereas continuing track 1 there is filtered (pulled back towards the old position; the 1-euro
    # cutoff rises with the jump's speed, so only by a few percent of the 566 px jump).
    out = smoother.update(poses_of(far[None], [1]), 31 / RATE)
    assert np.linalg.norm(out.keypoints[0, :, :2] - far, axis=-1).min() > 5


def test_untracked_people_pass_through_and_tracked_ones_are_independent():
    rng = np.random.default_rng(0)
    smoother, alone = PoseSmoother(), PoseSmoother()
    for i in range(20):
        a, b, c = (POSE + rng.normal(0, 2, POSE.shape) + off for off in (0, 300, 600))
        out = smoother.update(poses_of(np.stack([a, b, c]), [-1, 5, 7]), i / RATE)
        np.testing.assert_array_equal(out.keypoints[0, :, :2], a.astype(np.float32))
        single = alone.update(poses_of(b[None], [5]), i / RATE)
        np.testing.assert_allclose(out.keypoints[1], single.keypoints[0], atol=1e-4)
        np.testing.assert_array_equal(out.keypoints[:, :, 2], 1.0)
        np.testing.assert_array_equal(out.boxes, poses_of(np.stack([a, b, c]), [0, 0, 0]).boxes)
    assert smoother.num_tracks == 2


def test_joints_with_score_zero_keep_raw_values_and_do_not_corrupt_the_state():
    smoother = PoseSmoother()
    scores = np.ones((1, 17))
    for i in range(30):
        smoother.update(poses_of(POSE[None], [1]), i / RATE)
    # Five frames with the wrists lost: the model reports garbage (0, 0) for them.
    lost = POSE.copy()
    lost[[9, 10]] = 0.0
    scores[0, [9, 10]] = 0.0
    for i in range(30, 35):
        out = smoother.update(poses_of(lost[None], [1], scores), i / RATE)
        np.testing.assert_array_equal(out.keypoints[0, [9, 10], :2], 0.0)
        np.testing.assert_array_equal(out.keypoints[0, [9, 10], 2], 0.0)
        np.testing.assert_allclose(out.keypoints[0, :9, :2], POSE[:9], atol=1e-3)
    out = smoother.update(poses_of(POSE[None], [1]), 35 / RATE)
    np.testing.assert_allclose(out.keypoints[0, :, :2], POSE, atol=1e-3)  # not pulled towards (0, 0)


def test_state_of_tracks_not_seen_is_dropped():
    smoother = PoseSmoother(forget_after_s=1.0)
    smoother.update(poses_of(np.stack([POSE, POSE + 300]), [1, 2]), 0.0)
    for i in range(1, 31):
        smoother.update(poses_of(POSE[None], [1]), i / RATE)
    assert smoother.num_tracks == 2  # track 2 unseen for exactly 1 s: kept
    smoother.update(poses_of(POSE[None], [1]), 31 / RATE)
    assert smoother.num_tracks == 1
    smoother.update(Poses.empty(COCO17), 3.0)
    assert smoother.num_tracks == 0


def test_many_tracks_and_recycled_state_start_fresh():
    """Tracks come and go (state rows are reused): every new track's first pose passes through."""
    rng = np.random.default_rng(0)
    smoother = PoseSmoother(forget_after_s=0.2)
    for i in range(60):
        tracks = np.arange(i // 10 * 10, i // 10 * 10 + 12)  # 12 people, renewed every 10 frames
        xy = POSE + rng.normal(0, 2, (12, 17, 2)) + 100 * tracks[:, None, None]
        out = smoother.update(poses_of(xy, tracks), i / RATE)
        if i % 10 == 0:  # two continuing tracks (the previous set's last two), ten new ones
            np.testing.assert_allclose(out.keypoints[2:, :, :2], xy[2:], atol=1e-3)
            if i:
                assert np.abs(out.keypoints[:2, :, :2] - xy[:2]).max() > 0.1  # filtered
        assert smoother.num_tracks <= 12 + 10 and len(smoother._x) <= 32  # rows are reused


def test_skeleton_change_drops_the_state():
    smoother = PoseSmoother()
    smoother.update(poses_of(POSE[None], [1]), 0.0)
    other = Poses(np.array([[0, 0, 10, 10]], np.float32), np.ones(1, np.float32),
                  np.full((1, 33, 3), 0.5, np.float32), BLAZEPOSE33, np.array([1], np.int32))
    out = smoother.update(other, 1 / RATE)
    np.testing.assert_array_equal(out.keypoints, other.keypoints)
    assert smoother.num_tracks == 1


def test_time_going_backwards_resets_and_same_stamp_repeats():
    smoother = PoseSmoother()
    for i in range(10):
        first = smoother.update(poses_of(POSE[None], [1]), 100 + i / RATE)
    again = smoother.update(poses_of(POSE[None] + 50, [1]), 100 + 9 / RATE)
    np.testing.assert_array_equal(again.keypoints, first.keypoints)
    # A bag replayed from its start: the state is dropped, the pose passes through.
    out = smoother.update(poses_of(POSE[None] + 50, [1]), 0.0)
    np.testing.assert_allclose(out.keypoints[0, :, :2], POSE + 50, atol=1e-4)


def test_from_config_round_trip():
    config = SmootherConfig(min_cutoff=0.5, beta=0.1, d_cutoff=2.0, forget_after_s=3.0)
    assert PoseSmoother.from_config(config).config == config
