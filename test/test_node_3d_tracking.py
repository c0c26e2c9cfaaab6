"""Tracking ids, smoothing, 3D keypoints from depth and mode auto, in the node over real DDS."""
import cv2
import numpy as np
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image

from pose_ros.msg import PoseArray

from ros_harness import Collector, RosHarness, image_msg, stamp_ns

RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
FX = FY = 500.0


@pytest.fixture
def ros():
    harness = RosHarness()
    yield harness
    harness.close()


def _answer(pub, poses, msg, timeout=30.0):
    stamp = stamp_ns(msg.header)
    pub.publish(msg)
    assert poses.wait_for(lambda m: any(stamp_ns(p.header) == stamp for p in m), timeout), f"no answer to {stamp}"
    return next(p for p in poses.messages if stamp_ns(p.header) == stamp)


def _io(ros):
    poses = Collector()
    ros.probe.create_subscription(PoseArray, "/pose_node/poses", poses, 10)
    pub = ros.probe.create_publisher(Image, "/image", RELIABLE)
    ros.wait_for_subscribers(pub)
    return pub, poses


def test_track_ids_follow_people_across_frames(ros, bus_image):
    ros.pose_node(device="cpu", smoothing=True)
    pub, poses = _io(ros)
    answers = []
    for i, dx in enumerate([0, 8, 16, 24]):  # the scene pans right by 8 px per frame
        shifted = np.roll(bus_image, dx, axis=1)
        answers.append(_answer(pub, poses, image_msg(shifted, (i + 1) * 33_000_000)))
    by_id = [{p.track_id: p.box[0] for p in a.people} for a in answers]
    assert set(by_id[0]) == set(by_id[-1]) and len(by_id[0]) >= 3 and min(by_id[0]) >= 1
    for track in by_id[0]:  # each id stays on the person who moved right
        assert by_id[-1][track] > by_id[0][track] + 10


def test_smoothing_without_tracking_is_rejected_at_configure(ros):
    ros.pose_node(wait_active=False, autostart=False, device="cpu", tracking=False, smoothing=True)
    assert not ros.change_state("configure") and ros.lifecycle_state() == "unconfigured"


def _depth_msg(depth_m: np.ndarray, stamp: int) -> Image:
    msg = image_msg(np.zeros((*depth_m.shape, 3), np.uint8), stamp, "depth_optical")
    mm = np.round(depth_m * 1000).astype(np.uint16)
    msg.encoding, msg.step, msg.data = "16UC1", mm.shape[1] * 2, mm.tobytes()
    return msg


def test_keypoints_get_3d_points_from_a_matching_depth_frame(ros, bus_image):
    ros.pose_node(device="cpu", depth_topics=["/depth"], camera_info_topics=["/depth_info"], depth_tolerance=0.02)
    pub, poses = _io(ros)
    depth_pub = ros.probe.create_publisher(Image, "/depth", RELIABLE)
    info_pub = ros.probe.create_publisher(CameraInfo, "/depth_info", RELIABLE)
    ros.wait_for_subscribers(depth_pub)
    ros.wait_for_subscribers(info_pub)
    height, width = bus_image.shape[:2]
    info = CameraInfo(width=width, height=height, k=[FX, 0.0, width / 2, 0.0, FY, height / 2, 0.0, 0.0, 1.0])
    info_pub.publish(info)
    plane = np.full((height, width), 2.0)  # a wall 2 m in front of the camera: every point has z = 2
    depth_pub.publish(_depth_msg(plane, 1_000_000_000))
    answer = None
    for _ in range(50):  # the depth frame and the camera info must arrive before the colour frame
        answer = _answer(pub, poses, image_msg(bus_image, 1_005_000_000 + _))
        if answer.depth_header.frame_id:
            break
    assert answer.depth_header.frame_id == "depth_optical" and stamp_ns(answer.depth_header) == 1_000_000_000
    person = answer.people[0]
    valid = np.array(person.keypoint_3d_valid)
    z = np.array(person.keypoint_3d_z)[valid]
    x = np.array(person.keypoint_3d_x)[valid]
    u = np.array(person.keypoint_x)[valid]
    assert valid.sum() >= 10 and np.allclose(z, 2.0, atol=1e-3)
    np.testing.assert_allclose(x, (u - width / 2) * 2.0 / FX, atol=2e-3)  # pinhole back-projection


def test_a_colour_frame_without_matching_depth_is_skipped_and_said_why(ros, bus_image, capfd):
    ros.pose_node(device="cpu", depth_topics=["/depth"], camera_info_topics=["/depth_info"], depth_tolerance=0.02)
    pub, poses = _io(ros)
    pub.publish(image_msg(bus_image, 7_000_000_000))  # no depth frame at all
    assert not poses.wait_for(lambda m: len(m) > 0, timeout=3)
    assert "no depth frame on /depth within 0.02 s" in capfd.readouterr().err


def test_auto_mode_reports_the_mode_in_use(ros, bus_image, photos):
    ros.pose_node(device="cpu", mode="auto", model="blazepose_landmark_full", detector="yolo11n_pose",
                  auto_switch_up=3, auto_switch_down=2, auto_patience=2)
    pub, poses = _io(ros)
    zidane = cv2.imread(str(photos["zidane.jpg"]))
    crowd = np.hstack([cv2.resize(bus_image, (540, 720)), cv2.resize(zidane, (1280, 720))])
    modes = [_answer(pub, poses, image_msg(crowd, i + 1)).mode for i in range(4)]
    assert modes[0] == "top_down" and modes[-1] == "bottom_up"
