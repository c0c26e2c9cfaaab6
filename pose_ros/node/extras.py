"""The debug overlays and markers, kept from ever delaying the poses.

Two separations, each measured (vtest.avi as a 10 Hz camera, posenet, a planner on ~/poses and a viewer on
~/debug_image, each its own process; DEVELOPERS.md "Debug outputs"):

* Their own DDS participant (DebugParticipant: a private rclpy Context and node ``<node>_debug``). Published by
  the node's own participant, a 1.3 MB overlay made the planner receive ~/poses in bursts: answers computed on
  time arrived together after stalls of up to 1 s (p99 121 -> 941 ms with a viewer attached, 79 answers less than
  5 ms apart in 30 s), even with a best-effort viewer and with the overlays drawn off the worker. With the overlays
  on a participant of their own, the poses' p99 with a viewer stays as without one.
* Their own thread (ExtrasWorker): the pose worker publishes each frame's PoseArray, hands the image and result
  over and takes the next frame; drawing and serialising a 1-6 MB image never holds it up. The hand-over is a
  newest-item mailbox per camera (latest_slot.LatestFrames): when a viewer or the drawing is slower than the camera,
  older overlays are skipped (counted), never queued.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Hashable

import rclpy
from rclpy.context import Context

from pose_ros.node.latest_slot import LatestFrames


class DebugParticipant:
    """A node of its own DDS participant for the debug outputs: ``<node name>_debug`` in the node's namespace,
    in a private rclpy Context on the node's domain. Its publishers take the pose node's resolved topic names
    (``~/debug_image`` -> ``/pose_node/debug_image``, remappings included), so subscribers see the usual topics.
    Nothing subscribes here, so the node is never spun."""

    def __init__(self, node):
        self.context = Context()
        # args=[]: the pose node's --ros-args (its name, remappings, parameters) are not this node's.
        rclpy.init(args=[], context=self.context, domain_id=node.context.get_domain_id())
        self.node = rclpy.create_node(f"{node.get_name()}_debug", namespace=node.get_namespace(),
                                      context=self.context, start_parameter_services=False,
                                      enable_rosout=False)

    def close(self) -> None:
        self.node.destroy_node()
        self.context.try_shutdown()


class ExtrasWorker:
    """A thread that publishes each camera's newest handed-over frame with ``publish(key, item)``."""

    def __init__(self, publish: Callable[[Hashable, tuple], None], on_error: Callable[[Hashable, Exception], None]):
        self._publish = publish
        self._on_error = on_error
        self._items: LatestFrames[tuple] = LatestFrames()
        self._thread = threading.Thread(target=self._run, name="pose_extras", daemon=True)
        self._thread.start()

    @property
    def skipped(self):
        """Frames whose overlays were replaced by a newer frame's before they were drawn, per camera key."""
        return self._items.replaced

    def put(self, key: Hashable, item: tuple) -> None:
        self._items.put(key, item)

    def _run(self) -> None:
        while not self._items.closed:
            for key, item in self._items.take(timeout=0.5).items():
                try:
                    self._publish(key, item)
                except Exception as err:  # noqa: BLE001 - an overlay must never end the thread
                    self._on_error(key, err)

    def stop(self, timeout: float = 5.0) -> None:
        self._items.close()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)
