"""Loading models for a configuration: manifest entries -> backends (one ONNX Runtime session per model file,
shared by every role it plays) and the pre-processing they use. The families' builders receive a Loader with the
checked manifest entry (``pipeline.build_models``); they never look models up themselves."""
from __future__ import annotations

import os
from pathlib import Path

from pose_ros.core.config import ConfigError, PoseConfig
from pose_ros.core.models import ModelSpec
from pose_ros.core.runtime.backend import BackendOptions, OrtBackend
from pose_ros.core.runtime.torch_ops import TorchPreprocessor, TorchUnavailable, use_torch


class Loader:
    """Builds the models of one configuration. A model file used twice (YOLO11n-pose as mode auto's bottom-up
    model and as its top-down detector) gets one session."""

    def __init__(self, config: PoseConfig):
        self.config = config
        self._backends: dict[Path, OrtBackend] = {}

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
