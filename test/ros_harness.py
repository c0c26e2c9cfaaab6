"""Real rclpy over DDS for tests: a private Context per test, nodes spun by an executor thread."""
from __future__ import annotations

import threading
import time

import numpy as np
import rclpy
from rclpy.context import Context
from rclpy.executors import MultiThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from builtin_interfaces.msg import Time


def image_msg(image: np.ndarray, stamp_ns: int, frame_id: str = "camera") -> Image:
    height, width = image.shape[:2]
    header = Header(stamp=Time(sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9), frame_id=frame_id)
    return Image(header=header, height=height, width=width, encoding="bgr8", step=width * 3,
                 data=np.ascontiguousarray(image).tobytes())


def stamp_ns(header: Header) -> int:
    return header.stamp.sec * 10**9 + header.stamp.nanosec


class Collector:
    """Subscription callback that keeps every message and lets a test wait for a condition."""

    def __init__(self):
        self.messages = []
        self._cond = threading.Condition()

    def __call__(self, msg) -> None:
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()

    def wait_for(self, predicate, timeout: float = 20.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.messages), timeout)


class RosHarness:
    """Owns a private rclpy Context, a probe node for the test side, and an executor thread."""

    def __init__(self):
        self.context = Context()
        rclpy.init(context=self.context)
        self.executor = MultiThreadedExecutor(num_threads=2, context=self.context)
        self.probe = rclpy.create_node("probe", context=self.context)
        self.executor.add_node(self.probe)
        self._thread = threading.Thread(target=self.executor.spin, daemon=True)
        self._thread.start()
        self._nodes = [self.probe]

    def add_node(self, node):
        self._nodes.append(node)
        self.executor.add_node(node)
        return node

    def pose_node(self, **params):
        from pose_ros.node.pose_node import PoseNode

        overrides = [Parameter(name, value=value) for name, value in params.items()]
        return self.add_node(PoseNode(context=self.context, parameter_overrides=overrides))

    def wait_for_subscribers(self, publisher, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while publisher.get_subscription_count() == 0:
            assert time.monotonic() < deadline, f"nobody subscribed to {publisher.topic_name}"
            time.sleep(0.05)

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=2.0)
        for node in self._nodes:
            node.destroy_node()
        rclpy.try_shutdown(context=self.context)
        self._thread.join(timeout=5.0)
