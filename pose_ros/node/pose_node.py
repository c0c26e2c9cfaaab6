"""pose_node: a lifecycle node that adapts messages to the core and back: camera frames -> one PoseStream per
camera -> PoseArray (+ overlays, markers, /diagnostics).

Topics, for each camera of ``image_topics`` (one camera: no sub-namespace; several: ``~/<camera>/...``, see
cameras.output_namespaces):
  <image topic>           sensor_msgs/Image, or <topic>/compressed CompressedImage; newest frame only
  ~/poses                 pose_ros/PoseArray      people found, header copied from the image
  ~/debug_image           sensor_msgs/Image       overlay, drawn only while someone subscribes
  ~/debug_image/compressed  sensor_msgs/CompressedImage (with publish_debug_compressed)
  ~/markers               visualization_msgs/MarkerArray  skeletons for RViz
and once per node: ~/skeleton_info (pose_ros/SkeletonInfo, latched), /diagnostics.

Lifecycle, one job per transition: configure = check the parameters, load the models (warmed up), create the
cameras' publishers and streams and the worker that serves them (node/worker.py); activate = subscribe and start
the worker's threads; deactivate = unsubscribe, stop them; cleanup = drop the cameras, the worker and its models
(ONNX Runtime sessions, GPU memory). ``autostart`` (default true) goes to active by itself. This class adapts: the
frames go to the worker, parameter changes are checked here and applied there between two frames.
"""
from __future__ import annotations

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import SetParametersResult
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import Header

from pose_ros.core.config import PoseConfig
from pose_ros.core.models import ModelError
from pose_ros.core.pipeline import PoseModels, check_model_names, resolve_config
from pose_ros.core.runtime.backend import BackendError
from pose_ros.core.settings import ConfigError
from pose_ros.core.stream import StreamConfig
from pose_ros.msg import SkeletonInfo
from pose_ros.node import log_bridge, parameters
from pose_ros.node.cameras import Camera, create_cameras
from pose_ros.node.conversions import skeleton_info_msg, stamp_seconds
from pose_ros.node.extras import DebugParticipant
from pose_ros.node.health import ErrorThrottle
from pose_ros.node.parameters import NodeConfig
from pose_ros.node.worker import PoseWorker

_CONFIGURE_ERRORS = (ConfigError, ModelError, BackendError)


class PoseNode(LifecycleNode):
    def __init__(self, **kwargs):
        super().__init__("pose_node", **kwargs)
        self._log_handler = log_bridge.attach(self.get_logger())
        self._start_errors, unknown = parameters.declare(self)
        for warning in unknown:
            self.get_logger().warning(warning)
        self._start_changed = set(parameters.start_overrides(self)) & set(parameters.SETTINGS)
        # Partners for a lone mode/model change and ints for floats, before rclpy checks types. rclpy >= Iron
        # (Jazzy, Kilted) has pre-set callbacks; without them (Humble) such a change is rejected with the reason.
        if hasattr(self, "add_pre_set_parameters_callback"):
            self.add_pre_set_parameters_callback(self._before_set)
        self.add_on_set_parameters_callback(self._on_set_parameters)

        # Each throttle logs through its own lambda: rclpy ties a severity to the calling line.
        self._errors = ErrorThrottle(lambda message: self.get_logger().error(message))
        self._warnings = ErrorThrottle(lambda message: self.get_logger().warning(message))  # valid but unusual
        self._notes = ErrorThrottle(lambda message: self.get_logger().info(message))  # self-healing events
        self._rematch_timer = None
        self._cameras: list[Camera] = []
        self._worker: PoseWorker | None = None  # the models, and the threads that run them (configure to cleanup)
        self._debug: DebugParticipant | None = None
        self._info_pub = self._diagnostics_pub = None
        self._timers: list = []
        if self.get_parameter("autostart").value:
            # One-shot: runs once the executor spins, so the node is fully constructed first.
            self._autostart_timer = self.create_timer(0.0, self._autostart)

    # --- lifecycle ------------------------------------------------------------------------------------
    def _autostart(self) -> None:
        self.destroy_timer(self._autostart_timer)
        if self.trigger_configure() == TransitionCallbackReturn.SUCCESS:
            self.trigger_activate()

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Check the parameters, load and warm up the models, create the cameras (publishers, streams)."""
        try:
            if self._start_errors:
                raise ConfigError("bad parameter values given at start: " + "; ".join(self._start_errors.values())
                                  + ". Fix them and configure again")
            config, stream_config, node_config = self._settings()
            models = self._configure_models(config)
            models.warm_up()
        except _CONFIGURE_ERRORS as err:
            self.get_logger().error(f"configure failed: {err}")
            return TransitionCallbackReturn.FAILURE
        except Exception as err:  # noqa: BLE001 - a parameter must never end the node
            self.get_logger().error(f"configure failed: {type(err).__name__}: {err}")
            return TransitionCallbackReturn.FAILURE
        self._debug = DebugParticipant(self)
        self._cameras = create_cameras(self, models, stream_config, node_config, self._debug.node)
        self._worker = PoseWorker(self._cameras, models, node_config, self._errors, self._warnings,
                                  self.get_logger().info, lambda: self.get_clock().now().nanoseconds * 1e-9)
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL, reliability=ReliabilityPolicy.RELIABLE)
        self._info_pub = self.create_lifecycle_publisher(SkeletonInfo, "~/skeleton_info", latched)
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._timers = [self.create_timer(node_config.diagnostics_period, self._publish_diagnostics),
                        self.create_timer(1.0, self._match_publisher_qos)]
        self.get_logger().info(f"configured: {models.describe()}")
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Subscribe and start the worker (publishers go active with the node)."""
        result = super().on_activate(state)
        models = self._worker.models
        self._info_pub.publish(skeleton_info_msg(models.skeleton, models.config.model,
                                                 Header(stamp=self.get_clock().now().to_msg())))
        self._worker.start()
        for cam in self._cameras:
            cam.subscribe(self._on_image, self._on_incompatible_qos)
            if len(self._cameras) > 1:
                self.get_logger().info(f"camera {cam.topic} -> {cam.poses_pub.topic_name} (and debug_image, "
                                       f"markers beside it)")
        self.get_logger().info("ready: listening on " + ", ".join(
            f"{cam.subscription.topic_name} ({cam.reliability})" for cam in self._cameras))
        return result

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Unsubscribe and stop the worker."""
        for cam in self._cameras:
            cam.unsubscribe()
        self._stop_worker()
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        """Drop the cameras and the models (their ONNX Runtime sessions, GPU memory included)."""
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        for cam in self._cameras:
            cam.unsubscribe()
        self._stop_worker()
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def _release(self) -> None:
        for cam in self._cameras:
            cam.destroy()
        self._cameras = []
        if self._debug is not None:
            self._debug.close()
            self._debug = None
        if self._info_pub is not None:
            self.destroy_lifecycle_publisher(self._info_pub)
            self.destroy_publisher(self._diagnostics_pub)
            self._info_pub = self._diagnostics_pub = None
        for timer in self._timers:
            self.destroy_timer(timer)
        self._timers = []
        self._worker = None  # the last references to the models' ONNX Runtime sessions: freed here

    def destroy_node(self) -> None:
        self._stop_worker()
        if self._debug is not None:  # destroyed while configured: the private participant goes too
            self._debug.close()
            self._debug = None
        log_bridge.detach(self._log_handler)
        super().destroy_node()

    def _stop_worker(self) -> None:
        if self._worker is not None:
            self._worker.stop()

    @property
    def _models(self) -> PoseModels | None:
        """The models serving now (None before configure and after cleanup)."""
        return self._worker.models if self._worker is not None else None

    # --- parameters -----------------------------------------------------------------------------------
    def _settings(self, changes: dict | None = None) -> tuple[PoseConfig, StreamConfig, NodeConfig]:
        """The three configs from the parameters (with ``changes`` applied); raises ConfigError."""
        return parameters.configs({**parameters.current(self), **(changes or {})})

    def _configure_models(self, config: PoseConfig) -> PoseModels:
        """The core's configure path: a mode or model given alone at start gets its partner, set as a parameter
        too (and logged); then the models are checked and loaded."""
        configured, changed = parameters.configure(config, self._start_changed)
        if configured.notes:
            self.get_logger().info("; ".join(configured.notes))
            self.set_parameters(changed)
        return configured.models

    def _before_set(self, params: list[Parameter]) -> list[Parameter]:
        """rclpy pre-set callback: ints for floats, a partner for a lone mode/model (parameters.with_partners)."""
        params, notes = parameters.with_partners(params, parameters.current(self))
        if notes:
            self.get_logger().info("; ".join(notes))
        return params

    def _on_set_parameters(self, params: list[Parameter]) -> SetParametersResult:
        """Check a change as a whole before it is accepted: thresholds apply to the next frame, a model, device or
        mode change reloads the models cleanly in the worker (the old ones serve until the new ones are ready)."""
        changes = {p.name: p.value for p in params}
        try:
            config, _, node_config = self._settings(changes)
            reload = any(parameters.SETTINGS[name].change == "reload" for name in changes
                         if name in parameters.SETTINGS)
            check_model_names(config, changes)
            if changes.get("profile"):
                if not hasattr(self, "add_pre_set_parameters_callback"):
                    raise ConfigError("a live profile change needs rclpy's pre-set parameter callbacks (Iron and "
                                      "later); on this ROS 2, restart the node with the profile")
                parameters.profile_values(changes["profile"])  # a known profile (the error names them)
            plan = None
            if self._worker is not None and reload:
                plan = resolve_config(config)  # the models exist and fit together; nothing is loaded here
        except (ConfigError, ModelError, ValueError, TypeError) as err:
            return SetParametersResult(successful=False, reason=str(err))
        for name in changes:
            self._start_errors.pop(name, None)
        if self._worker is not None:
            self._worker.node_config = node_config
            self._worker.request(config, reload, plan)
        return SetParametersResult(successful=True)

    # --- frames ---------------------------------------------------------------------------------------
    def _on_image(self, cam: Camera, msg, sequence: int | None) -> None:
        cam.health.received(stamp_seconds(msg.header), sequence)
        if self._worker is not None:
            self._worker.put(cam, msg)

    def _on_incompatible_qos(self, cam: Camera, event) -> None:
        """A publisher the subscription cannot match. With image_reliability auto the node heals it itself: an INFO
        line and a re-subscription at once (not at the next 1 s check: frames would be lost meanwhile). With a
        reliability set by hand it is a configuration error the operator must fix."""
        message = cam.incompatible_publisher(event)
        if cam.reliability_setting != "auto":
            self._errors.report("incompatible_qos", message, detail=str(cam.key))
            return
        self._notes.report("qos_rematch", message, detail=str(cam.key))
        if self._rematch_timer is None:
            self._rematch_timer = self.create_timer(0.0, self._rematch_now)

    def _rematch_now(self) -> None:
        self.destroy_timer(self._rematch_timer)
        self._rematch_timer = None
        self._match_publisher_qos()

    def _match_publisher_qos(self) -> None:
        """image_reliability auto: re-subscribe when the publishers' reliability changed (one came or went)."""
        if self._worker is None or not self._worker.running:
            return
        try:
            for cam in self._cameras:
                if cam.match_publishers(self._on_image, self._on_incompatible_qos):
                    self.get_logger().info(f"publishers on {cam.topic} changed: subscribed {cam.reliability}")
        except Exception as err:  # noqa: BLE001 - a timer callback's exception would end the executor
            self._errors.report("qos_check", f"publisher QoS check failed: {type(err).__name__}: {err}")

    # --- diagnostics ----------------------------------------------------------------------------------
    def _publish_diagnostics(self) -> None:
        models = self._models
        if models is None:
            return
        try:
            counts = {**{f"errors {kind}": str(n) for kind, n in self._errors.snapshot().items()},
                      **{f"warnings {kind}": str(n) for kind, n in self._warnings.snapshot().items()}}
            self._diagnostics_pub.publish(DiagnosticArray(
                header=Header(stamp=self.get_clock().now().to_msg()),
                status=[cam.diagnostic(self.get_name(), models, self._worker.running, counts)
                        for cam in self._cameras]))
        except Exception as err:  # noqa: BLE001 - raised from a timer callback, it would end the executor's spin
            self._errors.report("diagnostics", f"diagnostics not published: {type(err).__name__}: {err}")


def main(args=None) -> None:
    rclpy.init(args=args)
    node = PoseNode()
    # One executor thread (the models run in the worker thread). All the node's callbacks are in its default,
    # mutually exclusive callback group, so a MultiThreadedExecutor ran none of them in parallel; it only added
    # latency: rclpy's MultiThreadedExecutor (Jazzy) yields a ready subscription again and again until a pool
    # thread starts it, and that busy loop holds the GIL the pool thread needs. Measured (yolo11n_pose, photos
    # 512x512 to 1280x720, one frame at a time): frame received by Fast DDS -> callback median 7-12 ms, p90
    # 100-240 ms, up to 0.5 s with 2 threads; 2 ms, p90 7 ms with one (devtools/bench node section, SHM profile).
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except RuntimeError:
        # rclpy's RCLError "failed to initialize wait set: the given context is not valid" when SIGINT's deferred
        # handler shuts the context down while spin() builds its next wait set (a known rclpy race, ros2/rclpy#398,
        # ros2/ros2cli#854; seen here once in ~100 node stops on a loaded machine): a clean shutdown all the same.
        if rclpy.ok():
            raise
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
