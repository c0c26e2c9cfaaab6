"""Section transport: raw bgr8 images of a real photo (zidane.jpg resized to each size) from a camera process
(devtools/bench/image_camera.py) to an echo process (devtools/bench/image_echo.py, standing for the node: it
answers each image with its header), with the shipped Fast DDS profile (config/fastdds_shm.xml) on neither side,
on the node side only, on the camera side only, or on both. Fast DDS reads the profile when a process starts, so
each side is its own process with its own environment. A fifth case gives the node side large UDP socket
buffers (devtools/bench/fastdds_udp_buffers.xml): what the node alone could do against a best-effort camera's
losses. Reliable: one frame at a time (latency); best effort: a
camera publishing at 30 Hz (frames delivered / published, latency of the delivered ones)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from devtools.bench.measure.common import BENCH, REPO, BenchContext, log, stats_ms
from devtools.bench.measure.processes import EchoProcess

SIZES = ("640x480", "1280x720", "1920x1080", "3840x2160")
PHOTO = "zidane.jpg"
PROFILE = REPO / "config" / "fastdds_shm.xml"
UDP_BUFFERS = BENCH / "fastdds_udp_buffers.xml"  # what the node's side alone could do (issue 24): not shipped
PROFILE_VARS = ("FASTRTPS_DEFAULT_PROFILES_FILE", "FASTDDS_DEFAULT_PROFILES_FILE")
# (name, the node side's profile, the camera side's profile): True = the shipped SHM profile, a Path = that file
SIDES = (("neither", False, False), ("node side only", True, False), ("camera side only", False, True),
         ("both", True, True), ("node side, UDP buffers", UDP_BUFFERS, False))
RATE_HZ = 30.0
TOPICS = {"image": "/pose_bench/transport/image", "best_effort": "/pose_bench/transport/image_be",
          "answer": "/pose_bench/transport/header"}


def side_env(profile) -> dict:
    """This process' environment without any Fast DDS profile, with the shipped SHM one (True) or with the file
    given (both variable names: Fast DDS 2 reads FASTRTPS_, Fast DDS 3 FASTDDS_)."""
    env = {k: v for k, v in os.environ.items() if k not in PROFILE_VARS}
    if profile:
        env.update({k: str(PROFILE if profile is True else profile) for k in PROFILE_VARS})
    return env


def best_effort_seconds(runs: int) -> float:
    return min(3.0, max(1.0, 0.15 * runs))


def measure(ctx: BenchContext) -> dict:
    seconds = best_effort_seconds(ctx.runs)
    rows = []
    for name, node_side, camera_side in SIDES:
        log(f"transport: profile on {name}")
        echo = EchoProcess(TOPICS["image"], TOPICS["answer"], TOPICS["best_effort"], env=side_env(node_side))
        try:
            cmd = [sys.executable, str(BENCH / "image_camera.py"), "--photo", str(ctx.photo_paths[PHOTO]),
                   "--sizes", ",".join(SIZES), "--image", TOPICS["image"], "--best-effort-image",
                   TOPICS["best_effort"], "--answer", TOPICS["answer"], "--warmup", str(ctx.warmup), "--runs",
                   str(ctx.runs), "--rate", str(RATE_HZ), "--seconds", str(seconds)]
            out = subprocess.run(cmd, env=side_env(camera_side), capture_output=True, text=True, timeout=600)
            if out.returncode != 0:
                raise RuntimeError(f"image_camera.py exited with {out.returncode}:\n{out.stderr[-2000:]}")
            data = json.loads(out.stdout.strip().splitlines()[-1])
        finally:
            echo.stop()
        for size in SIZES:
            w, h = (int(v) for v in size.split("x"))
            samples = data["reliable"][size]
            rel = stats_ms([s for s in samples if s is not None])
            be = data["best_effort"][size]
            be_lat = stats_ms(be["latency_s"])
            rows.append({"profile_on": name, "node_side": bool(node_side), "camera_side": bool(camera_side),
                         "image": size,
                         "mb": w * h * 3 / 1e6, "reliable_ms": rel["median_ms"], "reliable_p90_ms": rel["p90_ms"],
                         "reliable_n": rel["n"], "reliable_lost": len(samples) - rel["n"],
                         "be_published": be["published"], "be_delivered": be["delivered"],
                         "be_rate_hz": be["rate_hz"], "be_ms": be_lat["median_ms"], "be_p90_ms": be_lat["p90_ms"]})
    return {"photo": PHOTO, "profile": str(PROFILE.relative_to(REPO)), "rate_hz": RATE_HZ, "seconds": seconds,
            "rows": rows}
