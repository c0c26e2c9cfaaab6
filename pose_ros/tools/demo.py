"""make demo: the node on a sample bag, end to end, then exit.

Starts the installed pose_node in its own process with the shipped parameters file, replays a small
rosbag2 made from the sample photos into it frame by frame, prints the people found and the latency
of each frame (image published -> poses received), and writes the node's debug overlays to a folder.

    python -m pose_ros.tools.demo [--out out/demo] [--model yolo11n_pose] [--device auto]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from sensor_msgs.msg import Image

from pose_ros.core.message_fields import stamp_ns
from pose_ros.tools.bags import read_images, sample_bag
from pose_ros.tools.node_process import REPO, SHARE, NodeProcess
from pose_ros.tools.replay import BagReplayer, ReplayedFrame
from pose_ros.tools.spinner import RosSpinner

TOPIC = "/camera/image_raw"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "out" / "demo")
    parser.add_argument("--model", default="yolo11n_pose", help="selects config/MODEL.yaml")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)

    bag = sample_bag(args.out / "sample_bag", repeats=2)
    images = list(read_images(bag, TOPIC))
    overlays = args.out / "overlays"
    overlays.mkdir(parents=True, exist_ok=True)
    print(f"bag: {bag} ({len(images)} frames)\nstarting pose_node ({args.model}, device {args.device}) ...")
    node_process = NodeProcess(["--params-file", str(SHARE / "config" / f"{args.model}.yaml"),
                                "-p", f"device:={args.device}", "-r", f"image:={TOPIC}"],
                               log_path=args.out / "pose_node.log")
    try:
        with RosSpinner("pose_demo", start=False) as ros:
            return _run(ros, node_process, images, overlays)
    finally:
        node_process.stop()


def _run(ros: RosSpinner, node_process: NodeProcess, images, overlays: Path) -> int:
    node_process.wait_ready()
    debug_images: dict[int, np.ndarray] = {}

    def keep_overlay(msg: Image) -> None:
        debug_images[stamp_ns(msg.header)] = np.frombuffer(msg.data, np.uint8).reshape(msg.height, msg.width, 3)

    ros.node.create_subscription(Image, "/pose_node/debug_image", keep_overlay, 10)
    replayer = BagReplayer(ros.node, TOPIC, answer_topic="/pose_node/poses")
    ros.start()
    replayer.wait_for_subscriber()

    def report(frame: ReplayedFrame) -> None:
        index = len(latencies) + 1
        if frame.answer is None:
            print(f"frame {index:2d} stamp {frame.stamp_ns}: NO ANSWER")
            return
        latencies.append(frame.latency_s)
        scores = ", ".join(f"{p.score:.2f}" for p in frame.answer.people)
        print(f"frame {index:2d} stamp {frame.stamp_ns}: {len(frame.answer.people)} people [{scores}] "
              f"latency {frame.latency_s * 1e3:.0f} ms")

    latencies: list[float] = []
    frames = replayer.replay(images, wait_answers=True, answer_timeout_s=30, on_frame=report)
    time.sleep(0.5)  # the last overlay may trail its poses
    for i, frame in enumerate(frames):
        if frame.stamp_ns in debug_images:
            cv2.imwrite(str(overlays / f"frame_{i:03d}.jpg"), debug_images[frame.stamp_ns])
    answered = sum(f.answer is not None for f in frames)
    print(f"\n{answered}/{len(frames)} frames answered; latency median "
          f"{np.median(latencies) * 1e3:.0f} ms, max {np.max(latencies) * 1e3:.0f} ms (CPU: see README)")
    print(f"overlays: {overlays} ({len(list(overlays.glob('*.jpg')))} images); node log: {node_process.log_path}")
    return 0 if answered == len(frames) else 1

if __name__ == "__main__":
    sys.exit(main())
