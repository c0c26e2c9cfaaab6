"""Section steady: a camera at a steady 10 Hz for 60 s per profile, the node in its own process, every frame
published on time whether or not the node has answered the previous one (as a camera driver does). Tail latency
(p50, p90, p99, max) of the answered frames, frames the node skipped because a newer one arrived, and the node's
own cost from its /diagnostics."""
from __future__ import annotations

import time

import cv2
import numpy as np

from devtools.bench.measure.common import PHOTOS, BenchContext, log
from devtools.bench.measure.processes import RosProbe, pose_node

RATE_HZ = 10.0
SECONDS = 60.0
WARMUP_S = 3.0
FRAME_HW = (480, 640)  # a common robot camera; every photo is fitted into it (aspect kept, grey borders)
PROFILES = ("yolo11n_pose", "yolo11n_pose_int8", "posenet", "movenet_multipose", "blazepose_full",
            "blazepose_full_yolo")
IMAGE_TOPIC = "/pose_bench/steady/image"
NODE_NAME = "pose_bench_steady"


def fit(image: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """``image`` scaled into an ``hw`` frame, aspect kept, centred on grey."""
    scale = min(hw[0] / image.shape[0], hw[1] / image.shape[1])
    resized = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)),
                         interpolation=cv2.INTER_AREA)
    frame = np.full((*hw, 3), 114, np.uint8)
    y, x = (hw[0] - resized.shape[0]) // 2, (hw[1] - resized.shape[1]) // 2
    frame[y:y + resized.shape[0], x:x + resized.shape[1]] = resized
    return frame


def tails_ms(latencies_s: list[float]) -> dict:
    a = np.asarray(latencies_s, np.float64) * 1e3
    if a.size == 0:
        return {"p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None}
    return {"p50_ms": float(np.median(a)), "p90_ms": float(np.percentile(a, 90)),
            "p99_ms": float(np.percentile(a, 99)), "max_ms": float(a.max())}


def _run_at_rate(probe: RosProbe, pub, msgs: list, seconds: float) -> dict[int, float]:
    """Publish msgs in turn at RATE_HZ for ``seconds`` on an absolute schedule (a late frame does not shift the
    next); stamp -> time sent."""
    sent, start = {}, time.monotonic()
    for i in range(int(seconds * RATE_HZ)):
        delay = start + i / RATE_HZ - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        stamp, at = probe.publish(pub, msgs[i % len(msgs)])
        sent[stamp] = at
    return sent


def _dropped(diagnostics: list, before: float) -> int:
    """The node's count of frames it skipped for a newer one (since it started), as of its last /diagnostics
    before ``before``."""
    values = [v for t, v in diagnostics if t <= before]
    return int(values[-1].get("frames dropped (newer frame arrived)", 0)) if values else 0


OWN_COST_KEY = "node own cost p50 / p99 since start (ms, upper bin edges)"


def _own_cost(diagnostics: list, after: float) -> tuple[float | None, float | None]:
    """The node's own cost (image received, or the worker free, -> PoseArray published, minus the core pipeline),
    p50 and p99 over every frame since the node started (warm-up included), from its first /diagnostics after
    ``after``."""
    values = [v[OWN_COST_KEY] for t, v in diagnostics if t >= after and OWN_COST_KEY in v]
    if not values:
        return None, None
    p50, p99 = values[0].split(" / ")
    return float(p50), float(p99)


def measure(ctx: BenchContext, seconds: float | None = None) -> dict:
    from pose_ros.msg import PoseArray

    seconds = seconds or (10.0 if ctx.runs < 10 else SECONDS)
    probe = RosProbe()
    rows = []
    try:
        pub, sub = probe.channel(IMAGE_TOPIC, f"/{NODE_NAME}/poses", PoseArray)
        diagnostics = probe.watch_diagnostics(NODE_NAME)
        msgs = [probe.image_msg(fit(ctx.images[p], FRAME_HW)) for p in PHOTOS]
        for config in PROFILES:
            log(f"steady: {config}, {RATE_HZ:g} Hz for {seconds:g} s")
            with pose_node(config, NODE_NAME, IMAGE_TOPIC, ctx.work):
                probe.wait_matched(pub, sub)
                _run_at_rate(probe, pub, msgs, WARMUP_S)
                time.sleep(1.0)
                probe.take_answers()
                started = time.monotonic()
                sent = _run_at_rate(probe, pub, msgs, seconds)
                ended = time.monotonic()
                time.sleep(2.5)  # the last frames' answers, and a /diagnostics message after the end
                answers = probe.take_answers()
                skipped = _dropped(diagnostics, time.monotonic()) - _dropped(diagnostics, started)
                own_p50, own_p99 = _own_cost(diagnostics, ended + 0.5)
            latencies = [answers[s] - t for s, t in sent.items() if s in answers]
            rows.append({"config": config, "seconds": seconds, "rate_hz": RATE_HZ,
                         "image": f"{FRAME_HW[1]}x{FRAME_HW[0]}", "published": len(sent), "answered": len(latencies),
                         "skipped_by_node": skipped, "own_p50_ms": own_p50, "own_p99_ms": own_p99,
                         **tails_ms(latencies)})
    finally:
        probe.close()
    return {"rows": rows}
