"""Section pipeline: the core pipeline per stage (detect, preprocess, infer, decode) per config, no ROS."""
from __future__ import annotations

from devtools.bench.measure.common import PHOTOS, BenchContext, image_label, log, round_robin, summarize_pipeline, timed_call

CONFIGS = ("yolo11n_pose", "blazepose_full", "blazepose_full (tiling off)", "blazepose_full_yolo")


def measure(ctx: BenchContext) -> list[dict]:
    rows = []
    for config in CONFIGS:
        log(f"pipeline: {config}")
        estimator = ctx.estimator(config)
        samples = round_robin({p: timed_call(estimator, ctx.images[p]) for p in PHOTOS}, ctx.warmup, ctx.runs)
        rows += [{"config": config, "photo": p, "image": image_label(ctx.images[p]), **summarize_pipeline(samples[p])}
                 for p in PHOTOS]
    return rows
