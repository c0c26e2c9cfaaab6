"""One camera of the node: its subscriptions (image, optional depth and CameraInfo), publishers and stream, and the
output names that tell cameras apart. The QoS of the image subscription follows its publishers (``auto``)."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
try:
    from rclpy.event_handler import SubscriptionEventCallbacks  # rclpy >= Iron (Jazzy 7.x, Kilted 9.x)
except ImportError:  # Humble (rclpy 3.x) has it only under its old name; the one import differs, the code does not
    from rclpy.qos_event import SubscriptionEventCallbacks
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.subscription import Subscription
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from visualization_msgs.msg import MarkerArray

from pose_ros.core.annotators import draw_poses
from pose_ros.core.imaging import at_size
from pose_ros.core.stream import PoseStream, SkipFrame
from pose_ros.core.stream.depth import DepthImage, depth_from_image
from pose_ros.msg import PoseArray
from pose_ros.node.conversions import bgr_to_compressed, bgr_to_image, diagnostic_status, poses_to_markers
from pose_ros.node.health import CameraHealth

# The last parts of an image topic that say nothing about which camera it is.
_GENERIC_PARTS = {"image_raw", "image", "image_rect", "image_rect_color", "image_color", "image_mono", "compressed"}
# rclpy >= Iron hands a callback that takes two arguments the message info too (Humble: the message only).
_MESSAGE_INFO = hasattr(Subscription, "CallbackType")
_RELIABILITY = {"reliable": ReliabilityPolicy.RELIABLE, "best_effort": ReliabilityPolicy.BEST_EFFORT}


def output_namespaces(topics: list[str], names: tuple[str, ...] = ()) -> list[str]:
    """Output namespace per camera: "~/" for one camera; for several, "~/<name>/" with the names given, else
    each topic's path without its generic last parts (/front/color/image_raw -> ~/front/color/), which tells
    the cameras apart as their topics do; where that leaves two cameras the same (or nothing), the whole topic
    path is used (/cam/left/image and /cam/left/image_rect -> ~/cam/left/image/, ~/cam/left/image_rect/)."""
    if names:
        return [f"~/{name.strip('/')}/" for name in names]
    if len(topics) == 1:
        return ["~/"]

    def parts(topic: str) -> list[str]:
        return [p.replace("-", "_") for p in topic.strip("/").split("/") if p]

    short = []
    for topic in topics:
        path = parts(topic)
        while path and path[-1] in _GENERIC_PARTS:
            path.pop()
        short.append("/".join(path))
    return [f"~/{path}/" if path and short.count(path) == 1 else f"~/{'/'.join(parts(topic))}/"
            for topic, path in zip(topics, short)]


class Camera:
    """One input topic of the node. Publishers exist from configure to cleanup, subscriptions from activate to
    deactivate; the stream (tracks, mode auto, depth buffer) lives as long as the camera."""

    def __init__(self, node, key: int, topic: str, namespace: str, stream: PoseStream, msg_type: type,
                 reliability: str, qos_depth: int, depth_topic: str = "", info_topic: str = "", debug_node=None):
        self.node, self.key, self.topic, self.namespace = node, key, topic, namespace
        # The overlays and markers go out through their own participant (extras.DebugParticipant) under the pose
        # node's topic names; without one (tools, tests of the camera alone), through the node itself.
        self.debug_node = debug_node or node
        self.stream = stream
        self.msg_type = msg_type
        self.reliability_setting = reliability
        self.qos_depth = qos_depth
        self.health = CameraHealth(topic)
        self.depth_topic, self.info_topic = depth_topic, info_topic
        self.camera_info: CameraInfo | None = None
        self.subscription = None
        self.depth_subscriptions: tuple = ()
        self.incompatible_qos = 0  # publishers seen whose QoS cannot match the subscription
        self.frames_reliability = ""  # the subscription's reliability when the last frame came
        self.poses_pub = node.create_lifecycle_publisher(PoseArray, namespace + "poses", 10)
        self.debug_pub, self.debug_compressed_pub, self.markers_pub = (
            self.debug_node.create_publisher(msg, node.resolve_topic_name(namespace + name), 1)
            for msg, name in ((Image, "debug_image"), (CompressedImage, "debug_image/compressed"),
                              (MarkerArray, "markers")))
        if depth_topic:
            stream.use_depth(self.decode_depth, depth_topic)

    # --- subscriptions -------------------------------------------------------------------------------------
    def subscribe(self, on_image: Callable[["Camera", object, int | None], None], on_incompatible: Callable) -> None:
        self.incompatible_qos = 0  # events count for this subscription only
        reliability = self.wanted_reliability()
        qos = QoSProfile(depth=self.qos_depth, reliability=_RELIABILITY[reliability])
        if _MESSAGE_INFO:  # the publication sequence number comes with each frame (FrameLoss counts the gaps)
            def callback(msg, info):
                self.frames_reliability = reliability
                on_image(self, msg, info.get("publication_sequence_number"))
        else:
            def callback(msg):
                self.frames_reliability = reliability
                on_image(self, msg, None)
        self.subscription = self.node.create_subscription(
            self.msg_type, self.topic, callback, qos,
            event_callbacks=SubscriptionEventCallbacks(incompatible_qos=lambda event: on_incompatible(self, event)))
        if self.depth_topic and not self.depth_subscriptions:
            self.depth_subscriptions = (
                self.node.create_subscription(Image, self.depth_topic, self._on_depth,
                                              QoSProfile(depth=5, reliability=qos.reliability)),
                self.node.create_subscription(CameraInfo, self.info_topic, self._on_camera_info, 5))

    @property
    def reliability(self) -> str:
        """The reliability the image subscription has now."""
        if self.subscription is None:
            return ""
        policy = self.subscription.qos_profile.reliability
        return "best_effort" if policy == ReliabilityPolicy.BEST_EFFORT else "reliable"

    def publishers(self) -> list:
        return self.node.get_publishers_info_by_topic(self.topic)

    def wanted_reliability(self) -> str:
        """``auto``: best effort if any publisher of the topic is (a reliable subscription cannot match it;
        best effort matches both kinds), else reliable, which Fast DDS needs to deliver large frames between
        processes with its default transports."""
        if self.reliability_setting != "auto":
            return self.reliability_setting
        best_effort = any(p.qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT for p in self.publishers())
        return "best_effort" if best_effort else "reliable"

    def match_publishers(self, on_image: Callable, on_incompatible: Callable) -> bool:
        """Re-subscribe when the reliability the publishers want changed (``auto``); True if it did."""
        if self.subscription is None or self.wanted_reliability() == self.reliability:
            return False
        self.unsubscribe()
        self.subscribe(on_image, on_incompatible)
        return True

    def incompatible_publisher(self, event) -> str:
        """Count a publisher whose QoS cannot match the subscription; the message to report."""
        self.incompatible_qos += 1
        fix = ("the node re-subscribes to match it (image_reliability auto)" if self.reliability_setting == "auto"
               else f"image_reliability is {self.reliability_setting}: set it to auto or best_effort")
        return (f"a publisher on {self.topic} has QoS incompatible with this subscription (policy "
                f"{event.last_policy_kind}): {fix}")

    def incompatible_publishers(self) -> int:
        """Publishers on the topic now that this subscription cannot match: best-effort ones while it is reliable
        (the only incompatibility open to an image subscription: it is volatile, with no deadline or liveliness).
        Read from the graph each time, so the diagnosis says what is true now, not what happened at start."""
        if self.subscription is None or self.reliability != "reliable":
            return 0
        return sum(p.qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT for p in self.publishers())

    def unsubscribe(self) -> None:
        for subscription in (self.subscription, *self.depth_subscriptions):
            if subscription is not None:
                self.node.destroy_subscription(subscription)
        self.subscription, self.depth_subscriptions = None, ()

    def destroy(self) -> None:
        self.node.destroy_lifecycle_publisher(self.poses_pub)
        for pub in (self.debug_pub, self.debug_compressed_pub, self.markers_pub):
            self.debug_node.destroy_publisher(pub)

    # --- depth ---------------------------------------------------------------------------------------------
    def _on_depth(self, msg: Image) -> None:
        self.stream.add_depth(msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9, msg)

    def _on_camera_info(self, msg: CameraInfo) -> None:
        self.camera_info = msg

    def decode_depth(self, msg: Image) -> DepthImage:
        """A buffered depth message -> DepthImage (for the stream, once matched to a colour frame)."""
        if self.camera_info is None:
            raise SkipFrame("no_camera_info", f"no CameraInfo received on {self.info_topic} yet")
        try:
            depth = depth_from_image(msg.data, msg.height, msg.width, msg.step, msg.encoding, bool(msg.is_bigendian))
        except ValueError as err:
            raise SkipFrame("bad_depth", str(err)) from None
        return DepthImage(depth, np.asarray(self.camera_info.k, dtype=np.float64).reshape(3, 3), msg.header)

    # --- outputs besides the poses --------------------------------------------------------------------------
    def wants_extras(self, cfg) -> bool:
        """Whether any overlay or marker output is enabled and subscribed (NodeConfig ``cfg``)."""
        return bool((cfg.publish_debug_image and self.debug_pub.get_subscription_count())
                    or (cfg.publish_debug_compressed and self.debug_compressed_pub.get_subscription_count())
                    or (cfg.publish_markers and self.markers_pub.get_subscription_count()))

    def publish_extras(self, image: np.ndarray, result, header, cfg) -> None:
        """Overlays and markers of one frame's result, each only when enabled (NodeConfig) and someone listens."""
        want_raw = cfg.publish_debug_image and self.debug_pub.get_subscription_count()
        want_jpeg = cfg.publish_debug_compressed and self.debug_compressed_pub.get_subscription_count()
        if want_raw or want_jpeg:
            # A frame decoded at reduced size (reduced_jpeg_decode) is drawn at the camera's size, where the poses are.
            overlay = draw_poses(at_size(image, result.image_hw), result.poses, result.region)
            if want_raw:
                self.debug_pub.publish(bgr_to_image(overlay, header))
            if want_jpeg:
                self.debug_compressed_pub.publish(bgr_to_compressed(overlay, header))
        if cfg.publish_markers and self.markers_pub.get_subscription_count():
            self.markers_pub.publish(poses_to_markers(result.poses, header, result.image_hw))

    # --- diagnostics ---------------------------------------------------------------------------------------
    def diagnostic(self, node_name: str, models, active: bool, counts: dict[str, str]):
        """This camera's DiagnosticStatus: its health, the node's error/warning ``counts``, the models' and the
        stream's status."""
        level, message, values = self.health.summary(models.config.person_threshold,
                                                     self.silence_cause() if active else "", self.loss_cause())
        if not active:
            level, message = 0, "node inactive: not subscribed"
        values.update(counts)
        values.update(models.status())
        values.update(self.stream.status())
        values["image subscription"] = f"{self.reliability or 'none'} ({self.reliability_setting})"
        values["incompatible publishers"] = str(self.incompatible_publishers())
        return diagnostic_status(f"{node_name}: {self.topic}", models.config.model, level, message, values)

    _LARGE_FRAMES_HINT = ("Fast DDS loses best-effort frames of ~0.5 MB and more between processes with its default "
                          "transports: start the camera process with the shared-memory profile "
                          "(config/fastdds_shm.xml in FASTRTPS_/FASTDDS_DEFAULT_PROFILES_FILE; the node's shm:=true "
                          "alone does not help its frames) or FASTDDS_BUILTIN_TRANSPORTS=LARGE_DATA")

    def silence_cause(self) -> str:
        """Why no image arrives although publishers exist (for /diagnostics), or "" when there is none."""
        publishers = self.publishers() if self.subscription is not None else []
        if not publishers:
            return ""
        kinds = sorted({"best effort" if p.qos_profile.reliability == ReliabilityPolicy.BEST_EFFORT else "reliable"
                        for p in publishers})
        text = f"{len(publishers)} publisher(s) on {self.topic} ({', '.join(kinds)}), subscribed {self.reliability}"
        incompatible = self.incompatible_publishers()
        if incompatible:
            fix = ("re-subscribing best effort to match" if self.reliability_setting == "auto"
                   else "set image_reliability to auto or best_effort")
            return (f"{text}, but their QoS is incompatible ({incompatible} best effort, which a reliable "
                    f"subscription cannot match): {fix}")
        if self.reliability == "best_effort":
            return f"{text}, but no frame arrives: frames lost in transport? {self._LARGE_FRAMES_HINT}"
        return f"{text}, but no frame arrives: is the camera publishing?"

    def loss_cause(self) -> str:
        """Why frames are lost before the node and what to do, for /diagnostics (the QoS the frames came with says
        which side can lose them; the subscription may have changed since, when the camera went away)."""
        if self.frames_reliability == "best_effort":
            return f"best-effort frames dropped in transport? {self._LARGE_FRAMES_HINT}"
        return ("the subscription is reliable, so the camera skipped them or its writer's queue (KEEP_LAST) replaced "
                "them before they could be delivered: a link or a camera process too slow for the frame rate")


def create_cameras(node, models, stream_config, cfg, debug_node=None) -> list[Camera]:
    """One Camera per entry of ``cfg.image_topics`` (NodeConfig), each with its own PoseStream on ``models``; the
    overlays and markers are published by ``debug_node`` (default: ``node``)."""
    compressed = cfg.image_transport == "compressed"
    topics = [node.resolve_topic_name(t) for t in cfg.image_topics]
    depth = [node.resolve_topic_name(t) for t in cfg.depth_topics] or [""] * len(topics)
    info = [node.resolve_topic_name(t) for t in cfg.camera_info_topics] or [""] * len(topics)
    cameras = []
    for key, (topic, namespace) in enumerate(zip(topics, output_namespaces(topics, cfg.output_names))):
        topic = topic + "/compressed" if compressed else topic
        cameras.append(Camera(node, key, topic, namespace, PoseStream(models, stream_config, name=topic),
                              CompressedImage if compressed else Image, cfg.image_reliability,
                              cfg.image_qos_depth, depth[key], info[key], debug_node))
    return cameras
