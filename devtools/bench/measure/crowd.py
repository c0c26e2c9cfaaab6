"""Section crowd: composite images with 1, 2, 4, 8 people (devtools/bench/crowd.py), the same image size and
person size, only the count changing."""
from __future__ import annotations

import cv2

from devtools.bench import crowd
from devtools.bench.measure.common import BenchContext, log, round_robin, summarize_pipeline, timed_call
from devtools.bench.measure.zoo import zoo_profiles


def measure(ctx: BenchContext) -> list[dict]:
    """Every crowd size through every profile of the zoo (sizes interleaved per profile); the images are kept in
    the work folder. "intended" = the people put in the image; "people" = the people the profile reports."""
    crops = crowd.load_person_crops(ctx.photo_paths)
    scenes = crowd.crowd_images(crops)
    for n, (image, _) in scenes.items():
        cv2.imwrite(str(ctx.work / f"crowd_{n}.jpg"), image)
    rows = []
    for config in [p for p, same in zoo_profiles().items() if not same]:
        log(f"crowd: {config}")
        samples = round_robin({n: timed_call(ctx.estimator(config), scenes[n][0]) for n in scenes}, ctx.warmup,
                              ctx.runs)
        for n in scenes:
            s = summarize_pipeline(samples[n])
            rows.append({"config": config, "paradigm": ctx.estimator(config).paradigm, "size": n, "intended": n, "people": s["people"],
                         "median_ms": s["total_ms"], "p90_ms": s["total_p90_ms"], "stages": s["stages"], "n": s["n"]})
    return rows
