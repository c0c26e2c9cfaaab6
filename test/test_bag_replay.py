"""A rosbag2 (mcap) written with rosbags from the sample photos, replayed into the node process:
every frame is answered, with its own stamp."""
import pytest

from pose_ros.tools.bags import read_images, sample_bag, write_image_bag
from pose_ros.tools.replay import BagReplayer
from pose_ros.tools.sample_data import PHOTOS

from pose_ros.tools.node_process import SHARE, NodeProcess
from ros_harness import RosHarness


@pytest.fixture(scope="module")
def node():
    process = NodeProcess(["--params-file", str(SHARE / "config" / "yolo11n_pose.yaml"), "-p", "device:=cpu",
                           "-r", "image:=/camera/image_raw"])
    process.wait_ready()
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
    for frame, photo in zip(frames, PHOTOS * 2):
        assert frame.answer.header.frame_id == "camera"
        assert len(frame.answer.people) >= photo.people, photo.name


def test_sqlite3_bags_read_back_too(tmp_path, bus_image):
    stamps = write_image_bag(tmp_path / "bag", [bus_image, bus_image[:100, :200]], storage="sqlite3")
    images = list(read_images(tmp_path / "bag", "/camera/image_raw"))
    assert [i.stamp_ns for i in images] == stamps


def test_reading_a_missing_topic_lists_the_topics(tmp_path, bus_image):
    write_image_bag(tmp_path / "bag", [bus_image])
    with pytest.raises(ValueError, match="topics: /camera/image_raw"):
        list(read_images(tmp_path / "bag", "/nope"))
