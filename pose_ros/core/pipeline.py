"""Build a pose estimator from a :class:`PoseConfig`: model lookup, backend, family registry."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from pose_ros.core.backend import BackendOptions, OrtBackend
from pose_ros.core.config import ConfigError, PoseConfig
from pose_ros.core.models import ModelSpec, resolve_model
from pose_ros.core.result import Poses
from pose_ros.core.skeletons import Skeleton, get_skeleton
from pose_ros.core.yolo_pose import YoloPose


class PoseEstimator(Protocol):
    """Anything that turns a BGR image into :class:`Poses`; ``timings`` holds the last call's
    seconds per stage (preprocess, infer, decode)."""

    skeleton: Skeleton
    config: PoseConfig
    timings: dict[str, float]

    def __call__(self, image: np.ndarray) -> Poses: ...

    def with_config(self, config: PoseConfig) -> "PoseEstimator": ...


def _build_yolo_pose(spec: ModelSpec, config: PoseConfig) -> PoseEstimator:
    backend = OrtBackend(spec.path, BackendOptions(device=config.device, threads=config.threads))
    return YoloPose(backend, get_skeleton(spec.skeleton), spec.input_size, config)


# model family (from the manifest) -> (mode it serves, builder)
FAMILIES: dict[str, tuple[str, Callable[[ModelSpec, PoseConfig], PoseEstimator]]] = {
    "yolo_pose": ("bottom_up", _build_yolo_pose),
}


def resolve_config(config: PoseConfig) -> ModelSpec:
    """Check the config against the installed models (no model is loaded): the model exists, its file
    matches the manifest, and its family serves the requested mode."""
    spec = resolve_model(config.model, Path(config.model_dir) if config.model_dir else None)
    if spec.family not in FAMILIES:
        raise ConfigError(f"model {spec.name!r} has family {spec.family!r}, which this version cannot run; "
                          f"known families: {', '.join(sorted(FAMILIES))}")
    mode = FAMILIES[spec.family][0]
    if mode != config.mode:
        raise ConfigError(f"model {spec.name!r} is a {mode} model but mode is {config.mode!r}")
    return spec


def build_estimator(config: PoseConfig) -> PoseEstimator:
    spec = resolve_config(config)
    return FAMILIES[spec.family][1](spec, config)
