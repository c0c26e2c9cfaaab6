"""Replay a bag's image topic into the live ROS graph (``ros2 bag play`` is not always at hand).

    python -m pose_ros.tools.replay BAG [--topic /camera/image_raw] [--to /image] [--rate 1.0]
    python -m pose_ros.tools.replay BAG --wait-for /pose_node/poses   # next frame once answered

The bag's bytes are published unchanged (stamps included). With ``--wait-for``, each frame is published
once the previous one was answered by a PoseArray with its stamp (or timed out), so a test can check
that every frame is answered no matter how slow the model is.
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import rclpy
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from pose_ros.msg import PoseArray
from pose_ros.tools.bags import BagImage, read_images


@dataclass
class ReplayedFrame:
    stamp_ns: int
    sent_s: float  # time.monotonic() when published
    answer: PoseArray | None = None
    answered_s: float | None = None

    @property
    def latency_s(self) -> float | None:
        return None if self.answered_s is None else self.answered_s - self.sent_s


class BagReplayer:
    """Publishes bag images on ``topic`` from ``node``; optionally matches answers on ``answer_topic``.

    The node must be spun by an executor (in another thread) for answers to arrive.
    """

    def __init__(self, node: Node, topic: str, answer_topic: str | None = None, reliable: bool = True):
        qos = QoSProfile(depth=1 if answer_topic else 10,
                         reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT)
        self._pub = node.create_publisher(Image, topic, qos)
        self._frames: dict[int, ReplayedFrame] = {}
        self._cond = threading.Condition()
        if answer_topic:
            node.create_subscription(PoseArray, answer_topic, self._on_answer, 10)

    def _on_answer(self, msg: PoseArray) -> None:
        stamp = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
        with self._cond:
            frame = self._frames.get(stamp)
            if frame is not None and frame.answer is None:
                frame.answer, frame.answered_s = msg, time.monotonic()
                self._cond.notify_all()

    def wait_for_subscriber(self, timeout_s: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while self._pub.get_subscription_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        return self._pub.get_subscription_count() > 0

    def publish(self, image: BagImage) -> ReplayedFrame:
        frame = ReplayedFrame(image.stamp_ns, time.monotonic())
        with self._cond:
            self._frames[image.stamp_ns] = frame
        self._pub.publish(image.cdr)
        return frame

    def wait_answer(self, frame: ReplayedFrame, timeout_s: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: frame.answer is not None, timeout_s)

    def replay(self, images: list[BagImage], rate: float | None = 1.0, wait_answers: bool = False,
               answer_timeout_s: float = 10.0, on_frame=None) -> list[ReplayedFrame]:
        """Publish every image: at the recorded pace scaled by ``rate`` (None = as fast as possible),
        or, with ``wait_answers``, each one after the previous one was answered."""
        frames = []
        start_wall, start_log = time.monotonic(), images[0].log_time_ns if images else 0
        for image in images:
            if rate and not wait_answers:
                delay = (image.log_time_ns - start_log) / 1e9 / rate - (time.monotonic() - start_wall)
                if delay > 0:
                    time.sleep(delay)
            frame = self.publish(image)
            if wait_answers:
                self.wait_answer(frame, answer_timeout_s)
            if on_frame:
                on_frame(frame)
            frames.append(frame)
        return frames


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Publish a bag's image topic into the live ROS graph.")
    parser.add_argument("bag", type=Path)
    parser.add_argument("--topic", default="/camera/image_raw", help="image topic in the bag")
    parser.add_argument("--to", help="topic to publish on (default: same as --topic)")
    parser.add_argument("--rate", type=float, default=1.0, help="speed factor of the recorded pace; 0 = max")
    parser.add_argument("--wait-for", metavar="POSES_TOPIC", help="publish each frame once the previous "
                        "one was answered on this PoseArray topic")
    parser.add_argument("--best-effort", action="store_true", help="publish best-effort (default reliable)")
    args = parser.parse_args(argv)

    images = list(read_images(args.bag, args.topic))
    rclpy.init()
    node = rclpy.create_node("bag_replay")
    replayer = BagReplayer(node, args.to or args.topic, args.wait_for, reliable=not args.best_effort)
    spinner = threading.Thread(target=rclpy.spin, args=(node,), daemon=True)
    spinner.start()
    try:
        if not replayer.wait_for_subscriber():
            print(f"no subscriber on {args.to or args.topic}; publishing anyway", file=sys.stderr)

        def report(frame: ReplayedFrame) -> None:
            if args.wait_for:
                people = "-" if frame.answer is None else len(frame.answer.people)
                latency = "timeout" if frame.latency_s is None else f"{frame.latency_s * 1e3:.0f} ms"
                print(f"stamp {frame.stamp_ns}: {people} people, {latency}")

        frames = replayer.replay(images, rate=args.rate or None, wait_answers=bool(args.wait_for), on_frame=report)
        missing = sum(f.answer is None for f in frames) if args.wait_for else 0
        print(f"replayed {len(frames)} frames" + (f", {missing} unanswered" if args.wait_for else ""))
        return 1 if missing else 0
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    sys.exit(main())
