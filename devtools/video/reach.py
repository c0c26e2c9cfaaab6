"""People per frame a configuration finds on a video, and what it costs: the reach of sliced inference.

    python -m devtools.video.reach VIDEO --every 10 --case yolo11n_pose --case yolo11n_pose:bottom_up_tiles=2 \
        --case far_field --case posenet:bottom_up_tiles=2

A case is a profile name, optionally with ``:setting=value,...`` overrides. Every ``--every``-th frame is run
(a subset: the CPU is the scarce part); no tracking (people as the model reports them, at person_threshold).
Prints people per frame (mean), the share of frames with at least 2 people, and the median model time.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from pose_ros.core.pipeline import build_models
from pose_ros.core.profiles import load_profile
from pose_ros.core.region import estimate_in_region
from pose_ros.core.settings import settings_of
from pose_ros.core.config import PoseConfig
from pose_ros.tools.video import read_video


def parse_case(case: str, **common) -> PoseConfig:
    name, _, rest = case.partition(":")
    types = {s.name: s.type for s in settings_of(PoseConfig)}
    overrides = dict(common)
    for item in filter(None, rest.split(",")):
        key, value = item.split("=", 1)
        kind = types[key]
        overrides[key] = (value.lower() == "true") if kind is bool else kind(value)
    return load_profile(name, **overrides)


def reach(video: Path, config: PoseConfig, every: int, max_frames: int | None = None) -> dict:
    models = build_models(config)
    model = models.by_mode[config.mode] if config.mode != "auto" else models.by_mode["bottom_up"]
    counts, seconds = [], []
    for index, _, image in read_video(video):
        if index % every:
            continue
        if max_frames is not None and len(counts) >= max_frames:
            break
        t0 = time.perf_counter()
        poses = estimate_in_region(model.batch, [image], config.region)[0]  # as the stream: roi_* apply
        seconds.append(time.perf_counter() - t0)
        counts.append(len(poses))
    counts = np.array(counts)
    return {"frames": len(counts), "people_per_frame": float(counts.mean()),
            "frames_with_2_or_more": float((counts >= 2).mean()), "ms_median": float(np.median(seconds) * 1e3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("--case", action="append", required=True)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--max-frames", type=int)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    for case in args.case:
        r = reach(args.video, parse_case(case, device="cpu", threads=args.threads), args.every, args.max_frames)
        print(f"{case:45s} {r['frames']} frames: {r['people_per_frame']:.2f} people/frame, "
              f"{r['frames_with_2_or_more']:.0%} frames with >= 2, {r['ms_median']:.0f} ms/frame", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
