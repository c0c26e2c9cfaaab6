"""Build a pose estimator from a :class:`PoseConfig`: model lookup, backends, and the family registries."""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from pose_ros.core.auto_mode import AutoMode
from pose_ros.core.backend import BackendOptions, OrtBackend
from pose_ros.core.blazepose import BlazePoseDetector, BlazePoseLandmarks, CocoPoseRegions
from pose_ros.core.config import ConfigError, PoseConfig
from pose_ros.core.models import ModelSpec, resolve_model
from pose_ros.core.result import Poses
from pose_ros.core.skeletons import Skeleton, get_skeleton, keypoint_mapping
from pose_ros.core.topdown import MMPOSE_MEAN, MMPOSE_STD, TopDownKeypoints
from pose_ros.core.torch_ops import TorchPreprocessor, TorchUnavailable, use_torch
from pose_ros.core.yolo_pose import YoloPose


class PoseEstimator(Protocol):
    """Anything that turns a BGR image into :class:`Poses`; ``timings`` holds the last call's seconds per
    stage (preprocess, infer, decode; top-down models add detect)."""

    skeleton: Skeleton
    config: PoseConfig
    timings: dict[str, float]

    def __call__(self, image: np.ndarray) -> Poses: ...

    def with_config(self, config: PoseConfig) -> "PoseEstimator": ...


def mode_in_use(estimator: PoseEstimator) -> str:
    """The paradigm that produced the estimator's last result: mode auto's current one, else the configured."""
    return estimator.mode if isinstance(estimator, AutoMode) else estimator.config.mode


def batches_frames(estimator: PoseEstimator) -> bool:
    """Whether frames that arrive together (one per camera) can share one model call: bottom-up YOLO-pose
    with a free batch axis. Top-down models batch the people of one frame instead (one landmark call)."""
    return isinstance(estimator, YoloPose) and estimator.batches_frames


def estimate_frames(estimator: PoseEstimator, images: Sequence[np.ndarray]) -> list[Poses]:
    """Poses of frames that arrived together: one model call for all when :func:`batches_frames`, else one
    call per frame."""
    if batches_frames(estimator):
        return estimator.batch(images)
    return [estimator(image) for image in images]


PersonDetector = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # image -> boxes (N, 4), scores (N,)


@dataclass(frozen=True)
class Resolved:
    """The checked models of a configuration (nothing loaded yet)."""

    model: ModelSpec
    detector: ModelSpec | None
    skeleton: Skeleton


def _backend(spec: ModelSpec, config: PoseConfig) -> OrtBackend:
    return OrtBackend(spec.path, BackendOptions(device=config.device, threads=config.threads,
                                                allow_cpu_fallback=config.allow_cpu_fallback, fp16=config.gpu_fp16,
                                                trt_cache_dir=os.path.expanduser(config.trt_cache_dir)))


def _preprocessor(config: PoseConfig, backend: OrtBackend) -> TorchPreprocessor | None:
    """torch pre-processing on the model's device, or None for OpenCV (see PoseConfig.preprocess)."""
    try:
        return TorchPreprocessor(backend.device) if use_torch(config.preprocess, backend.device) else None
    except TorchUnavailable as err:
        raise ConfigError(str(err)) from None


def _build_yolo_pose(r: Resolved, config: PoseConfig) -> PoseEstimator:
    backend = _backend(r.model, config)
    return YoloPose(backend, r.skeleton, r.model.input_size, config, _preprocessor(config, backend))


def _build_blazepose(r: Resolved, config: PoseConfig) -> PoseEstimator:
    if r.detector.family == "blazepose_detector":
        detector = BlazePoseDetector(_backend(r.detector, config), config.person_threshold, config.max_people,
                                     tiled=config.detector_tiling)
    else:  # the one-stage model's people
        detector = CocoPoseRegions(_yolo_as_detector(r.detector, config))
    backend = _backend(r.model, config)
    return BlazePoseLandmarks(backend, detector, config, r.skeleton, _preprocessor(config, backend))


class PosesAsBoxes:
    """A one-stage pose estimator used as a person detector (its boxes and scores)."""

    def __init__(self, estimator: PoseEstimator):
        self.estimator = estimator

    def __call__(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        people = self.estimator(image)
        return people.boxes, people.scores

    def with_config(self, config: PoseConfig) -> "PosesAsBoxes":
        return PosesAsBoxes(self.estimator.with_config(config))


def _yolo_as_detector(spec: ModelSpec, config: PoseConfig) -> YoloPose:
    # The keypoint model grades keypoints itself: the detector keeps its raw keypoint scores.
    backend = _backend(spec, config)
    return YoloPose(backend, get_skeleton(spec.skeleton), spec.input_size, replace(config, keypoint_threshold=0.0),
                    _preprocessor(config, backend))


def _build_mmpose_topdown(r: Resolved, config: PoseConfig) -> PoseEstimator:
    if r.detector.family == "blazepose_detector":
        detector = BlazePoseDetector(_backend(r.detector, config), config.person_threshold, config.max_people,
                                     tiled=config.detector_tiling)
    else:
        detector = PosesAsBoxes(_yolo_as_detector(r.detector, config))
    m = r.model
    return TopDownKeypoints(_backend(m, config), get_skeleton(m.skeleton), m.input_size, m.family, config,
                            detector, mean=m.mean or MMPOSE_MEAN, std=m.std or MMPOSE_STD,
                            split_ratio=m.split_ratio, refine=m.refine, blur_kernel=m.blur_kernel)


# Keypoint-model family (from the manifest) -> (mode it serves, detector families it accepts, builder).
FAMILIES: dict[str, tuple[str, tuple[str, ...], Callable[[Resolved, PoseConfig], PoseEstimator]]] = {
    "yolo_pose": ("bottom_up", (), _build_yolo_pose),
    "blazepose_landmark": ("top_down", ("blazepose_detector", "yolo_pose"), _build_blazepose),
    # MMPose models a user exports (docs/bring_your_own_mmpose_model.md)
    "simcc": ("top_down", ("yolo_pose", "blazepose_detector"), _build_mmpose_topdown),
    "heatmap": ("top_down", ("yolo_pose", "blazepose_detector"), _build_mmpose_topdown),
}


def _resolve(name: str, config: PoseConfig) -> ModelSpec:
    return resolve_model(name, Path(config.model_dir) if config.model_dir else None)


def resolve_config(config: PoseConfig) -> Resolved:
    """Check the config against the installed models without loading any (see _resolve_single); mode auto
    checks both of its configurations."""
    if config.mode == "auto":
        top_down, bottom_up = auto_parts(config)
        resolved = _resolve_single(top_down)
        if _resolve_single(bottom_up).skeleton != resolved.skeleton:
            raise ConfigError("auto mode publishes one skeleton: use coco17")
        return resolved
    return _resolve_single(config)


def auto_parts(config: PoseConfig) -> tuple[PoseConfig, PoseConfig]:
    """The (top-down, bottom-up) configurations a ``mode: auto`` configuration switches between."""
    return (replace(config, mode="top_down"),
            replace(config, mode="bottom_up", model=config.bottom_up_model))


def _resolve_single(config: PoseConfig) -> Resolved:
    """Check the config against the installed models without loading any: the models exist and match their
    sha256, the model serves the mode, the detector suits the model, the skeleton can be produced."""
    spec = _resolve(config.model, config)
    if spec.family not in FAMILIES:
        keypoint_models = ", ".join(sorted(FAMILIES))
        raise ConfigError(f"model {spec.name!r} has family {spec.family!r}, which is not a keypoint model; "
                          f"keypoint model families: {keypoint_models}")
    mode, detector_families, _ = FAMILIES[spec.family]
    if mode != config.mode:
        raise ConfigError(f"model {spec.name!r} is a {mode} model but mode is {config.mode!r}")
    detector = None
    if mode == "top_down":
        detector = _resolve(config.detector, config)
        if detector.family not in detector_families:
            raise ConfigError(f"detector {detector.name!r} ({detector.family}) cannot feed {spec.name!r}; "
                              f"it needs a detector of family: {', '.join(detector_families)}")
    try:
        keypoint_mapping(spec.skeleton, config.skeleton)
        skeleton = get_skeleton(config.skeleton)
    except KeyError as err:
        raise ConfigError(f"skeleton {config.skeleton!r}: {err.args[0]}") from None
    return Resolved(spec, detector, skeleton)


def build_estimator(config: PoseConfig) -> PoseEstimator:
    if config.mode == "auto":
        resolve_config(config)
        top_down, bottom_up = auto_parts(config)
        return AutoMode(build_estimator(top_down), build_estimator(bottom_up), config)
    resolved = resolve_config(config)
    return FAMILIES[resolved.model.family][2](resolved, config)
