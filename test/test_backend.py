"""The inference backend: providers from `device`, the IO-binding path (used on GPUs) run on the CPU, and the GPU
cases simulated on the CPU: sessions whose get_providers() differs from the request (a GPU build whose libraries do
not load, a TensorRT provider that fails to start, ONNX Runtime's Python layer retrying without options), provider
options checked against ONNX Runtime's documented keys, the TensorRT batch profile and caches, the warm-up.

A simulated GPU session is a real CPU session that *reports* GPU providers: everything the backend decides from
the report runs for real (messages, fallback rules, options, chunking, warm-up), the arithmetic runs on the CPU.
"""
from __future__ import annotations

import functools
import logging
import os
import re
import sys
import types

import numpy as np
import onnxruntime
import pytest

from pose_ros.core.config import PoseConfig
from pose_ros.core.models import resolve_model
from pose_ros.core.runtime import gpu, trt_cache
from pose_ros.core.runtime.backend import BackendError, BackendOptions, OrtBackend, select_providers

ALL = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
REAL_SESSION = onnxruntime.InferenceSession

# Documented option keys of ONNX Runtime's execution providers (onnxruntime.ai/docs/execution-providers/
# CUDA-ExecutionProvider.html and TensorRT-ExecutionProvider.html, "Configurations"; the same names are parsed in
# onnxruntime/core/providers/{cuda,tensorrt}/*_execution_provider_info.cc). Every key the backend sends must be one.
CUDA_KEYS = {"device_id", "gpu_mem_limit", "arena_extend_strategy", "cudnn_conv_algo_search",
             "do_copy_in_default_stream", "cudnn_conv_use_max_workspace", "cudnn_conv1d_pad_to_nc1d",
             "enable_cuda_graph", "enable_skip_layer_norm_strict_mode", "use_tf32", "prefer_nhwc",
             "use_ep_level_unified_stream", "tunable_op_enable", "tunable_op_tuning_enable",
             "tunable_op_max_tuning_duration_ms", "gpu_external_alloc", "gpu_external_free",
             "gpu_external_empty_cache", "has_user_compute_stream", "user_compute_stream", "sdpa_kernel"}
TENSORRT_KEYS = {"device_id", "user_compute_stream", "has_user_compute_stream", "trt_max_workspace_size",
                 "trt_max_partition_iterations", "trt_min_subgraph_size", "trt_fp16_enable", "trt_bf16_enable",
                 "trt_int8_enable", "trt_int8_calibration_table_name", "trt_int8_use_native_calibration_table",
                 "trt_dla_enable", "trt_dla_core", "trt_dump_subgraphs", "trt_engine_cache_enable",
                 "trt_engine_cache_path", "trt_engine_cache_prefix", "trt_engine_decryption_enable",
                 "trt_engine_decryption_lib_path", "trt_force_sequential_engine_build",
                 "trt_context_memory_sharing_enable", "trt_layer_norm_fp32_fallback", "trt_timing_cache_enable",
                 "trt_timing_cache_path", "trt_force_timing_cache", "trt_detailed_build_log",
                 "trt_build_heuristics_enable", "trt_sparsity_enable", "trt_builder_optimization_level",
                 "trt_auxiliary_streams", "trt_tactic_sources", "trt_extra_plugin_lib_paths",
                 "trt_profile_min_shapes", "trt_profile_max_shapes", "trt_profile_opt_shapes",
                 "trt_cuda_graph_enable", "trt_dump_ep_context_model", "trt_ep_context_file_path",
                 "trt_ep_context_embed_mode", "trt_engine_hw_compatible", "trt_op_types_to_exclude"}
BOOLEAN = {"True", "False", "true", "false", "1", "0"}  # what ONNX Runtime's option parser accepts for a flag
PROFILE = re.compile(r"^[^:,]+:\d+(x\d+)*(,[^:,]+:\d+(x\d+)*)*$")  # name:1x3x640x640[,name:...]


def check_documented(name: str, options: dict) -> None:
    keys = TENSORRT_KEYS if name == "TensorrtExecutionProvider" else CUDA_KEYS
    assert set(options) <= keys, f"undocumented {name} keys: {set(options) - keys}"
    for key, value in options.items():
        assert isinstance(value, str), (key, value)
        if key.endswith(("_enable", "_fallback")):
            assert value in BOOLEAN, (key, value)
        if key == "device_id":
            assert value.isdigit()
        if key == "cudnn_conv_algo_search":
            assert value in {"EXHAUSTIVE", "HEURISTIC", "DEFAULT"}
        if key.startswith("trt_profile_"):
            assert PROFILE.match(value), (key, value)


class SimulatedSession:
    """A real CPU session reporting the providers ``started(requested)`` gives (or raising what it raises), with
    the options asked of them, as ONNX Runtime reports them (flags as 1/0). Records every construction and the
    batch of every run."""

    started = staticmethod(lambda requested: [p if isinstance(p, str) else p[0] for p in requested])
    reported_options = None  # None: the options asked for; else a function(requested) -> dict
    created: list = []

    def __init__(self, path, sess_options=None, providers=None, **kwargs):
        type(self).created.append((list(providers), kwargs))
        self._providers = list(type(self).started(providers))
        asked = {p[0]: p[1] for p in providers if isinstance(p, tuple)}
        self._options = (type(self).reported_options(providers) if type(self).reported_options else
                         {name: {k: {"True": "1", "False": "0"}.get(v, v) for k, v in asked.get(name, {}).items()}
                          for name in self._providers})
        self._real = REAL_SESSION(path, sess_options, providers=["CPUExecutionProvider"])
        self.batches: list[int] = []

    def get_providers(self):
        return self._providers

    def get_provider_options(self):
        return self._options

    def get_inputs(self):
        return self._real.get_inputs()

    def get_outputs(self):
        return self._real.get_outputs()

    def run(self, names, feeds):
        self.batches.append(len(next(iter(feeds.values()))))
        return self._real.run(names, feeds)


@pytest.fixture
def simulated(monkeypatch):
    """A GPU machine as far as ONNX Runtime's reports go: TensorRT, CUDA and CPU providers in the build; sessions
    are SimulatedSession (the test sets what they start). No CPU io binding to a fake device: io_binding off."""
    class Session(SimulatedSession):
        created = []

    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: list(ALL))
    monkeypatch.setattr(onnxruntime, "InferenceSession", Session)
    gpu.prepare_libraries.cache_clear()
    yield Session
    gpu.prepare_libraries.cache_clear()


def gpu_options(**kwargs) -> BackendOptions:
    return BackendOptions(io_binding=False, **kwargs)


def only_cpu(requested):
    return ["CPUExecutionProvider"]


@pytest.mark.parametrize("device, available, expected", [
    ("cpu", ALL, ["CPUExecutionProvider"]),
    ("auto", ALL, ["CUDAExecutionProvider", "CPUExecutionProvider"]),  # TensorRT only when asked for
    ("cuda", ALL, ["CUDAExecutionProvider", "CPUExecutionProvider"]),
    ("tensorrt", ALL, ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]),
    ("tensorrt", ["CPUExecutionProvider"], ["CPUExecutionProvider"]),
])
def test_providers_follow_the_device(device, available, expected):
    chosen = select_providers(device, available, BackendOptions(device=device))
    assert [p if isinstance(p, str) else p[0] for p in chosen] == expected


def test_every_option_sent_is_a_documented_key_with_a_valid_value():
    profile = gpu.profile_shapes({"images": ("batch", 3, 640, 640)}, (1, 4))
    trt = gpu.tensorrt_options(2, True, "/tmp/engines", profile)
    chosen = select_providers("tensorrt", ALL, BackendOptions(device="tensorrt", device_id=2), trt)
    for name, options in chosen[:2]:
        check_documented(name, options)
    assert chosen[1][1] == {"device_id": "2", "cudnn_conv_algo_search": "HEURISTIC"}  # no re-search per crop count
    assert trt == {"device_id": "2", "trt_fp16_enable": "True",
                   "trt_engine_cache_enable": "True", "trt_engine_cache_path": "/tmp/engines",
                   "trt_timing_cache_enable": "True", "trt_timing_cache_path": "/tmp/engines",
                   "trt_profile_min_shapes": "images:1x3x640x640", "trt_profile_opt_shapes": "images:1x3x640x640",
                   "trt_profile_max_shapes": "images:4x3x640x640"}


@pytest.mark.parametrize("shapes, max_batch, expected", [
    ({"images": ("batch", 3, 640, 640)}, 4, (1, 4)),  # YOLO: frames of several cameras
    ({"input_1": ("batch", 256, 256, 3)}, 6, (1, 6)),  # BlazePose landmarks: people of a frame
    ({"image:0": (1, 385, 385, 3)}, 4, (1, 1)),  # PoseNet: a fixed batch is its own range
    ({"input": (1, "h", "w", 3)}, 4, None),  # MoveNet MultiPose: a free image size, no fixed range
])
def test_batch_range_comes_from_the_model_inputs(shapes, max_batch, expected):
    assert gpu.batch_range(shapes, max_batch) == expected
    if expected == (1, 1):
        assert gpu.profile_shapes(shapes, expected) is None  # all fixed: TensorRT needs no profile


def test_io_binding_path_gives_the_same_outputs_as_a_plain_run():
    path = resolve_model("yolo11n_pose").path
    plain = OrtBackend(path, BackendOptions(device="cpu"))
    bound = OrtBackend(path, BackendOptions(device="cpu", io_binding=True))
    x = np.random.default_rng(0).random((1, 3, 640, 640), dtype=np.float32)
    np.testing.assert_array_equal(plain.run({"images": x})[0], bound.run({"images": x})[0])


def test_torch_feeds_are_bound_with_their_own_dtype_which_must_be_the_models():
    torch = pytest.importorskip("torch")
    bound = OrtBackend(resolve_model("blazepose_landmark_full").path, BackendOptions(device="cpu", io_binding=True))
    x = torch.rand((1, 256, 256, 3), dtype=torch.float32)
    np.testing.assert_allclose(bound.run({"input_1": x})[0], bound.run({"input_1": x.numpy()})[0])
    for dtype in (torch.float16, torch.float64, torch.uint8):
        with pytest.raises(ValueError, match=f"{str(dtype)}.*takes float32"):
            bound.run({"input_1": x.to(dtype)})


# --- allow_cpu_fallback against what the session started ------------------------------------------------------

@pytest.mark.parametrize("device", ["cuda", "tensorrt"])
def test_a_gpu_build_whose_libraries_do_not_load_is_refused_when_cpu_fallback_is_off(simulated, device):
    simulated.started = staticmethod(only_cpu)  # what onnxruntime-gpu does without CUDA/cuDNN: CPU, a warning
    with pytest.raises(BackendError, match="build has but could not start.*CPU fall back is off") as err:
        OrtBackend(resolve_model("yolo11n_pose").path, gpu_options(device=device, allow_cpu_fallback=False))
    assert "does not have" not in str(err.value) and "pose_ros[gpu]" in str(err.value)


def test_the_same_with_fallback_on_runs_on_the_cpu_and_says_why(simulated, caplog):
    simulated.started = staticmethod(only_cpu)
    with caplog.at_level(logging.WARNING):
        backend = OrtBackend(resolve_model("yolo11n_pose").path, gpu_options(device="cuda"))
    assert backend.providers == ("CPUExecutionProvider",) and backend.device == "cpu"
    assert "could not start" in backend.fallback and "could not start" in caplog.text
    assert backend.status() == {"device": "cuda asked, running on CPU: CPUExecutionProvider"}
    x = np.zeros((1, 3, 640, 640), np.float32)
    assert backend.run({"images": x})[0].shape == (1, 56, 8400)


def test_a_cpu_only_build_is_refused_before_loading_and_named_as_such(monkeypatch):
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CPUExecutionProvider"])
    with pytest.raises(BackendError, match="this onnxruntime build lacks"):
        OrtBackend(resolve_model("yolo11n_pose").path, BackendOptions(device="cuda", allow_cpu_fallback=False))


def test_auto_on_a_gpu_build_that_cannot_start_cuda_warns(simulated, caplog):
    simulated.started = staticmethod(only_cpu)
    with caplog.at_level(logging.INFO):
        OrtBackend(resolve_model("blazepose_detector").path, gpu_options(device="auto"))
    assert any(r.levelno == logging.WARNING and "could not start" in r.message for r in caplog.records)


def test_onnx_runtimes_own_retry_is_switched_off(simulated):
    OrtBackend(resolve_model("blazepose_detector").path, gpu_options(device="cuda"))
    assert simulated.created and all(kwargs.get("enable_fallback") == 0 for _, kwargs in simulated.created)


def test_a_tensorrt_failure_is_retried_on_cuda_with_its_options_kept(simulated, tmp_path):
    def started(requested):
        if requested[0][0] == "TensorrtExecutionProvider":
            raise RuntimeError("TensorRT EP could not create its builder (libnvinfer.so.10 not found)")
        return [p if isinstance(p, str) else p[0] for p in requested]

    simulated.started = staticmethod(started)
    backend = OrtBackend(resolve_model("yolo11n_pose").path,
                         gpu_options(device="tensorrt", device_id=1, allow_cpu_fallback=False,
                                     trt_cache_dir=str(tmp_path)))
    assert backend.providers == ("CUDAExecutionProvider", "CPUExecutionProvider")
    assert backend.device == "cuda:1"
    retry, kwargs = simulated.created[-1]
    assert retry[0] == ("CUDAExecutionProvider", {"device_id": "1", "cudnn_conv_algo_search": "HEURISTIC"})
    assert "libnvinfer.so.10" in backend.fallback  # the reason travels to the log and /diagnostics


def test_onnx_runtimes_retry_without_options_is_detected_and_undone(simulated, caplog):
    """ONNX Runtime versions without enable_fallback retry TensorRT failures on CUDA with no options at all."""
    simulated.started = staticmethod(lambda requested: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    simulated.reported_options = staticmethod(lambda requested: {
        "CUDAExecutionProvider": {"device_id": "0", "cudnn_conv_algo_search": "EXHAUSTIVE"}}
        if requested[0][0] == "TensorrtExecutionProvider" else
        {"CUDAExecutionProvider": {"device_id": "1", "cudnn_conv_algo_search": "HEURISTIC"}})
    with caplog.at_level(logging.WARNING):
        backend = OrtBackend(resolve_model("blazepose_detector").path,
                             gpu_options(device="tensorrt", device_id=1, trt_cache_dir=""))
    assert "without the options asked for" in caplog.text
    assert simulated.created[-1][0] == [("CUDAExecutionProvider", {"device_id": "1",
                                                                   "cudnn_conv_algo_search": "HEURISTIC"}),
                                        "CPUExecutionProvider"]
    assert backend.device == "cuda:1"


def test_fp16_on_cuda_and_a_quantized_model_on_a_gpu_are_warned_about(simulated, caplog):
    simulated.started = staticmethod(lambda requested: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    with caplog.at_level(logging.WARNING):
        OrtBackend(resolve_model("yolo11n_pose_int8").path,
                   gpu_options(device="cuda", fp16=True, quantization="static QDQ, uint8 activations"))
    assert "gpu_fp16 applies to TensorRT engines only" in caplog.text
    assert "quantized model" in caplog.text and "float model" in caplog.text


def test_libraries_are_prepared_before_the_first_gpu_session_torch_first(simulated, monkeypatch):
    events = []
    monkeypatch.setattr(onnxruntime, "preload_dlls", lambda *a, **k: events.append(("preload", "torch" in sys.modules)),
                        raising=False)
    real_init = simulated.__init__
    monkeypatch.setattr(simulated, "__init__", lambda self, *a, **k: (events.append(("session", None)),
                                                                       real_init(self, *a, **k))[1])
    OrtBackend(resolve_model("blazepose_detector").path, gpu_options(device="cuda", import_torch=True))
    assert events[0] == ("preload", True) and events[1][0] == "session"
    OrtBackend(resolve_model("blazepose_detector").path, gpu_options(device="cuda", import_torch=True))
    assert [e for e in events if e[0] == "preload"] == [("preload", True)]  # once per process


def test_torch_and_onnx_runtime_must_share_the_cuda_major():
    fake_torch = types.SimpleNamespace(__version__="2.9.0+cu128", version=types.SimpleNamespace(cuda="12.8"),
                                       cuda=types.SimpleNamespace(is_available=lambda: True),
                                       backends=types.SimpleNamespace(cudnn=types.SimpleNamespace(
                                           version=lambda: 91002)))
    said = gpu._torch_mismatch(fake_torch, {"package_name": "onnxruntime-gpu", "cuda_version": "13.0",
                                            "cudnn_version": "9.14"})
    assert len(said) == 1 and "CUDA 12.8" in said[0] and "CUDA 13.x" in said[0]
    assert gpu._torch_mismatch(fake_torch, {"cuda_version": "12.9", "cudnn_version": "8.9"})[0].startswith(
        "torch uses cuDNN 91002")
    assert (gpu._major("13.0"), gpu._major(91002), gpu._major(8907), gpu._major(None)) == (13, 9, 8, None)
    fake_torch.version.cuda, fake_torch.backends.cudnn.version = "13.0", lambda: 8907
    said = gpu._torch_mismatch(fake_torch, {"cuda_version": "13.0"})  # 1.31.1 records no cuDNN: 9 for CUDA 13
    assert len(said) == 1 and "cuDNN 8907" in said[0] and "cuDNN 9" in said[0]


# --- TensorRT: batch profile, chunks, caches -------------------------------------------------------------------

def test_tensorrt_gets_a_batch_profile_and_larger_batches_run_in_chunks(simulated, tmp_path):
    path = resolve_model("blazepose_landmark_full").path
    backend = OrtBackend(path, gpu_options(device="tensorrt", max_batch=4, trt_cache_dir=str(tmp_path)))
    trt = simulated.created[-1][0][0][1]
    check_documented("TensorrtExecutionProvider", trt)
    assert (trt["trt_profile_min_shapes"], trt["trt_profile_max_shapes"]) == ("input_1:1x256x256x3",
                                                                             "input_1:4x256x256x3")
    crops = np.random.default_rng(1).random((6, 256, 256, 3), dtype=np.float32)
    outputs = backend.run({"input_1": crops})
    assert backend._session.batches == [4, 2]  # never outside the profile: no engine rebuild mid-stream
    reference = OrtBackend(path, BackendOptions(device="cpu")).run({"input_1": crops})
    for got, want in zip(outputs, reference):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_a_model_with_a_free_image_size_gets_no_profile(simulated, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        OrtBackend(resolve_model("movenet_multipose").path, gpu_options(device="tensorrt",
                                                                          trt_cache_dir=str(tmp_path)))
    assert not any(k.startswith("trt_profile") for k in simulated.created[-1][0][0][1])
    assert "builds an engine for every new input shape" in caplog.text


def test_the_cache_directory_is_created_and_versioned(simulated, tmp_path):
    root = tmp_path / "missing" / "trt"
    spec = resolve_model("yolo11n_pose")
    OrtBackend(spec.path, gpu_options(device="tensorrt", fp16=True, trt_cache_dir=str(root)))
    trt = simulated.created[-1][0][0][1]
    cache = trt["trt_engine_cache_path"]
    assert trt["trt_timing_cache_path"] == cache and trt["trt_engine_cache_enable"] == "True"
    assert cache == str(root / f"ort{onnxruntime.__version__}_trt{trt_cache.tensorrt_version()}" /
                        f"yolo11n_pose_{spec.sha256[:12]}_fp16_b1-4")
    assert (root.joinpath(cache) / trt_cache.STAMP).is_file()


@pytest.mark.parametrize("where", ["under a file", "read-only filesystem", "read-only directory"])
def test_an_unusable_cache_directory_turns_the_cache_off_with_a_clear_warning(simulated, tmp_path, caplog, where):
    if where == "under a file":
        (tmp_path / "file").write_text("")
        root = tmp_path / "file" / "trt"
    elif where == "read-only filesystem":  # /proc refuses new entries even to root
        if not sys.platform.startswith("linux"):
            pytest.skip("/proc is Linux's")
        root = "/proc/self"
    else:
        if os.geteuid() == 0:
            pytest.skip("root ignores directory permissions; the two cases above take the same branch")
        root = tmp_path / "ro"
        root.mkdir(mode=0o555)
    with caplog.at_level(logging.WARNING):
        backend = OrtBackend(resolve_model("blazepose_detector").path,
                             gpu_options(device="tensorrt", trt_cache_dir=str(root)))
    assert not any("cache" in key for key in simulated.created[-1][0][0][1])
    assert f"TensorRT cache directory {root} cannot be used" in caplog.text
    assert "set trt_cache_dir to a writable directory" in caplog.text
    assert backend.providers[0] == "TensorrtExecutionProvider"  # the model still runs, without a cache


# --- outputs, warm-up -------------------------------------------------------------------------------------------

def test_skipped_outputs_are_not_fetched_and_the_rest_are_unchanged():
    path = resolve_model("blazepose_landmark_full").path
    full, lean = OrtBackend(path, BackendOptions(device="cpu")), OrtBackend(path, BackendOptions(device="cpu"))
    lean.skip_outputs(("Identity_2", "Identity_4"))
    x = np.random.default_rng(2).random((2, 256, 256, 3), dtype=np.float32)
    want, got = full.run({"input_1": x}), lean.run({"input_1": x})
    assert got[2] is None and got[4] is None
    for i in (0, 1, 3):
        np.testing.assert_allclose(got[i], want[i], rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="no output.*outputs: Identity"):
        lean.skip_outputs(("segmentation",))


def test_blazepose_landmarks_skip_the_segmentation_mask():
    from pose_ros.core.pipeline import build_models

    models = build_models(PoseConfig(mode="top_down", model="blazepose_landmark_full", detector="yolo11n_pose",
                                     device="cpu"))
    backend = models.by_mode["top_down"].backend
    assert [backend.output_names[i] for i in backend._fetch] == ["Identity", "Identity_1", "Identity_3"]


def test_warm_up_on_the_cpu_runs_each_model_at_its_smallest_batch_once():
    from pose_ros.core.pipeline import build_models

    models = build_models(PoseConfig(mode="top_down", model="blazepose_landmark_full", detector="yolo11n_pose",
                                     device="cpu"))
    lines = models.warm_up()
    # the blank frame ran YOLO at batch 1; nobody was found, so the landmark model ran only through the warm-up
    assert lines == [lines[0], lines[1]] and "yolo11n_pose on CPUExecutionProvider: batch 1 (by the first frame)" \
        in lines[0]
    assert re.search(r"blazepose_landmark_full on CPUExecutionProvider: batch 1 \d+ ms$", lines[1])
    assert models.by_mode["top_down"].backend.batches_run == {1}


def test_warm_up_on_a_gpu_runs_every_model_at_its_smallest_and_largest_batch(simulated, monkeypatch):
    """Top-down on a (simulated) CUDA device: the detector and the keypoint model each at batch 1 and max_batch."""
    from pose_ros.core.families import loading
    from pose_ros.core.pipeline import build_models

    monkeypatch.setattr(loading, "BackendOptions", functools.partial(BackendOptions, io_binding=False))
    models = build_models(PoseConfig(mode="auto", model="blazepose_landmark_full", detector="yolo11n_pose",
                                     device="cuda", max_batch=3, preprocess="opencv"))
    lines = models.warm_up()
    top_down = models.by_mode["top_down"]
    landmarks, yolo = top_down.backend, top_down.detector.backend
    assert yolo is models.by_mode["bottom_up"].backend  # one session, warmed once
    assert landmarks.device == "cuda:0" and landmarks.warm_batches() == (1, 3)
    assert landmarks._session.batches == [1, 3]
    assert sorted(yolo._session.batches) == [1, 1, 3]  # two blank frames (one per mode), then batch 3
    assert len(lines) == 2 and all("on CUDAExecutionProvider" in line for line in lines)
    assert re.search(r"batch 1 \d+ ms, batch 3 \d+ ms$", lines[1])


def test_without_onnxruntime_the_error_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed: import raises ImportError
    with pytest.raises(BackendError, match=r"pip install 'pose_ros\[cpu\]'.*'pose_ros\[gpu\]'.*Jetson"):
        OrtBackend(resolve_model("blazepose_detector").path, BackendOptions(device="cpu"))
