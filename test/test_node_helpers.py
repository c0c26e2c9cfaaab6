"""The node's ROS-free helpers: newest-frame mailboxes, per-kind error throttle, camera health."""
import threading

import numpy as np
import pytest

from pose_ros.node.health import ERROR, OK, WARN, CameraHealth, ErrorThrottle
from pose_ros.node.latest_slot import LatestFrames
from pose_ros.node.cameras import output_namespaces


def test_mailbox_hands_over_only_the_newest_frame_per_camera_and_counts_the_replaced():
    frames = LatestFrames()
    for i in range(5):
        frames.put("front", i)
    frames.put("rear", "r0")
    assert frames.take(timeout=0) == {"front": 4, "rear": "r0"}
    assert frames.replaced == {"front": 4}
    assert frames.take(timeout=0.01) == {}


def test_mailbox_wakes_a_waiting_worker_and_close_releases_it():
    frames = LatestFrames()
    got = []
    worker = threading.Thread(target=lambda: got.append(frames.take(timeout=5)))
    worker.start()
    frames.put(0, "frame")
    worker.join(timeout=5)
    assert got == [{0: "frame"}]
    waiter = threading.Thread(target=lambda: got.append(frames.take(timeout=5)))
    waiter.start()
    frames.close()
    waiter.join(timeout=5)
    assert got[-1] == {} and not waiter.is_alive() and frames.closed
    frames.put(0, "late")  # ignored once closed
    assert frames.take(timeout=0) == {}


def test_throttle_logs_each_kind_once_per_period_and_counts_all():
    now = [0.0]
    logged = []
    throttle = ErrorThrottle(logged.append, period_s=5.0, clock=lambda: now[0])
    for _ in range(3):
        throttle.report("encoding", "bad encoding")
    throttle.report("step", "bad step")
    assert logged == ["bad encoding", "bad step"]
    now[0] = 6.0
    assert throttle.report("encoding", "bad encoding")
    assert logged[-1] == "bad encoding [encoding: 4 so far]"
    assert throttle.counts == {"encoding": 4, "step": 1}


def test_throttle_keeps_the_details_of_one_kind_apart():
    """nv12, then mono16 (with its depth hint), then 32FC1 in one second: each is logged once, all counted as one
    kind for /diagnostics (one budget per kind hid all but the first)."""
    logged = []
    throttle = ErrorThrottle(logged.append, period_s=5.0, clock=lambda: 0.0)
    for encoding in ("nv12", "mono16", "32FC1", "nv12", "mono16"):
        throttle.report("bad_image_encoding", f"unsupported encoding {encoding}", detail=encoding)
    assert logged == ["unsupported encoding nv12", "unsupported encoding mono16", "unsupported encoding 32FC1"]
    assert throttle.counts == {"bad_image_encoding": 5}


def _health(events, now_end, **summary):
    """CameraHealth fed (time, kind, arg) events on a fake clock; summary read at now_end."""
    now = [0.0]
    health = CameraHealth("/cam", window_s=5.0, clock=lambda: now[0])
    for t, kind, arg in events:
        now[0] = t
        if kind == "recv":
            health.received(arg)
        elif kind == "reject":
            health.rejected(arg)
        else:
            health.published({"infer": 0.05}, age_s=0.1, people=arg)
    now[0] = now_end
    return health.summary(person_threshold=0.5, **summary)


def _stream(start, end, rate=10.0, reject=lambda i: False, people=1, stamps=None):
    """Events of a camera at ``rate`` Hz from ``start`` to ``end`` s: each frame received (stamped at its time)
    and then published, or rejected where ``reject(i)``."""
    events = []
    for i in range(int(round((end - start) * rate))):
        t = start + i / rate
        stamp = t if stamps is None else stamps(i, t)
        if stamp is None:
            continue  # lost before the node
        events.append((t, "recv", stamp))
        events.append((t + 0.02, "reject", "unsupported encoding 'nv12'") if reject(i) else (t + 0.02, "pub", people))
    return events


@pytest.mark.parametrize("events, level, message", [
    ([], WARN, "no images on /cam for 10.0 s"),
    ([(9, "recv", None), (9, "reject", "unsupported encoding 'mono16'")], ERROR,
     "all frames rejected: unsupported encoding 'mono16'"),
    ([(9.5, "recv", None)], WARN, "receiving images, none processed yet"),
    ([(8, "recv", None), (8, "reject", "unsupported encoding 'mono16'"), (9.5, "recv", None),
      (9.5, "reject", "unsupported encoding 'mono16'")], ERROR,
     "all frames rejected: unsupported encoding 'mono16' (nothing published for 10.0 s)"),
    ([(9, "recv", None), (9, "pub", 0)], OK, "no person above person_threshold 0.50"),
    ([(9, "recv", None), (9, "pub", 2)], OK, "publishing"),
    ([(1, "recv", None), (1, "pub", 2)], WARN, "no images on /cam for 9.0 s"),
])
def test_health_says_why_nothing_is_published(events, level, message):
    got_level, got_message, values = _health(events, now_end=10.0)
    assert (got_level, message) == (level, message) or (got_level == level and message in got_message), got_message
    assert "input rate (Hz)" in values


def test_health_follows_the_last_frame_within_about_a_second():
    """A 10 Hz camera that stops: OK until about a second after its last frame, then WARN (the 5 s window used to
    keep it OK for 4.7 s); a stream that turns bad: ERROR about a second after its last success."""
    live = _stream(0.0, 5.0)
    assert _health(live, now_end=5.5)[0] == OK
    level, message, values = _health(live, now_end=6.3)
    assert level == WARN and "no images on /cam for 1.4 s" in message and values["last frame age (s)"] == "1.40"
    turned_bad = _stream(0.0, 6.0, reject=lambda i: i >= 40)
    assert _health(turned_bad, now_end=4.5)[0] == WARN  # the first rejects: a warning, not yet an error
    level, message, _ = _health(turned_bad, now_end=5.5)
    assert level == ERROR and message.startswith("all frames rejected: unsupported encoding 'nv12'")


def test_intermittent_rejects_raise_the_level():
    level, message, values = _health(_stream(0.0, 5.0, reject=lambda i: i % 10 == 0), now_end=5.0)
    assert level == WARN and message.startswith("5 of 50 frames rejected in the last 5 s: unsupported encoding")
    assert values["frames rejected"] == "5"


@pytest.mark.parametrize("lose, lost, level", [
    (lambda i: False, 0, OK),
    (lambda i: i % 3 != 0, 58, WARN),          # a best-effort camera delivering a third (88, 89: not known yet)
    (lambda i: i in (20, 40), 2, OK),           # a rare loss is counted, not alarmed (fewer than 3 in the window)
])
def test_frames_lost_before_the_node_are_counted_from_sequence_numbers(lose, lost, level):
    """Gaps in the publication sequence numbers (rclpy >= Iron passes them with the message) are frames that never
    reached the node: exact, whatever the camera's rate."""
    now = [0.0]
    health = CameraHealth("/cam", window_s=5.0, clock=lambda: now[0])
    for i in range(90):
        now[0] = i * 0.1
        if not lose(i):
            health.received(1000.0 + i * 0.1, sequence=i + 1)
            health.published({"infer": 0.01}, 0.02, 1)
    got_level, message, values = health.summary(0.5, loss_cause="start the camera with the SHM profile")
    assert int(values["frames lost before the node"]) == lost
    assert got_level == level, message
    if level == WARN:
        assert "frames lost before the node in the last 5 s" in message and message.endswith("SHM profile")


@pytest.mark.parametrize("seed, lost_fraction", [(0, 0.0), (1, 0.3), (2, 0.6)])
def test_frames_lost_before_the_node_are_told_from_the_stamps_without_sequence_numbers(seed, lost_fraction):
    """Without sequence numbers (Humble), random losses still show in the camera's stamps: 60 % lost, as a
    best-effort 10 Hz camera without the SHM profile delivered (297 of 795 frames), is told within 15 %."""
    rng = np.random.default_rng(seed)
    keep = rng.random(300) >= lost_fraction
    keep[0] = True
    events = _stream(0.0, 30.0, stamps=lambda i, t: 1000.0 + i * 0.1 if keep[i] else None)
    level, message, values = _health(events, now_end=30.0)
    told, true = int(values["frames lost before the node"]), int((~keep[:int(keep.nonzero()[0][-1]) + 1]).sum())
    assert abs(told - true) <= max(2, 0.15 * true), (told, true)
    assert (level == WARN) == (lost_fraction > 0), message


def test_a_camera_that_pauses_or_restarts_is_no_loss():
    from pose_ros.node.health import FrameLoss

    loss = FrameLoss()
    assert sum(loss.add(100 + i * 0.1, i + 1) for i in range(20)) == 0
    assert loss.add(105.0, 21) == 0                  # a 3 s pause: the sequence goes on, nothing was lost
    assert loss.add(10.0, 1) == 0 and loss.restarts == 1  # a new publisher numbers from 1 again
    assert loss.add(10.1, 4) == 2                     # then two of its frames are lost


def test_stamp_gaps_tell_a_restart_from_a_loss():
    from pose_ros.node.health import StampGaps

    gaps = StampGaps()
    assert [gaps.add(100 + i * 0.1) for i in range(12)] == [0] * 12
    assert gaps.add(100 + 14 * 0.1) == 2           # frames 12 and 13 never came
    assert gaps.add(50.0) == 0 and gaps.interruptions == 1   # the stamps went back: a restart, a bag loop
    assert gaps.add(50.1) == 0 and gaps.add(60.0) == 0 and gaps.interruptions == 2  # a 10 s pause


def test_health_reports_stage_latency_and_age():
    _, _, values = _health([(9, "recv", None), (9, "pub", 1)], now_end=9.5)
    assert values["latency infer (ms)"] == "50.0" and values["input age at publish (ms)"] == "100.0"


@pytest.mark.parametrize("topics, names, prefixes", [
    (["image"], (), ["~/"]),
    (["/front/image_raw", "/rear/image_raw"], (), ["~/front/", "~/rear/"]),
    # the camera's whole path, not its last meaningful part (which both share here)
    (["/front/color/image_raw", "/rear/color/image_raw"], (), ["~/front/color/", "~/rear/color/"]),
    (["/cam/left/image", "/cam/left/image_rect"], (), ["~/cam/left/image/", "~/cam/left/image_rect/"]),
    (["/a/image_raw", "/b/image_raw"], ("front", "rear"), ["~/front/", "~/rear/"]),
])
def test_each_camera_gets_its_own_output_namespace(topics, names, prefixes):
    assert output_namespaces(topics, names) == prefixes


def test_health_and_throttle_can_be_read_while_other_threads_write():
    """The worker and callbacks write while the diagnostics timer reads (the 10 000-frame soak once ended the
    node with "deque mutated during iteration" here). Two writer threads, one reader, many rounds."""
    health, errors = CameraHealth("/cam", window_s=60.0), ErrorThrottle(lambda message: None)
    stop, failures = threading.Event(), []

    def write():
        i = 0
        while not stop.is_set():
            health.received()
            health.published({"infer": 0.01}, 0.02, 1)
            health.rejected("bad")
            errors.report(f"kind_{i % 500}", "bad frame")  # new kinds keep appearing
            i += 1

    def read():
        try:
            for _ in range(300):
                health.summary(0.5)
                dict(errors.snapshot().items())
        except Exception as err:  # noqa: BLE001 - collected and asserted below
            failures.append(err)
        finally:
            stop.set()

    threads = [threading.Thread(target=write) for _ in range(2)] + [threading.Thread(target=read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failures, failures
    level, message, values = health.summary(0.5)
    assert level == WARN and "frames rejected in the last 60 s: bad" in message  # a reject in every round
    assert int(values["frames published"]) == health.published_total > 0


def test_health_keeps_only_its_window():
    now = [0.0]
    health = CameraHealth("/cam", window_s=5.0, clock=lambda: now[0])
    for t in range(20):
        now[0] = float(t)
        health.received()
        health.published({"infer": 0.01}, 0.02, 2)
    _, _, values = health.summary(0.5)
    assert values["frames received"] == "20" and values["input rate (Hz)"] == "1.20"  # 6 frames in 5 s
    assert len(health._received) == len(health._published) == 6  # older entries were dropped
    now[0] = 100.0
    level, message, _ = health.summary(0.5)
    assert level == WARN and "no images on /cam for 81.0 s" in message


@pytest.mark.parametrize("costs_ms, expected", [
    ([1.0] * 99 + [7.0], (1.25, 1.25)),           # the 99th of 100 is still 1 ms: its bin's upper edge
    ([1.0] * 98 + [7.0] * 2, (1.25, 7.25)),       # two slow frames of 100 reach the p99
    ([0.1, 0.2, 0.3], (0.25, 0.5)),
    ([250.0], (float("inf"), float("inf"))),      # beyond the last bin: unbounded, said as inf
    ([], ()),
])
def test_own_cost_percentiles_since_start(costs_ms, expected):
    from pose_ros.node.health import OWN_COST_BIN_MS, OWN_COST_BINS, own_cost_percentiles

    bins = np.zeros(OWN_COST_BINS + 1, np.int64)
    for cost in costs_ms:
        bins[min(int(cost / OWN_COST_BIN_MS), OWN_COST_BINS)] += 1
    assert own_cost_percentiles(bins, (50, 99)) == expected
