"""Section memory: peak RSS of `python -m pose_ros infer` (the node's own peak comes from the node section)."""
from __future__ import annotations

import subprocess
import sys

from devtools.bench.measure.common import PHOTOS, REPO, BenchContext


def measure(ctx: BenchContext) -> list[dict]:
    """Peak RSS of `python -m pose_ros infer` on the five photos, read with getrusage(RUSAGE_CHILDREN) in a
    fresh wrapper process (so the maximum is that one child's)."""
    wrapper = ("import resource, subprocess, sys, time; t = time.monotonic(); "
               "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
               "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.monotonic() - t)")
    runs = {"bottom_up": [],
            "top_down": ["--mode", "top_down", "--model", "blazepose_landmark_full", "--max-people", "10"],
            "top_down, yolo detector": ["--mode", "top_down", "--model", "blazepose_landmark_full", "--detector",
                                        "yolo11n_pose", "--max-people", "10"]}
    rows = []
    for what, extra in runs.items():
        cmd = [sys.executable, "-m", "pose_ros", "infer", *(str(ctx.photo_paths[p]) for p in PHOTOS), "--device", "cpu",
               *extra]
        out = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, check=True, cwd=REPO)
        code, maxrss_kb, wall = out.stdout.split()
        if code != "0":
            raise RuntimeError(f"{' '.join(cmd)} exited with {code}:\n{out.stderr[-2000:]}")
        shown = " ".join(["python -m pose_ros infer <5 photos> --device cpu", *extra])
        rows.append({"what": what, "cmd": shown, "maxrss_mb": int(maxrss_kb) / 1024, "wall_s": float(wall)})
    return rows
