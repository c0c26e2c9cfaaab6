"""The core logs with Python's logging (it runs without ROS too); in the node those records go to the node's
ROS logger, so they reach the console and /rosout like the node's own (a GPU fallback notice, say)."""
from __future__ import annotations

import logging


class RosLogHandler(logging.Handler):
    """Forwards records of the ``pose_ros`` loggers to an rclpy logger."""

    def __init__(self, ros_logger):
        super().__init__(level=logging.INFO)
        self._ros_logger = ros_logger

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = f"[{record.name}] {record.getMessage()}"
            if record.levelno >= logging.ERROR:
                self._ros_logger.error(message)
            elif record.levelno >= logging.WARNING:
                self._ros_logger.warning(message)
            else:
                self._ros_logger.info(message)
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)


def attach(ros_logger) -> RosLogHandler:
    """Route the core's records to ``ros_logger`` until :func:`detach`."""
    handler = RosLogHandler(ros_logger)
    core = logging.getLogger("pose_ros")
    core.addHandler(handler)
    core.setLevel(logging.INFO)
    core.propagate = False  # the ROS logger prints them; stderr would say them twice
    return handler


def detach(handler: RosLogHandler) -> None:
    core = logging.getLogger("pose_ros")
    core.removeHandler(handler)
    core.propagate = not core.handlers
