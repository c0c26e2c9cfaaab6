"""Section features: mode auto against both fixed modes on the crowd images; tracking id switches, smoothing
jitter and lag on synthetic sequences of real poses with exact ground truth, and their cost per frame."""
from __future__ import annotations

import numpy as np

from devtools.bench import crowd
from devtools.bench.measure.common import AutoStreamCall, BenchContext, round_robin, summarize_pipeline, timed_call
from pose_ros.core.profiles import load_profile
from pose_ros.core.pipeline import auto_parts, build_estimator, build_models
from pose_ros.core.stream import PoseStream, StreamConfig


def measure_auto_mode(ctx: BenchContext) -> dict:
    """mode auto (config/auto.yaml) against its two fixed modes on the crowd images, interleaved. Each crowd size
    gets its own auto estimator, settled on its image first (auto_patience frames decide a switch), so the
    timing is that of the mode auto holds for that crowd."""
    scenes = crowd.crowd_images(crowd.load_person_crops(ctx.photo_paths))
    auto_cfg = load_profile("auto", device="cpu")
    parts = auto_parts(auto_cfg)
    top_down_cfg, bottom_up_cfg = parts["top_down"], parts["bottom_up"]
    fixed = {"fixed top_down": build_estimator(top_down_cfg), "fixed bottom_up": build_estimator(bottom_up_cfg)}
    models = build_models(auto_cfg)  # one set of models, one stream per crowd (as one camera each)
    autos = {n: AutoStreamCall(PoseStream(models, StreamConfig(tracking=False))) for n in scenes}
    for n, estimator in autos.items():
        for _ in range(auto_cfg.auto_patience + 2):
            estimator(scenes[n][0])
    cases = {(name, n): timed_call(est, scenes[n][0]) for n in scenes for name, est in fixed.items()}
    cases.update({("auto", n): timed_call(autos[n], scenes[n][0]) for n in scenes})
    samples = round_robin(cases, ctx.warmup, ctx.runs)
    rows = []
    for (name, n), runs in samples.items():
        s = summarize_pipeline(runs)
        rows.append({"config": name, "size": n, "intended": n, "people": s["people"], "median_ms": s["total_ms"],
                     "p90_ms": s["total_p90_ms"], "mode": autos[n].mode if name == "auto" else name.split()[-1]})
    return {"rows": rows, "switch_up": auto_cfg.auto_switch_up, "switch_down": auto_cfg.auto_switch_down,
            "patience": auto_cfg.auto_patience, "top_down": f"{top_down_cfg.detector} + {top_down_cfg.model}",
            "bottom_up": bottom_up_cfg.model}


def measure_tracking_smoothing(ctx: BenchContext) -> dict:
    """Id switches, jitter and lag on devtools.fixtures.synthetic_motion's sequences (the ones the tests assert
    on, plus a harder one), and the per-frame cost of tracker + smoother. Exact ground truth, no model."""
    from pose_ros.core.stream.tracking import TrackerConfig
    from devtools.fixtures import synthetic_motion as sm

    seeds = range(10)
    sequences = {name: (actors, 30, 2.0) for name, actors in sm.SCENARIOS.items()}
    sequences["hard: 6 look-alikes crossing, 2 hidden, a runner"] = (sm.HARD_SCENARIO, 45, 4.0)
    tracking = []
    for name, (actors, frames, noise) in sequences.items():
        row = {"sequence": name, "people": len(actors), "frames": frames, "noise_px": noise, "runs": len(seeds)}
        for motion in (True, False):
            row["switches_motion" if motion else "switches_no_motion"] = sum(
                sm.id_switches(sm.run_scenario(actors, TrackerConfig(motion_prediction=motion), frames, seed,
                                               noise)[0]) for seed in seeds)
        tracking.append(row)
    jitter = [{"seed": seed, "raw_std_px": j.raw_std_px, "smooth_std_px": j.smooth_std_px,
               "reduction": j.reduction, "mean_error_px": j.mean_error_px}
              for seed in range(3) for j in [sm.still_pose_jitter(seed)]]
    lag = [{"speed_px_s": v, "lag_px": g.lag_px, "lag_frames": g.lag_frames, "trails": g.trails}
           for v in (30.0, 100.0, 200.0, 400.0) for g in [sm.steady_state_lag(v)]]
    ms = sm.tracking_time_per_frame(people=20) * 1e3
    return {"tracking": tracking, "jitter": jitter, "lag": lag,
            "cost": {"people": 20, "frames": len(ms), "median_ms": float(np.median(ms)),
                     "p95_ms": float(np.percentile(ms, 95)), "max_ms": float(ms.max())}}
