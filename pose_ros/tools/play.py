"""A camera you can play: publish a video file or a folder of images as a camera driver would.

    python -m pose_ros.tools.play FILE --topic /camera/image_raw [--rate HZ] [--qos sensor|reliable]
                                  [--compressed] [--loop] [--frame-id camera] [--wait-subscribers N]

Like a driver: every frame is stamped with the node's clock *now* (not the file's time) and the given frame_id,
published at a steady rate (default: the video's own; 10 Hz for an image folder) whether or not anyone keeps
up, never waiting for an answer. ``--qos sensor`` (the default) is what camera drivers offer (best effort,
depth 5: rclpy's qos_profile_sensor_data); ``--qos reliable`` is reliable with depth 10. ``--compressed``
publishes sensor_msgs/CompressedImage (JPEG) instead of bgr8 Images; name the topic accordingly
(``/camera/image_raw/compressed``). A folder's images are played in name order; all must have one size (as a
camera's); an image that cannot be read is skipped with a warning. ``--wait-subscribers N`` holds the first
frame until N subscriptions are matched (a driver does not wait; a test or demo may want the first frames seen).

To replay a rosbag's own images (stamps as recorded) use :mod:`pose_ros.tools.replay`; this tool plays plain
files. Publishing uses the node's own converters (pose_ros.node.conversions), so the bytes are those a
camera driver's bgr8 Image or JPEG CompressedImage would carry.

Exit codes: 0 done (or stopped with Ctrl-C); 2 bad arguments (file unreadable, nothing to play).
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pose_ros.tools.video import VIDEO_SUFFIXES, VideoError, read_video, video_info

LOG = logging.getLogger("pose_ros.play")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
QOS_CHOICES = ("sensor", "reliable")


class PlayError(ValueError):
    """A file or folder that cannot be played (the message says why)."""


@dataclass(frozen=True)
class Source:
    """Frames of a video or an image folder, from the start each time :meth:`frames` is called."""

    path: Path
    rate_hz: float  # the file's own rate (video), or 10 for a folder
    count: int  # frames (the container's count for a video)

    @classmethod
    def open(cls, path: Path | str) -> "Source":
        path = Path(path)
        if path.is_dir():
            files = _image_files(path)
            if not files:
                raise PlayError(f"{path}: no images ({', '.join(IMAGE_SUFFIXES)}) in this folder")
            return cls(path, 10.0, len(files))
        if not path.exists():
            raise PlayError(f"{path}: no such file or folder")
        if path.suffix.lower() not in VIDEO_SUFFIXES:
            raise PlayError(f"{path}: not a video ({', '.join(VIDEO_SUFFIXES)}) or a folder of images")
        try:
            info = video_info(path)
        except VideoError as err:
            raise PlayError(str(err)) from None
        return cls(path, info.fps if info.fps > 0 else 10.0, info.frames)

    def frames(self) -> Iterator[np.ndarray]:
        if not self.path.is_dir():
            for _, _, image in read_video(self.path):
                yield image
            return
        size = None
        for file in _image_files(self.path):
            image = cv2.imread(str(file), cv2.IMREAD_COLOR)
            if image is None:
                LOG.warning("%s: not an image OpenCV can read; skipped", file)
                continue
            if size is None:
                size = image.shape[:2]
            elif image.shape[:2] != size:
                LOG.warning("%s: %dx%d, not the first image's %dx%d; skipped (a camera has one size)", file,
                            image.shape[1], image.shape[0], size[1], size[0])
                continue
            yield image


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


class CameraPublisher:
    """Publishes BGR frames on ``topic`` from ``node`` as a camera driver: header stamp = the node's clock now,
    ``frame_id``; bgr8 Image or (``compressed``) JPEG CompressedImage."""

    def __init__(self, node, topic: str, qos: str = "sensor", compressed: bool = False, frame_id: str = "camera",
                 jpeg_quality: int = 90):
        from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
        from sensor_msgs.msg import CompressedImage, Image

        if qos not in QOS_CHOICES:
            raise PlayError(f"qos {qos!r} is not valid; valid: {', '.join(QOS_CHOICES)}")
        profile = (qos_profile_sensor_data if qos == "sensor"
                   else QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
        self.node, self.topic, self.compressed, self.frame_id = node, topic, compressed, frame_id
        self.jpeg_quality = jpeg_quality
        self._pub = node.create_publisher(CompressedImage if compressed else Image, topic, profile)

    def subscribers(self) -> int:
        return self._pub.get_subscription_count()

    def wait_for_subscribers(self, count: int, timeout_s: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while self.subscribers() < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.subscribers() >= count

    def publish(self, image: np.ndarray) -> int:
        """Publish one frame now; returns its stamp (ns of the node's clock)."""
        from std_msgs.msg import Header

        from pose_ros.node.conversions import bgr_to_compressed, bgr_to_image

        now = self.node.get_clock().now()
        header = Header(stamp=now.to_msg(), frame_id=self.frame_id)
        msg = (bgr_to_compressed(image, header, self.jpeg_quality) if self.compressed
               else bgr_to_image(image, header))
        self._pub.publish(msg)
        return now.nanoseconds


@dataclass
class PlaySummary:
    frames: int = 0  # published
    loops: int = 0  # times the source was played to its end
    seconds: float = 0.0
    late: int = 0  # frames published more than one period after their slot (the reader or the machine was slow)

    @property
    def rate_hz(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def play(source: Source, publish: Callable[[np.ndarray], int], rate_hz: float, loop: bool = False,
         max_frames: int | None = None, on_frame: Callable[[int, int], None] | None = None,
         should_stop: Callable[[], bool] = lambda: False) -> PlaySummary:
    """Publish the source's frames at ``rate_hz`` (fixed slots from the start: no drift; a frame late by more
    than one period restarts the slots from now instead of bursting to catch up, as a driver drops rather than
    queues); ``on_frame(index, stamp_ns)`` after each. Stops after ``max_frames``, at the end (unless ``loop``),
    or when ``should_stop()``."""
    if rate_hz <= 0:
        raise PlayError(f"rate {rate_hz} Hz is not positive")
    period = 1.0 / rate_hz
    summary = PlaySummary()
    start = slot = time.monotonic()
    while True:
        played = 0
        for image in source.frames():
            if should_stop() or (max_frames is not None and summary.frames >= max_frames):
                summary.seconds = time.monotonic() - start
                return summary
            delay = slot - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -period:
                summary.late += 1
                slot = time.monotonic()
            stamp = publish(image)
            if on_frame is not None:
                on_frame(summary.frames, stamp)
            summary.frames += 1
            played += 1
            slot += period
        summary.loops += 1
        if not loop or played == 0:
            summary.seconds = time.monotonic() - start
            return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pose_ros.tools.play",
                                     description="Publish a video or an image folder as a camera would.")
    parser.add_argument("file", type=Path, metavar="FILE", help="video file or folder of images")
    parser.add_argument("--topic", default="/camera/image_raw", help="topic (default: %(default)s)")
    parser.add_argument("--rate", type=float, metavar="HZ", help="frames per second (default: the video's own; "
                                                                 "10 for a folder)")
    parser.add_argument("--qos", choices=QOS_CHOICES, default="sensor",
                        help="sensor: best effort, depth 5, as camera drivers (default); reliable: depth 10")
    parser.add_argument("--compressed", action="store_true", help="publish JPEG CompressedImage")
    parser.add_argument("--loop", action="store_true", help="start again at the end (until Ctrl-C)")
    parser.add_argument("--frame-id", default="camera", help="header frame_id (default: %(default)s)")
    parser.add_argument("--max-frames", type=int, metavar="N", help="stop after N frames")
    parser.add_argument("--print-stamps", action="store_true", help="print each frame's index and stamp (ns)")
    parser.add_argument("--wait-subscribers", type=int, default=0, metavar="N",
                        help="hold the first frame until N subscriptions are matched (at most 10 s)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[%(name)s] %(levelname)s: %(message)s", stream=sys.stderr)
    try:
        source = Source.open(args.file)
        rate = args.rate if args.rate is not None else source.rate_hz
        if rate <= 0:
            raise PlayError(f"--rate {rate} is not positive")
    except PlayError as err:
        LOG.error("%s", err)
        return 2

    import rclpy
    from rclpy.context import Context

    context = Context()
    rclpy.init(args=[], context=context)
    node = rclpy.create_node("camera_player", context=context)
    try:
        camera = CameraPublisher(node, args.topic, args.qos, args.compressed, args.frame_id)
        if args.wait_subscribers and not camera.wait_for_subscribers(args.wait_subscribers):
            LOG.warning("%d subscriber(s) of %d on %s after 10 s; playing anyway", camera.subscribers(),
                        args.wait_subscribers, args.topic)
        LOG.info("playing %s (%d frames) on %s at %.2f Hz, %s QoS%s", source.path, source.count, args.topic, rate,
                 args.qos, ", looping" if args.loop else "")
        try:
            printer = (lambda index, stamp: print(f"frame {index} stamp {stamp}", flush=True)) if args.print_stamps else None
            summary = play(source, camera.publish, rate, loop=args.loop, max_frames=args.max_frames, on_frame=printer)
        except KeyboardInterrupt:
            print("play: interrupted", file=sys.stderr)
            return 0
        print(f"play: {summary.frames} frames, {summary.loops} loop(s), {summary.seconds:.1f} s, "
              f"{summary.rate_hz:.2f} Hz, {summary.late} late", flush=True)
        return 0
    finally:
        node.destroy_node()
        rclpy.try_shutdown(context=context)


if __name__ == "__main__":
    sys.exit(main())
