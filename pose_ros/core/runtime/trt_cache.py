"""The TensorRT engine and timing caches on disk: one directory per ONNX Runtime and TensorRT version, model file
(its sha256), precision and batch range, created and checked before the session starts.

ONNX Runtime's TensorRT page asks to clear the engine cache whenever the model, ONNX Runtime, TensorRT or the GPU
changes: versioned directories make that automatic for all but the GPU, which ONNX Runtime writes into the
engine file names itself (``..._sm<compute capability>.engine``). A directory that cannot be created or written
turns the cache off with a warning that says so (the engines are then rebuilt at every start), never a failure.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
from dataclasses import dataclass
from pathlib import Path

# pip distributions that install TensorRT's libraries (NVIDIA's wheels); the first one found names the version.
_TENSORRT_DISTRIBUTIONS = ("tensorrt", "tensorrt-cu13", "tensorrt-cu13-libs", "tensorrt-cu12", "tensorrt-cu12-libs",
                           "tensorrt-libs")
STAMP = "pose_ros_cache.json"


def tensorrt_version() -> str:
    """TensorRT's version from its pip wheel, or "unknown" (a system install, e.g. JetPack's)."""
    for name in _TENSORRT_DISTRIBUTIONS:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "unknown"


@dataclass(frozen=True)
class CacheDir:
    """Where the caches go (``path``, None = no cache) and, when there is none although one was asked for, why."""

    path: str | None
    problem: str | None = None


def prepare(root: str, model_path: Path, model_sha256: str, fp16: bool, batches: tuple[int, int] | None,
            ort_version: str) -> CacheDir:
    """The versioned cache directory under ``root`` (created), or no cache and the reason. ``root`` empty: none."""
    if not root:
        return CacheDir(None, "trt_cache_dir is empty: TensorRT engines are rebuilt at every start (minutes each)")
    batch = f"b{batches[0]}-{batches[1]}" if batches else "bdyn"
    versions = f"ort{ort_version}_trt{tensorrt_version()}"
    path = Path(os.path.expanduser(root)) / versions / \
        f"{Path(model_path).stem}_{model_sha256[:12]}_{'fp16' if fp16 else 'fp32'}_{batch}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        stamp = path / STAMP
        # Writing the stamp proves the directory is writable (permissions alone do not: root ignores them).
        stamp.write_text(json.dumps({"model": str(model_path), "sha256": model_sha256, "onnxruntime": ort_version,
                                     "tensorrt": tensorrt_version(), "fp16": fp16, "batch": batch}, indent=1))
    except OSError as err:
        return CacheDir(None, f"TensorRT cache directory {root} cannot be used ({err.strerror or err}: "
                              f"{err.filename or path}): TensorRT engines are rebuilt at every start (minutes "
                              f"each); set trt_cache_dir to a writable directory")
    return CacheDir(str(path))
