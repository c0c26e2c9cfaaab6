"""pose_node: subscribes to camera images, runs the pose pipeline, publishes PoseArray.

Topics (relative names, remap as usual):
  image               sensor_msgs/Image       input; only the newest frame is processed
  ~/poses             pose_ros/PoseArray      people found, header copied from the image
  ~/skeleton_info     pose_ros/SkeletonInfo   keypoint names and edges (latched)
  ~/debug_image       sensor_msgs/Image       overlay, drawn only while someone subscribes
"""
from __future__ import annotations

import sys
import threading
from dataclasses import fields

import rclpy
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from pose_ros.core.annotators import draw_poses
from pose_ros.core.config import ConfigError, PoseConfig
from pose_ros.core.imaging import ImageDecodeError
from pose_ros.core.models import ModelError
from pose_ros.core.pipeline import build_estimator
from pose_ros.msg import PoseArray, SkeletonInfo
from pose_ros.node.conversions import bgr_to_image, image_to_bgr, poses_to_msg, skeleton_info_msg
from pose_ros.node.health import ErrorThrottle
from pose_ros.node.latest_slot import LatestSlot

_DESCRIPTIONS = {
    "mode": "bottom_up (one pass for everyone) | top_down (detector, then keypoints per person)",
    "model": "keypoint model name from the models manifest",
    "detector": "person detector of top_down mode: blazepose_detector | yolo11n_pose",
    "detector_tiling": "BlazePose detector also scans overlapping tiles (finds smaller people; slower)",
    "skeleton": "published layout: coco17, or the model's own (blazepose33 for BlazePose)",
    "device": "auto | cpu | cuda | tensorrt; a missing GPU falls back to CPU (logged)",
    "person_threshold": "minimum person score",
    "keypoint_threshold": "keypoints scoring below are published with score 0",
    "nms_iou": "IoU above which overlapping person boxes are merged",
    "max_people": "most people reported per image",
    "threads": "ONNX Runtime threads, 0 = one per core",
    "model_dir": "models directory; empty = $POSE_ROS_MODEL_DIR or ~/.cache/pose_ros/models",
}
_RELIABILITY = {"reliable": ReliabilityPolicy.RELIABLE, "best_effort": ReliabilityPolicy.BEST_EFFORT}


def _descriptor(name: str, default) -> ParameterDescriptor:
    descriptor = ParameterDescriptor(description=_DESCRIPTIONS.get(name, ""))
    if isinstance(default, float):
        descriptor.floating_point_range = [FloatingPointRange(from_value=0.0, to_value=1.0)]
    elif isinstance(default, int) and name == "max_people":
        descriptor.integer_range = [IntegerRange(from_value=1, to_value=1000)]
    return descriptor


class PoseNode(Node):
    def __init__(self, **kwargs):
        super().__init__("pose_node", **kwargs)
        defaults = PoseConfig()
        for f in fields(PoseConfig):
            self.declare_parameter(f.name, getattr(defaults, f.name), _descriptor(f.name, getattr(defaults, f.name)))
        self.declare_parameter("image_reliability", "reliable", ParameterDescriptor(
            description="QoS reliability of the image subscription: reliable | best_effort. reliable "
                        "delivers full-size frames across processes; best_effort is needed only for "
                        "best-effort publishers"))
        self.declare_parameter("publish_debug_image", True, ParameterDescriptor(
            description="publish ~/debug_image (drawn only while subscribed)"))

        self.config = PoseConfig(**{f.name: self.get_parameter(f.name).value for f in fields(PoseConfig)})
        reliability = self.get_parameter("image_reliability").value
        if reliability not in _RELIABILITY:
            raise ConfigError(f"image_reliability {reliability!r} is not valid; valid: {', '.join(_RELIABILITY)}")
        self.estimator = build_estimator(self.config)

        self._errors = ErrorThrottle(self.get_logger().error)
        self._poses_pub = self.create_publisher(PoseArray, "~/poses", 10)
        self._debug_pub = self.create_publisher(Image, "~/debug_image", 1)
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL,
                             reliability=ReliabilityPolicy.RELIABLE)
        self._info_pub = self.create_publisher(SkeletonInfo, "~/skeleton_info", latched)
        self._info_pub.publish(skeleton_info_msg(self.estimator.skeleton, self.config.model,
                                                 Header(stamp=self.get_clock().now().to_msg())))

        # Depth 1: the middleware itself keeps only the newest frame; the slot does the same between
        # the callback and the worker, so the model never processes a stale queue.
        image_qos = QoSProfile(depth=1, reliability=_RELIABILITY[reliability])
        self._slot: LatestSlot[Image] = LatestSlot()
        self._image_sub = self.create_subscription(
            Image, "image", self._slot.put, image_qos,
            event_callbacks=SubscriptionEventCallbacks(incompatible_qos=self._on_incompatible_qos))
        self._worker = threading.Thread(target=self._work, name="pose_worker", daemon=True)
        self._worker.start()
        self.get_logger().info(
            f"ready: model {self.config.model} ({self.config.mode}) on "
            f"{', '.join(getattr(self.estimator.backend, 'providers', ()))}; listening on "
            f"{self._image_sub.topic_name} ({reliability})")

    def _on_incompatible_qos(self, event) -> None:
        self._errors.report("incompatible_qos", (
            f"a publisher on {self._image_sub.topic_name} has QoS incompatible with this subscription "
            f"(policy {event.last_policy_kind}); for a best-effort camera set image_reliability:=best_effort"))

    def _work(self) -> None:
        while not self._slot.closed:
            msg = self._slot.take(timeout=0.5)
            if msg is not None:
                self._process(msg)

    def _process(self, msg: Image) -> None:
        try:
            image = image_to_bgr(msg)
        except ImageDecodeError as err:
            self._errors.report(f"bad_image_{err.kind}", f"dropped frame on {self._image_sub.topic_name}: {err}")
            return
        try:
            poses = self.estimator(image)
            self._poses_pub.publish(poses_to_msg(poses, msg.header, self.config.model, image.shape[:2]))
            if self.get_parameter("publish_debug_image").value and self._debug_pub.get_subscription_count():
                self._debug_pub.publish(bgr_to_image(draw_poses(image, poses), msg.header))
        except Exception as err:  # noqa: BLE001 - one bad frame must never kill the node
            self._errors.report("processing", f"frame {msg.header.stamp.sec}.{msg.header.stamp.nanosec:09d} "
                                              f"failed: {type(err).__name__}: {err}")

    def destroy_node(self) -> None:
        self._slot.close()
        if self._worker.is_alive() and self._worker is not threading.current_thread():
            self._worker.join(timeout=5.0)
        super().destroy_node()


def main(args=None) -> None:
    rclpy.init(args=args)
    node = None
    try:
        node = PoseNode()
        rclpy.spin(node)
    except (ConfigError, ModelError) as err:
        # Configuration problems end the process with the reason, not a traceback.
        rclpy.logging.get_logger("pose_node").fatal(str(err))
        sys.exit(2)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
