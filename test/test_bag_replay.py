"""A rosbag2 (mcap) written with rosbags from the sample photos, replayed into the node process:
every frame is answered, with its own stamp."""
import numpy as np
import pytest
import yaml

from pose_ros.core.config import PoseConfig
from pose_ros.core.pipeline import build_estimator
from pose_ros.tools.bags import read_images, sample_bag, write_image_bag
from pose_ros.tools.replay import BagReplayer
from pose_ros.tools.sample_data import PHOTOS

from pose_ros.tools.node_process import SHARE, NodeProcess
from ros_harness import RosHarness


@pytest.fixture(scope="module", params=["yolo11n_pose", "blazepose_full"])
def node(request):
    """The node process with a shipped config: the bottom-up and the top-down one."""
    config = SHARE / "config" / f"{request.param}.yaml"
    process = NodeProcess(["--params-file", str(config), "-p", "device:=cpu", "-r", "image:=/camera/image_raw"])
    process.wait_ready()
    process.config = config
    yield process
    assert process.stop() == 0, process.output()


def test_every_replayed_frame_is_answered_with_its_stamp(node, tmp_path):
    bag = sample_bag(tmp_path / "sample", repeats=2)
    images = list(read_images(bag, "/camera/image_raw"))
    assert len(images) == 2 * len(PHOTOS)
    ros = RosHarness()
    try:
        replayer = BagReplayer(ros.probe, "/camera/image_raw", answer_topic="/pose_node/poses")
        assert replayer.wait_for_subscriber()
        frames = replayer.replay(images, wait_answers=True, answer_timeout_s=30)
    finally:
        ros.close()
    assert [f.stamp_ns for f in frames] == [i.stamp_ns for i in images]
    unanswered = [f.stamp_ns for f in frames if f.answer is None]
    assert not unanswered, f"unanswered stamps {unanswered}\n{node.output()}"
    params = yaml.safe_load(node.config.read_text())["/**"]["ros__parameters"]
    estimator = build_estimator(PoseConfig(**{k: v for k, v in params.items() if k in PoseConfig.field_names()}))
    for frame, image in zip(frames, images):
        assert frame.answer.header.frame_id == "camera"
        expected = estimator(_bgr(image))  # the same frame through the core: same people
        assert len(frame.answer.people) == len(expected) >= 1
        np.testing.assert_allclose([p.score for p in frame.answer.people], expected.scores, atol=1e-5)


def _bgr(image):
    """The pixels of a bag image (bgr8 written by sample_bag), from its CDR bytes."""
    from pose_ros.tools.bags import typestore

    msg = typestore().deserialize_cdr(image.cdr, "sensor_msgs/msg/Image")
    return np.asarray(msg.data).reshape(msg.height, msg.width, 3)


def test_sqlite3_bags_read_back_too(tmp_path, bus_image):
    stamps = write_image_bag(tmp_path / "bag", [bus_image, bus_image[:100, :200]], storage="sqlite3")
    images = list(read_images(tmp_path / "bag", "/camera/image_raw"))
    assert [i.stamp_ns for i in images] == stamps


def test_reading_a_missing_topic_lists_the_topics(tmp_path, bus_image):
    write_image_bag(tmp_path / "bag", [bus_image])
    with pytest.raises(ValueError, match=r"topics:\s+/camera/image_raw"):
        list(read_images(tmp_path / "bag", "/nope"))
