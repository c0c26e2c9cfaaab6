"""Inputs as cameras publish them: best-effort cameras (image_reliability auto), what /diagnostics says when
nothing arrives, cameras told apart by their output names, and the device actually used (a missing GPU)."""
import time

import cv2
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from pose_ros.msg import PoseArray

from ros_harness import Collector, RosHarness, image_msg, stamp_ns

BEST_EFFORT = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
RELIABLE = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)


@pytest.fixture
def ros():
    harness = RosHarness()
    yield harness
    harness.close()


@pytest.fixture(scope="module")
def small_image(bus_image):
    return cv2.resize(bus_image, (270, 360))  # in-process, well under any transport limit


def _diagnostics(ros):
    diagnostics = Collector()
    ros.probe.create_subscription(DiagnosticArray, "/diagnostics", diagnostics, 10)
    return diagnostics


def _values(status):
    return {kv.key: kv.value for kv in status.values}


def _answered(ros, pub, poses, image, stamp, timeout=20.0):
    """Publish until the node answers ``stamp`` (a best-effort frame may be lost; the node must get one)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pub.publish(image_msg(image, stamp))
        if poses.wait_for(lambda m: any(stamp_ns(p.header) == stamp for p in m), timeout=1.0):
            return True
    return False


def test_a_best_effort_camera_is_received_and_the_subscription_follows_its_publishers(ros, small_image):
    node = ros.pose_node(device="cpu", diagnostics_period=0.2)
    assert node._cameras[0].reliability == "reliable"  # nobody publishes yet: reliable (large frames need it)
    poses = Collector()
    ros.probe.create_subscription(PoseArray, "/pose_node/poses", poses, 10)
    camera = ros.probe.create_publisher(Image, "/image", BEST_EFFORT)  # the sensor-data QoS of many drivers
    assert _answered(ros, camera, poses, small_image, 1)
    assert node._cameras[0].reliability == "best_effort"
    diagnostics = _diagnostics(ros)
    assert diagnostics.wait_for(lambda m: m and _values(m[-1].status[0]).get("image subscription") == "best_effort (auto)")
    ros.probe.destroy_publisher(camera)
    reliable = ros.probe.create_publisher(Image, "/image", RELIABLE)
    deadline = time.monotonic() + 10
    while node._cameras[0].reliability != "reliable":  # re-checked as publishers come and go
        assert time.monotonic() < deadline, "never went back to reliable"
        time.sleep(0.1)
    assert _answered(ros, reliable, poses, small_image, 2)


def test_an_incompatible_camera_is_named_as_the_cause_in_diagnostics(ros):
    ros.pose_node(device="cpu", image_reliability="reliable", diagnostics_period=0.2)
    diagnostics = _diagnostics(ros)
    ros.probe.create_publisher(Image, "/image", BEST_EFFORT)
    assert diagnostics.wait_for(lambda m: m and "QoS is incompatible" in m[-1].status[0].message, timeout=20), \
        [d.status[0].message for d in diagnostics.messages[-3:]]
    assert "image_reliability" in diagnostics.messages[-1].status[0].message


def test_publishers_without_frames_are_reported_with_their_qos(ros):
    ros.pose_node(device="cpu", diagnostics_period=0.2)
    diagnostics = _diagnostics(ros)
    ros.probe.create_publisher(Image, "/image", RELIABLE)
    assert diagnostics.wait_for(lambda m: m and "1 publisher(s) on /image (reliable)" in m[-1].status[0].message)


def test_cameras_are_told_apart_by_their_whole_path_and_the_mapping_is_logged(ros, small_image, capfd):
    ros.pose_node(device="cpu", image_topics=["/front/color/image_raw", "/rear/color/image_raw"])
    assert "camera /front/color/image_raw -> /pose_node/front/color/poses" in capfd.readouterr().err
    for side in ("front", "rear"):
        poses = Collector()
        ros.probe.create_subscription(PoseArray, f"/pose_node/{side}/color/poses", poses, 10)
        pub = ros.probe.create_publisher(Image, f"/{side}/color/image_raw", RELIABLE)
        ros.wait_for_subscribers(pub)
        msg = image_msg(small_image, 5, f"{side}_cam")
        pub.publish(msg)
        assert poses.wait_for(lambda m: len(m) == 1) and poses.messages[0].header.frame_id == f"{side}_cam"


def test_output_names_choose_the_namespaces(ros, small_image):
    ros.pose_node(device="cpu", image_topics=["/a/image_raw", "/b/image_raw"], output_names=["left", "right"])
    poses = Collector()
    ros.probe.create_subscription(PoseArray, "/pose_node/right/poses", poses, 10)
    pub = ros.probe.create_publisher(Image, "/b/image_raw", RELIABLE)
    ros.wait_for_subscribers(pub)
    pub.publish(image_msg(small_image, 9))
    assert poses.wait_for(lambda m: len(m) == 1)


def test_a_missing_gpu_is_said_in_the_log_the_configured_line_and_diagnostics(ros, capfd):
    ros.pose_node(device="cuda", diagnostics_period=0.2)
    log = capfd.readouterr().err
    configured = next(line for line in log.splitlines() if "configured:" in line)
    assert "cuda asked, running on CPU" in configured
    assert "[WARN]" in log and "CUDAExecutionProvider" in log  # the core's notice, through the ROS logger
    diagnostics = _diagnostics(ros)
    assert diagnostics.wait_for(lambda m: m and "cuda asked" in _values(m[-1].status[0]).get("device", ""))


def test_no_cpu_fallback_refuses_to_configure(ros):
    ros.pose_node(wait_active=False, autostart=False, device="cuda", allow_cpu_fallback=False)
    assert not ros.change_state("configure") and ros.lifecycle_state() == "unconfigured"
