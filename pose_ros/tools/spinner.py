"""One rclpy set-up for the tools, the tests and the developer probes: a private Context, a node in it and a
SingleThreadedExecutor spinning on its own thread, taken down in the one order that does not abort the process.

    with RosSpinner("bag_replay") as ros:
        ros.node.create_publisher(...)

Single-threaded on purpose: rclpy's MultiThreadedExecutor re-yields a ready callback in a loop that holds the GIL
until a pool thread takes it (DEVELOPERS.md, "Executors and counters"). A private Context keeps the caller's own
rclpy (a test's, a node's in the same process) untouched.
"""
from __future__ import annotations

import threading

import rclpy
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor


class RosSpinner:
    """A private Context, ``node`` (named ``node_name``) and an executor thread; ``start=False`` leaves spinning
    to :meth:`start` (after the caller made its publishers, say). :meth:`close` (or the ``with`` block's end)
    stops the thread before the nodes and the Context go: an executor still inside rclpy then dies with
    InvalidHandle, or the process aborts at exit ("terminate called without an active exception")."""

    def __init__(self, node_name: str, start: bool = True, stop_timeout_s: float = 10.0):
        self.context = Context()
        rclpy.init(args=[], context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.node = rclpy.create_node(node_name, context=self.context)
        self.nodes = [self.node]
        self.executor.add_node(self.node)
        self._thread = threading.Thread(target=self.executor.spin, daemon=True)
        self._stop_timeout_s = stop_timeout_s
        if start:
            self.start()

    def start(self) -> None:
        if not self._thread.is_alive():
            self._thread.start()

    def add_node(self, node):
        """Spin another node of this Context too (destroyed on close)."""
        self.nodes.append(node)
        self.executor.add_node(node)
        return node

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=self._stop_timeout_s)
        if self._thread.is_alive():
            self._thread.join(timeout=self._stop_timeout_s)
        for node in self.nodes:
            node.destroy_node()
        rclpy.try_shutdown(context=self.context)

    def __enter__(self) -> "RosSpinner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
