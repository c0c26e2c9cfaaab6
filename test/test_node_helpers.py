"""The node's ROS-free helpers: the newest-frame mailbox and the per-kind error throttle."""
import threading

from pose_ros.node.health import ErrorThrottle
from pose_ros.node.latest_slot import LatestSlot


def test_slot_hands_over_only_the_newest_item_and_counts_the_replaced():
    slot = LatestSlot()
    for i in range(5):
        slot.put(i)
    assert slot.take(timeout=0) == 4 and slot.replaced == 4
    assert slot.take(timeout=0.01) is None


def test_slot_wakes_a_waiting_worker_and_close_releases_it():
    slot = LatestSlot()
    got = []
    worker = threading.Thread(target=lambda: got.append(slot.take(timeout=5)))
    worker.start()
    slot.put("frame")
    worker.join(timeout=5)
    assert got == ["frame"]
    waiter = threading.Thread(target=lambda: got.append(slot.take(timeout=5)))
    waiter.start()
    slot.close()
    waiter.join(timeout=5)
    assert got == ["frame", None] and not waiter.is_alive() and slot.closed


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
