"""pose_node over real rclpy/DDS (in-process, private Context, parameter overrides)."""
import time

import numpy as np
import pytest
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from pose_ros.core.config import PoseConfig
from pose_ros.core.pipeline import build_estimator
from pose_ros.msg import PoseArray, SkeletonInfo

from ros_harness import Collector, RosHarness, image_msg, stamp_ns

# Both paradigms: the same node, one parameter set each.
CONFIGS = {
    "bottom_up": dict(device="cpu", person_threshold=0.4, keypoint_threshold=0.2),
    "top_down": dict(device="cpu", person_threshold=0.4, keypoint_threshold=0.2, mode="top_down",
                     model="blazepose_landmark_full", detector="blazepose_detector"),
}
RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


@pytest.fixture(params=sorted(CONFIGS))
def params(request):
    return CONFIGS[request.param]


@pytest.fixture
def ros():
    harness = RosHarness()
    yield harness
    harness.close()


@pytest.fixture
def node_io(ros, params):
    """The pose node plus an image publisher and a poses collector on the probe node."""
    ros.pose_node(**params)
    poses = Collector()
    ros.probe.create_subscription(PoseArray, "/pose_node/poses", poses, 10)
    pub = ros.probe.create_publisher(Image, "/image", RELIABLE)
    ros.wait_for_subscribers(pub)
    return pub, poses


def test_poses_carry_the_image_header_and_equal_the_core_result(node_io, params, bus_image):
    pub, poses = node_io
    pub.publish(image_msg(bus_image, 1_700_000_123_456_789_000, "cam_optical"))
    assert poses.wait_for(lambda m: len(m) >= 1)
    msg = poses.messages[0]
    assert stamp_ns(msg.header) == 1_700_000_123_456_789_000 and msg.header.frame_id == "cam_optical"
    assert (msg.skeleton, msg.model) == ("coco17", params.get("model", "yolo11n_pose"))
    assert (msg.image_width, msg.image_height) == (bus_image.shape[1], bus_image.shape[0])

    ids = [p.track_id for p in msg.people]
    assert len(set(ids)) == len(ids) and min(ids) >= 1  # tracking is on by default: every person has an id
    expected = build_estimator(PoseConfig(**params))(bus_image)
    assert len(msg.people) == len(expected) >= 2
    for person, box, score, kps in zip(msg.people, expected.boxes, expected.scores, expected.keypoints):
        np.testing.assert_allclose(person.box, box, atol=1e-3)
        assert person.score == pytest.approx(score, abs=1e-5)
        assert len(person.keypoint_x) == 17
        np.testing.assert_allclose(np.stack([person.keypoint_x, person.keypoint_y, person.keypoint_score], 1),
                                   kps, atol=1e-3)


def test_skeleton_info_is_latched_for_late_subscribers(node_io, ros):
    info = Collector()
    latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL, reliability=ReliabilityPolicy.RELIABLE)
    ros.probe.create_subscription(SkeletonInfo, "/pose_node/skeleton_info", info, latched)
    assert info.wait_for(lambda m: len(m) == 1, timeout=10)
    msg = info.messages[0]
    assert msg.skeleton == "coco17" and len(msg.keypoint_names) == 17 and msg.keypoint_names[0] == "nose"
    assert len(msg.edge_start) == len(msg.edge_end) == 19 and len(msg.oks_sigmas) == 17


def test_debug_image_is_drawn_when_subscribed(node_io, ros, bus_image):
    pub, poses = node_io
    debug = Collector()
    ros.probe.create_subscription(Image, "/pose_node/debug_image", debug, 1)
    ros.wait_for_subscribers(ros._nodes[1]._cameras[0].debug_pub)
    pub.publish(image_msg(bus_image, 42))
    assert debug.wait_for(lambda m: len(m) >= 1)
    msg = debug.messages[0]
    assert stamp_ns(msg.header) == 42 and (msg.height, msg.width, msg.encoding) == (*bus_image.shape[:2], "bgr8")
    drawn = np.frombuffer(msg.data, np.uint8).reshape(bus_image.shape)
    assert (drawn != bus_image).any(), "nothing was drawn on the overlay"


def test_only_the_newest_frame_is_processed(node_io, bus_image):
    pub, poses = node_io
    for i in range(1, 11):  # ten frames in a burst: much faster than the model
        pub.publish(image_msg(bus_image, i))
    assert poses.wait_for(lambda m: m and stamp_ns(m[-1].header) == 10)
    answered = [stamp_ns(m.header) for m in poses.messages]
    assert answered == sorted(answered) and len(answered) < 10, answered


def test_bad_frames_log_one_throttled_error_each_and_the_next_good_frame_is_answered(node_io, bus_image, capfd):
    """The node's log (its console output, captured at the file descriptor) has one error per kind of bad frame
    however many arrive, and the next good frame is answered."""
    pub, poses = node_io
    wrong_encoding = image_msg(bus_image, 1)
    wrong_encoding.encoding = "mono16"
    short_data = image_msg(bus_image, 2)
    short_data.step += 3  # step*height no longer matches the data
    logged = ""
    for bad, text in ((wrong_encoding, "mono16"), (short_data, "expected step*height")):
        for _ in range(3):
            pub.publish(bad)
            time.sleep(0.3)  # one at a time, so newest-frame-only does not merge them
        logged += capfd.readouterr().err
        assert text in logged, logged
    pub.publish(image_msg(bus_image, 1000))
    assert poses.wait_for(lambda m: any(stamp_ns(p.header) == 1000 for p in m))
    logged += capfd.readouterr().err
    errors = [line for line in logged.splitlines() if "[ERROR]" in line and "[pose_node]" in line]
    assert sum("mono16" in e for e in errors) == 1, errors
    assert sum("expected step*height" in e for e in errors) == 1, errors
    assert not any(stamp_ns(p.header) in (1, 2) for p in poses.messages)
