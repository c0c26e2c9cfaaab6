"""One camera's way from frames to published poses, the same for the node, the bag tools and the CLI:

    frame -> region of interest (roi_*) -> estimator (the mode's model; mode auto: chosen per frame)
          -> continuity check -> tracker
          -> smoother -> 3D keypoints from the matching depth frame -> StreamResult

The models are loaded once and shared by every stream (``PoseModels``); everything that has memory of earlier
frames (mode auto's decision, tracks, filters, the depth buffer, the last stamp) belongs to the stream.
"""
from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from pose_ros.core.pipeline import PoseModels
from pose_ros.core.region import estimate_in_region
from pose_ros.core.result import Poses
from pose_ros.core.settings import ConfigError, check_settings, group, setting
from pose_ros.core.stream.auto_mode import AutoSwitch
from pose_ros.core.stream.depth import DepthConfig, DepthImage, StampMatcher, keypoints_to_3d
from pose_ros.core.stream.smoothing import PoseSmoother, SmootherConfig
from pose_ros.core.stream.tracking import PoseTracker, TrackerConfig


@dataclass(frozen=True)
class StreamConfig:
    """What a stream does after the estimator. Flat setting names: tracking, track_*, smoothing, smoothing_*,
    depth_*."""

    tracking: bool = setting(True, "give people track ids that persist across frames", change="read_only")
    tracker: TrackerConfig = group(TrackerConfig, "track_")
    smoothing: bool = setting(False, "One-Euro filter on each tracked person's keypoints; needs tracking",
                              change="read_only")
    smoother: SmootherConfig = group(SmootherConfig, "smoothing_")
    depth: DepthConfig = group(DepthConfig, "depth_")

    def __post_init__(self) -> None:
        check_settings(self)
        if self.smoothing and not self.tracking:
            raise ConfigError("smoothing needs tracking: the filters follow track ids")


@dataclass(frozen=True)
class Frame:
    """One input image: BGR (H, W, 3) uint8, its time stamp (s) and frame id. ``scale`` maps the image's pixels to
    the published ones (x, y factors): a frame decoded at reduced size (compressed input) is published in the
    camera's full-size pixels."""

    image: np.ndarray
    stamp_s: float
    frame_id: str = ""
    scale: tuple[float, float] = (1.0, 1.0)

    @property
    def source_hw(self) -> tuple[int, int]:
        """(height, width) of the camera image the poses are published in."""
        h, w = self.image.shape[:2]
        return int(round(h * self.scale[1])), int(round(w * self.scale[0]))


@dataclass(frozen=True)
class Points3D:
    """3D keypoints of every person: points (N, K, 3) m in the camera's optical frame, valid (N, K), variance
    (N, K) m^2 (see keypoints_to_3d), and ``source``: the depth frame they came from (the adapter's object)."""

    points: np.ndarray
    valid: np.ndarray
    variance: np.ndarray
    source: Any = None


@dataclass(frozen=True)
class StreamResult:
    """What a stream publishes for one frame."""

    poses: Poses
    mode: str  # the mode that produced them (mode auto: the one in use for this frame)
    model: str  # the keypoint model's manifest name
    image_hw: tuple[int, int]  # (height, width) of the camera image
    stamp_s: float
    frame_id: str
    points_3d: Points3D | None = None
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage (estimator's, then track_3d)
    warnings: tuple[tuple[str, str], ...] = ()  # (kind, message): continuity breaks that restarted the tracks
    batched: bool = False  # the model call was shared with other streams' frames
    region: tuple[int, int, int, int] | None = None  # (x0, y0, x1, y1) pixels the models looked at; None: all


class SkipFrame(Exception):
    """A frame that cannot be published as configured (no matching depth frame, say); ``kind`` for counting."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


DepthDecoder = Callable[[Any], DepthImage]  # a buffered depth item -> DepthImage; raises SkipFrame


class PoseStream:
    """One camera's stream. Not thread-safe: one caller (the node's worker, a tool's loop) per stream.

    ``name`` names the camera in messages. With ``depth_decoder`` set, buffered depth items (:meth:`add_depth`)
    are matched to each frame by stamp and decoded by it; without a match the frame is skipped (SkipFrame)."""

    def __init__(self, models: PoseModels, config: StreamConfig = StreamConfig(), name: str = "",
                 depth_decoder: DepthDecoder | None = None):
        self.config = config
        self.name = name
        self.tracker = PoseTracker(config.tracker) if config.tracking else None
        self.smoother = PoseSmoother.from_config(config.smoother) if config.smoothing else None
        self.depth_decoder: DepthDecoder | None = None
        self.depth_name = ""
        self.depth_frames: StampMatcher | None = None
        if depth_decoder is not None:
            self.use_depth(depth_decoder)
        self.auto: AutoSwitch | None = None
        self._last_stamp = float("-inf")
        self._last_frame_id: str | None = None
        self.models = models

    @property
    def models(self) -> PoseModels:
        return self._models

    @models.setter
    def models(self, models: PoseModels) -> None:
        """New models (a reload) or thresholds (a live change): mode auto keeps its decision and history."""
        self._models = models
        low = self.config.tracker.low_score if self.tracker is not None else 0.0
        self._estimators = _with_low_score(models, low)
        if models.config.mode != "auto":
            self.auto = None
        elif self.auto is None:
            self.auto = AutoSwitch(models.config)
        else:
            self.auto.config = models.config

    @property
    def mode(self) -> str:
        """The mode the next frame runs in."""
        return self.auto.mode if self.auto is not None else self.models.config.mode

    @property
    def model(self):
        """The estimator the next frame goes through (bottom-up: down to track_low_score, see finish)."""
        return self._estimators.by_mode[self.mode]

    def use_depth(self, decoder: DepthDecoder, source: str = "the depth input") -> None:
        """From now on, every frame needs a depth frame matched by stamp (buffered with :meth:`add_depth`);
        ``source`` names where they come from in messages."""
        self.depth_decoder, self.depth_name = decoder, source
        self.depth_frames = StampMatcher(self.config.depth.tolerance)

    def add_depth(self, stamp_s: float, item: Any) -> None:
        if self.depth_frames is not None:
            self.depth_frames.add(stamp_s, item)

    def process(self, frame: Frame) -> StreamResult:
        """Estimate, then :meth:`finish`."""
        model = self.model
        poses = estimate_in_region(model.batch, [frame.image], self.models.config.region)[0]
        return self.finish(frame, poses, dict(model.timings))

    def finish(self, frame: Frame, poses: Poses, stages: dict[str, float], batched: bool = False) -> StreamResult:
        """Everything after the estimator, for poses of ``frame`` found by the current mode's model."""
        start = time.perf_counter()
        mode, model = self.mode, self.model.name
        warnings = self._check_continuity(frame)
        if frame.scale != (1.0, 1.0):
            poses = _scaled(poses, frame.scale)
        threshold = self.models.config.person_threshold
        weak = poses.scores < threshold  # people only the tracker's second pass may keep (track_low_score)
        if self.auto is not None:
            self.auto.update(int((~weak).sum()))
        if self.tracker is not None:
            poses = self.tracker.update(poses, frame.stamp_s, frame.source_hw, threshold)
            if weak.any():
                poses = poses[~weak | (poses.track_ids >= 0)]
        if self.smoother is not None:
            poses = self.smoother.update(poses, frame.stamp_s)
        points_3d = self._keypoints_3d(frame, poses)
        stages = {**stages, "track_3d": time.perf_counter() - start}
        region = self.models.config.region
        return StreamResult(poses, mode, model, frame.source_hw, frame.stamp_s, frame.frame_id, points_3d, stages,
                            warnings, batched, None if region.whole else region.window(*frame.source_hw))

    def _check_continuity(self, frame: Frame) -> tuple[tuple[str, str], ...]:
        """A new frame_id (another camera on the topic) or stamps going backwards (a bag replayed in a loop, a
        clock reset) start tracks and filters afresh instead of chaining unrelated frames."""
        warnings = ()
        where = f" on {self.name}" if self.name else ""
        if self._last_frame_id is not None and frame.frame_id != self._last_frame_id:
            warnings = (("frame_id_changed", f"frame_id{where} changed from {self._last_frame_id!r} to "
                                             f"{frame.frame_id!r}: tracks restarted"),)
        elif frame.stamp_s < self._last_stamp:
            warnings = (("stamp_backwards", f"stamps{where} went backwards by "
                                            f"{self._last_stamp - frame.stamp_s:.3f} s (bag loop?): tracks restarted"),)
        if warnings:
            self.reset_tracks()
        self._last_stamp, self._last_frame_id = frame.stamp_s, frame.frame_id
        return warnings

    def reset_tracks(self) -> None:
        for stage in (self.tracker, self.smoother):
            if stage is not None:
                stage.reset()

    def _keypoints_3d(self, frame: Frame, poses: Poses) -> Points3D | None:
        if self.depth_frames is None:
            return None
        item = self.depth_frames.match(frame.stamp_s)
        if item is None:
            raise SkipFrame("no_depth", f"no depth frame on {self.depth_name} within {self.config.depth.tolerance} s "
                                        f"of the colour frame")
        depth = self.depth_decoder(item)
        if depth.depth.shape != frame.source_hw:
            shape, hw = depth.depth.shape, frame.source_hw
            raise SkipFrame("bad_depth", f"depth image {shape[1]}x{shape[0]} is not aligned with the colour image "
                                         f"{hw[1]}x{hw[0]} (use a registered depth topic)")
        points, valid, variance = keypoints_to_3d(poses.keypoints, depth.depth, depth.k_matrix,
                                                  window=self.config.depth.window)
        return Points3D(points, valid, variance, depth.source)

    def status(self) -> dict[str, str]:
        return self.auto.status() if self.auto is not None else {}


_LOWERED: dict[int, tuple[weakref.ref, float, PoseModels]] = {}


def _with_low_score(models: PoseModels, low: float) -> PoseModels:
    """``models`` with the bottom-up model reporting people down to ``low`` (when under person_threshold), for the
    tracker's second pass; top-down models unchanged (a weaker person there costs a keypoint-model crop). One
    copy per loaded models object, shared by every stream using it, so their frames still batch together."""
    if not 0.0 < low < models.config.person_threshold or "bottom_up" not in models.by_mode:
        return models
    key = id(models)
    cached = _LOWERED.get(key)
    if cached is not None and cached[0]() is models and cached[1] == low:
        return cached[2]
    for k in [k for k, (ref, _, _) in _LOWERED.items() if ref() is None]:
        del _LOWERED[k]
    bottom_up = models.by_mode["bottom_up"]
    lowered = PoseModels(models.config, {**models.by_mode, "bottom_up": bottom_up.with_config(
        replace(bottom_up.config, person_threshold=low))})
    _LOWERED[key] = (weakref.ref(models), low, lowered)
    return lowered


def _scaled(poses: Poses, scale: tuple[float, float]) -> Poses:
    factor = np.array(scale, np.float32)
    keypoints = poses.keypoints.copy()
    keypoints[..., :2] *= factor
    return Poses(poses.boxes * np.tile(factor, 2), poses.scores, keypoints, poses.skeleton, poses.track_ids,
                 poses.keypoint_source)


def process_together(streams: Sequence[PoseStream], frames: Sequence[Frame],
                     batch: bool = True) -> list[StreamResult | Exception]:
    """Frames of several streams that arrived together. Streams whose next frame goes through the same model
    that can batch share one model call (``batch``); every other frame runs alone. Returns, per frame, its
    result or the exception that stopped it (a failed shared call stops every frame of that call); a bad frame
    never stops the others."""
    results: list[StreamResult | Exception | None] = [None] * len(frames)
    groups: dict[int, list[int]] = {}
    for i, stream in enumerate(streams):
        model = stream.model
        key = id(model) if batch and model.can_batch else -1 - i
        groups.setdefault(key, []).append(i)
    for members in groups.values():
        model = streams[members[0]].model
        try:
            all_poses = estimate_in_region(model.batch, [frames[i].image for i in members],
                                           streams[members[0]].models.config.region)
        except Exception as err:  # noqa: BLE001 - reported per frame by the caller
            for i in members:
                results[i] = err
            continue
        stages = dict(model.timings)
        for i, poses in zip(members, all_poses):
            try:
                results[i] = streams[i].finish(frames[i], poses, stages, batched=len(members) > 1)
            except Exception as err:  # noqa: BLE001
                results[i] = err
    return results

