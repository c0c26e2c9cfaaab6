"""Loading models for a configuration: manifest entries -> backends (one ONNX Runtime session per model file,
shared by every role it plays) -> family estimators (through the registry in ``families/__init__.py``)."""
from __future__ import annotations

import os
from pathlib import Path

from pose_ros.core.config import ConfigError, PoseConfig
from pose_ros.core.models import ModelSpec, resolve_model
from pose_ros.core.runtime.backend import BackendOptions, OrtBackend
from pose_ros.core.runtime.torch_ops import TorchPreprocessor, TorchUnavailable, use_torch


class Loader:
    """Builds the models of one configuration. A model file used twice (YOLO11n-pose as mode auto's bottom-up
    model and as its top-down detector) gets one session."""

    def __init__(self, config: PoseConfig):
        self.config = config
        self._backends: dict[Path, OrtBackend] = {}

    def spec(self, name: str) -> ModelSpec:
        return resolve_model(name, Path(self.config.model_dir) if self.config.model_dir else None)

    def backend(self, spec: ModelSpec) -> OrtBackend:
        if spec.path not in self._backends:
            cfg = self.config
            self._backends[spec.path] = OrtBackend(spec.path, BackendOptions(
                device=cfg.device, device_id=cfg.device_id, threads=cfg.threads,
                allow_cpu_fallback=cfg.allow_cpu_fallback, fp16=cfg.gpu_fp16,
                trt_cache_dir=os.path.expanduser(cfg.trt_cache_dir), max_batch=cfg.max_batch,
                import_torch=cfg.preprocess != "opencv", quantization=str(spec.options.get("quantization", ""))))
        return self._backends[spec.path]

    def torch_pre(self, backend: OrtBackend) -> TorchPreprocessor | None:
        """torch pre-processing on the model's device, or None for OpenCV (see PoseConfig.preprocess)."""
        try:
            return TorchPreprocessor(backend.device) if use_torch(self.config.preprocess, backend.device) else None
        except TorchUnavailable as err:
            raise ConfigError(str(err)) from None

    def model(self, name: str, config: PoseConfig):
        """The estimator of manifest entry ``name``, run with ``config``."""
        from pose_ros.core.families import FAMILIES  # the registry imports every family, each of which uses this

        spec = self.spec(name)
        return FAMILIES[spec.family].build(spec, self, config)
