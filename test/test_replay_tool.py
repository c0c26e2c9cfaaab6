"""python -m pose_ros.tools.replay as a robot engineer runs it against the node in its own process: every frame of
the bag published and answered, a clean exit 0, clear errors with exit 2, compressed bags too; and what the
node answered equals what `annotate` writes for the same bag (tracking on: the same stream)."""
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from sensor_msgs.msg import Image

from pose_ros.msg import PoseArray
from pose_ros.tools.annotate import annotate_bag, header_msg
from pose_ros.tools.bags import read_images, typestore, write_image_bag
from pose_ros.tools.node_process import SHARE, NodeProcess
from pose_ros.core.profiles import load_profile
from ros_harness import Collector, RosHarness, stamp_ns

TOPIC = "/camera/image_raw"


def _node(*extra):
    process = NodeProcess(["--params-file", str(SHARE / "config" / "yolo11n_pose.yaml"), "-p", "device:=cpu",
                           "-r", f"image:={TOPIC}", *extra])
    process.wait_ready()
    return process


@pytest.fixture(scope="module")
def node():
    process = _node()
    yield process
    assert process.stop() == 0, process.output()


class Listener(Collector):
    """A probe collecting the node's answers, which also subscribes to the image topic (as RViz would)."""

    def __init__(self, ros):
        super().__init__()
        self.subscription = ros.probe.create_subscription(PoseArray, "/pose_node/poses", self, 100)
        ros.probe.create_subscription(Image, TOPIC, lambda msg: None,
                                      QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))

    def wait_matched(self, timeout=20.0):
        """Until the node's PoseArray publisher is matched (answers sent before that would never arrive)."""
        deadline = time.monotonic() + timeout
        while self.subscription.get_publisher_count() == 0:
            assert time.monotonic() < deadline, "the node's poses publisher never matched"
            time.sleep(0.05)
        time.sleep(0.5)


@pytest.fixture(scope="module")
def listener():
    ros = RosHarness()
    yield Listener(ros)
    ros.close()


def replay(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "pose_ros.tools.replay", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


def _answers_for(answers, stamps):
    by_stamp = {stamp_ns(m.header): m for m in answers.messages}
    return [by_stamp.get(s) for s in stamps]


@pytest.mark.parametrize("storage", ["mcap", "sqlite3"])
def test_wait_for_answers_every_frame_and_equals_annotate(listener, tmp_path, photos, storage):
    node = _node()  # a fresh node: its camera stream starts with no tracks, as annotate's does
    try:
        _replay_and_compare(listener, tmp_path, photos, storage)
    finally:
        assert node.stop() == 0, node.output()


def _replay_and_compare(listener, tmp_path, photos, storage):
    images = [cv2.imread(str(photos[n])) for n in ("bus.jpg", "zidane.jpg", "bus.jpg", "astronaut.png")]
    start = {"mcap": 1_710_000_000_000_000_000, "sqlite3": 1_720_000_000_000_000_000}[storage]
    bag = tmp_path / "bag"
    stamps = write_image_bag(bag, images, start_ns=start, storage=storage)
    listener.wait_matched()
    result = replay(bag, "--wait-for", "/pose_node/poses")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"replayed {len(images)} frames, 0 unanswered" in result.stdout
    assert "terminate" not in result.stderr and "Traceback" not in result.stderr
    answers = _answers_for(listener, stamps)
    assert all(a is not None for a in answers)

    # The same bag annotated offline: the same people, track ids included.
    out = tmp_path / "annotated"
    annotate_bag(bag, out, TOPIC, load_profile("yolo11n_pose", device="cpu"))
    store = typestore()
    with Reader(out) as reader:
        offline = [store.deserialize_cdr(raw, c.msgtype) for c, _, raw in reader.messages()
                   if c.topic == "/pose_node/poses"]
    assert len(offline) == len(answers)
    for live, bagged in zip(answers, offline):
        assert [p.track_id for p in live.people] == [p.track_id for p in bagged.people]
        assert len(live.people) >= 1
        for a, b in zip(live.people, bagged.people):
            np.testing.assert_allclose(a.box, b.box, atol=1e-3)
            np.testing.assert_allclose(a.keypoint_x, b.keypoint_x, atol=1e-3)
            assert a.score == pytest.approx(b.score, abs=1e-5)
    assert sorted(p.track_id for p in answers[0].people) == list(range(1, len(answers[0].people) + 1))


def test_at_the_recorded_pace_every_frame_reaches_the_node(node, listener, tmp_path, bus_image):
    small = cv2.resize(bus_image, (405, 540))
    stamps = write_image_bag(tmp_path / "bag", [small] * 6, start_ns=1_730_000_000_000_000_000,
                             period_ns=400_000_000)  # 2.5 Hz: slower than the model, so nothing need be skipped
    listener.wait_matched()
    # Two subscribers: the node and the listener's image subscription (as RViz would). Waiting for one let the
    # replay start before a slowly discovered node (a loaded machine): its first frames went to the listener only.
    result = replay(tmp_path / "bag", "--rate", "1", "--subscribers", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "replayed 6 frames" in result.stdout and "terminate" not in result.stderr
    assert listener.wait_for(lambda m: all(a is not None for a in _answers_for(listener, stamps)), timeout=20), \
        _answers_for(listener, stamps)


def test_compressed_bags_are_replayed_as_compressed_images(tmp_path, photos):
    store = typestore()
    Compressed = store.types["sensor_msgs/msg/CompressedImage"]
    stamps = [1_740_000_000_000_000_000 + i * 10**8 for i in range(3)]
    with Writer(tmp_path / "bag", version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conn = writer.add_connection(TOPIC + "/compressed", "sensor_msgs/msg/CompressedImage", typestore=store)
        for stamp in stamps:
            ok, jpeg = cv2.imencode(".jpg", cv2.imread(str(photos["zidane.jpg"])))
            msg = Compressed(header=header_msg(store, stamp, "cam"), format="jpeg", data=jpeg.reshape(-1))
            writer.write(conn, stamp, store.serialize_cdr(msg, "sensor_msgs/msg/CompressedImage"))
    process = _node("-p", "image_transport:=compressed")
    try:
        result = replay(tmp_path / "bag", "--topic", TOPIC + "/compressed", "--wait-for", "/pose_node/poses")
    finally:
        assert process.stop() == 0, process.output()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "replayed 3 frames, 0 unanswered" in result.stdout
    assert all(" 2 people" in line for line in result.stdout.splitlines()[:3]), result.stdout


@pytest.mark.parametrize("args, message", [
    (["--topic", "/nope"], "no topic '/nope'"),
    (["--topic", "/other"], "expected sensor_msgs/msg/Image or sensor_msgs/msg/CompressedImage"),
])
def test_bad_topics_exit_2_with_the_reason(tmp_path, bus_image, args, message):
    write_image_bag(tmp_path / "bag", [bus_image])
    store = typestore()
    with Writer(tmp_path / "other", version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conn = writer.add_connection("/other", "std_msgs/msg/Header", typestore=store)
        writer.write(conn, 1, store.serialize_cdr(header_msg(store, 1), "std_msgs/msg/Header"))
    bag = tmp_path / ("other" if "/other" in args else "bag")
    result = replay(bag, *args, timeout=60)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_an_unreadable_bag_exits_2(tmp_path):
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "metadata.yaml").write_text("not: a bag\n")
    result = replay(tmp_path / "junk", timeout=60)
    assert result.returncode == 2 and "cannot read" in result.stderr and "Traceback" not in result.stderr
    missing = replay(tmp_path / "nothing", timeout=60)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_bag_images_carry_their_type(tmp_path, bus_image):
    write_image_bag(tmp_path / "bag", [bus_image])
    assert [i.msgtype for i in read_images(tmp_path / "bag", TOPIC)] == ["sensor_msgs/msg/Image"]
