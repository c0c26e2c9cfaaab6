#!/usr/bin/env python3
"""Camera side of the benchmark's transport section: an rclpy process that publishes a photo resized to each size
to devtools/bench/image_echo.py (another process) and times the echo's header answers. Run in its own process
so that it loads its own Fast DDS profile (FASTRTPS_/FASTDDS_DEFAULT_PROFILES_FILE) or none, as a camera driver
would.

    python devtools/bench/image_camera.py --photo P --sizes 640x480,1280x720 --image /t --best-effort-image /t_be \
        --answer /a [--warmup 1] [--runs 5] [--rate 30] [--seconds 2]

Reliable (depth 1, as pose_node subscribes): one frame at a time, the next once the answer came (or after
--timeout s), sizes interleaved round by round. Best effort (depth 1): --rate Hz for --seconds per size, then a
second for late answers. Latency = answer received - published (time.monotonic()). Prints one JSON line:
{"reliable": {size: [s or null, ...]}, "best_effort": {size: {"published", "delivered", "latency_s", "rate_hz"}}}.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time

import cv2
import numpy as np
import rclpy
from builtin_interfaces.msg import Time
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import Header


def image_msg(image: np.ndarray) -> Image:
    height, width = image.shape[:2]
    return Image(height=height, width=width, encoding="bgr8", step=width * 3, data=image.tobytes())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photo", required=True)
    parser.add_argument("--sizes", required=True, help="comma-separated WxH")
    parser.add_argument("--image", required=True, help="reliable image topic")
    parser.add_argument("--best-effort-image", required=True, help="best-effort image topic")
    parser.add_argument("--answer", required=True)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    photo = cv2.imread(args.photo, cv2.IMREAD_COLOR)
    if photo is None:
        parser.error(f"cannot read {args.photo}")
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    msgs = {s: image_msg(cv2.resize(photo, tuple(int(v) for v in s.split("x")), interpolation=cv2.INTER_AREA))
            for s in sizes}

    rclpy.init()
    node = rclpy.create_node("bench_image_camera")
    reliable = node.create_publisher(Image, args.image, QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
    best_effort = node.create_publisher(Image, args.best_effort_image,
                                        QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))
    cond, arrivals = threading.Condition(), {}

    def on_answer(msg: Header) -> None:
        now = time.monotonic()
        with cond:
            arrivals[msg.stamp.sec * 10**9 + msg.stamp.nanosec] = now
            cond.notify_all()

    answers = node.create_subscription(Header, args.answer, on_answer, 100)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    spinner = threading.Thread(target=executor.spin, daemon=True)
    spinner.start()
    stamp = [time.time_ns()]

    def publish(pub, msg) -> tuple[int, float]:
        stamp[0] += 1000
        msg.header.stamp = Time(sec=stamp[0] // 10**9, nanosec=stamp[0] % 10**9)
        sent = time.monotonic()
        pub.publish(msg)
        return stamp[0], sent

    try:
        deadline = time.monotonic() + 30
        while (reliable.get_subscription_count() == 0 or best_effort.get_subscription_count() == 0
               or answers.get_publisher_count() == 0):
            if time.monotonic() > deadline:
                raise RuntimeError("the echo did not match within 30 s")
            time.sleep(0.05)
        result = {"reliable": {s: [] for s in sizes}, "best_effort": {}}
        for round_ in range(args.warmup + args.runs):
            for size in sizes:
                key, sent = publish(reliable, msgs[size])
                with cond:
                    cond.wait_for(lambda: key in arrivals, args.timeout)
                    arrived = arrivals.pop(key, None)
                if round_ >= args.warmup:
                    result["reliable"][size].append(None if arrived is None else arrived - sent)
        period = 1.0 / args.rate
        for size in sizes:
            sent_at, start = {}, time.monotonic()
            next_tick = start
            while time.monotonic() - start < args.seconds:
                key, sent = publish(best_effort, msgs[size])
                sent_at[key] = sent
                next_tick += period
                time.sleep(max(0.0, next_tick - time.monotonic()))
            elapsed = time.monotonic() - start
            time.sleep(1.0)
            with cond:
                got = {k: arrivals.pop(k) for k in list(arrivals) if k in sent_at}
            result["best_effort"][size] = {"published": len(sent_at), "delivered": len(got),
                                           "latency_s": [got[k] - sent_at[k] for k in sorted(got)],
                                           "rate_hz": len(sent_at) / elapsed}
        print(json.dumps(result), flush=True)
    finally:
        executor.shutdown(timeout_sec=2.0)
        spinner.join(timeout=5.0)
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
