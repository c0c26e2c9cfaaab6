"""pose_node: a lifecycle node that subscribes to cameras, runs the pose pipeline, publishes PoseArray.

Topics, for each camera of ``image_topics`` (one camera: no sub-namespace; several: ``~/<camera>/...``):
  <image topic>           sensor_msgs/Image, or <topic>/compressed CompressedImage; newest frame only
  ~/poses                 pose_ros/PoseArray      people found, header copied from the image
  ~/debug_image           sensor_msgs/Image       overlay, drawn only while someone subscribes
  ~/debug_image/compressed  sensor_msgs/CompressedImage (with publish_debug_compressed)
  ~/markers               visualization_msgs/MarkerArray  skeletons for RViz
and once per node: ~/skeleton_info (pose_ros/SkeletonInfo, latched), /diagnostics (1 Hz).

Lifecycle: configure = validate parameters, load the model (warmed up), create publishers; activate =
subscribe and start the worker; deactivate = unsubscribe, stop the worker; cleanup = drop publishers and the
model (its ONNX Runtime session and any GPU memory). ``autostart`` (default true) goes to active by itself.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, fields

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.exceptions import ParameterUninitializedException
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.parameter import Parameter
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from pose_ros.core.annotators import draw_poses
from pose_ros.core.auto_mode import AutoMode
from pose_ros.core.depth import StampMatcher, depth_from_image, keypoints_to_3d
from pose_ros.core.smoothing import PoseSmoother, SmootherConfig
from pose_ros.core.tracking import PoseTracker, TrackerConfig
from pose_ros.core.backend import BackendError
from pose_ros.core.config import ConfigError, PoseConfig
from pose_ros.core.imaging import ImageDecodeError
from pose_ros.core.models import ModelError
from pose_ros.core.pipeline import (PoseEstimator, batches_frames, build_estimator, estimate_frames, mode_in_use,
                                    resolve_config)
from pose_ros.msg import PoseArray, SkeletonInfo
from pose_ros.node.conversions import (bgr_to_compressed, bgr_to_image, diagnostic_status, image_to_bgr,
                                       poses_to_markers, poses_to_msg, skeleton_info_msg)
from pose_ros.node.health import CameraHealth, ErrorThrottle
from pose_ros.node.latest_slot import LatestFrames

_RELIABILITY = {"reliable": ReliabilityPolicy.RELIABLE, "best_effort": ReliabilityPolicy.BEST_EFFORT}
_TRANSPORTS = ("raw", "compressed")
# Changing these takes effect on the next frame (thresholds) or after a clean model reload (the rest).
_LIVE = ("person_threshold", "keypoint_threshold", "nms_iou", "max_people")

# name -> (description, extra descriptor fields); PoseConfig fields first, then the node's own.
_PARAMETERS = {
    "mode": "bottom_up (one pass for everyone) | top_down (detector, then keypoints per person); reloads",
    "model": "keypoint model name from the models manifest; reloads",
    "detector": "person detector of top_down mode: blazepose_detector | yolo11n_pose; reloads",
    "detector_tiling": "BlazePose detector also scans overlapping tiles (finds smaller people; slower); reloads",
    "skeleton": "published layout: coco17, or the model's own (blazepose33 for BlazePose); reloads",
    "device": "auto | cpu | cuda | tensorrt; a missing GPU falls back to CPU (logged); reloads",
    "allow_cpu_fallback": "false: a missing GPU fails configure instead of falling back to CPU; reloads",
    "gpu_fp16": "TensorRT: build FP16 engines; reloads",
    "trt_cache_dir": "TensorRT engine cache directory (first build takes minutes); empty = none; reloads",
    "preprocess": "auto (torch ops on a CUDA device when torch is installed) | opencv | torch: where letterbox "
                  "and person crops run; reloads",
    "person_threshold": "minimum person score; live",
    "keypoint_threshold": "keypoints scoring below are published with score 0; live",
    "nms_iou": "IoU above which overlapping person boxes are merged; live",
    "max_people": "most people reported per image; live",
    "threads": "ONNX Runtime threads, 0 = one per core; reloads",
    "model_dir": "models directory; empty = $POSE_ROS_MODEL_DIR or ~/.cache/pose_ros/models; reloads",
    "bottom_up_model": "mode auto: the one-stage model used for crowds; reloads",
    "auto_switch_up": "mode auto: switch to bottom_up above this many people; reloads",
    "auto_switch_down": "mode auto: back to top_down at or below this many people (< auto_switch_up); reloads",
    "auto_patience": "mode auto: frames in a row a crowd size must hold before switching; reloads",
    "image_topics": "input image topics, one per camera (read-only)",
    "tracking": "give people track ids that persist across frames (read-only)",
    "track_match_threshold": "minimum pose similarity (OKS and box IoU) to continue a track (read-only)",
    "track_max_missed": "frames a track survives unseen, e.g. 15 = 0.5 s at 30 Hz (read-only)",
    "track_min_hits": "frames a track must be seen in before its id is published (read-only)",
    "smoothing": "One-Euro filter on each tracked person's keypoints; needs tracking (read-only)",
    "smoothing_min_cutoff": "One-Euro cutoff of a still joint, Hz: lower = smoother, more lag (read-only)",
    "smoothing_beta": "One-Euro cutoff increase per px/s of joint speed: higher = less lag when moving (read-only)",
    "smoothing_d_cutoff": "One-Euro cutoff of the speed estimate, Hz (read-only)",
    "depth_topics": "aligned depth images (16UC1 mm or 32FC1 m), one per camera, for 3D keypoints (read-only)",
    "camera_info_topics": "sensor_msgs/CameraInfo of each depth image (read-only)",
    "depth_tolerance": "max stamp difference, s, between a colour frame and its depth frame (read-only)",
    "depth_window": "side of the depth patch around each keypoint whose median depth is used, px (read-only)",
    "image_transport": "raw (sensor_msgs/Image) | compressed (CompressedImage on <topic>/compressed) (read-only)",
    "image_reliability": "QoS reliability of the image subscriptions: reliable | best_effort (read-only). "
                         "reliable delivers full-size frames across processes",
    "image_qos_depth": "subscription queue depth; the node still processes only the newest frame (read-only)",
    "publish_debug_image": "publish ~/debug_image (drawn only while subscribed)",
    "publish_debug_compressed": "also publish ~/debug_image/compressed (JPEG), when subscribed",
    "publish_markers": "publish ~/markers (RViz skeletons)",
    "diagnostics_period": "seconds between /diagnostics messages (read-only)",
    "autostart": "configure and activate at start, without a lifecycle manager (read-only)",
    "batch_cameras": "frames of several cameras waiting together share one bottom-up model call (read-only)",
}
_NODE_DEFAULTS = {
    "image_topics": ["image"], "image_transport": "raw", "image_reliability": "reliable", "image_qos_depth": 1,
    "publish_debug_image": True, "publish_debug_compressed": False, "publish_markers": True,
    "diagnostics_period": 1.0, "autostart": True, "batch_cameras": True,
    "tracking": True, "track_match_threshold": 0.3, "track_max_missed": 15, "track_min_hits": 1,
    "smoothing": False, "smoothing_min_cutoff": 1.0, "smoothing_beta": 0.05, "smoothing_d_cutoff": 1.0,
    "depth_topics": Parameter.Type.STRING_ARRAY, "camera_info_topics": Parameter.Type.STRING_ARRAY,
    "depth_tolerance": 0.05, "depth_window": 5,
}
_READ_ONLY = ("image_topics", "image_transport", "image_reliability", "image_qos_depth", "diagnostics_period",
              "autostart", "tracking", "track_match_threshold", "track_max_missed", "track_min_hits", "smoothing",
              "smoothing_min_cutoff", "smoothing_beta", "smoothing_d_cutoff", "depth_topics", "camera_info_topics",
              "depth_tolerance", "depth_window", "batch_cameras")
_RANGES = {"person_threshold": (0.0, 1.0), "keypoint_threshold": (0.0, 1.0), "nms_iou": (0.0, 1.0),
           "track_match_threshold": (0.0, 1.0), "depth_tolerance": (0.0, 10.0)}
_INT_RANGES = {"max_people": (1, 1000), "threads": (0, 256), "image_qos_depth": (1, 100), "track_max_missed": (0, 10000),
               "track_min_hits": (1, 1000), "depth_window": (1, 51), "auto_switch_up": (1, 1000),
               "auto_switch_down": (0, 1000), "auto_patience": (1, 1000)}


def _descriptor(name: str) -> ParameterDescriptor:
    descriptor = ParameterDescriptor(description=_PARAMETERS[name], read_only=name in _READ_ONLY)
    if name in _RANGES:
        descriptor.floating_point_range = [FloatingPointRange(from_value=_RANGES[name][0], to_value=_RANGES[name][1])]
    if name in _INT_RANGES:
        descriptor.integer_range = [IntegerRange(from_value=_INT_RANGES[name][0], to_value=_INT_RANGES[name][1],
                                                 step=1)]
    return descriptor


@dataclass
class Camera:
    """One input: its subscription, publishers and health."""

    key: int
    topic: str
    prefix: str  # output namespace under the node: "~/" or "~/<name>/"
    health: CameraHealth
    poses_pub: object = None
    debug_pub: object = None
    debug_compressed_pub: object = None
    markers_pub: object = None
    subscription: object = None
    tracker: PoseTracker | None = None
    smoother: PoseSmoother | None = None
    depth_topic: str = ""  # empty: no 3D
    info_topic: str = ""
    depth_frames: StampMatcher | None = None  # recent depth messages by stamp
    camera_info: object = None  # latest CameraInfo of the depth image
    depth_subscriptions: tuple = ()
    last_stamp: float = float("-inf")
    last_frame_id: str | None = None


class _SkipFrame(Exception):
    """A frame that cannot be published as configured (e.g. no matching depth frame); ``kind`` for counting."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def _stamp_s(header: Header) -> float:
    return header.stamp.sec + header.stamp.nanosec * 1e-9


def camera_prefixes(topics: list[str]) -> list[str]:
    """Output namespace per camera: "~/" for one camera, else "~/<last meaningful topic part>/" (made unique)."""
    if len(topics) == 1:
        return ["~/"]
    prefixes = []
    for i, topic in enumerate(topics):
        parts = [p for p in topic.strip("/").split("/") if p not in ("image_raw", "image", "image_rect", "compressed")]
        name = (parts[-1] if parts else f"camera_{i}").replace("-", "_")
        prefixes.append(f"~/{name if f'~/{name}/' not in prefixes else f'{name}_{i}'}/")
    return prefixes


class PoseNode(LifecycleNode):
    def __init__(self, **kwargs):
        super().__init__("pose_node", **kwargs)
        defaults = PoseConfig()
        for f in fields(PoseConfig):
            self.declare_parameter(f.name, getattr(defaults, f.name), _descriptor(f.name))
        for name, value in _NODE_DEFAULTS.items():
            self.declare_parameter(name, value, _descriptor(name))
        self.add_on_set_parameters_callback(self._on_set_parameters)

        # Each throttle logs through its own lambda: rclpy ties a severity to the calling line, and both
        # throttles would otherwise log from the same line of health.py.
        self._errors = ErrorThrottle(lambda message: self.get_logger().error(message))
        self._warnings = ErrorThrottle(lambda message: self.get_logger().warning(message))  # valid but unusual
        self._estimator: PoseEstimator | None = None
        self._pending_config: PoseConfig | None = None  # a reload the worker does before its next frame
        self._estimator_lock = threading.Lock()
        self._cameras: list[Camera] = []
        self._frames: LatestFrames | None = None
        self._worker: threading.Thread | None = None
        self._info_pub = None
        self._diagnostics_pub = None
        self._diagnostics_timer = None
        if self.get_parameter("autostart").value:
            # One-shot: runs once the executor spins, so the node is fully constructed first.
            self._autostart_timer = self.create_timer(0.0, self._autostart)

    # --- lifecycle ------------------------------------------------------------------------------------
    def _autostart(self) -> None:
        self.destroy_timer(self._autostart_timer)
        if self.trigger_configure() == TransitionCallbackReturn.SUCCESS:
            self.trigger_activate()

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Validate parameters, load and warm up the model, create the publishers."""
        try:
            config = self._config_from_parameters()
            self._check_node_parameters()
            tracking = self._tracking_configs()
            topics = [self.resolve_topic_name(t) for t in self.get_parameter("image_topics").value]
            depth = self._depth_topics(len(topics))
            estimator = build_estimator(config)
        except (ConfigError, ModelError, BackendError, ValueError) as err:
            self.get_logger().error(f"configure failed: {err}")
            return TransitionCallbackReturn.FAILURE
        self._warm_up(estimator)
        self._estimator, self._pending_config = estimator, None
        if self.get_parameter("image_transport").value == "compressed":
            topics = [t + "/compressed" for t in topics]
        self._cameras = self._create_cameras(topics, *tracking, *depth)
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL,
                             reliability=ReliabilityPolicy.RELIABLE)
        self._info_pub = self.create_lifecycle_publisher(SkeletonInfo, "~/skeleton_info", latched)
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._diagnostics_timer = self.create_timer(self.get_parameter("diagnostics_period").value,
                                                    self._publish_diagnostics)
        self.get_logger().info(f"configured: {self._describe(config)}")
        return TransitionCallbackReturn.SUCCESS

    def _create_cameras(self, topics, tracker_config, smoother_config, depth_topics, info_topics) -> list[Camera]:
        """One Camera per input topic: its publishers, tracker, smoother and depth buffer."""
        cameras = []
        for i, (topic, prefix, depth_topic, info_topic) in enumerate(
                zip(topics, camera_prefixes(topics), depth_topics, info_topics)):
            cam = Camera(i, topic, prefix, CameraHealth(topic))
            cam.tracker = PoseTracker(tracker_config) if tracker_config else None
            cam.smoother = PoseSmoother.from_config(smoother_config) if smoother_config else None
            if depth_topic:
                cam.depth_topic = self.resolve_topic_name(depth_topic)
                cam.info_topic = self.resolve_topic_name(info_topic)
                cam.depth_frames = StampMatcher(self.get_parameter("depth_tolerance").value)
            cam.poses_pub = self.create_lifecycle_publisher(PoseArray, prefix + "poses", 10)
            cam.debug_pub = self.create_lifecycle_publisher(Image, prefix + "debug_image", 1)
            cam.debug_compressed_pub = self.create_lifecycle_publisher(CompressedImage,
                                                                       prefix + "debug_image/compressed", 1)
            cam.markers_pub = self.create_lifecycle_publisher(MarkerArray, prefix + "markers", 1)
            cameras.append(cam)
        return cameras

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Subscribe and start the worker (publishers go active with the node)."""
        result = super().on_activate(state)
        self._info_pub.publish(skeleton_info_msg(self._estimator.skeleton, self._estimator.config.model,
                                                 Header(stamp=self.get_clock().now().to_msg())))
        self._frames = LatestFrames()
        self._worker = threading.Thread(target=self._work, args=(self._frames,), name="pose_worker", daemon=True)
        self._worker.start()
        msg_type = CompressedImage if self.get_parameter("image_transport").value == "compressed" else Image
        qos = QoSProfile(depth=self.get_parameter("image_qos_depth").value,
                         reliability=_RELIABILITY[self.get_parameter("image_reliability").value])
        for cam in self._cameras:
            cam.subscription = self.create_subscription(
                msg_type, cam.topic, lambda msg, cam=cam: self._on_image(cam, msg), qos,
                event_callbacks=SubscriptionEventCallbacks(
                    incompatible_qos=lambda event, topic=cam.topic: self._on_incompatible_qos(topic, event)))
        for cam in self._cameras:
            if cam.depth_topic:
                cam.depth_subscriptions = (
                    self.create_subscription(Image, cam.depth_topic,
                                             lambda msg, cam=cam: cam.depth_frames.add(_stamp_s(msg.header), msg),
                                             QoSProfile(depth=5, reliability=qos.reliability)),
                    self.create_subscription(CameraInfo, cam.info_topic,
                                             lambda msg, cam=cam: setattr(cam, "camera_info", msg), 5))
        self.get_logger().info(f"ready: listening on {', '.join(c.subscription.topic_name for c in self._cameras)} "
                               f"({self.get_parameter('image_reliability').value})")
        return result

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Unsubscribe and stop the worker."""
        self._unsubscribe()
        self._stop_worker()
        return super().on_deactivate(state)

    def _unsubscribe(self) -> None:
        for cam in self._cameras:
            for subscription in (cam.subscription, *cam.depth_subscriptions):
                if subscription is not None:
                    self.destroy_subscription(subscription)
            cam.subscription, cam.depth_subscriptions = None, ()

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Drop publishers and the model (its ONNX Runtime session, GPU memory included)."""
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._unsubscribe()
        self._stop_worker()
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def _release(self) -> None:
        for cam in self._cameras:
            for pub in (cam.poses_pub, cam.debug_pub, cam.debug_compressed_pub, cam.markers_pub):
                self.destroy_lifecycle_publisher(pub)
        self._cameras = []
        if self._info_pub is not None:
            self.destroy_lifecycle_publisher(self._info_pub)
            self._info_pub = None
        if self._diagnostics_timer is not None:
            self.destroy_timer(self._diagnostics_timer)
            self.destroy_publisher(self._diagnostics_pub)
            self._diagnostics_timer = self._diagnostics_pub = None
        with self._estimator_lock:
            self._estimator = None  # the last reference to the ORT session: freed here

    def destroy_node(self) -> None:
        self._stop_worker()
        super().destroy_node()

    def _stop_worker(self) -> None:
        if self._frames is not None:
            self._frames.close()
        if self._worker is not None and self._worker is not threading.current_thread():
            self._worker.join(timeout=10.0)
        self._worker = self._frames = None

    # --- parameters -----------------------------------------------------------------------------------
    def _config_from_parameters(self, overrides: dict | None = None) -> PoseConfig:
        values = {f.name: self.get_parameter(f.name).value for f in fields(PoseConfig)}
        values.update(overrides or {})
        return PoseConfig(**values)

    def _tracking_configs(self) -> tuple[TrackerConfig | None, SmootherConfig | None]:
        """Tracker and smoother settings from the parameters (None when off); raises ConfigError."""
        get = lambda name: self.get_parameter(name).value  # noqa: E731
        tracker = TrackerConfig(match_threshold=get("track_match_threshold"), max_missed=get("track_max_missed"),
                                min_hits=get("track_min_hits")) if get("tracking") else None
        if get("smoothing") and tracker is None:
            raise ConfigError("smoothing needs tracking: the filters follow track ids")
        smoother = SmootherConfig(min_cutoff=get("smoothing_min_cutoff"), beta=get("smoothing_beta"),
                                  d_cutoff=get("smoothing_d_cutoff")) if get("smoothing") else None
        return tracker, smoother

    def _depth_topics(self, cameras: int) -> tuple[list[str], list[str]]:
        """Depth and camera-info topic per camera ("" = no depth); raises ConfigError when they do not pair up."""
        depth, info = self._string_list("depth_topics"), self._string_list("camera_info_topics")
        if not depth and not info:
            return [""] * cameras, [""] * cameras
        if len(depth) != cameras or len(info) != cameras:
            raise ConfigError(f"depth_topics ({len(depth)}) and camera_info_topics ({len(info)}) must list one "
                              f"topic per image topic ({cameras})")
        return depth, info

    def _string_list(self, name: str) -> list[str]:
        """A string-array parameter declared without default: [] until someone sets it."""
        try:
            return list(self.get_parameter(name).value or [])
        except ParameterUninitializedException:
            return []

    def _check_node_parameters(self, overrides: dict | None = None) -> None:
        get = lambda name: (overrides or {}).get(name, self.get_parameter(name).value)  # noqa: E731
        if get("image_reliability") not in _RELIABILITY:
            raise ConfigError(f"image_reliability {get('image_reliability')!r} is not valid; valid: "
                              f"{', '.join(_RELIABILITY)}")
        if get("image_transport") not in _TRANSPORTS:
            raise ConfigError(f"image_transport {get('image_transport')!r} is not valid; valid: {', '.join(_TRANSPORTS)}")
        if not list(get("image_topics")) or any(not t for t in get("image_topics")):
            raise ConfigError("image_topics must list at least one non-empty topic")
        if get("diagnostics_period") <= 0:
            raise ConfigError("diagnostics_period must be > 0")

    def _on_set_parameters(self, parameters) -> SetParametersResult:
        """Validate a change as a whole before it is accepted; thresholds apply to the next frame, a model,
        device or mode change reloads the model cleanly (the old one serves until the new one is ready)."""
        changes = {p.name: p.value for p in parameters}
        config_changes = {k: v for k, v in changes.items() if k in PoseConfig.field_names()}
        try:
            self._check_node_parameters(changes)
            config = self._config_from_parameters(config_changes)
            if self._estimator is not None and set(config_changes) - set(_LIVE):
                resolve_config(config)  # the models exist and fit together; nothing is loaded here
        except (ConfigError, ModelError, ValueError, TypeError) as err:
            return SetParametersResult(successful=False, reason=str(err))
        if self._estimator is not None and config_changes:
            with self._estimator_lock:
                if set(config_changes) <= set(_LIVE) and self._pending_config is None:
                    self._estimator = self._estimator.with_config(config)
                else:
                    self._pending_config = config
        return SetParametersResult(successful=True)

    # --- frames ---------------------------------------------------------------------------------------
    def _on_image(self, cam: Camera, msg) -> None:
        cam.health.received()
        frames = self._frames
        if frames is not None:  # a callback already queued when the node deactivated finds no mailbox
            frames.put(cam.key, msg)

    def _on_incompatible_qos(self, topic: str, event) -> None:
        self._errors.report("incompatible_qos", (
            f"a publisher on {topic} has QoS incompatible with this subscription (policy {event.last_policy_kind}); "
            f"for a best-effort camera set image_reliability:=best_effort"))

    def _work(self, frames: LatestFrames) -> None:
        batch_cameras = self.get_parameter("batch_cameras").value
        while not frames.closed:
            newest = frames.take(timeout=0.5)
            if not newest:
                continue
            self._reload_if_pending()
            waiting = []
            for key, msg in newest.items():
                cam = self._cameras[key]
                cam.health.dropped_total = frames.replaced[key]
                waiting.append((cam, msg))
            estimator = self._estimator
            if estimator is None:
                continue
            if batch_cameras and len(waiting) > 1 and batches_frames(estimator):
                self._process_together(estimator, waiting)
            else:
                for cam, msg in waiting:
                    self._process(estimator, cam, msg)

    def _reload_if_pending(self) -> None:
        with self._estimator_lock:
            config = self._pending_config
        if config is None:
            return
        try:
            estimator = build_estimator(config)
            self._warm_up(estimator)
        except Exception as err:  # noqa: BLE001 - keep serving with the old model
            self._errors.report("reload", f"reload failed, keeping the previous model: {err}")
            with self._estimator_lock:
                self._pending_config = None
            return
        with self._estimator_lock:
            if self._pending_config is config:
                self._estimator, self._pending_config = estimator, None
        self.get_logger().info(f"reloaded: {self._describe(config)}")

    def _decode(self, cam: Camera, msg) -> np.ndarray | None:
        try:
            return image_to_bgr(msg)
        except ImageDecodeError as err:
            self._errors.report(f"bad_image_{err.kind}", f"dropped frame on {cam.topic}: {err}")
            cam.health.rejected(str(err))
            return None

    def _failed(self, cam: Camera, msg, err: Exception) -> None:
        if isinstance(err, _SkipFrame):
            self._errors.report(err.kind, f"skipped frame on {cam.topic}: {err}")
            cam.health.rejected(str(err))
            return
        stamp = f"{msg.header.stamp.sec}.{msg.header.stamp.nanosec:09d}"
        self._errors.report("processing", f"frame {stamp} on {cam.topic} failed: {type(err).__name__}: {err}")
        cam.health.rejected(f"{type(err).__name__}: {err}")

    def _process(self, estimator: PoseEstimator, cam: Camera, msg) -> None:
        """One camera's frame: decode, estimate, then track, lift to 3D and publish."""
        t0 = time.perf_counter()
        image = self._decode(cam, msg)
        if image is None:
            return
        t1 = time.perf_counter()
        try:
            poses = estimator(image)
        except Exception as err:  # noqa: BLE001 - one bad frame must never kill the node
            self._failed(cam, msg, err)
            return
        self._finish(estimator, cam, msg, image, poses, {"convert": t1 - t0, **estimator.timings})

    def _process_together(self, estimator: PoseEstimator, waiting: list) -> None:
        """Frames of several cameras that waited together: decoded one by one, estimated in one model call
        (bottom-up), then each camera's own tracking, 3D and publishing. The call's stage times are shared."""
        decoded = []
        for cam, msg in waiting:
            t0 = time.perf_counter()
            image = self._decode(cam, msg)
            if image is not None:
                decoded.append((cam, msg, image, time.perf_counter() - t0))
        if not decoded:
            return
        try:
            all_poses = estimate_frames(estimator, [image for _, _, image, _ in decoded])
        except Exception as err:  # noqa: BLE001 - a failed call skips these frames, never the node
            for cam, msg, _, _ in decoded:
                self._failed(cam, msg, err)
            return
        batched = len(decoded) > 1
        for (cam, msg, image, convert_s), poses in zip(decoded, all_poses):
            self._finish(estimator, cam, msg, image, poses, {"convert": convert_s, **estimator.timings}, batched)

    def _finish(self, estimator: PoseEstimator, cam: Camera, msg, image: np.ndarray, poses, stages: dict,
                batched: bool = False) -> None:
        """Track, smooth, lift to 3D and publish one camera's poses."""
        try:
            t2 = time.perf_counter()
            self._check_continuity(cam, msg.header)
            if cam.tracker is not None:
                poses = cam.tracker.update(poses)
            if cam.smoother is not None:
                poses = cam.smoother.update(poses, _stamp_s(msg.header))
            points_3d, depth_header = self._keypoints_3d(cam, msg.header, image.shape[:2], poses)
            t3 = time.perf_counter()
            cam.poses_pub.publish(poses_to_msg(poses, msg.header, estimator.config.model, image.shape[:2],
                                               mode_in_use(estimator), points_3d, depth_header))
            self._publish_extras(cam, image, poses, msg.header)
            t4 = time.perf_counter()
        except Exception as err:  # noqa: BLE001 - one bad frame must never kill the node
            self._failed(cam, msg, err)
            return
        age = self.get_clock().now().nanoseconds * 1e-9 - _stamp_s(msg.header)
        cam.health.published({**stages, "track_3d": t3 - t2, "publish": t4 - t3}, age, len(poses), batched)

    def _check_continuity(self, cam: Camera, header: Header) -> None:
        """A new frame_id (another camera on the topic) or stamps going backwards (a bag replayed in a loop, a
        clock reset) start tracks and filters afresh instead of chaining unrelated frames."""
        stamp = _stamp_s(header)
        if cam.last_frame_id is not None and header.frame_id != cam.last_frame_id:
            self._warnings.report("frame_id_changed", f"frame_id on {cam.topic} changed from {cam.last_frame_id!r} "
                                                    f"to {header.frame_id!r}: tracks restarted")
            self._reset_tracks(cam)
        elif stamp < cam.last_stamp:
            self._warnings.report("stamp_backwards", f"stamps on {cam.topic} went backwards by "
                                                   f"{cam.last_stamp - stamp:.3f} s (bag loop?): tracks restarted")
            self._reset_tracks(cam)
        cam.last_stamp, cam.last_frame_id = stamp, header.frame_id

    @staticmethod
    def _reset_tracks(cam: Camera) -> None:
        for stage in (cam.tracker, cam.smoother):
            if stage is not None:
                stage.reset()

    def _keypoints_3d(self, cam: Camera, header: Header, image_hw, poses):
        """3D keypoints from the depth frame matching ``header``'s stamp: (points, valid, variance), depth
        header; (None, None) without depth input. Raises _SkipFrame when no usable depth frame matches."""
        if cam.depth_frames is None:
            return None, None
        depth_msg = cam.depth_frames.match(_stamp_s(header))
        if depth_msg is None:
            raise _SkipFrame("no_depth", f"no depth frame on {cam.depth_topic} within "
                                         f"{self.get_parameter('depth_tolerance').value} s of the colour frame")
        if cam.camera_info is None:
            raise _SkipFrame("no_camera_info", f"no CameraInfo received on {cam.info_topic} yet")
        try:
            depth = depth_from_image(depth_msg.data, depth_msg.height, depth_msg.width, depth_msg.step,
                                     depth_msg.encoding, bool(depth_msg.is_bigendian))
        except ValueError as err:
            raise _SkipFrame("bad_depth", str(err)) from None
        if depth.shape != tuple(image_hw):
            raise _SkipFrame("bad_depth", f"depth image {depth.shape[1]}x{depth.shape[0]} is not aligned with the "
                                          f"colour image {image_hw[1]}x{image_hw[0]} (use a registered depth topic)")
        k_matrix = np.asarray(cam.camera_info.k, dtype=np.float64).reshape(3, 3)
        window = self.get_parameter("depth_window").value
        return keypoints_to_3d(poses.keypoints, depth, k_matrix, window=window), depth_msg.header

    def _publish_extras(self, cam: Camera, image: np.ndarray, poses, header: Header) -> None:
        """Overlays and markers, each only when enabled and someone listens."""
        want_raw = self.get_parameter("publish_debug_image").value and cam.debug_pub.get_subscription_count()
        want_jpeg = (self.get_parameter("publish_debug_compressed").value
                     and cam.debug_compressed_pub.get_subscription_count())
        if want_raw or want_jpeg:
            overlay = draw_poses(image, poses)
            if want_raw:
                cam.debug_pub.publish(bgr_to_image(overlay, header))
            if want_jpeg:
                cam.debug_compressed_pub.publish(bgr_to_compressed(overlay, header))
        if self.get_parameter("publish_markers").value and cam.markers_pub.get_subscription_count():
            cam.markers_pub.publish(poses_to_markers(poses, header, image.shape[:2],
                                                     min_score=max(self._estimator.config.keypoint_threshold, 0.3)))

    # --- diagnostics ----------------------------------------------------------------------------------
    def _publish_diagnostics(self) -> None:
        try:
            self._publish_diagnostics_once()
        except Exception as err:  # noqa: BLE001 - raised from a timer callback, it would end the executor's spin
            self._errors.report("diagnostics", f"diagnostics not published: {type(err).__name__}: {err}")

    def _publish_diagnostics_once(self) -> None:
        estimator = self._estimator
        if estimator is None:
            return
        threshold = estimator.config.person_threshold
        array = DiagnosticArray(header=Header(stamp=self.get_clock().now().to_msg()))
        state = "active" if self._frames is not None else "inactive"
        for cam in self._cameras:
            level, message, values = cam.health.summary(threshold)
            if state != "active":
                level, message = 0, f"node {state}: not subscribed"
            values.update({f"errors {kind}": str(n) for kind, n in self._errors.snapshot().items()})
            values.update({f"warnings {kind}": str(n) for kind, n in self._warnings.snapshot().items()})
            values["model"] = f"{estimator.config.model} ({estimator.config.mode})"
            if isinstance(estimator, AutoMode):
                values["mode in use"] = estimator.mode
                if estimator.switches:
                    last = estimator.switches[-1]
                    values["last mode switch"] = f"{last.from_mode} -> {last.to_mode}: {last.reason}"
            array.status.append(diagnostic_status(f"{self.get_name()}: {cam.topic}", estimator.config.model, level,
                                                  message, values))
        self._diagnostics_pub.publish(array)

    # --- helpers --------------------------------------------------------------------------------------
    def _warm_up(self, estimator: PoseEstimator) -> None:
        """One inference on a blank frame, so the first real frame is not slow (lazy allocations)."""
        estimator(np.zeros((480, 640, 3), np.uint8))

    @staticmethod
    def _describe(config: PoseConfig) -> str:
        detector = f" after {config.detector}" if config.mode == "top_down" else ""
        return f"{config.model}{detector} ({config.mode}, {config.skeleton}) on device {config.device}"


def main(args=None) -> None:
    rclpy.init(args=args)
    node = PoseNode()
    # Two threads: subscription callbacks and timers never wait behind a parameter or lifecycle service call.
    executor = MultiThreadedExecutor(num_threads=2)
    executor.add_node(node)
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
