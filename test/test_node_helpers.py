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


def _health(events, now_end):
    """CameraHealth fed (time, kind, arg) events on a fake clock; summary read at now_end."""
    now = [0.0]
    health = CameraHealth("/cam", window_s=5.0, clock=lambda: now[0])
    for t, kind, arg in events:
        now[0] = t
        if kind == "recv":
            health.received()
        elif kind == "reject":
            health.rejected(arg)
        else:
            health.published({"infer": 0.05}, age_s=0.1, people=arg)
    now[0] = now_end
    return health.summary(person_threshold=0.5)


@pytest.mark.parametrize("events, level, message", [
    ([], WARN, "no images on /cam for 10.0 s"),
    ([(9, "recv", None), (9, "reject", "unsupported encoding 'mono16'")], ERROR,
     "all frames rejected: unsupported encoding 'mono16'"),
    ([(9, "recv", None), (9, "pub", 0)], OK, "no person above person_threshold 0.50"),
    ([(9, "recv", None), (9, "pub", 2)], OK, "publishing"),
    ([(1, "recv", None), (1, "pub", 2)], WARN, "no images on /cam for 9.0 s"),
])
def test_health_says_why_nothing_is_published(events, level, message):
    got_level, got_message, values = _health(events, now_end=10.0)
    assert got_level == level and message in got_message
    assert "input rate (Hz)" in values


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
    level, _, values = health.summary(0.5)
    assert level == OK and int(values["frames published"]) == health.published_total > 0


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
