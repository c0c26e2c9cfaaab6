"""Section crowd: composite images with 1, 2, 4, 8 people (devtools/bench/crowd.py), the same image size and
person size, only the count changing."""
from __future__ import annotations

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from devtools.bench import crowd
from pose_ros.core.geometry import box_iou
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
            missed = missed_people(ctx.estimator(config), *scenes[n])
            rows.append({"config": config, "paradigm": ctx.estimator(config).paradigm, "size": n, "intended": n, "people": s["people"],
                         "median_ms": s["total_ms"], "p90_ms": s["total_p90_ms"], "stages": s["stages"], "n": s["n"],
                         "missed": missed})
    return rows


def person_label(index: int) -> str:
    source = crowd.PEOPLE[index]
    return f"cell {index + 1} ({source.photo}{', mirrored' if source.flip else ''})"


def missed_people(estimator, image: np.ndarray, boxes: np.ndarray) -> list[dict]:
    """The people put in the image that ``estimator`` does not publish: intended and published boxes matched one to
    one (optimal assignment on IoU, a match needs IoU > 0.3, so one pose spanning two people counts once), each
    missed person with whether a top-down profile's person detector reported it (None for bottom-up profiles)."""
    def matched(published: np.ndarray) -> np.ndarray:
        found = np.zeros(len(boxes), bool)
        if len(published):
            iou = box_iou(boxes, published)
            rows, cols = linear_sum_assignment(-iou)
            found[rows[iou[rows, cols] > 0.3]] = True
        return found

    published = matched(estimator(image).boxes)
    detector = getattr(estimator, "detector", None)
    detected = matched(detector(image).boxes) if detector is not None else None
    return [{"person": person_label(i), "detector_found": None if detected is None else bool(detected[i])}
            for i in np.flatnonzero(~published)]
