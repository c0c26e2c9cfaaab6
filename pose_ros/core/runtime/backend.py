"""Inference backend: one small interface, ONNX Runtime behind it, providers chosen from ``device``.

What runs where is read back from the session (``get_providers()``), never assumed from the request: an
onnxruntime-gpu build whose CUDA, cuDNN or TensorRT libraries do not load still creates a session, on the CPU,
with only a warning from ONNX Runtime. ``allow_cpu_fallback: false`` is enforced against the session, and the
message says which case it is (a CPU-only build, or a GPU build whose provider did not start). The GPU specifics
(library preloading, provider options, TensorRT's batch profile and caches) are in ``gpu.py`` and
``trt_cache.py``; none of them has run on a real GPU yet (README, "On a GPU").
"""
from __future__ import annotations

import contextlib
import io
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from pose_ros.core.runtime import gpu, trt_cache

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

# ONNX Runtime's element types (NodeArg.type) and torch's, as numpy dtypes: what a bound buffer holds.
_ORT_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64,
              "tensor(uint8)": np.uint8, "tensor(int8)": np.int8, "tensor(int32)": np.int32,
              "tensor(int64)": np.int64, "tensor(bool)": np.bool_}
_TORCH_TYPES = {"torch.float32": np.float32, "torch.float16": np.float16, "torch.float64": np.float64,
                "torch.uint8": np.uint8, "torch.int8": np.int8, "torch.int32": np.int32, "torch.int64": np.int64,
                "torch.bool": np.bool_}


class Backend(Protocol):
    """Runs a model: named inputs in, outputs (in model order) out. OrtBackend also offers ``warm_up()``,
    ``batch_range`` and ``skip_outputs()``; callers look for them with getattr, so a test double needs only these."""

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
    # False: running on the CPU although a GPU was asked for is an error instead of a (logged) fall back.
    allow_cpu_fallback: bool = True
    fp16: bool = False  # TensorRT only: FP16 engines (the CUDA provider runs the model's own precision)
    trt_cache_dir: str = ""  # TensorRT engine and timing caches (a versioned directory below it); empty = none
    # Bind inputs/outputs explicitly (ONNX Runtime IO binding): torch tensors already on the device are read in
    # place. None = on a GPU only.
    io_binding: bool | None = None
    # Largest batch of a model with a free batch axis (frames of several cameras, person crops): TensorRT's
    # optimisation profile covers 1..max_batch and larger batches run in chunks; warm-up runs both ends.
    max_batch: int = 4
    # torch pre-processing will run on this device: import torch before the first GPU session (gpu.py).
    import_torch: bool = False
    quantization: str = ""  # the manifest's description of a quantized model (warned about on a GPU)
    trt_profile: bool = True  # False: TensorRT's implicit profile (make gpu-check compares the two)

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise ValueError(f"unknown device {self.device!r}; valid: {', '.join(DEVICES)}")
        if self.threads < 0 or self.device_id < 0:
            raise ValueError("threads and device_id must be >= 0")
        if self.max_batch < 1:
            raise ValueError("max_batch must be >= 1")


def select_providers(device: str, available: list[str], options: BackendOptions,
                     tensorrt: dict[str, str] | None = None) -> list:
    """Providers (with options) for ONNX Runtime, in priority order, for the given device. ``tensorrt``: the
    TensorRT options of this model (profile, caches; see :func:`gpu.tensorrt_options`), default without them."""
    chosen = []
    for name in _WANTED[device]:
        if name not in available:
            continue
        if name == "TensorrtExecutionProvider":
            chosen.append((name, tensorrt or gpu.tensorrt_options(options.device_id, options.fp16, None, None)))
        elif name == "CUDAExecutionProvider":
            chosen.append((name, gpu.cuda_options(options.device_id)))
        else:
            chosen.append(name)
    return chosen


class BackendError(RuntimeError):
    """The model cannot run as asked (unreadable model, forbidden CPU fall back); the message says why."""


def _name(provider) -> str:
    return provider if isinstance(provider, str) else provider[0]


def _flag(value: str) -> str:
    """ONNX Runtime prints booleans as 1/0 and accepts True/False: compare them as one."""
    return {"true": "1", "false": "0"}.get(str(value).lower(), str(value))


class OrtBackend:
    """ONNX Runtime session for one model file."""

    def __init__(self, model_path: str | Path, options: BackendOptions = BackendOptions()):
        try:
            import onnxruntime as ort  # heavy: imported only when a model is loaded
        except ImportError as err:
            raise BackendError(f"onnxruntime is not importable ({err}): pip install 'pose_ros[cpu]' (CPU) or "
                               f"'pose_ros[gpu]' (CUDA 13, cuDNN 9); on a Jetson, NVIDIA's JetPack build of "
                               f"onnxruntime-gpu (README, \"On a GPU\")") from None
        gpu.check_distributions()
        self._ort = ort
        self.name = Path(model_path).stem
        self.requested_device = options.device
        available = ort.get_available_providers()
        wanted = _WANTED[options.device][0]
        if not options.allow_cpu_fallback and wanted not in available:
            raise BackendError(f"device {options.device!r} needs {wanted}, which this onnxruntime build lacks "
                               f"(available: {', '.join(available)}), and CPU fall back is off "
                               f"(allow_cpu_fallback); {gpu.library_hint(gpu.build_info())}")
        gpu_asked = [p for p in _WANTED[options.device] if p in gpu.GPU_PROVIDERS and p in available]
        if gpu_asked:
            gpu.prepare_libraries(options.import_torch)
        self._chunk = 0  # TensorRT profile: larger batches run in chunks of this size (0 = never chunked)
        tensorrt = self._tensorrt_options(ort, Path(model_path), options) if \
            "TensorrtExecutionProvider" in gpu_asked else None
        providers = select_providers(options.device, available, options, tensorrt)
        self._session, start_errors = self._create(model_path, self._session_options(options), providers)
        self.providers = tuple(self._session.get_providers())
        on_gpu = self.providers[0] in gpu.GPU_PROVIDERS
        # Why the model does not run where it was asked to (None when it does): said in the node's log, its
        # /diagnostics and its "configured" line, not only here.
        self.fallback = self._fallback(options, available, start_errors)
        if self.fallback is not None and not options.allow_cpu_fallback and not on_gpu:
            raise BackendError(f"{self.fallback}, and CPU fall back is off (allow_cpu_fallback)")
        self._warn_precision(options, on_gpu)
        self._io_binding = on_gpu if options.io_binding is None else options.io_binding
        self._device = ("cuda", options.device_id) if on_gpu else ("cpu", 0)
        inputs, outputs = self._session.get_inputs(), self._session.get_outputs()
        self.input_names = tuple(i.name for i in inputs)
        self.input_shapes = tuple(tuple(i.shape) for i in inputs)
        self._input_types = {i.name: _ORT_TYPES.get(i.type) for i in inputs}
        self.output_names = tuple(o.name for o in outputs)
        self._fetch = tuple(range(len(outputs)))  # indices of the outputs run() fetches (skip_outputs)
        self.batches_run: set[int] = set()  # batch sizes the session has run (the warm-up skips them)
        # The batches this model is run with (warm-up runs both ends); None for a model with a free image size.
        self.batch_range = gpu.batch_range(dict(zip(self.input_names, self.input_shapes)), options.max_batch)
        if self._chunk and "TensorrtExecutionProvider" not in self.providers:
            self._chunk = 0  # no TensorRT, no profile to stay within
        LOG.info("loaded %s on %s", Path(model_path).name, ", ".join(self.providers))

    def _fallback(self, options: BackendOptions, available: list[str], start_errors: list[str]) -> str | None:
        """Why the session does not run on the provider ``device`` asks for first (logged), or None."""
        wanted = _WANTED[options.device][0]
        if wanted in self.providers:
            return None
        if wanted not in available:
            why = f"which this onnxruntime build does not have (available: {', '.join(available)})"
        else:
            why = ("which this onnxruntime build has but could not start" +
                   (f" ({'; '.join(start_errors)})" if start_errors else
                    " (its CUDA/cuDNN/TensorRT libraries did not load: ONNX Runtime's own message is above)") +
                   f"; {gpu.library_hint(gpu.build_info())}")
        text = f"device {options.device!r} asked for {wanted}, {why}; running on {self.providers[0]}"
        # "auto" on a CPU-only build means "a GPU if there is one": CPU is a normal outcome, not a problem.
        quiet = options.device == "auto" and wanted not in available
        (LOG.info if quiet else LOG.warning)("%s: %s", self.name, text)
        return text

    def _warn_precision(self, options: BackendOptions, on_gpu: bool) -> None:
        """Settings that do not do on this provider what their name says."""
        if options.fp16 and "TensorrtExecutionProvider" not in self.providers:
            LOG.warning("%s: gpu_fp16 applies to TensorRT engines only; on %s the model runs in its own precision "
                        "(FP32)", self.name, self.providers[0])
        if options.quantization and on_gpu:
            LOG.warning("%s is a quantized model (%s): TensorRT needs signed, symmetric INT8 QDQ and cannot build "
                        "it as INT8, and the CUDA provider runs QDQ models slower than float; on a GPU use the "
                        "float model (with gpu_fp16 on TensorRT)", self.name, options.quantization)

    @staticmethod
    def _session_options(options: BackendOptions):
        import onnxruntime as ort

        session_options = ort.SessionOptions()
        session_options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        session_options.intra_op_num_threads = options.threads
        session_options.inter_op_num_threads = 1
        session_options.add_session_config_entry(
            "session.intra_op.allow_spinning", "1" if options.allow_spinning else "0")
        return session_options

    def _tensorrt_options(self, ort, model_path: Path, options: BackendOptions) -> dict[str, str]:
        """TensorRT's options for this model: the batch profile from the model's inputs, the versioned caches."""
        from pose_ros.core.models import file_sha256

        probe_options = ort.SessionOptions()
        probe_options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        probe = ort.InferenceSession(str(model_path), probe_options, providers=["CPUExecutionProvider"])  # shapes
        shapes = {i.name: tuple(i.shape) for i in probe.get_inputs()}
        free_outputs = all(o.shape and not isinstance(o.shape[0], int) for o in probe.get_outputs())
        del probe
        batches = gpu.batch_range(shapes, options.max_batch)
        profile = gpu.profile_shapes(shapes, batches) if batches and options.trt_profile else None
        if batches is None:
            LOG.warning("%s has free input dimensions besides the batch (%s): TensorRT builds an engine for every "
                        "new input shape", model_path.stem, shapes)
        elif profile and free_outputs:
            self._chunk = batches[1]
        cache = trt_cache.prepare(options.trt_cache_dir, model_path, file_sha256(model_path), options.fp16,
                                  batches, ort.__version__)
        if cache.problem:
            LOG.warning("%s: %s", model_path.stem, cache.problem)
        LOG.info("%s: TensorRT batch %s, cache %s", model_path.stem,
                 f"{batches[0]}..{batches[1]}" if batches else "free", cache.path or "off")
        return gpu.tensorrt_options(options.device_id, options.fp16, cache.path, profile)

    def _create(self, model_path, session_options, providers: list):
        """The session, and why providers before the one it runs on could not start.

        Each provider that fails to start is dropped and the rest tried again with their options kept. ONNX
        Runtime's Python layer would instead retry on CUDA and CPU *without any options* (device id lost) after
        printing to stdout; that retry is switched off (enable_fallback=0) and, for versions without the switch,
        detected by the options the session reports and undone."""
        errors: list[str] = []
        for first in range(len(providers)):
            attempt = providers[first:]
            said = io.StringIO()
            try:
                with contextlib.redirect_stdout(said):
                    session = self._ort.InferenceSession(str(model_path), sess_options=session_options,
                                                         providers=attempt, enable_fallback=0)
            except Exception as err:  # onnxruntime raises its own exception types
                errors.append(f"{_name(attempt[0])} failed to start: {type(err).__name__}: {err}")
                if _name(attempt[0]) == "CPUExecutionProvider":
                    raise BackendError(f"cannot load model file {model_path}: {type(err).__name__}: {err}") from err
                continue
            finally:
                if said.getvalue().strip():
                    errors.append(" ".join(said.getvalue().split()))
            started = session.get_providers()
            kept = [p for p in attempt if _name(p) in started]
            if not self._options_kept(session, kept):
                LOG.warning("%s: ONNX Runtime started %s without the options asked for; starting it again with them",
                            Path(model_path).stem, ", ".join(started))
                session = self._ort.InferenceSession(str(model_path), sess_options=session_options,
                                                     providers=kept, enable_fallback=0)
            return session, errors
        raise BackendError(f"cannot load model file {model_path}: {'; '.join(errors)}")  # not reached: CPU closes

    @staticmethod
    def _options_kept(session, providers: list) -> bool:
        """Whether every option asked of the started providers is what the session reports."""
        reported = session.get_provider_options()
        for provider in providers:
            if isinstance(provider, tuple):
                have = reported.get(provider[0], {})
                if any(_flag(have.get(key, "")) != _flag(value) for key, value in provider[1].items()
                       if key in ("device_id", "cudnn_conv_algo_search", "trt_fp16_enable")):
                    return False
        return True

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

    def skip_outputs(self, names: tuple[str, ...]) -> None:
        """Outputs :meth:`run` no longer fetches (None in their place): ONNX Runtime then skips the nodes only
        they need, and on a GPU they never cross the bus (BlazePose's 256x256 segmentation mask per person)."""
        unknown = set(names) - set(self.output_names)
        if unknown:
            raise ValueError(f"{self.name} has no output {sorted(unknown)}; outputs: {', '.join(self.output_names)}")
        fetch = tuple(i for i, name in enumerate(self.output_names) if name not in names)
        if not fetch:
            raise ValueError(f"{self.name}: at least one output must be fetched")
        self._fetch = fetch

    def run(self, feeds: dict) -> list[np.ndarray | None]:
        """Outputs as numpy arrays (None for skipped ones). Feeds are numpy arrays, or torch tensors already on
        :attr:`device` (torch pre-processing), which IO binding reads in place. Under a TensorRT profile a
        batch above its largest runs in chunks (no engine rebuild mid-stream)."""
        if self._chunk:
            batch = len(next(iter(feeds.values())))
            if batch > self._chunk:
                parts = [self._run_once({name: value[i:i + self._chunk] for name, value in feeds.items()})
                         for i in range(0, batch, self._chunk)]
                return [None if part[0] is None else np.concatenate(part) for part in zip(*parts)]
        return self._run_once(feeds)

    def _run_once(self, feeds: dict) -> list[np.ndarray | None]:
        self.batches_run.add(len(next(iter(feeds.values()))))
        names = [self.output_names[i] for i in self._fetch]
        if not self._io_binding:
            fetched = self._session.run(names, {name: _as_numpy(v) for name, v in feeds.items()})
        else:
            binding = self._session.io_binding()
            device_type, device_id = self._device
            for name, value in feeds.items():
                if isinstance(value, np.ndarray):  # copied to the device once, as session.run would
                    value = self._ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(value), device_type,
                                                                   device_id)
                    binding.bind_ortvalue_input(name, value)
                else:  # a torch tensor: bound by address, no copy; it must live on this session's device
                    binding.bind_input(name, device_type, device_id, self._torch_dtype(name, value),
                                       tuple(value.shape), value.data_ptr())
            for name in names:
                binding.bind_output(name, "cpu")  # decoding runs on the host: ONNX Runtime allocates them there
            self._session.run_with_iobinding(binding)
            fetched = binding.copy_outputs_to_cpu()
        out: list[np.ndarray | None] = [None] * len(self.output_names)
        for index, value in zip(self._fetch, fetched):
            out[index] = value
        return out

    def _torch_dtype(self, name: str, value):
        """The numpy dtype a torch feed is bound as: its own, which must be the model input's."""
        if str(value.device) != self.device or not value.is_contiguous():
            raise ValueError(f"input {name!r} is a tensor on {value.device} (contiguous: {value.is_contiguous()}), "
                             f"the model runs on {self.device}")
        dtype = _TORCH_TYPES.get(str(value.dtype))
        wanted = self._input_types.get(name)
        if dtype is None or (wanted is not None and dtype != wanted):
            raise ValueError(f"input {name!r} is a {value.dtype} tensor; {self.name} takes "
                             f"{np.dtype(wanted).name if wanted is not None else 'another type'}")
        return dtype

    def warm_batches(self) -> tuple[int, ...]:
        """The batches the warm-up runs: on a GPU the smallest and the largest of :attr:`batch_range` (each new
        shape costs a TensorRT engine or a cuDNN algorithm choice there); on the CPU the smallest only (the CPU
        provider prepares nothing per shape worth 4 YOLO inferences at configure). Empty for a model with a free
        image size: its first frame warms it."""
        if self.batch_range is None:
            return ()
        low, high = self.batch_range
        return (low, high) if self._device[0] == "cuda" and high != low else (low,)

    def warm_up(self) -> list[tuple[int, float | None]]:
        """Run the model on zeros at each of :meth:`warm_batches` it has not run yet, so TensorRT's engine build,
        cuDNN's algorithm choice and memory growth happen now, not on the first person or crowd. Returns
        (batch, seconds) per warm batch; seconds None where a real call had already run that batch."""
        done: list[tuple[int, float | None]] = []
        for batch in self.warm_batches():
            if batch in self.batches_run:
                done.append((batch, None))
                continue
            feeds = {name: np.zeros((batch, *shape[1:]), self._input_types.get(name) or np.float32)
                     for name, shape in zip(self.input_names, self.input_shapes)}
            start = time.perf_counter()
            self.run(feeds)
            done.append((batch, time.perf_counter() - start))
        return done


def _as_numpy(value) -> np.ndarray:
    """A feed for ``session.run``: numpy as is, a torch tensor through the host (no copy when on the CPU)."""
    return value if isinstance(value, np.ndarray) else value.detach().cpu().numpy()
