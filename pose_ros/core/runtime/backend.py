"""Inference backend: one small interface, ONNX Runtime behind it, providers chosen from ``device``."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

LOG = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda", "tensorrt")

# What each device asks for, best first. CPU always closes the list so a missing GPU degrades
# to a slower node instead of a dead one (the fallback is logged). TensorRT builds an engine on first
# use (minutes), so "auto" does not pick it: ask for it explicitly.
_WANTED = {
    "auto": ("CUDAExecutionProvider", "CPUExecutionProvider"),
    "cpu": ("CPUExecutionProvider",),
    "cuda": ("CUDAExecutionProvider", "CPUExecutionProvider"),
    "tensorrt": ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"),
}


class Backend(Protocol):
    """Runs a model: named float32 inputs in, outputs (in model order) out."""

    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    input_shapes: tuple[tuple, ...]
    providers: tuple[str, ...]
    device: str  # "cpu" or "cuda:<id>": where inputs given as torch tensors must live

    def run(self, feeds: dict) -> list[np.ndarray]: ...


@dataclass(frozen=True)
class BackendOptions:
    """How to run a model. ``threads`` = 0 lets ONNX Runtime choose (one per core)."""

    device: str = "auto"
    device_id: int = 0
    threads: int = 0
    # Busy-waiting worker threads win a little latency but steal the cores from a second session
    # (top-down runs two) and from the ROS executor; off by default on small robots.
    allow_spinning: bool = False
    # False: a missing GPU provider is an error instead of a (logged) fall back to the CPU.
    allow_cpu_fallback: bool = True
    fp16: bool = False  # TensorRT only
    trt_cache_dir: str = ""  # TensorRT engine cache; empty = no cache
    # Bind inputs/outputs explicitly (ONNX Runtime IO binding): on a GPU the input is copied to the device
    # once and outputs land in preallocated host memory, with no extra staging copies. None = on a GPU only.
    io_binding: bool | None = None

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise ValueError(f"unknown device {self.device!r}; valid: {', '.join(DEVICES)}")
        if self.threads < 0 or self.device_id < 0:
            raise ValueError("threads and device_id must be >= 0")


def select_providers(device: str, available: list[str], options: BackendOptions) -> list:
    """Providers (with options) for ONNX Runtime, in priority order, for the given device."""
    chosen = []
    for name in _WANTED[device]:
        if name not in available:
            continue
        if name == "TensorrtExecutionProvider":
            trt = {"device_id": options.device_id, "trt_fp16_enable": options.fp16}
            if options.trt_cache_dir:
                trt.update(trt_engine_cache_enable=True, trt_engine_cache_path=options.trt_cache_dir)
            chosen.append((name, trt))
        elif name == "CUDAExecutionProvider":
            chosen.append((name, {"device_id": options.device_id}))
        else:
            chosen.append(name)
    return chosen


class BackendError(RuntimeError):
    """The model cannot run as asked (unreadable model, forbidden CPU fall back); the message says why."""


class OrtBackend:
    """ONNX Runtime session for one model file."""

    def __init__(self, model_path: str | Path, options: BackendOptions = BackendOptions()):
        import onnxruntime as ort  # heavy: imported only when a model is loaded

        session_options = ort.SessionOptions()
        session_options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session_options.intra_op_num_threads = options.threads
        session_options.inter_op_num_threads = 1
        session_options.add_session_config_entry(
            "session.intra_op.allow_spinning", "1" if options.allow_spinning else "0")
        providers = select_providers(options.device, ort.get_available_providers(), options)
        wanted = _WANTED[options.device][0]
        if not options.allow_cpu_fallback and wanted not in ort.get_available_providers():
            raise BackendError(f"device {options.device!r} needs {wanted}, which this onnxruntime build lacks "
                               f"(available: {', '.join(ort.get_available_providers())}), and CPU fall back is "
                               f"off (allow_cpu_fallback)")
        try:
            self._session = ort.InferenceSession(str(model_path), sess_options=session_options,
                                                 providers=providers)
        except Exception as err:  # onnxruntime raises its own exception types for unreadable models
            raise BackendError(f"cannot load model file {model_path}: {type(err).__name__}: {err}") from err
        self.providers = tuple(self._session.get_providers())
        self.requested_device = options.device
        # Why the model does not run where it was asked to (None when it does): said in the node's log, its
        # /diagnostics and its "configured" line, not only here.
        self.fallback: str | None = None
        if wanted not in self.providers:
            self.fallback = (f"device {options.device!r} asked for {wanted}, which this onnxruntime build does not "
                             f"have (available: {', '.join(ort.get_available_providers())}); running on "
                             f"{self.providers[0]}")
            # "auto" means "a GPU if there is one": CPU is a normal outcome there, not a problem.
            (LOG.info if options.device == "auto" else LOG.warning)("%s", self.fallback)
        on_gpu = self.providers[0] in ("CUDAExecutionProvider", "TensorrtExecutionProvider")
        self._io_binding = on_gpu if options.io_binding is None else options.io_binding
        self._device = ("cuda", options.device_id) if on_gpu else ("cpu", 0)
        self._ort = ort
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        self.input_names = tuple(i.name for i in inputs)
        self.input_shapes = tuple(tuple(i.shape) for i in inputs)
        self.output_names = tuple(o.name for o in outputs)
        LOG.info("loaded %s on %s", Path(model_path).name, ", ".join(self.providers))

    def status(self) -> dict[str, str]:
        """What runs where, for logs and /diagnostics."""
        running = "GPU" if self._device[0] == "cuda" else "CPU"
        text = f"{running} ({self.providers[0]})"
        if self.fallback is not None and self.requested_device != "auto":
            text = f"{self.requested_device} asked, running on {running}: {self.providers[0]}"
        return {"device": text}

    @property
    def device(self) -> str:
        """Where the model runs, as torch names devices: "cpu" or "cuda:<id>"."""
        device_type, device_id = self._device
        return "cpu" if device_type == "cpu" else f"{device_type}:{device_id}"

    def run(self, feeds: dict) -> list[np.ndarray]:
        """Outputs as numpy arrays. Feeds are numpy arrays, or float32 torch tensors already on :attr:`device`
        (torch pre-processing), which IO binding reads in place."""
        if not self._io_binding:
            return self._session.run(self.output_names, {name: _as_numpy(v) for name, v in feeds.items()})
        binding = self._session.io_binding()
        device_type, device_id = self._device
        for name, value in feeds.items():
            if isinstance(value, np.ndarray):
                value = self._ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(value), device_type, device_id)
                binding.bind_ortvalue_input(name, value)
            else:  # a torch tensor: bound by address, no copy; it must live on this session's device
                if str(value.device) != self.device or not value.is_contiguous():
                    raise ValueError(f"input {name!r} is a tensor on {value.device} (contiguous: "
                                     f"{value.is_contiguous()}), the model runs on {self.device}")
                binding.bind_input(name, device_type, device_id, np.float32, tuple(value.shape), value.data_ptr())
        for name in self.output_names:
            binding.bind_output(name, "cpu")  # decoding runs on the host: outputs go straight there
        self._session.run_with_iobinding(binding)
        return binding.copy_outputs_to_cpu()


def _as_numpy(value) -> np.ndarray:
    """A feed for ``session.run``: numpy as is, a torch tensor through the host (no copy when on the CPU)."""
    return value if isinstance(value, np.ndarray) else value.detach().cpu().numpy()
