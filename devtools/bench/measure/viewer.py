"""Section viewer: does a debug viewer delay the poses? (issue 24)

A 10 Hz camera process (vtest.avi's 768x576 frames where ../shared/data has it, else a sample photo at that size),
the node in its own process, a planner here on ~/poses, and in turn: no viewer, a viewer process on ~/debug_image
(reliable, as RViz's image display), a slow viewer (holds each overlay 0.5 s), cases interleaved round by round.
Latency = the planner's arrival - the frame's stamp (wall clock, set by the camera process); "bursts" = answers
arriving < 5 ms after the previous one, which the node cannot compute that fast: answers held back and released
together. The goal: with a viewer, ~/poses p99 within 10 % of the run without one.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np

from devtools.bench.measure.common import BENCH, REPO, BenchContext, log
from devtools.bench.measure.processes import RosProbe, pose_node

PROFILES = ("yolo11n_pose", "posenet")
CASES = {"no viewer": None, "viewer": 0.0, "slow viewer (0.5 s per overlay)": 0.5}
RATE_HZ = 10.0
FRAMES = 120  # 12 s per case and round
WARMUP_ANSWERS = 5
VIDEO = REPO.parent / "shared" / "data" / "video" / "vtest.avi"
PEERS = BENCH / "dds_peers.py"
NODE_NAME = "pose_bench_viewer"
IMAGE_TOPIC = "/pose_bench/viewer/image"


def _peer(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(PEERS), *args], stdout=subprocess.PIPE, text=True)


def _json(proc: subprocess.Popen) -> dict:
    out, _ = proc.communicate(timeout=120)
    return json.loads(out.strip().splitlines()[-1]) if proc.returncode == 0 and out.strip() else {}


def measure(ctx: BenchContext) -> dict:
    from pose_ros.msg import PoseArray

    source = ["--video", str(VIDEO)] if VIDEO.is_file() else ["--photo", str(ctx.photo_paths["bus.jpg"])]
    camera = ["camera", "--topic", IMAGE_TOPIC, "--size", "768x576", "--rate", str(RATE_HZ), "--count", str(FRAMES),
              *source]
    rounds = 1 if ctx.runs <= 5 else 2
    rows = []
    with RosProbe() as probe:
        arrivals: list[tuple[float, float]] = []

        def on_poses(msg) -> None:
            now = time.time()
            arrivals.append((now, now - (msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9)))

        probe.node.create_subscription(PoseArray, f"/{NODE_NAME}/poses", on_poses, 10)
        for profile in PROFILES:
            samples = {case: {"latency": [], "bursts": 0, "answers": 0, "overlays": 0} for case in CASES}
            with pose_node(profile, NODE_NAME, IMAGE_TOPIC, ctx.work):
                for round_ in range(rounds):
                    for case, delay in CASES.items():
                        viewer = None
                        if delay is not None:
                            viewer = _peer("viewer", "--topic", f"/{NODE_NAME}/debug_image", "--seconds",
                                           str(FRAMES / RATE_HZ + 6), "--delay", str(delay))
                            time.sleep(2.0)  # discovery
                        arrivals.clear()
                        _json(_peer(*camera))
                        time.sleep(0.5)
                        got = arrivals[WARMUP_ANSWERS:]
                        s = samples[case]
                        s["latency"] += [lat for _, lat in got]
                        s["answers"] += len(got)
                        s["bursts"] += int((np.diff([a for a, _ in got]) < 0.005).sum()) if len(got) > 1 else 0
                        if viewer is not None:
                            s["overlays"] += _json(viewer).get("frames", 0)
                        log(f"viewer {profile} round {round_ + 1}/{rounds}, {case}: {len(got)} answers")
            for case, s in samples.items():
                lat = np.asarray(s["latency"]) * 1e3
                rows.append({"profile": profile, "case": case, "answers": s["answers"], "bursts": s["bursts"],
                             "overlays": s["overlays"] if CASES[case] is not None else None,
                             "p50_ms": float(np.median(lat)) if lat.size else None,
                             "p90_ms": float(np.percentile(lat, 90)) if lat.size else None,
                             "p99_ms": float(np.percentile(lat, 99)) if lat.size else None,
                             "max_ms": float(lat.max()) if lat.size else None})
    return {"rows": rows, "rate_hz": RATE_HZ, "frames": FRAMES, "rounds": rounds,
            "source": "vtest.avi" if VIDEO.is_file() else "bus.jpg at 768x576"}
