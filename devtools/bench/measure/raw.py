"""Section raw: each model's OrtBackend.run alone, the floor under every other number."""
from __future__ import annotations

import time

import numpy as np

from pose_ros.core.models import resolve_model
from pose_ros.core.runtime.backend import BackendOptions, OrtBackend
from devtools.bench.measure.common import BenchContext, round_robin, settled, stats_ms

# Model -> its input range (uniform noise in it: the work does not depend on the values).
MODELS = {"yolo11n_pose": (0.0, 1.0), "yolo11n_pose_int8": (0.0, 1.0), "posenet": (-1.0, 1.0),
          "blazepose_detector": (-1.0, 1.0), "blazepose_landmark_full": (0.0, 1.0)}


def measure(ctx: BenchContext) -> list[dict]:
    """Each model on a tensor of its input shape; plus yolo11n_pose with ORT's spinning worker threads on (ORT's
    own default, which ultralytics keeps; pose_ros turns it off) and on two cameras' frames in one call. Every run
    is followed by a short pause, so a spinning session's threads never steal the next run's cores."""
    rng = np.random.default_rng(0)
    variants = [(name, name, False, 1) for name in MODELS] + [
        ("yolo11n_pose (spinning on)", "yolo11n_pose", True, 1),
        ("yolo11n_pose (2 cameras' frames, one batched call)", "yolo11n_pose", False, 2)]
    cases, inputs = {}, {}
    for label, name, spinning, batch in variants:
        backend = OrtBackend(resolve_model(name).path,
                             BackendOptions(device="cpu", threads=0, allow_spinning=spinning))
        shape = tuple(d if isinstance(d, int) else batch for d in backend.input_shapes[0])
        low, high = MODELS[name]
        feed = {backend.input_names[0]: rng.uniform(low, high, shape).astype(np.float32)}
        inputs[label] = "x".join(map(str, shape))

        def call(backend=backend, feed=feed):
            t0 = time.perf_counter()
            backend.run(feed)
            return settled(time.perf_counter() - t0)
        cases[label] = call
    samples = round_robin(cases, ctx.warmup, ctx.runs)
    return [{"model": label, "input": inputs[label], **stats_ms(samples[label])} for label, _, _, _ in variants]
