"""Offline bag annotation (pose_ros.tools.annotate) with the real model on the sample photos: the output bag,
read back with rosbags and the project's own message definitions, holds one PoseArray per frame equal to what a
PoseStream (the node's per-camera stream: tracking on) gives for the same frames in the same order."""
import io
import logging
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from rosbags.interfaces import QosDurability
from rosbags.rosbag2 import Reader, StoragePlugin, Writer

from pose_ros.core.config import PoseConfig
from pose_ros.core.imaging import bgr_from_compressed_scaled
from pose_ros.core.pipeline import build_estimator, build_models
from pose_ros.core.stream import Frame, PoseStream, StreamResult
from pose_ros.tools.annotate import (AnnotateError, OutputTopics, ProgressPrinter, annotate_bag, header_msg,
                                     pose_array_msg, skeleton_info_msg)
from pose_ros.tools.bags import image_msg, read_images, sample_bag, typestore
from pose_ros.tools.sample_data import PHOTOS


CONFIG = PoseConfig(device="cpu")
TOPIC = "/camera/image_raw"
REPO = Path(__file__).resolve().parents[1]
POSES, INFO, DEBUG = "/pose_node/poses", "/pose_node/skeleton_info", "/pose_node/debug_image"


@pytest.fixture(scope="module")
def store():
    return typestore()


@pytest.fixture(scope="module")
def estimator():
    return build_estimator(CONFIG)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return sample_bag(tmp_path_factory.mktemp("annotate") / "sample", repeats=2)


@pytest.fixture(scope="module")
def frames(sample, store):
    """(BagImage, BGR pixels) of every sample frame, decoded independently of the tool."""
    out = []
    for image in read_images(sample, TOPIC):
        msg = store.deserialize_cdr(image.cdr, "sensor_msgs/msg/Image")
        out.append((image, np.asarray(msg.data).reshape(msg.height, msg.width, 3).copy()))
    return out


@pytest.fixture(scope="module")
def mcap_run(sample, tmp_path_factory):
    calls = []
    out = tmp_path_factory.mktemp("annotate_out") / "poses_mcap"
    summary = annotate_bag(sample, out, TOPIC, CONFIG, progress=lambda *a: calls.append(a))
    return out, summary, calls


def read_topics(path, store):
    """topic -> [(log time, msgtype, message, cdr)] in log-time order; and the connections."""
    result = {}
    with Reader(path) as reader:
        for conn, log_time, raw in reader.messages():
            result.setdefault(conn.topic, []).append(
                (log_time, conn.msgtype, store.deserialize_cdr(raw, conn.msgtype), bytes(raw)))
        return result, list(reader.connections)


def stamp_ns(header):
    return header.stamp.sec * 10**9 + header.stamp.nanosec


def stream_of(images_and_stamps, scales=None):
    """The poses a fresh PoseStream (tracking on, as the node's) gives for (image, stamp ns) in order; ``scales``:
    each image's factors to full-size pixels (a JPEG decoded at reduced size)."""
    stream = PoseStream(build_models(CONFIG))
    pairs = list(images_and_stamps)
    scales = scales or [(1.0, 1.0)] * len(pairs)
    return [stream.process(Frame(image, stamp / 1e9, "camera", scale)).poses
            for (image, stamp), scale in zip(pairs, scales)]


def assert_poses_match(msg, expected, image_hw):
    """A PoseArray read back equals the stream's Poses of the same frame, track ids included."""
    assert (msg.skeleton, msg.model) == ("coco17", CONFIG.model)
    assert (msg.image_height, msg.image_width) == image_hw
    assert len(msg.people) == len(expected)
    for person, box, score, track, kps in zip(msg.people, expected.boxes, expected.scores, expected.track_ids,
                                              expected.keypoints):
        np.testing.assert_allclose(person.box, box, atol=1e-3)
        assert person.score == pytest.approx(float(score), abs=1e-5)
        assert person.track_id == track >= 1  # tracked, as the node tracks
        assert len(person.keypoint_x) == len(person.keypoint_y) == len(person.keypoint_score) == 17
        np.testing.assert_allclose(np.stack([person.keypoint_x, person.keypoint_y, person.keypoint_score], 1),
                                   kps, atol=1e-3)


def test_mcap_bag_gets_one_pose_array_per_frame_equal_to_the_core(mcap_run, frames, estimator, store):
    out, summary, calls = mcap_run
    assert len(frames) == 2 * len(PHOTOS)
    assert (summary.frames, summary.annotated, summary.failures, summary.overlays) == (len(frames), len(frames), {}, 0)
    assert summary.storage == "mcap" and (out / f"{out.name}.mcap").is_file()
    assert summary.fps > 0 and summary.seconds > 0
    assert [c[:2] for c in calls] == [(i + 1, len(frames)) for i in range(len(frames))]

    topics, conns = read_topics(out, store)
    assert {c.topic: c.msgtype for c in conns} == {POSES: "pose_ros/msg/PoseArray",
                                                   INFO: "pose_ros/msg/SkeletonInfo"}
    latched = {c.topic: c.ext.offered_qos_profiles[0].durability for c in conns}
    assert latched[INFO] == QosDurability.TRANSIENT_LOCAL

    [(info_time, _, info, _)] = topics[INFO]
    assert (info.skeleton, info.model, len(info.keypoint_names), info.keypoint_names[0]) == \
        ("coco17", CONFIG.model, 17, "nose")
    assert len(info.edge_start) == len(info.edge_end) == 19 and len(info.oks_sigmas) == 17
    assert info_time == stamp_ns(info.header) == frames[0][0].log_time_ns and info.header.frame_id == ""

    poses = topics[POSES]
    assert [p[0] for p in poses] == [f.log_time_ns for f, _ in frames]
    assert [stamp_ns(p[2].header) for p in poses] == [f.stamp_ns for f, _ in frames]
    assert [p[2].header.frame_id for p in poses] == [f.frame_id for f, _ in frames] == ["camera"] * len(frames)
    people = 0
    for (_, _, msg, _), (_, image), expected in zip(poses, frames, stream_of((i, f.stamp_ns) for f, i in frames)):
        assert_poses_match(msg, expected, image.shape[:2])
        people += len(expected)
    assert summary.people == people >= len(PHOTOS)


def test_sqlite3_with_overlays(sample, frames, mcap_run, tmp_path, store):
    out = tmp_path / "poses_db"
    summary = annotate_bag(sample, out, TOPIC, CONFIG, overlay=True, storage="sqlite3")
    assert (summary.frames, summary.annotated, summary.overlays, summary.failed) == (len(frames), len(frames),
                                                                                    len(frames), 0)
    assert (out / f"{out.name}.db3").is_file()
    topics, _ = read_topics(out, store)
    assert len(topics[INFO]) == 1
    overlays = topics[DEBUG]
    assert len(overlays) == len(frames)
    for (log_time, msgtype, msg, _), (bag_image, image) in zip(overlays, frames):
        assert msgtype == "sensor_msgs/msg/Image" and msg.encoding == "bgr8"
        assert (msg.height, msg.width, msg.step) == (image.shape[0], image.shape[1], image.shape[1] * 3)
        assert (log_time, stamp_ns(msg.header), msg.header.frame_id) == \
            (bag_image.log_time_ns, bag_image.stamp_ns, bag_image.frame_id)
    drawn = np.asarray(overlays[0][2].data).reshape(frames[0][1].shape)
    assert (drawn != frames[0][1]).any()  # something was drawn
    # Deterministic: the same frames give byte-identical PoseArrays, whatever the storage.
    mcap_topics, _ = read_topics(mcap_run[0], store)
    assert [p[3] for p in topics[POSES]] == [p[3] for p in mcap_topics[POSES]]


def test_compressed_image_topic(photos, tmp_path, estimator, store):
    bag = tmp_path / "jpeg"
    Compressed = store.types["sensor_msgs/msg/CompressedImage"]
    jpegs, stamps = [], []
    with Writer(bag, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conn = writer.add_connection("/cam/image/compressed", "sensor_msgs/msg/CompressedImage", typestore=store)
        for i, name in enumerate(["bus.jpg", "zidane.jpg", "astronaut.png"]):
            ok, jpeg = cv2.imencode(".jpg", cv2.imread(str(photos[name]), cv2.IMREAD_COLOR))
            stamp = 1_000_000_000 + i * 100_000_000
            msg = Compressed(header=header_msg(store, stamp, "cam"), format="jpeg", data=jpeg.reshape(-1))
            writer.write(conn, stamp + 5, store.serialize_cdr(msg, "sensor_msgs/msg/CompressedImage"))
            jpegs.append(jpeg)
            stamps.append(stamp)
    summary = annotate_bag(bag, tmp_path / "out", "/cam/image/compressed", CONFIG,
                           topics=OutputTopics.under("/people", poses="/people/found"))
    assert (summary.frames, summary.annotated, summary.failed) == (3, 3, 0)
    topics, _ = read_topics(tmp_path / "out", store)
    assert set(topics) == {"/people/found", "/people/skeleton_info"}
    poses = topics["/people/found"]
    assert [p[0] for p in poses] == [s + 5 for s in stamps]
    assert [stamp_ns(p[2].header) for p in poses] == stamps
    # Decoded as the node decodes them (reduced_jpeg_decode: zidane's 1280 px at 1/2 for the 640 px model)
    decoded = [bgr_from_compressed_scaled(jpeg.tobytes(), "jpeg", 640) for jpeg in jpegs]
    assert [scale for _, scale in decoded] == [(1.0, 1.0), (2.0, 2.0), (1.0, 1.0)]
    images = [cv2.imdecode(jpeg, cv2.IMREAD_COLOR) for jpeg in jpegs]
    expected_poses = stream_of(zip([image for image, _ in decoded], stamps), [scale for _, scale in decoded])
    for (_, _, msg, _), image, expected in zip(poses, images, expected_poses):
        assert msg.header.frame_id == "cam"
        assert_poses_match(msg, expected, image.shape[:2])
        assert len(msg.people) >= 1
    # reduced_jpeg_decode false (the node's parameter; the tool's --reduced-jpeg-decode): every frame full size.
    summary = annotate_bag(bag, tmp_path / "full", "/cam/image/compressed", CONFIG, reduced_jpeg_decode=False)
    assert summary.annotated == 3
    full, _ = read_topics(tmp_path / "full", store)
    expected_full = stream_of(zip(images, stamps))
    for (_, _, msg, _), image, expected in zip(full[POSES], images, expected_full):
        assert_poses_match(msg, expected, image.shape[:2])
    assert [p[3] for p in full[POSES]][1] != [p[3] for p in poses][1]  # zidane.jpg: not the half-size decode's


def test_annotate_flags_default_as_the_node_parameters():
    from pose_ros.node.parameters import NodeConfig
    from pose_ros.tools.annotate import build_parser

    args = build_parser().parse_args(["in", "out"])
    assert args.reduced_jpeg_decode is NodeConfig().reduced_jpeg_decode
    assert build_parser().parse_args(["in", "out", "--reduced-jpeg-decode", "false"]).reduced_jpeg_decode is False


def test_corrupt_frame_is_counted_and_the_rest_annotated(bus_image, tmp_path, store, caplog):
    bag = tmp_path / "corrupt"
    small = np.ascontiguousarray(bus_image[::2, ::2])
    with Writer(bag, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conn = writer.add_connection(TOPIC, "sensor_msgs/msg/Image", typestore=store)
        for i in range(3):
            msg = image_msg(store, small, 10**9 * (i + 1), "camera")
            if i == 1:
                msg.step = msg.width * 3 - 1  # rows shorter than the pixels
            writer.write(conn, 10**9 * (i + 1), store.serialize_cdr(msg, "sensor_msgs/msg/Image"))
    with caplog.at_level(logging.WARNING, logger="pose_ros.annotate"):
        summary = annotate_bag(bag, tmp_path / "out", TOPIC, CONFIG)
    assert (summary.frames, summary.annotated, summary.failures) == (3, 2, {"step": 1})
    assert "frame 2" in caplog.text and "step" in caplog.text
    assert "1 failed (step 1)" in summary.line()
    topics, _ = read_topics(tmp_path / "out", store)
    assert [stamp_ns(p[2].header) for p in topics[POSES]] == [10**9, 3 * 10**9]
    assert all(len(p[2].people) >= 1 for p in topics[POSES])


def test_bad_arguments_raise_before_any_output(sample, mcap_run, tmp_path):
    with pytest.raises(AnnotateError, match="exists already"):
        annotate_bag(sample, mcap_run[0], TOPIC, CONFIG)
    with pytest.raises(AnnotateError, match=r"no topic '/nope'.*\n.*/camera/image_raw"):
        annotate_bag(sample, tmp_path / "out", "/nope", CONFIG)
    with pytest.raises(AnnotateError, match="expected sensor_msgs/msg/Image"):
        annotate_bag(mcap_run[0], tmp_path / "out", POSES, CONFIG)
    assert not (tmp_path / "out").exists()


def test_messages_are_byte_identical_to_the_node_conversions(bus_image, estimator, store):
    """The rosbags builders and the node's rclpy ones (pose_ros.node.conversions) give the same CDR, up to
    the alignment padding (rclpy's serializer leaves it unset; rosbags zeroes it): compared after rosbags
    re-encodes the node's bytes, same length."""
    pytest.importorskip("rclpy")
    from builtin_interfaces.msg import Time
    from rclpy.serialization import serialize_message
    from std_msgs.msg import Header

    from pose_ros.node import conversions

    stamp = 1_700_000_000 * 10**9 + 123
    result = PoseStream(build_models(CONFIG)).process(Frame(bus_image, stamp / 1e9, "camera"))
    assert isinstance(result, StreamResult) and len(result.poses) >= 3 and (result.poses.track_ids >= 1).all()
    header = Header(stamp=Time(sec=stamp // 10**9, nanosec=stamp % 10**9), frame_id="camera")
    node_msg = conversions.pose_array_msg(result, header)
    ours = pose_array_msg(store, result, header_msg(store, stamp, "camera"))
    assert_same_cdr(store, ours, serialize_message(node_msg), "pose_ros/msg/PoseArray")
    node_info = conversions.skeleton_info_msg(estimator.skeleton, CONFIG.model, header)
    our_info = skeleton_info_msg(store, estimator.skeleton, CONFIG.model, header_msg(store, stamp, "camera"))
    assert_same_cdr(store, our_info, serialize_message(node_info), "pose_ros/msg/SkeletonInfo")


def assert_same_cdr(store, ours, node_cdr: bytes, msgtype: str):
    cdr = bytes(store.serialize_cdr(ours, msgtype))
    assert len(cdr) == len(node_cdr)
    assert cdr == bytes(store.serialize_cdr(store.deserialize_cdr(node_cdr, msgtype), msgtype))


def test_progress_lines():
    stream = io.StringIO()
    printer = ProgressPrinter(stream, tty=False)
    for done in range(1, 121):
        printer(done, 120, done / 10)  # 10 fps
    printer.finish()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "annotate: 50/120 frames, 10.0 fps, ETA 7 s"
    assert lines[1].startswith("annotate: 100/120 frames")
    assert len(lines) == 2  # every 5 s; the last frame is left to the summary

    stream = io.StringIO()
    printer = ProgressPrinter(stream, tty=True)
    for done in range(1, 41):
        printer(done, 40, done / 10)
    printer.finish()
    text = stream.getvalue()
    assert text.startswith("\rannotate: ") and text.endswith("annotate: 40/40 frames, 10.0 fps, ETA 0 s\x1b[K\n")
    assert text.count("\n") == 1 and text.count("\r") > 5


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "pose_ros.tools.annotate", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_cli(sample, frames, tmp_path):
    out = tmp_path / "cli_out"
    done = run_cli(sample, out, "--topic", TOPIC, "--device", "cpu", "--overlay")
    assert done.returncode == 0, done.stderr
    assert (out / "metadata.yaml").is_file()
    summary = done.stdout.strip().splitlines()[-1]
    assert summary.startswith(f"annotate: {len(frames)} frames, {len(frames)} annotated, ")
    assert " 0 failed, " in summary and " fps -> " in summary

    missing = run_cli(sample, tmp_path / "other", "--topic", "/nope", "--device", "cpu")
    assert missing.returncode == 2
    assert "no topic '/nope'" in missing.stderr and "/camera/image_raw  sensor_msgs/msg/Image" in missing.stderr
    assert not (tmp_path / "other").exists()

    before = sorted(p.name for p in out.iterdir())
    again = run_cli(sample, out, "--device", "cpu")
    assert again.returncode == 2 and "exists already" in again.stderr
    assert sorted(p.name for p in out.iterdir()) == before


def test_unknown_storage_is_a_usage_error(sample, tmp_path):
    bad = run_cli(sample, tmp_path / "x", "--storage", "rosbag1")
    assert bad.returncode == 2 and "--storage" in bad.stderr
