"""Other processes of a robot, for the node tests and the benchmark's viewer section: a debug-image viewer and a
camera driver, each in its own process (its own DDS participant), as RViz and a camera driver are.

    python devtools/bench/dds_peers.py viewer --topic /pose_node/debug_image --seconds S [--delay D] [--best-effort]
    python devtools/bench/dds_peers.py camera --topic /image --size WxH --rate HZ --count N [--best-effort]
        [--head N] [--tail N] [--photo P | --video V]

viewer: subscribes (reliable by default, as RViz's image display), holds each frame ``delay`` s (a slow viewer),
prints {"frames": n}. camera: publishes ``count`` frames of a photo resized to ``size`` (or a video's frames, in
turn, at their own size) at ``rate`` Hz, stamped now (wall clock: latency = arrival - stamp in any process),
between ``head`` and ``tail`` small (320x240) frames at the same rate, which best effort delivers whole (the node
learns the sequence numbers before the first and after the last large frame); prints {"published": n}.
"""
from __future__ import annotations

import argparse
import json
import time

import cv2
import numpy as np
import rclpy
from builtin_interfaces.msg import Time
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import Header


def _qos(best_effort: bool) -> QoSProfile:
    return QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT if best_effort else ReliabilityPolicy.RELIABLE)


def viewer(args) -> dict:
    node = rclpy.create_node("test_viewer")
    frames = [0]

    def hold(msg):
        frames[0] += 1
        time.sleep(args.delay)

    node.create_subscription(Image, args.topic, hold, _qos(args.best_effort))
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        executor.spin_once(timeout_sec=0.05)
    return {"frames": frames[0]}


def camera(args) -> dict:
    node = rclpy.create_node("test_camera")
    pub = node.create_publisher(Image, args.topic, _qos(args.best_effort))
    width, height = map(int, args.size.split("x"))
    photo = cv2.imread(args.photo, cv2.IMREAD_COLOR) if args.photo else np.full((480, 640, 3), 114, np.uint8)
    large = [cv2.resize(photo, (width, height))]
    if args.video:
        capture, large = cv2.VideoCapture(args.video), []
        while len(large) < args.count and (frame := capture.read()[1]) is not None:
            large.append(frame)
        if not large:
            raise SystemExit(f"cannot read frames from {args.video}")
    small = cv2.resize(large[0], (320, 240))
    deadline = time.monotonic() + 10
    while pub.get_subscription_count() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(args.settle)
    start, sent = time.monotonic(), 0
    for i in range(args.head + args.count + args.tail):
        delay = start + i / args.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        image = large[(i - args.head) % len(large)] if args.head <= i < args.head + args.count else small
        ns = time.time_ns()
        pub.publish(Image(header=Header(stamp=Time(sec=ns // 10**9, nanosec=ns % 10**9), frame_id="camera"),
                          height=image.shape[0], width=image.shape[1], encoding="bgr8", step=image.shape[1] * 3,
                          data=image.tobytes()))
        sent += 1
    time.sleep(0.5)
    return {"published": sent}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("role", choices=("viewer", "camera"))
    parser.add_argument("--topic", required=True)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--best-effort", action="store_true")
    parser.add_argument("--size", default="640x480")
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--head", type=int, default=0)
    parser.add_argument("--tail", type=int, default=0)
    parser.add_argument("--settle", type=float, default=0.5, help="s between discovery and the first frame")
    parser.add_argument("--photo", default="")
    parser.add_argument("--video", default="", help="publish this video's frames (its own size) instead")
    args = parser.parse_args()
    rclpy.init()
    try:
        print(json.dumps(viewer(args) if args.role == "viewer" else camera(args)), flush=True)
    finally:
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
