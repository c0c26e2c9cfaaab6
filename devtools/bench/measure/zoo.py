"""Section zoo: every profile of config/ (the model zoo, `model:=NAME`) through the core pipeline on the same five
photos, interleaved round by round: people found and latency per photo, so the README's zoo table and the
paradigms' speed ratios come from one run."""
from __future__ import annotations

from pose_ros.core.models import default_model_dir, unavailable_reason
from pose_ros.core.profiles import available_profiles
from devtools.bench.measure.common import (PHOTOS, BenchContext, log, named_config, round_robin, summarize_pipeline,
                                           timed_call)

# Profiles measured elsewhere: `auto` switches between two of the others (section features).
NOT_HERE = ("auto",)


def zoo_profiles() -> dict[str, str]:
    """Profile name -> the earlier profile it equals ("" if none): config files that configure the same thing
    (yolo11n_pose and yolo11n_pose_640) are measured once."""
    seen: dict = {}
    out = {}
    for name in available_profiles():
        if name in NOT_HERE:
            continue
        config = named_config(name)
        if unavailable_reason(default_model_dir(), config.model):  # optional weights not built here (OpenPifPaf)
            continue
        out[name] = next((other for other, c in seen.items() if c == config), "")
        if not out[name]:
            seen[name] = config
    return out


def measure(ctx: BenchContext) -> dict:
    profiles = zoo_profiles()
    measured = [p for p, same in profiles.items() if not same]
    log(f"zoo: {len(measured)} profiles x {len(PHOTOS)} photos, interleaved")
    cases = {(p, photo): timed_call(ctx.estimator(p), ctx.images[photo]) for p in measured for photo in PHOTOS}
    samples = round_robin(cases, ctx.warmup, ctx.runs)
    rows = []
    for profile in measured:
        estimator = ctx.estimator(profile)
        per_photo = {photo: summarize_pipeline(samples[(profile, photo)]) for photo in PHOTOS}
        rows.append({"config": profile, "paradigm": estimator.paradigm, "model": estimator.status()["model"],
                     "photos": {photo: {"people": s["people"], "total_ms": s["total_ms"], "p90_ms": s["total_p90_ms"]}
                                for photo, s in per_photo.items()}})
    return {"rows": rows, "same_as": {p: same for p, same in profiles.items() if same}, "reference": "yolo11n_pose"}
