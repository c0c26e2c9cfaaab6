"""What a GPU session needs before and while ONNX Runtime creates it: the CUDA/cuDNN libraries loaded (and shared
with torch), the CUDA and TensorRT provider options, and TensorRT's optimisation profile for the batch axis.

Every option key here is one of ONNX Runtime's documented execution-provider options (the CUDA and TensorRT EP
pages; test_backend.py lists them and checks each key sent). Nothing in this module has run on a real GPU yet:
``make gpu-check`` is the command for the first CUDA machine (README, "On a GPU").
"""
from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import logging
import sys

LOG = logging.getLogger(__name__)

GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")

# The CUDA EP's default, EXHAUSTIVE, benchmarks every cuDNN convolution algorithm for each new input shape: a new
# crop count then costs hundreds of ms to over a second mid-stream. HEURISTIC asks cuDNN's heuristics instead
# (as yolo_ros does); the difference in steady speed is small for these small models (make gpu-check measures it).
CONV_ALGO_SEARCH = "HEURISTIC"


def cuda_options(device_id: int) -> dict[str, str]:
    """Options of the CUDA execution provider (strings, as ONNX Runtime stores them)."""
    return {"device_id": str(device_id), "cudnn_conv_algo_search": CONV_ALGO_SEARCH}


def tensorrt_options(device_id: int, fp16: bool, cache_dir: str | None,
                     profile: dict[str, str] | None) -> dict[str, str]:
    """Options of the TensorRT execution provider. ``cache_dir``: the (versioned, writable) directory for the
    engine and timing caches, None = none; ``profile``: trt_profile_min/opt/max_shapes, None = TensorRT's implicit
    profile (an engine rebuilt for every input shape outside the ones seen so far)."""
    options = {"device_id": str(device_id), "trt_fp16_enable": str(bool(fp16))}
    if cache_dir:
        options.update(trt_engine_cache_enable="True", trt_engine_cache_path=cache_dir,
                       trt_timing_cache_enable="True", trt_timing_cache_path=cache_dir)
    if profile:
        options.update(profile)
    return options


def batch_range(input_shapes: dict[str, tuple], max_batch: int) -> tuple[int, int] | None:
    """(smallest, largest) batch a model is run with: a fixed batch axis is its own range; a free one is
    1..``max_batch``. None when a free axis other than the batch makes a fixed range impossible (a model with a
    free image size)."""
    batches = set()
    for shape in input_shapes.values():
        if not shape or any(not _is_fixed(d) for d in shape[1:]):
            return None
        batches.add((shape[0], shape[0]) if _is_fixed(shape[0]) else (1, max_batch))
    return batches.pop() if len(batches) == 1 else None


def profile_shapes(input_shapes: dict[str, tuple], batches: tuple[int, int]) -> dict[str, str] | None:
    """trt_profile_min/opt/max_shapes for the batch range (``name:BxCxHxW,...``; TensorRT EP page, "explicit shape
    range"), or None when every input is fixed (TensorRT needs no profile then). The engine is tuned for batch
    ``min`` (one camera, one person: the common case on a robot)."""
    if all(_is_fixed(d) for shape in input_shapes.values() for d in shape):
        return None
    low, high = batches

    def shapes(batch: int) -> str:
        return ",".join(f"{name}:{'x'.join(str(d) for d in (batch, *shape[1:]))}"
                        for name, shape in input_shapes.items())

    return {"trt_profile_min_shapes": shapes(low), "trt_profile_opt_shapes": shapes(low),
            "trt_profile_max_shapes": shapes(high)}


# pip distributions that install the `onnxruntime` module: two of them overwrite each other's files (a GPU build
# silently replaced by the CPU one, or a broken mix). Jetson Zoo wheels are named onnxruntime-gpu too.
ORT_DISTRIBUTIONS = ("onnxruntime", "onnxruntime-gpu", "onnxruntime-directml", "onnxruntime-openvino",
                     "onnxruntime-training")


@functools.cache
def check_distributions(installed: tuple[str, ...] | None = None) -> str | None:
    """A warning (logged once) when more than one onnxruntime distribution is installed; ``installed``: the
    distribution names to judge (default: those pip installed here)."""
    if installed is None:
        installed = tuple(name for name in ORT_DISTRIBUTIONS if _installed(name))
    if len(installed) < 2:
        return None
    text = (f"{' and '.join(installed)} are installed together: they share the onnxruntime module directory and "
            f"overwrite each other's files. pip uninstall -y {' '.join(installed)}, then pip install "
            f"'pose_ros[gpu]' (or 'pose_ros[cpu]')")
    LOG.warning("%s", text)
    return text


def _installed(name: str) -> bool:
    import importlib.metadata

    try:
        importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def _is_fixed(dim) -> bool:
    return isinstance(dim, int) and dim > 0


def build_info() -> dict[str, str]:
    """The CUDA (and cuDNN, where recorded) version this onnxruntime package was built with; empty for CPU builds."""
    try:
        from onnxruntime.capi import build_and_package_info as info
    except ImportError:
        return {}
    return {key: str(getattr(info, key)) for key in ("package_name", "cuda_version", "cudnn_version")
            if getattr(info, key, None)}


def _major(version: str | int | None) -> int | None:
    """Major version from "13.0", 91002 (cuDNN's integer form: 9.10.2) or None."""
    if version is None or version == "":
        return None
    if isinstance(version, int) or str(version).isdigit():
        number = int(version)
        return number // 10000 if number >= 10000 else number // 1000 if number >= 1000 else number
    try:
        return int(str(version).split(".")[0])
    except ValueError:
        return None


@functools.cache
def prepare_libraries(import_torch: bool) -> tuple[str, ...]:
    """Once per process, before the first GPU session: import torch first when it will be used (``import_torch``;
    it then loads the CUDA/cuDNN libraries ONNX Runtime shares with it), then ``onnxruntime.preload_dlls()``
    (ONNX Runtime >= 1.21), which loads CUDA and cuDNN from the pip ``nvidia-*`` wheels when the system has
    none in its library path. Without it a pip-only install silently runs on the CPU. Returns the warnings said
    (also logged): a CUDA or cuDNN major that torch and ONNX Runtime do not share, libraries that did not load."""
    import onnxruntime as ort

    warnings: list[str] = []
    info = build_info()
    if import_torch and importlib.util.find_spec("torch") is not None:
        import torch  # noqa: F401  (loaded for its libraries, before onnxruntime opens its CUDA provider)

        warnings += _torch_mismatch(torch, info)
    elif "torch" in sys.modules:  # imported elsewhere in the process: its libraries are there already
        warnings += _torch_mismatch(sys.modules["torch"], info)
    preload = getattr(ort, "preload_dlls", None)
    if preload is not None:
        said = io.StringIO()  # preload_dlls prints what failed to load: into the log instead
        with contextlib.redirect_stdout(said):
            try:
                preload()
            except Exception as err:  # noqa: BLE001 - a failed preload only means the system paths are tried
                print(f"onnxruntime.preload_dlls() failed: {type(err).__name__}: {err}")
        text = " ".join(said.getvalue().split())
        if text:
            warnings.append(f"onnxruntime.preload_dlls(): {text}")
    for warning in warnings:
        LOG.warning("%s", warning)
    return tuple(warnings)


def _torch_mismatch(torch, info: dict[str, str]) -> list[str]:
    """Torch and ONNX Runtime load one copy of each library into the process: their CUDA and cuDNN majors must be
    the same (ONNX Runtime's CUDA EP page, "Compatibility with PyTorch")."""
    out = []
    torch_cuda = getattr(getattr(torch, "version", None), "cuda", None)
    ort_cuda = info.get("cuda_version")
    if _major(torch_cuda) and _major(ort_cuda) and _major(torch_cuda) != _major(ort_cuda):
        out.append(f"torch {torch.__version__} uses CUDA {torch_cuda} but {info.get('package_name', 'onnxruntime')} "
                   f"was built for CUDA {ort_cuda}: install the torch build for CUDA {_major(ort_cuda)}.x, or "
                   f"preprocess: opencv")
    try:
        torch_cudnn = torch.backends.cudnn.version() if torch.cuda.is_available() else None
    except Exception:  # noqa: BLE001 - a CPU torch build has no cuDNN to compare
        torch_cudnn = None
    # The build records no cuDNN version (1.31.1: cuda_version only); its CUDA 12 and 13 builds use cuDNN 9
    # (CUDA EP page; the 1.31.1 TensorRT provider NEEDS libcudnn.so.9).
    ort_cudnn = info.get("cudnn_version") or ("9" if (_major(ort_cuda) or 0) >= 12 else None)
    if _major(torch_cudnn) and _major(ort_cudnn) and _major(torch_cudnn) != _major(ort_cudnn):
        out.append(f"torch uses cuDNN {torch_cudnn} but onnxruntime was built for cuDNN {ort_cudnn}: "
                   f"one cuDNN major must serve both")
    return out


def library_hint(info: dict[str, str]) -> str:
    """What a GPU build needs installed, for the message that says its provider did not start."""
    cuda = info.get("cuda_version", "")
    needs = f"CUDA {_major(cuda)}.x and cuDNN 9.x" if cuda else "the CUDA and cuDNN majors it was built for"
    return (f"{info.get('package_name', 'onnxruntime')} {('(CUDA ' + cuda + ') ') if cuda else ''}needs {needs} "
            f"(TensorRT 10.x, libnvinfer.so.10, for device tensorrt) on the library path or as pip nvidia-* wheels: "
            f"pip install 'pose_ros[gpu]' (README, \"On a GPU\")")
