"""Section node: the installed pose_node in its own process over DDS, one frame at a time, interleaved with the
core pipeline in this process and with a transport probe (the echo process); the node's own stage times from
its /diagnostics; then the same for yolo11n_pose with every process on the shipped Fast DDS shared-memory profile
(config/fastdds_shm.xml)."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from devtools.bench.measure.common import (PHOTOS, REPO, BenchContext, image_label, log, proc_status_mb,
                                           round_robin, stats_ms, summarize_pipeline, timed_call)
from devtools.bench.measure.processes import EchoProcess, RosProbe

IMAGE_TOPIC = "/pose_bench/image"
NODE_NAME = "pose_bench_node"
POSES_TOPIC = f"/{NODE_NAME}/poses"
SHIPPED_SHM_PROFILE = REPO / "config" / "fastdds_shm.xml"


def node_diagnostics(received: list, start: float, end: float, window_s: float = 5.0) -> dict[str, float]:
    """The node's own per-stage times ("latency <stage> (ms)" in its /diagnostics, each a median over its last
    ``window_s``): the median over every message whose window lies inside [start, end] (the timed rounds,
    all photos mixed), waiting a little for the one that closes the span; {} if there is none."""
    deadline = time.monotonic() + 3.0
    while not any(t >= end for t, _ in received) and time.monotonic() < deadline:
        time.sleep(0.05)
    per_stage: dict[str, list[float]] = {}
    for t, values in list(received):
        if not start + window_s <= t <= end + 1.5:
            continue
        for key, value in values.items():
            found = re.fullmatch(r"latency (.+) \(ms\)", key)
            if found:
                try:
                    per_stage.setdefault(found.group(1), []).append(float(value))
                except ValueError:
                    pass
    return {stage: float(np.median(v)) for stage, v in per_stage.items()}


def measure(ctx: BenchContext) -> dict:
    """Per config: start the node; then, photo after photo, round after round: one core pipeline call in this
    process, one image through the echo process (transport alone), one frame through the node."""
    with RosProbe() as probe:
        return _measure(ctx, probe)


def _measure(ctx: BenchContext, probe: RosProbe) -> dict:
    from std_msgs.msg import Header

    from pose_ros.msg import PoseArray
    from pose_ros.tools.node_process import SHARE, NodeProcess

    frames, processes = [], []
    pub, sub = probe.channel(IMAGE_TOPIC, POSES_TOPIC, PoseArray)
    diagnostics = probe.watch_diagnostics(NODE_NAME)
    msgs = {p: probe.image_msg(ctx.images[p]) for p in PHOTOS}
    echo = EchoProcess()
    try:
        echo_pub, echo_sub = probe.channel(EchoProcess.IMAGE, EchoProcess.ANSWER, Header)
        probe.wait_matched(echo_pub, echo_sub)
        for config in ctx.node_configs:
            log(f"node: {config}")
            params = SHARE / "config" / f"{config}.yaml"
            started = time.monotonic()
            node = NodeProcess(["--params-file", str(params), "-p", "device:=cpu", "-r", f"image:={IMAGE_TOPIC}",
                                "-r", f"__node:={NODE_NAME}"], log_path=ctx.work / f"node_{config}.log")
            try:
                node.wait_ready(timeout=180)
                startup = time.monotonic() - started
                probe.wait_matched(pub, sub)
                estimator = ctx.estimator(config)

                def case(photo):
                    def call() -> dict:
                        core = timed_call(estimator, ctx.images[photo])()
                        transport, _ = probe.frame(echo_pub, msgs[photo], 10.0)
                        latency, answer = probe.frame(pub, msgs[photo])
                        return {**core, "e2e": latency, "transport": transport,
                                "node_people": None if answer is None else len(answer.people)}
                    return call

                round_robin({p: case(p) for p in PHOTOS}, ctx.warmup, 0)
                timed_from = time.monotonic()
                samples = round_robin({p: case(p) for p in PHOTOS}, 0, ctx.runs)
                node_stages = node_diagnostics(diagnostics, timed_from, time.monotonic())
                status = proc_status_mb(node.proc.pid)
            finally:
                code = node.stop()
            if code not in (0, -signal.SIGINT):
                log(f"node {config} exited with {code}; log: {node.log_path}")
            processes.append({"config": config, "startup_s": startup, "vmhwm_mb": status["VmHWM"],
                              "vmrss_mb": status["VmRSS"], "node_stages_ms": node_stages})
            for photo in PHOTOS:
                s = samples[photo]
                answered = [x for x in s if x["e2e"] is not None]
                e2e = stats_ms([x["e2e"] for x in answered])
                core = summarize_pipeline(s)
                transport = stats_ms([x["transport"] for x in s if x["transport"] is not None])
                row = {"config": config, "photo": photo, "image": image_label(ctx.images[photo]),
                       "mb": ctx.images[photo].nbytes / 1e6,
                       "people": int(np.median([x["node_people"] for x in answered])) if answered else 0,
                       "people_core": core["people"], "n": e2e["n"], "unanswered": len(s) - len(answered),
                       "e2e_ms": e2e["median_ms"], "e2e_p90_ms": e2e["p90_ms"], "core_ms": core["total_ms"],
                       "transport_ms": transport["median_ms"], "transport_p90_ms": transport["p90_ms"],
                       "stages": core["stages"]}
                row["ratio_core"] = row["e2e_ms"] / row["core_ms"] if row["e2e_ms"] else None
                if config == "yolo11n_pose":  # one model, one 640x640 run: its infer stage is the raw ORT call
                    row["raw_ms"] = core["stages"]["infer"]
                    row["raw_floor_ms"] = ctx.raw_floor_ms("yolo11n_pose")
                    row["ratio_raw"] = row["e2e_ms"] / row["raw_ms"] if row["e2e_ms"] else None
                frames.append(row)
    finally:
        echo.stop()
    return {"frames": frames, "processes": processes}



def measure_shipped_shm(ctx: BenchContext) -> dict:
    """The node section again, for yolo11n_pose only, in a child run of run_bench.py whose processes (its probe,
    the node, the echo) all load the shipped shared-memory profile (Fast DDS reads it when a process starts)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "node.json"
        cmd = [sys.executable, str(REPO / "devtools" / "bench" / "run_bench.py"), "--sections", "node",
               "--node-configs", "yolo11n_pose", "--fastdds-profile", str(SHIPPED_SHM_PROFILE), "--results-only",
               str(out), "--warmup", str(ctx.warmup), "--runs", str(ctx.runs), "--quiet-wait", "0"]
        env = {**os.environ, "ROS_DOMAIN_ID": str(int(os.environ["ROS_DOMAIN_ID"]) % 100 + 1)}
        subprocess.run(cmd, check=True, env=env)
        return {"profile": str(SHIPPED_SHM_PROFILE.relative_to(REPO)),
                "frames": json.loads(out.read_text())["node"]["frames"]}
