"""Shared fixtures. Tests use the real models (installed by the models step) and real photos."""
from __future__ import annotations

import os
import random
from pathlib import Path

import cv2
import pytest

# Keep test traffic off any other ROS graph on the machine (and other test runs off ours): a private
# domain, discovery limited to this host. Set before rclpy is imported anywhere.
os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(1, 100)))
os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def photos() -> dict[str, Path]:
    from pose_ros.tools.sample_data import ensure_photos

    return ensure_photos()


@pytest.fixture(scope="session")
def bus_image(photos):
    return cv2.imread(str(photos["bus.jpg"]), cv2.IMREAD_COLOR)


@pytest.fixture(scope="session")
def yolo_estimator():
    """The real YOLO-pose model with ultralytics' default thresholds and raw keypoint scores."""
    from pose_ros.core.config import PoseConfig
    from pose_ros.core.pipeline import build_estimator

    return build_estimator(PoseConfig(model="yolo11n_pose", device="cpu", person_threshold=0.25,
                                      keypoint_threshold=0.0, nms_iou=0.7, max_people=300))
