"""The inference backend: providers from `device`, and the IO-binding path (used on GPUs) run on the CPU."""
import numpy as np
import pytest

from pose_ros.core.runtime.backend import BackendOptions, OrtBackend, select_providers
from pose_ros.core.models import resolve_model

ALL = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]


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


def test_tensorrt_options_carry_fp16_and_the_engine_cache():
    (trt, _cuda, _cpu) = select_providers("tensorrt", ALL, BackendOptions(device="tensorrt", fp16=True,
                                                                          trt_cache_dir="/tmp/engines"))
    assert trt[1] == {"device_id": 0, "trt_fp16_enable": True, "trt_engine_cache_enable": True,
                      "trt_engine_cache_path": "/tmp/engines"}


def test_io_binding_path_gives_the_same_outputs_as_a_plain_run():
    path = resolve_model("yolo11n_pose").path
    plain = OrtBackend(path, BackendOptions(device="cpu"))
    bound = OrtBackend(path, BackendOptions(device="cpu", io_binding=True))
    x = np.random.default_rng(0).random((1, 3, 640, 640), dtype=np.float32)
    np.testing.assert_array_equal(plain.run({"images": x})[0], bound.run({"images": x})[0])
