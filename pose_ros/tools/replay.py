"""Replay a bag's image topic into the live ROS graph (``ros2 bag play`` is not always at hand).

    python -m pose_ros.tools.replay BAG [--topic /camera/image_raw] [--to /image] [--rate 1.0]
    python -m pose_ros.tools.replay BAG --wait-for /pose_node/poses   # next frame once answered

The bag's bytes are published unchanged (stamps included), sensor_msgs/Image or CompressedImage as recorded.
Every frame is published: the tool waits for the subscriber to be matched before the first one and for every
reliable subscriber to acknowledge the last one before it exits. With ``--wait-for``, it waits until the node that
answers on that PoseArray topic is itself subscribed to the image topic (another subscriber does not count),
then publishes each frame once the previous one was answered with its stamp (or timed out), so a test can check
that every frame is answered however slow the model is.

Exit codes: 0 every frame published (and, with --wait-for, answered); 1 some frames unanswered, or no subscriber;
2 bad arguments (bag unreadable, topic missing or not an image topic).
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from rclpy.duration import Duration
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Image

from pose_ros.core.message_fields import stamp_ns
from pose_ros.msg import PoseArray
from pose_ros.tools.bags import COMPRESSED_TYPE, BagError, BagImage, read_images
from pose_ros.tools.spinner import RosSpinner

_SETTLE_S = 0.5  # after matching: the subscriber's side of the match completes a moment after the publisher's


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

    def __init__(self, node: Node, topic: str, answer_topic: str | None = None, reliable: bool = True,
                 compressed: bool = False):
        qos = QoSProfile(depth=1 if answer_topic else 10,
                         reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT)
        self._node = node
        self.topic, self.answer_topic = topic, answer_topic
        self._pub = node.create_publisher(CompressedImage if compressed else Image, topic, qos)
        self._frames: dict[int, ReplayedFrame] = {}
        self._cond = threading.Condition()
        if answer_topic:
            node.create_subscription(PoseArray, answer_topic, self._on_answer, 10)

    def _on_answer(self, msg: PoseArray) -> None:
        stamp = stamp_ns(msg.header)
        with self._cond:
            frame = self._frames.get(stamp)
            if frame is not None and frame.answer is None:
                frame.answer, frame.answered_s = msg, time.monotonic()
                self._cond.notify_all()

    def _answering_node_subscribed(self) -> bool:
        """The node publishing on the answer topic also subscribes to the image topic, and that subscription is
        matched to this publisher (then its answers belong to these frames)."""
        answering = {(p.node_name, p.node_namespace) for p in self._node.get_publishers_info_by_topic(self.answer_topic)}
        listening = {(s.node_name, s.node_namespace) for s in self._node.get_subscriptions_info_by_topic(self.topic)}
        return bool(answering & listening) and self._pub.get_subscription_count() > 0

    def wait_for_subscriber(self, timeout_s: float = 10.0, subscribers: int = 1) -> bool:
        """Wait for ``subscribers`` matched subscriptions (with an answer topic: also the answering node's own),
        then let the match settle on the subscriber's side, so the first frame is not lost."""
        def ready() -> bool:
            enough = self._pub.get_subscription_count() >= subscribers
            return enough and (self._answering_node_subscribed() if self.answer_topic else True)
        deadline = time.monotonic() + timeout_s
        while not ready() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not ready():
            return False
        time.sleep(_SETTLE_S)
        return True

    def publish(self, image: BagImage) -> ReplayedFrame:
        frame = ReplayedFrame(image.stamp_ns, time.monotonic())
        with self._cond:
            self._frames[image.stamp_ns] = frame
        self._pub.publish(image.cdr)
        return frame

    def wait_answer(self, frame: ReplayedFrame, timeout_s: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: frame.answer is not None, timeout_s)

    def wait_delivered(self, timeout_s: float = 10.0) -> bool:
        """Every reliable subscriber acknowledged every frame (so exiting now loses none)."""
        return self._pub.wait_for_all_acked(Duration(seconds=timeout_s))

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
    parser.add_argument("--topic", default="/camera/image_raw", help="image topic in the bag (Image or CompressedImage)")
    parser.add_argument("--to", help="topic to publish on (default: same as --topic)")
    parser.add_argument("--rate", type=float, default=1.0, help="speed factor of the recorded pace; 0 = max")
    parser.add_argument("--wait-for", metavar="POSES_TOPIC", help="publish each frame once the previous "
                        "one was answered on this PoseArray topic")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each answer")
    parser.add_argument("--subscribers", type=int, default=1, metavar="N",
                        help="start once N subscriptions are matched (the node, RViz, a recorder...): without "
                             "--wait-for, frames published before a subscriber is discovered never reach it")
    parser.add_argument("--best-effort", action="store_true", help="publish best-effort (default reliable)")
    args = parser.parse_args(argv)
    try:
        images = list(read_images(args.bag, args.topic))
    except BagError as err:
        print(f"replay: {err}", file=sys.stderr)
        return 2
    if args.rate < 0:
        print("replay: --rate must be >= 0", file=sys.stderr)
        return 2

    topic = args.to or args.topic
    with RosSpinner("bag_replay", start=False, stop_timeout_s=5.0) as ros:
        replayer = BagReplayer(ros.node, topic, args.wait_for, reliable=not args.best_effort,
                               compressed=bool(images) and images[0].msgtype == COMPRESSED_TYPE)
        ros.start()
        if not replayer.wait_for_subscriber(subscribers=args.subscribers):
            who = f"the node answering on {args.wait_for}" if args.wait_for else f"{args.subscribers} subscriber(s)"
            print(f"replay: no {who} on {topic} after 10 s; publishing anyway", file=sys.stderr)

        def report(frame: ReplayedFrame) -> None:
            if args.wait_for:
                people = "-" if frame.answer is None else len(frame.answer.people)
                latency = "timeout" if frame.latency_s is None else f"{frame.latency_s * 1e3:.0f} ms"
                print(f"stamp {frame.stamp_ns}: {people} people, {latency}", flush=True)

        frames = replayer.replay(images, rate=args.rate or None, wait_answers=bool(args.wait_for),
                                 answer_timeout_s=args.timeout, on_frame=report)
        delivered = args.best_effort or replayer.wait_delivered()
        missing = sum(f.answer is None for f in frames) if args.wait_for else 0
        print(f"replayed {len(frames)} frames" + (f", {missing} unanswered" if args.wait_for else "")
              + ("" if delivered else "; not every subscriber acknowledged them"))
        return 1 if missing or not delivered else 0


if __name__ == "__main__":
    sys.exit(main())
