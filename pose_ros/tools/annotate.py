"""Annotate a bag offline: every frame of an image topic through the pipeline, the poses into a new bag.

    python -m pose_ros.tools.annotate IN_BAG OUT_BAG --topic /camera/image_raw [--overlay]
        [--storage mcap|sqlite3] [--output-ns /pose_node] [--poses-topic TOPIC] [--model ... any PoseConfig flag]

No ROS graph and no drops: the frames are read in log-time order and each one is processed, however slow
the model; the same bag and configuration give the same poses. The new bag (rosbag2 version 9, mcap by
default) holds, under ``--output-ns`` (default ``/pose_node``, the node's own names):

  <ns>/skeleton_info  pose_ros/msg/SkeletonInfo  once, first; transient-local QoS like the node's latched topic
  <ns>/poses          pose_ros/msg/PoseArray     one per decoded frame: the image's header (stamp, frame_id),
                                                 written at the source message's log time
  <ns>/debug_image    sensor_msgs/msg/Image      with --overlay: bgr8 drawing of the poses, same header

``--out-video FILE.mp4`` also writes the same drawings as a video (the size of the first frame, the topic's
rate as the bag's log times give it, or ``--video-fps``); see :mod:`pose_ros.tools.video` for the codecs.

The input topic may be sensor_msgs/msg/Image (any encoding of :func:`pose_ros.core.imaging.bgr_from_raw`)
or sensor_msgs/msg/CompressedImage. A frame that cannot be read (bad CDR, wrong step, unknown encoding,
undecodable JPEG, ...) is counted, logged and skipped; the rest are annotated.

Frames go through the same PoseStream as the node's camera stream (track ids, smoothing, mode auto), so the bag
holds what the node would have published for the same frames. The messages are rosbags typestore classes built
from the same field values as the node's rclpy messages (:mod:`pose_ros.core.message_fields`): byte-identical
CDR (checked by the tests).

Exit codes: 0 done; 1 no frame could be annotated or an unexpected error; 2 bad arguments (input missing or
not a bag, topic missing or not an image topic, output exists, invalid configuration or model).
"""
from __future__ import annotations

import argparse
import itertools
import logging
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from rosbags.interfaces import Qos, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime
from rosbags.rosbag2 import StoragePlugin, Writer

from pose_ros.core.annotators import draw_poses
from pose_ros.core.config import ConfigError, PoseConfig
from pose_ros.core.imaging import ImageDecodeError, at_size
from pose_ros.core.message_fields import (image_from_message, person_fields, pose_array_fields, skeleton_info_fields,
                                          stamp_fields, stamp_ns, stamp_seconds)
from pose_ros.core.skeletons import Skeleton
from pose_ros.core.stream import Frame, PoseStream, StreamConfig, StreamResult
from pose_ros.tools.bags import (COMPRESSED_TYPE, IMAGE_TYPE, BagError, image_connections, image_msg, open_bag,
                                 typestore)
from pose_ros.tools.video import FOURCCS as VIDEO_FOURCCS
from pose_ros.tools.video import ProgressPrinter, VideoError, VideoSink  # noqa: F401 - ProgressPrinter re-exported

LOG = logging.getLogger("pose_ros.annotate")

POSES_TYPE = "pose_ros/msg/PoseArray"
SKELETON_INFO_TYPE = "pose_ros/msg/SkeletonInfo"
STORAGES = {"mcap": StoragePlugin.MCAP, "sqlite3": StoragePlugin.SQLITE3}
DEFAULT_NS = "/pose_node"
_LOGGED_PER_KIND = 5  # failures logged one by one per kind; the rest only counted


# Bad arguments: the input, topic or output cannot be used (the message says why).
AnnotateError = BagError


# --- messages (rosbags classes; field semantics as pose_ros.node.conversions and msg/*.msg) ---------------

def _qos(durability: QosDurability, depth: int) -> Qos:
    zero = QosTime(0, 0)
    return Qos(QosHistory.KEEP_LAST, depth, QosReliability.RELIABLE, durability, zero, zero,
               QosLiveliness.AUTOMATIC, zero, False)


LATCHED_QOS = _qos(QosDurability.TRANSIENT_LOCAL, 1)  # as the node's ~/skeleton_info
VOLATILE_QOS = _qos(QosDurability.VOLATILE, 10)


def header_msg(store, stamp_ns: int, frame_id: str = ""):
    Time = store.types["builtin_interfaces/msg/Time"]
    return store.types["std_msgs/msg/Header"](stamp=Time(**stamp_fields(stamp_ns)), frame_id=frame_id)


def pose_array_msg(store, result: StreamResult, header):
    """The rosbags PoseArray of a stream result, from the fields the node's messages are built from
    (core.message_fields): byte-identical CDR to the node's (checked by the tests). Bags carry no depth here, so
    ``depth_header`` is empty, as the node leaves it without depth."""
    PersonPose = store.types["pose_ros/msg/PersonPose"]
    people = [PersonPose(**fields) for fields in person_fields(result)]
    return store.types[POSES_TYPE](**pose_array_fields(result, header, header_msg(store, 0)), people=people)


def skeleton_info_msg(store, skeleton: Skeleton, model: str, header):
    """The rosbags SkeletonInfo, from the fields the node's is built from (core.message_fields)."""
    return store.types[SKELETON_INFO_TYPE](**skeleton_info_fields(skeleton, model, header))


def decode_frame(store, raw: bytes, msgtype: str, min_long_side: int = 0):
    """CDR bytes of an Image or CompressedImage -> (header, BGR array, (x, y) factors to full-size pixels); a
    JPEG is decoded at reduced size when its long side stays >= ``min_long_side``, as the node does with
    reduced_jpeg_decode (its default). Raises ImageDecodeError."""
    try:
        msg = store.deserialize_cdr(raw, msgtype)
    except Exception as err:  # noqa: BLE001 - rosbags raises assorted errors on malformed bytes
        raise ImageDecodeError(f"cannot deserialize {msgtype}: {type(err).__name__}: {err}", "deserialize") from None
    return (msg.header, *image_from_message(msg, msgtype == COMPRESSED_TYPE, min_long_side))


# --- progress ----------------------------------------------------------------------------------------------

ProgressCallback = Callable[[int, int, float], None]  # (frames done, total frames, seconds since start)


# --- annotation ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AnnotateSummary:
    input: Path
    output: Path
    topic: str
    storage: str
    frames: int  # messages read from the image topic
    annotated: int  # PoseArrays written (frames - failures)
    people: int  # people over all PoseArrays
    failures: dict[str, int] = field(default_factory=dict)  # kind (ImageDecodeError.kind, "processing") -> count
    overlays: int = 0
    seconds: float = 0.0  # wall time of the frame loop (model loading excluded)
    video_frames: int = 0  # frames written to the --out-video file

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        failed = ", ".join(f"{kind} {n}" for kind, n in sorted(self.failures.items()))
        return (f"annotate: {self.frames} frames, {self.annotated} annotated, {self.people} people, "
                f"{self.failed} failed{f' ({failed})' if failed else ''}, {self.seconds:.1f} s, "
                f"{self.fps:.1f} fps -> {self.output}"
                + (f" (+ {self.video_frames} video frames)" if self.video_frames else ""))


@dataclass(frozen=True)
class OutputTopics:
    poses: str
    skeleton_info: str
    debug_image: str

    @classmethod
    def under(cls, namespace: str = DEFAULT_NS, poses: str | None = None) -> "OutputTopics":
        ns = "/" + namespace.strip("/") if namespace.strip("/") else ""
        return cls(poses or f"{ns}/poses", f"{ns}/skeleton_info", f"{ns}/debug_image")


def annotate_bag(in_bag: Path | str, out_bag: Path | str, topic: str, config: PoseConfig, overlay: bool = False,
                 storage: str = "mcap", progress: ProgressCallback | None = None,
                 topics: OutputTopics | None = None, models=None,
                 stream_config: StreamConfig = StreamConfig(), reduced_jpeg_decode: bool = True,
                 video: Path | str | None = None, video_fps: float | None = None) -> AnnotateSummary:
    """Run every message of ``topic`` in ``in_bag``, in order, through a PoseStream (tracking and smoothing as
    ``stream_config`` says, as the node's camera stream); write the poses (and overlays) to the new bag
    ``out_bag``. ``models`` (built from ``config`` when None) lets a caller reuse loaded models;
    ``reduced_jpeg_decode`` as the node's parameter (JPEG frames decoded at the size the model needs); ``video``:
    also write the drawings into this video file, at ``video_fps`` (default: the rate of the topic's log times).
    Raises :class:`AnnotateError` for unusable arguments, ConfigError / ModelError for the
    configuration; a partly written output is removed on any error."""
    in_bag, out_bag = Path(in_bag), Path(out_bag)
    topics = topics or OutputTopics.under()
    if storage not in STORAGES:
        raise AnnotateError(f"storage {storage!r} is not valid; valid: {', '.join(STORAGES)}")
    if out_bag.exists():
        raise AnnotateError(f"output {out_bag} exists already; not overwriting (remove it or choose another)")
    if video is not None and Path(video).suffix.lower() not in VIDEO_FOURCCS:
        raise AnnotateError(f"--out-video {video}: unknown video type; valid: {', '.join(VIDEO_FOURCCS)}")
    store = typestore()
    reader = open_bag(in_bag)
    try:
        conns = image_connections(reader, in_bag, topic)
        total = sum(c.msgcount for c in conns)
        if models is None:
            from pose_ros.core.pipeline import build_models

            t0 = time.perf_counter()
            models = build_models(config)
            LOG.info("loaded %s in %.1f s", models.describe(), time.perf_counter() - t0)
        stream = PoseStream(models, stream_config, name=topic)
        min_side = models.useful_long_side if reduced_jpeg_decode else 0
        sink = _VideoOut(Path(video), video_fps or _topic_rate(reader, conns, total)) if video is not None else None
        try:
            return _annotate(reader, store, conns, total, in_bag, out_bag, topic, stream, overlay, storage,
                             progress, topics, min_side, sink)
        finally:
            if sink is not None:
                sink.close()
    finally:
        reader.close()


def _failed(failures: Counter, kind: str, index: int, log_time: int, reason: str) -> None:
    failures[kind] += 1
    if failures[kind] <= _LOGGED_PER_KIND:
        more = " (further failures of this kind are only counted)" if failures[kind] == _LOGGED_PER_KIND else ""
        LOG.warning("frame %d (log time %d) skipped: %s%s", index, log_time, reason, more)


def _topic_rate(reader, conns, total: int) -> float:
    """Frames per second of the image topic from its messages' log times (10 when it cannot be told)."""
    times = [log_time for _, log_time, _ in reader.messages(connections=conns)] if total > 1 else []
    if len(times) < 2:
        return 10.0
    step = float(np.median(np.diff(np.sort(np.array(times, np.int64))))) / 1e9
    return 1.0 / step if step > 0 else 10.0


class _VideoOut:
    """The --out-video file, opened at the first frame (its size is the video's; later frames of another size
    are scaled to it, with a warning)."""

    def __init__(self, path: Path, fps: float):
        self.path, self.fps = path, fps
        self.sink: VideoSink | None = None
        self._warned = False

    def write(self, image: np.ndarray) -> None:
        import cv2

        if self.sink is None:
            try:
                self.sink = VideoSink(self.path, self.fps, (image.shape[1], image.shape[0]))
            except VideoError as err:
                raise AnnotateError(str(err)) from None
            LOG.info("writing %s (%s, %dx%d, %.2f fps)", self.path, self.sink.fourcc, *self.sink.size, self.fps)
        if (image.shape[1], image.shape[0]) != self.sink.size:
            if not self._warned:
                LOG.warning("frame size %dx%d differs from the video's %dx%d: scaled", image.shape[1],
                            image.shape[0], *self.sink.size)
                self._warned = True
            image = cv2.resize(image, self.sink.size)
        self.sink.write(image)

    @property
    def frames(self) -> int:
        return self.sink.frames if self.sink is not None else 0

    def close(self) -> None:
        if self.sink is not None:
            self.sink.close()


def _annotate(reader, store, conns, total, in_bag, out_bag, topic, stream: PoseStream, overlay, storage, progress,
              topics: OutputTopics, min_side: int, video: _VideoOut | None = None) -> AnnotateSummary:
    models = stream.models
    frames = annotated = people = overlays = 0
    failures: Counter[str] = Counter()
    created = False
    start = time.perf_counter()
    try:
        with Writer(out_bag, version=9, storage_plugin=STORAGES[storage]) as writer:
            created = True
            info_conn = writer.add_connection(topics.skeleton_info, SKELETON_INFO_TYPE, typestore=store,
                                              offered_qos_profiles=[LATCHED_QOS])
            poses_conn = writer.add_connection(topics.poses, POSES_TYPE, typestore=store,
                                               offered_qos_profiles=[VOLATILE_QOS])
            debug_conn = (writer.add_connection(topics.debug_image, IMAGE_TYPE, typestore=store,
                                                offered_qos_profiles=[VOLATILE_QOS]) if overlay else None)
            messages = reader.messages(connections=conns)
            first = next(messages, None)
            # "Published" when the first frame came in (or at the bag's start when the topic is empty).
            info_time = first[1] if first else (reader.start_time if reader.message_count else 0)
            writer.write(info_conn, info_time, store.serialize_cdr(
                skeleton_info_msg(store, models.skeleton, models.config.model, header_msg(store, info_time)),
                SKELETON_INFO_TYPE))
            for conn, log_time, raw in itertools.chain([first] if first else [], messages):
                frames += 1
                try:
                    header, image, scale = decode_frame(store, raw, conn.msgtype, min_side)
                    result = stream.process(Frame(image, stamp_seconds(header), header.frame_id, scale))
                except ImageDecodeError as err:
                    _failed(failures, err.kind, frames, log_time, str(err))
                except Exception as err:  # noqa: BLE001 - one bad frame is counted and skipped, as in the node
                    _failed(failures, "processing", frames, log_time, f"pipeline failed: {type(err).__name__}: {err}")
                else:
                    for kind, message in result.warnings:
                        LOG.warning("frame %d: %s", frames, message)
                    poses = result.poses
                    writer.write(poses_conn, log_time, store.serialize_cdr(pose_array_msg(store, result, header),
                                                                           POSES_TYPE))
                    annotated += 1
                    people += len(poses)
                    drawn = (draw_poses(at_size(image, result.image_hw), poses, result.region)
                             if debug_conn is not None or video is not None else None)
                    if debug_conn is not None:
                        writer.write(debug_conn, log_time, store.serialize_cdr(
                            image_msg(store, drawn, stamp_ns(header), header.frame_id), IMAGE_TYPE))
                        overlays += 1
                    if video is not None:
                        video.write(drawn)
                if progress is not None:
                    progress(frames, max(total, frames), time.perf_counter() - start)
    except BaseException:
        if created:
            shutil.rmtree(out_bag, ignore_errors=True)
            LOG.error("removed the incomplete output %s", out_bag)
        raise
    return AnnotateSummary(in_bag, out_bag, topic, storage, frames, annotated, people, dict(failures), overlays,
                           time.perf_counter() - start, video.frames if video is not None else 0)


# --- command line -----------------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    from pose_ros.cli import _boolean, add_config_arguments

    parser = argparse.ArgumentParser(
        prog="python -m pose_ros.tools.annotate",
        description="Run the pose pipeline on every frame of a bag's image topic (offline, no drops) and "
                    "write the poses to a new bag.")
    parser.add_argument("in_bag", type=Path, metavar="IN_BAG", help="rosbag2 directory (mcap or sqlite3)")
    parser.add_argument("out_bag", type=Path, metavar="OUT_BAG", help="new bag to write (must not exist)")
    parser.add_argument("--topic", default="/camera/image_raw",
                        help="image topic: sensor_msgs/msg/Image or CompressedImage (default: %(default)s)")
    parser.add_argument("--overlay", action="store_true", help="also write bgr8 overlays on <ns>/debug_image")
    parser.add_argument("--storage", choices=sorted(STORAGES), default="mcap", help="output storage (default: mcap)")
    parser.add_argument("--output-ns", default=DEFAULT_NS,
                        help="namespace of the output topics, as the node's (default: %(default)s)")
    parser.add_argument("--poses-topic", help="PoseArray topic (default: <output-ns>/poses)")
    parser.add_argument("--out-video", type=Path, metavar="FILE",
                        help="also write the drawn poses as a video (.mp4: mp4v/avc1, .avi: MJPG)")
    parser.add_argument("--video-fps", type=float, metavar="HZ",
                        help="frame rate of --out-video (default: the topic's rate in the bag)")
    parser.add_argument("--no-progress", action="store_true", help="no progress lines (the summary stays)")
    parser.add_argument("--reduced-jpeg-decode", type=_boolean, default=True, metavar="true|false",
                        help="as the node's reduced_jpeg_decode parameter: decode JPEG frames at 1/2, 1/4 or 1/8 "
                             "size when the model's input is that small anyway (default: %(default)s)")
    add_config_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    from pose_ros.cli import configure_from_args, stream_config_from_args
    from pose_ros.core.models import ModelError

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(name)s] %(levelname)s: %(message)s", stream=sys.stderr)
    printer = None if args.no_progress else ProgressPrinter()
    try:
        stream_config = stream_config_from_args(args)
        models = configure_from_args(args)
        summary = annotate_bag(args.in_bag, args.out_bag, args.topic, models.config, overlay=args.overlay,
                               storage=args.storage, progress=printer, stream_config=stream_config,
                               topics=OutputTopics.under(args.output_ns, args.poses_topic), models=models,
                               reduced_jpeg_decode=args.reduced_jpeg_decode, video=args.out_video,
                               video_fps=args.video_fps)
    except (AnnotateError, ConfigError, ModelError) as err:
        LOG.error("%s", err)
        return 2
    except KeyboardInterrupt:
        LOG.error("interrupted")
        return 130
    finally:
        if printer is not None:
            printer.finish()
    print(summary.line(), flush=True)
    if summary.frames and not summary.annotated:
        LOG.error("no frame of %s could be annotated", args.topic)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
