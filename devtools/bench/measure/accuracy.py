"""Section accuracy: every profile's COCO keypoint AP (pycocotools, through pose_ros/tools/evaluate.py, the same
code as `python -m pose_ros evaluate`) on the COCO photos of ../shared/data/coco_minipose: val2017 (the headline),
train2017 (reported apart: the models were trained on COCO train2017), and for top-down profiles val2017 on the
ground-truth boxes (MMPose's protocol: the keypoint model alone); with each profile's median time per COCO image
(the first 5 val2017 images, every profile interleaved round by round), and which profiles are on the AP/latency Pareto front (no other is both faster and more
accurate)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from devtools.bench.measure.common import REPO, BenchContext, log, round_robin
from devtools.bench.measure.zoo import zoo_profiles

MINICOCO = REPO.parent / "shared" / "data" / "coco_minipose"
SETS = ("val2017", "train2017")
HEADLINE = "val2017"
METRICS = ("AP", "AP50", "AP75", "APm", "APl", "AR")
TIMING_IMAGES, TIMING_ROUNDS = 5, 5  # latency: the first 5 headline images, every profile interleaved per round


def annotations(root: Path, name: str) -> Path:
    return root / "annotations" / f"person_keypoints_{name}.json"


def timed(predict, image):
    """One timed estimate of ``image`` (seconds), for round_robin."""
    def call() -> float:
        t0 = time.perf_counter()
        predict(image, [])
        return time.perf_counter() - t0
    return call


def latencies(predictors: dict, images: list, warmup: int, rounds: int) -> dict[str, float]:
    """Median ms per image of each profile's predictor, all profiles and images interleaved round by round (so a
    change of machine load hits them alike: the accuracy passes themselves run one profile after another)."""
    cases = {(name, i): timed(predict, image) for name, predict in predictors.items()
             for i, image in enumerate(images)}
    samples = round_robin(cases, warmup, rounds)
    return {name: float(np.median([t for (n, _), ts in samples.items() if n == name for t in ts]) * 1e3)
            for name in predictors}


def image_paths(truth, images_dir: Path) -> list[Path]:
    return [images_dir / truth.coco.imgs[i]["file_name"] for i in truth.image_ids[:TIMING_IMAGES]]


def pareto(points: dict[str, tuple[float, float]]) -> list[str]:
    """Names whose (latency, AP) no other point beats on both (lower latency and higher AP, one strictly)."""
    front = []
    for name, (ms, ap) in points.items():
        if not any(o_ms <= ms and o_ap >= ap and (o_ms, o_ap) != (ms, ap) for o_ms, o_ap in points.values()):
            front.append(name)
    return sorted(front, key=lambda n: points[n][0])


def measure(ctx: BenchContext, root: Path = MINICOCO, profiles: list[str] | None = None) -> dict | None:
    from pose_ros.core.pipeline import build_models
    from pose_ros.core.profiles import load_profile
    from pose_ros.tools import evaluate as ev

    missing = [p for p in (annotations(root, s) for s in SETS) if not p.is_file()]
    if missing:
        log(f"accuracy: skipped, {missing[0]} is missing")
        return None
    truths = {s: ev.GroundTruth.load(annotations(root, s)) for s in SETS}
    profiles = profiles or [p for p, same in zoo_profiles().items() if not same]
    log(f"accuracy: {len(profiles)} profiles x {', '.join(f'{s} {len(t.image_ids)} images' for s, t in truths.items())}")
    rows, predictors = [], {}
    for profile in profiles:
        config = load_profile(profile, device="cpu", **ev.EVALUATION_SETTINGS)
        models = build_models(config)
        model = next(iter(models.by_mode.values()))
        row = {"config": profile, "paradigm": model.paradigm}
        predictors[profile] = ev.stream_predictor(models)
        for name, truth in truths.items():
            scores = ev.evaluate(truth, root / "images" / name, predictors[profile], progress=False)
            row[name] = {**{m: scores[m] for m in METRICS}, "people_found": scores["people_found"],
                         "per_joint": scores["per_joint"]}
        if "top_down" in models.by_mode:
            scores = ev.evaluate(truths[HEADLINE], root / "images" / HEADLINE,
                                 ev.ground_truth_box_predictor(models.by_mode["top_down"]), progress=False)
            row["gt_boxes"] = {m: scores[m] for m in METRICS}
        log(f"   {profile}: AP {HEADLINE} {row[HEADLINE]['AP']:.3f}, train2017 {row['train2017']['AP']:.3f}"
            + (f", ground-truth boxes {row['gt_boxes']['AP']:.3f}" if "gt_boxes" in row else ""))
        rows.append(row)
    import cv2

    truth = truths[HEADLINE]
    images = [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in image_paths(truth, root / "images" / HEADLINE)]
    rounds = min(TIMING_ROUNDS, ctx.runs) if ctx is not None else TIMING_ROUNDS
    log(f"accuracy: latency, {len(images)} {HEADLINE} images x {rounds} rounds, profiles interleaved")
    for row, (profile, ms) in zip(rows, latencies(predictors, images, 1, rounds).items()):
        row[HEADLINE]["median_ms"] = ms
    front = pareto({r["config"]: (r[HEADLINE]["median_ms"], r[HEADLINE]["AP"]) for r in rows})
    return {"rows": rows, "pareto": front, "headline": HEADLINE, "person_threshold":
            ev.EVALUATION_SETTINGS["person_threshold"],
            "sets": {s: {"images": len(t.image_ids), "people": t.people_with_keypoints} for s, t in truths.items()},
            "data": str(root.relative_to(REPO.parent)) if root.is_relative_to(REPO.parent) else str(root)}
