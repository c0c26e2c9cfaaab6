"""Section accuracy: every profile's COCO keypoint AP (pycocotools, through pose_ros/tools/evaluate.py, the same
code as `python -m pose_ros evaluate`) on the COCO photos of ../shared/data/coco_minipose: val2017 (the headline),
train2017 (reported apart: the models were trained on COCO train2017), and for top-down profiles val2017 on the
ground-truth boxes (MMPose's protocol: the keypoint model alone); with each profile's median time per COCO image
from the same run, and which profiles are on the AP/latency Pareto front (no other is both faster and more
accurate)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from devtools.bench.measure.common import REPO, BenchContext, log
from devtools.bench.measure.zoo import zoo_profiles

MINICOCO = REPO.parent / "shared" / "data" / "coco_minipose"
SETS = ("val2017", "train2017")
HEADLINE = "val2017"
METRICS = ("AP", "AP50", "AP75", "APm", "APl", "AR")


def annotations(root: Path, name: str) -> Path:
    return root / "annotations" / f"person_keypoints_{name}.json"


class Timed:
    """A predictor that keeps the seconds of each call (the estimate alone: not the image read, not scoring)."""

    def __init__(self, predict):
        self.predict, self.seconds = predict, []

    def __call__(self, image, anns):
        t0 = time.perf_counter()
        poses = self.predict(image, anns)
        self.seconds.append(time.perf_counter() - t0)
        return poses


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
    rows = []
    for profile in profiles:
        config = load_profile(profile, device="cpu", **ev.EVALUATION_SETTINGS)
        models = build_models(config)
        model = next(iter(models.by_mode.values()))
        row = {"config": profile, "paradigm": model.paradigm}
        for name, truth in truths.items():
            timed = Timed(ev.stream_predictor(models))
            scores = ev.evaluate(truth, root / "images" / name, timed, progress=False)
            row[name] = {**{m: scores[m] for m in METRICS}, "people_found": scores["people_found"],
                         "per_joint": scores["per_joint"], "median_ms": float(np.median(timed.seconds) * 1e3)}
        if "top_down" in models.by_mode:
            scores = ev.evaluate(truths[HEADLINE], root / "images" / HEADLINE,
                                 ev.ground_truth_box_predictor(models.by_mode["top_down"]), progress=False)
            row["gt_boxes"] = {m: scores[m] for m in METRICS}
        log(f"   {profile}: AP {HEADLINE} {row[HEADLINE]['AP']:.3f}, train2017 {row['train2017']['AP']:.3f}"
            + (f", ground-truth boxes {row['gt_boxes']['AP']:.3f}" if "gt_boxes" in row else "")
            + f"; {row[HEADLINE]['median_ms']:.0f} ms per image")
        rows.append(row)
    front = pareto({r["config"]: (r[HEADLINE]["median_ms"], r[HEADLINE]["AP"]) for r in rows})
    return {"rows": rows, "pareto": front, "headline": HEADLINE, "person_threshold":
            ev.EVALUATION_SETTINGS["person_threshold"],
            "sets": {s: {"images": len(t.image_ids), "people": t.people_with_keypoints} for s, t in truths.items()},
            "data": str(root.relative_to(REPO.parent)) if root.is_relative_to(REPO.parent) else str(root)}
