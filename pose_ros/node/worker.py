"""The node's inference worker: each camera's newest frame -> the core (one PoseStream per camera) -> PoseArray,
off the executor thread; overlays and markers handed on to their own thread (extras.ExtrasWorker).

It lives from configure to cleanup with the models and cameras it serves; its threads run from activate to
deactivate. A parameter change accepted by the node is applied here between two frames: new thresholds at once,
new models once they are loaded and warmed up (the old ones serve until then; a failed load keeps them).
Everything that goes wrong with one frame is counted, logged (throttled, per kind) and survived.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from pose_ros.core.config import PoseConfig
from pose_ros.core.imaging import ImageDecodeError
from pose_ros.core.pipeline import Plan, PoseModels, build_models
from pose_ros.core.stream import Frame, SkipFrame, StreamResult, process_together
from pose_ros.node.cameras import Camera
from pose_ros.node.conversions import image_to_bgr, pose_array_msg, stamp_seconds
from pose_ros.node.extras import ExtrasWorker
from pose_ros.node.health import ErrorThrottle
from pose_ros.node.latest_slot import LatestFrames
from pose_ros.node.parameters import NodeConfig


class PoseWorker:
    def __init__(self, cameras: list[Camera], models: PoseModels, node_config: NodeConfig, errors: ErrorThrottle,
                 warnings: ErrorThrottle, log_info: Callable[[str], None], now_s: Callable[[], float]):
        self.cameras = cameras
        self.models = models
        self.node_config = node_config
        self._errors, self._warnings, self._log_info, self._now_s = errors, warnings, log_info, now_s
        self._lock = threading.Lock()
        self._pending: tuple[PoseConfig, bool, Plan | None] | None = None  # (config, reload, its checked plan)
        self._frames: LatestFrames | None = None
        self._thread: threading.Thread | None = None
        self._extras: ExtrasWorker | None = None

    # --- from the node ------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._frames is not None

    def start(self) -> None:
        """Activate: a fresh mailbox, the inference thread and the extras thread."""
        self._frames = LatestFrames()
        self._extras = ExtrasWorker(self._publish_extras, self._extras_failed)
        self._thread = threading.Thread(target=self._work, args=(self._frames,), name="pose_worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Deactivate: the threads end after the frame in hand (frames waiting are dropped)."""
        if self._frames is not None:
            self._frames.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10.0)
        if self._extras is not None:
            self._extras.stop()
        self._thread = self._frames = self._extras = None

    def put(self, cam: Camera, msg) -> None:
        """A subscription callback's frame (never blocks; replaces the camera's frame not yet taken)."""
        frames = self._frames
        if frames is not None:  # a callback already queued when the node deactivated finds no mailbox
            frames.put(cam.key, (msg, time.perf_counter()))  # when it came: for the node's own cost

    def request(self, config: PoseConfig, reload: bool, plan: Plan | None = None) -> None:
        """A parameter change the node accepted, to apply before the next frame; ``plan``: the check's result,
        so the models are not checked (hashed) again when they load."""
        with self._lock:
            running = self._pending[0] if self._pending else self.models.config
            if config != running:
                reload = reload or bool(self._pending and self._pending[1])
                self._pending = (config, reload, plan if reload else None)

    # --- the inference thread -----------------------------------------------------------------------------
    def _work(self, frames: LatestFrames) -> None:
        while not frames.closed:
            idle_since = time.perf_counter()
            newest = frames.take(timeout=0.5)
            if not newest:
                continue
            self._apply_pending()
            waiting = []
            for key, (msg, received_at) in newest.items():
                # A frame that waited for the worker to finish the previous one counts from when it was free.
                received_at = max(received_at, idle_since)
                cam = self.cameras[key]
                cam.health.dropped_total = frames.replaced[key]
                t0 = time.perf_counter()
                frame = self._decode(cam, msg)
                if frame is not None:
                    waiting.append((cam, msg, frame, time.perf_counter() - t0, received_at))
            if not waiting:
                continue
            results = process_together([cam.stream for cam, *_ in waiting], [entry[2] for entry in waiting],
                                       batch=self.node_config.batch_cameras)
            for (cam, msg, frame, convert_s, received_at), result in zip(waiting, results):
                if isinstance(result, Exception):
                    self._failed(cam, msg, result)
                else:
                    self._publish(cam, msg, frame, result, convert_s, received_at)

    def _apply_pending(self) -> None:
        """The parameter change accepted last: new thresholds at once, new models after loading them."""
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is None:
            return
        config, reload, plan = pending
        try:
            models = build_models(config, plan) if reload else self.models.with_config(config)
            if reload:
                models.warm_up()
        except Exception as err:  # noqa: BLE001 - keep serving with the old models
            self._errors.report("reload", f"reload failed, keeping the previous models: {err}")
            return
        self.models = models
        for cam in self.cameras:
            cam.stream.models = models
        if reload:
            self._log_info(f"reloaded: {models.describe()}")

    def _decode(self, cam: Camera, msg) -> Frame | None:
        try:
            min_side = self.models.useful_long_side if self.node_config.reduced_jpeg_decode else 0
            image, scale = image_to_bgr(msg, min_side)
        except ImageDecodeError as err:
            self._errors.report(f"bad_image_{err.kind}", f"dropped frame on {cam.topic}: {err}",
                                detail=f"{cam.key}:{err.detail}")
            cam.health.rejected(str(err))
            return None
        return Frame(image, stamp_seconds(msg.header), msg.header.frame_id, scale)

    def _failed(self, cam: Camera, msg, err: Exception) -> None:
        if isinstance(err, SkipFrame):
            self._errors.report(err.kind, f"skipped frame on {cam.topic}: {err}", detail=str(cam.key))
            cam.health.rejected(str(err))
            return
        stamp = f"{msg.header.stamp.sec}.{msg.header.stamp.nanosec:09d}"
        self._errors.report("processing", f"frame {stamp} on {cam.topic} failed: {type(err).__name__}: {err}",
                            detail=f"{cam.key}:{type(err).__name__}")
        cam.health.rejected(f"{type(err).__name__}: {err}")

    def _publish(self, cam: Camera, msg, frame: Frame, result: StreamResult, convert_s: float,
                 received_at: float) -> None:
        for kind, message in result.warnings:
            self._warnings.report(kind, message)
        start = time.perf_counter()
        cfg = self.node_config
        try:
            cam.poses_pub.publish(pose_array_msg(result, msg.header))
            if self._extras is not None and cam.wants_extras(cfg):
                # msg is kept with the image: for bgr8 the image is a view of its buffer.
                self._extras.put(cam.key, (cam, msg, frame.image, result, cfg))
        except Exception as err:  # noqa: BLE001 - one bad frame must never kill the node
            self._failed(cam, msg, err)
            return
        done = time.perf_counter()
        stages = {"convert": convert_s, **result.stages, "publish": done - start}
        age = self._now_s() - result.stamp_s
        # The node's own cost: from the subscription callback (or the worker becoming free, if it was busy) to
        # published, less the core pipeline (models, tracking, smoothing): the hand-off to the worker, decoding,
        # message building and publishing. Waiting behind a slower model is latency, not the node's cost.
        own_s = done - received_at - sum(result.stages.values())
        cam.health.published(stages, age, len(result.poses), result.batched, own_s)

    # --- the extras thread ----------------------------------------------------------------------------------
    def _publish_extras(self, key, item) -> None:
        cam, msg, image, result, cfg = item
        cam.publish_extras(image, result, msg.header, cfg)

    def _extras_failed(self, key, err: Exception) -> None:
        self._errors.report("debug_outputs", f"debug overlay or markers not published on "
                            f"{self.cameras[key].topic}: {type(err).__name__}: {err}", detail=str(key))
