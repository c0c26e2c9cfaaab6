"""Bad-input corpus over real DDS: every case is a named input; for each, the node stays alive, logs one clear
(throttled) message, counts it in /diagnostics, and answers the next good frame exactly as the core does.

One node serves the whole module (as on a robot, where bad frames arrive between good ones), with depth
input configured so the depth cases reach it too.
"""
import time

import cv2
import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

from pose_ros.core.config import PoseConfig
from pose_ros.core.pipeline import build_estimator
from pose_ros.msg import PoseArray

from ros_harness import Collector, RosHarness, image_msg, stamp_ns

RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
PARAMS = dict(device="cpu", image_transport="raw", diagnostics_period=0.2, depth_topics=["/depth"],
              camera_info_topics=["/depth_info"], depth_tolerance=0.5)
STAMP = iter(range(10_000_000_000, 10**12, 100_000_000))  # 0.1 s apart: good frames always move forward


class Rig:
    """The node, and the probe's publishers and collectors."""

    def __init__(self, bus_image):
        self.ros = RosHarness()
        self.node = self.ros.pose_node(**PARAMS)
        probe = self.ros.probe
        self.poses, self.diagnostics = Collector(), Collector()
        probe.create_subscription(PoseArray, "/pose_node/poses", self.poses, 10)
        probe.create_subscription(DiagnosticArray, "/diagnostics", self.diagnostics, 10)
        self.image = probe.create_publisher(Image, "/image", RELIABLE)
        self.depth = probe.create_publisher(Image, "/depth", RELIABLE)
        self.info = probe.create_publisher(CameraInfo, "/depth_info", RELIABLE)
        for pub in (self.image, self.depth, self.info):
            self.ros.wait_for_subscribers(pub)
        h, w = bus_image.shape[:2]
        self.info.publish(CameraInfo(width=w, height=h, k=[500.0, 0, w / 2, 0, 500.0, h / 2, 0, 0, 1]))
        self.good_image = bus_image
        self.expected = build_estimator(PoseConfig(device="cpu"))(bus_image)

    def good_frame(self, frame_id: str = "camera") -> PoseArray:
        """A good colour frame with its depth frame; returns the node's answer."""
        stamp = next(STAMP)
        self.depth.publish(_depth(self.good_image.shape[:2], 2.0, stamp))
        time.sleep(0.05)
        msg = image_msg(self.good_image, stamp, frame_id)
        self.image.publish(msg)
        assert self.poses.wait_for(lambda m: any(stamp_ns(p.header) == stamp for p in m), 30), \
            "the node did not answer a good frame after bad input"
        return next(p for p in self.poses.messages if stamp_ns(p.header) == stamp)

    def diagnostic_count(self, key: str) -> int:
        for array in reversed(self.diagnostics.messages):
            for status in array.status:
                values = {kv.key: kv.value for kv in status.values}
                if key in values:
                    return int(values[key])
        return 0


def _depth(hw, metres, stamp, encoding="32FC1"):
    depth = np.full(hw, metres, np.float32) if np.isscalar(metres) else metres.astype(np.float32)
    msg = image_msg(np.zeros((*hw, 3), np.uint8), stamp, "camera")
    msg.encoding, msg.step, msg.data = encoding, hw[1] * 4, depth.tobytes()
    return msg


@pytest.fixture(scope="module")
def rig(photos):
    bus = cv2.imread(str(photos["bus.jpg"]))
    rig = Rig(bus)
    yield rig
    rig.ros.close()


def _image(h, w, encoding="bgr8", step=None, data_len=None):
    channels = {"bgr8": 3, "mono8": 1, "rgba8": 4, "mono16": 2}.get(encoding, 3)
    step = w * channels if step is None else step
    msg = image_msg(np.zeros((max(h, 1), max(w, 1), 3), np.uint8), next(STAMP))
    msg.height, msg.width, msg.encoding, msg.step = h, w, encoding, step
    msg.data = bytes(step * h if data_len is None else data_len)
    return msg


def _compressed(data: bytes, fmt="jpeg"):
    msg = CompressedImage(format=fmt, data=data)
    msg.header.stamp.sec = 1
    return msg


# name -> (what to publish, on which publisher, the error kind counted, text the log must contain)
CASES = {
    "unknown_encoding": (lambda r: _image(10, 10, "weird42"), "image", "bad_image_encoding", "unsupported encoding"),
    "16bit_mono": (lambda r: _image(10, 10, "mono16"), "image", "bad_image_encoding", "16-bit"),
    "step_below_width": (lambda r: _image(10, 10, step=20), "image", "bad_image_step", "step 20 is smaller"),
    "data_short": (lambda r: _image(10, 10, data_len=299), "image", "bad_image_data_length", "expected step*height"),
    "data_long": (lambda r: _image(10, 10, data_len=301), "image", "bad_image_data_length", "expected step*height"),
    "zero_size": (lambda r: _image(0, 0), "image", "bad_image_size", "empty image"),
    # valid images, but the nearest depth frame (the last good one) has another size: not registered
    "one_pixel": (lambda r: _image(1, 1), "image", "bad_depth", "not aligned"),
    "huge_8000x8000": (lambda r: _image(8000, 8000), "image", "bad_depth", "not aligned"),
    "depth_nan_inf_zero": (None, "depth", None, None),
    "depth_without_colour": (lambda r: _depth((100, 100), 1.0, next(STAMP)), "depth", None, None),
    "frame_id_change": (None, "image", "warnings frame_id_changed", "frame_id on /image changed"),
    "stamps_backwards": (None, "image", "warnings stamp_backwards", "went backwards"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_survived_counted_and_followed_by_a_correct_answer(case, rig, capfd):
    make, publisher, kind, text = CASES[case]
    key = kind if kind and kind.startswith("warnings") else f"errors {kind}"
    before = rig.diagnostic_count(key) if kind else 0
    if case == "depth_nan_inf_zero":
        stamp = next(STAMP)
        depth = np.full(rig.good_image.shape[:2], np.nan, np.float32)
        depth[::3] = np.inf
        depth[1::3] = 0.0
        rig.depth.publish(_depth(rig.good_image.shape[:2], depth, stamp))
        time.sleep(0.05)
        rig.image.publish(image_msg(rig.good_image, stamp))
        assert rig.poses.wait_for(lambda m: any(stamp_ns(p.header) == stamp for p in m), 30)
        answer = next(p for p in rig.poses.messages if stamp_ns(p.header) == stamp)
        assert not any(any(p.keypoint_3d_valid) for p in answer.people)  # no valid depth: all invalid, no crash
    elif case == "frame_id_change":
        rig.good_frame("camera")
        rig.good_frame("another_camera")
    elif case == "stamps_backwards":
        rig.good_frame()
        stamp = 5_000_000_000  # earlier than every stamp so far
        rig.depth.publish(_depth(rig.good_image.shape[:2], 2.0, stamp))
        time.sleep(0.05)
        rig.image.publish(image_msg(rig.good_image, stamp))
        assert rig.poses.wait_for(lambda m: any(stamp_ns(p.header) == stamp for p in m), 30)
    else:
        getattr(rig, publisher).publish(make(rig))
        time.sleep(0.5 if case == "huge_8000x8000" else 0.2)
    answer = rig.good_frame()  # the node is alive and answers the next good frame exactly as the core does
    np.testing.assert_allclose([p.score for p in answer.people], rig.expected.scores, atol=1e-5)
    np.testing.assert_allclose(np.stack([p.keypoint_x for p in answer.people]), rig.expected.keypoints[..., 0],
                               atol=1e-3)
    assert sum(p.keypoint_3d_valid[0] for p in answer.people) >= 1  # its depth frame was used
    if kind:
        assert rig.diagnostics.wait_for(lambda m: rig.diagnostic_count(key) > before, 10), f"{key} not counted"
        logged = capfd.readouterr().err
        assert text in logged or rig.diagnostic_count(key) > 1, f"no log for {case}:\n{logged}"  # throttled repeat


def test_each_kind_is_logged_once_however_often_it_comes(rig, capfd):
    capfd.readouterr()
    for _ in range(5):
        rig.image.publish(_image(12, 12, "weird7"))
        time.sleep(0.1)
    rig.good_frame()
    logged = [line for line in capfd.readouterr().err.splitlines() if "weird7" in line]
    assert len(logged) <= 1  # 0 when this kind was already logged within the throttle period by a case above


@pytest.mark.parametrize("case, data, fmt, answered", [
    ("corrupt_jpeg", b"\xff\xd8\xff\xe0 definitely not a jpeg", "jpeg", False),
    ("empty", b"", "jpeg", False),
    ("png_in_compressed", None, "png", True),
])
def test_compressed_corpus(case, data, fmt, answered, photos):
    """The same promises for CompressedImage input (its own node: transport is read-only)."""
    ros = RosHarness()
    try:
        ros.pose_node(device="cpu", image_transport="compressed")
        poses = Collector()
        ros.probe.create_subscription(PoseArray, "/pose_node/poses", poses, 10)
        pub = ros.probe.create_publisher(CompressedImage, "/image/compressed", RELIABLE)
        ros.wait_for_subscribers(pub)
        image = cv2.imread(str(photos["zidane.jpg"]))
        if data is None:
            data = cv2.imencode(".png", image)[1].tobytes()
        bad = _compressed(data, fmt)
        bad.header.stamp.sec = 1
        pub.publish(bad)
        time.sleep(0.3)
        good = _compressed(cv2.imencode(".jpg", image)[1].tobytes())
        good.header.stamp.sec = 2
        pub.publish(good)
        assert poses.wait_for(lambda m: any(p.header.stamp.sec == 2 for p in m), 30)
        assert any(p.header.stamp.sec == 1 for p in poses.messages) == answered
        assert len(next(p for p in poses.messages if p.header.stamp.sec == 2).people) == 2
    finally:
        ros.close()


FUZZ_EXAMPLES = 40  # Image messages drawn per run (devtools/stress/run_stress.py reports it)
FIELDS = st.fixed_dictionaries({
    "height": st.integers(0, 64), "width": st.integers(0, 64),
    "encoding": st.sampled_from(["bgr8", "rgb8", "mono8", "bgra8", "rgba8", "yuv422", "yuv422_yuy2", "mono16",
                                 "32FC1", "", "BGR8", "jpeg", "8UC3"]),
    "step": st.integers(0, 300), "data_len": st.integers(0, 20_000), "is_bigendian": st.integers(0, 1),
})


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=FIELDS)
def test_fuzzed_image_fields_never_kill_the_node(rig, fields):
    msg = image_msg(np.zeros((1, 1, 3), np.uint8), next(STAMP))
    msg.height, msg.width, msg.encoding = fields["height"], fields["width"], fields["encoding"]
    msg.step, msg.is_bigendian, msg.data = fields["step"], fields["is_bigendian"], bytes(fields["data_len"])
    rig.image.publish(msg)
    time.sleep(0.05)
    assert len(rig.good_frame().people) == len(rig.expected)
