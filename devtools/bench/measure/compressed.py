"""Section compressed: raw against JPEG input, end to end through the installed node (yolo11n_pose, no Fast DDS
profile): zidane.jpg resized to 640x480, 1280x720 and 1920x1080, published by this process as sensor_msgs/Image
bgr8 to one node (image_transport raw) and as CompressedImage (JPEG, encoded once before timing: the camera's
encoding cost is not in the latency) to two more (image_transport compressed, reduced_jpeg_decode on / off),
frames interleaved round by round with the core pipeline in this process on the same image."""
from __future__ import annotations

import os
import signal

import cv2
import numpy as np

from devtools.bench.measure.common import BenchContext, log, round_robin, stats_ms, summarize_pipeline, timed_call
from devtools.bench.measure.processes import RosProbe
from devtools.bench.measure.transport import PROFILE_VARS

SIZES = ("640x480", "1280x720", "1920x1080")
PHOTO = "zidane.jpg"
CONFIG = "yolo11n_pose"
JPEG_QUALITY = 95  # compressed_image_transport's default
# variant -> node parameters
VARIANTS = {"raw": ["-p", "image_transport:=raw"],
            "compressed, reduced decode": ["-p", "image_transport:=compressed", "-p", "reduced_jpeg_decode:=true"],
            "compressed, full decode": ["-p", "image_transport:=compressed", "-p", "reduced_jpeg_decode:=false"]}


def measure(ctx: BenchContext) -> dict:
    with RosProbe() as probe:
        return _measure(ctx, probe)


def _measure(ctx: BenchContext, probe: RosProbe) -> dict:
    from sensor_msgs.msg import CompressedImage

    from pose_ros.msg import PoseArray
    from pose_ros.tools.node_process import SHARE, NodeProcess

    images = {s: cv2.resize(ctx.images[PHOTO], tuple(int(v) for v in s.split("x")), interpolation=cv2.INTER_AREA)
              for s in SIZES}
    jpegs = {s: cv2.imencode(".jpg", im, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])[1].tobytes()
             for s, im in images.items()}
    env = {k: v for k, v in os.environ.items() if k not in PROFILE_VARS}
    nodes, channels = {}, {}
    try:
        for i, (variant, params) in enumerate(VARIANTS.items()):
            name, topic = f"pose_bench_input{i}", f"/pose_bench/input{i}/image"
            nodes[variant] = NodeProcess(["--params-file", str(SHARE / "config" / f"{CONFIG}.yaml"), "-p",
                                          "device:=cpu", *params, "-r", f"image:={topic}", "-r", f"__node:={name}"],
                                         env=env, log_path=ctx.work / f"node_input{i}.log")
            compressed = variant != "raw"
            channels[variant] = probe.channel(topic + "/compressed" if compressed else topic, f"/{name}/poses",
                                              PoseArray, CompressedImage if compressed else None)
        for variant, node in nodes.items():
            node.wait_ready(timeout=180)
            probe.wait_matched(*channels[variant])
        log("compressed: nodes ready")
        estimator = ctx.estimator(CONFIG)
        msgs = {}
        for s in SIZES:
            msgs[("raw", s)] = probe.image_msg(images[s])
            for variant in VARIANTS:
                if variant != "raw":
                    msgs[(variant, s)] = CompressedImage(format="jpeg", data=jpegs[s])

        def case(size):
            def call() -> dict:
                sample = timed_call(estimator, images[size])()
                for variant in VARIANTS:
                    latency, answer = probe.frame(channels[variant][0], msgs[(variant, size)])
                    sample[variant] = latency
                    sample[variant + " people"] = None if answer is None else len(answer.people)
                return sample
            return call

        round_robin({s: case(s) for s in SIZES}, ctx.warmup, 0)
        samples = round_robin({s: case(s) for s in SIZES}, 0, ctx.runs)
    finally:
        for variant, node in nodes.items():
            code = node.stop()
            if code not in (0, -signal.SIGINT):
                log(f"node ({variant}) exited with {code}; log: {node.log_path}")
    rows = []
    for size in SIZES:
        s = samples[size]
        core = summarize_pipeline(s)
        for variant in VARIANTS:
            answered = [x for x in s if x[variant] is not None]
            e2e = stats_ms([x[variant] for x in answered])
            people = [x[variant + " people"] for x in answered]
            row = {"variant": variant, "image": size, "raw_mb": images[size].nbytes / 1e6,
                   "jpeg_kb": None if variant == "raw" else len(jpegs[size]) / 1e3,
                   "e2e_ms": e2e["median_ms"], "e2e_p90_ms": e2e["p90_ms"], "n": e2e["n"],
                   "unanswered": len(s) - len(answered), "people": int(np.median(people)) if people else 0,
                   "people_core": core["people"], "core_ms": core["total_ms"], "raw_ms": core["stages"]["infer"]}
            row["ratio_core"] = row["e2e_ms"] / row["core_ms"] if row["e2e_ms"] else None
            row["ratio_raw"] = row["e2e_ms"] / row["raw_ms"] if row["e2e_ms"] else None
            rows.append(row)
    return {"photo": PHOTO, "config": CONFIG, "jpeg_quality": JPEG_QUALITY, "rows": rows}
