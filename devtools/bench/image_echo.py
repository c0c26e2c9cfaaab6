#!/usr/bin/env python3
"""Transport probe for the benchmark: an rclpy node in its own process that answers every image with its
header only, no model. publish -> answer time = the DDS/rclpy cost of one image round trip (the image one way,
a tiny message back), which the pose node pays on top of its pipeline.

    python devtools/bench/image_echo.py [--image /bench/echo/image] [--answer /bench/echo/header]
                                        [--best-effort-image /bench/echo/image_be]

Same QoS as pose_node's image subscription (reliable, depth 1); with --best-effort-image also a best-effort
(depth 1) subscription, answered on the same topic. Prints "ready" once subscribed.
"""
from __future__ import annotations

import argparse
import sys

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import Header


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", default="/bench/echo/image")
    parser.add_argument("--answer", default="/bench/echo/header")
    parser.add_argument("--best-effort-image", help="also answer the images of this best-effort topic")
    args = parser.parse_args(argv)
    rclpy.init()
    node = rclpy.create_node("bench_image_echo")
    publisher = node.create_publisher(Header, args.answer, 100)
    node.create_subscription(Image, args.image, lambda msg: publisher.publish(msg.header),
                             QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
    if args.best_effort_image:
        node.create_subscription(Image, args.best_effort_image, lambda msg: publisher.publish(msg.header),
                                 QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))
    print("ready", flush=True)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
