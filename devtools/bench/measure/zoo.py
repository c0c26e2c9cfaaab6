"""Section zoo: every profile of config/ (the model zoo, `model:=NAME`) through the core pipeline on the same five
photos, interleaved round by round: people found and latency per photo, so the README's zoo table and the
paradigms' speed ratios come from one run.

Then MoveNet MultiPose on camera-shaped frames (4:3 640x480, 16:9 1280x720): its input as pose-detection builds it
(aspect kept: 256x192, 256x160; issue 22) against the square 256x256 letterbox it had before, interleaved."""
from __future__ import annotations

import time

import cv2
import numpy as np

from pose_ros.core.families.movenet.decode import decode_multipose
from pose_ros.core.geometry import Letterbox, clip_boxes, clip_points
from pose_ros.core.models import default_model_dir, unavailable_reason
from pose_ros.core.profiles import available_profiles
from devtools.bench.measure.common import (PHOTOS, BenchContext, log, named_config, round_robin, stats_ms,
                                           summarize_pipeline, timed_call)

MULTIPOSE = "movenet_multipose"
# Camera-shaped frames cut from zidane.jpg (1280x720, two people): name -> (width, height).
CAMERA_FRAMES = {"4:3": (640, 480), "16:9": (1280, 720)}

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
    return {"rows": rows, "same_as": {p: same for p, same in profiles.items() if same}, "reference": "yolo11n_pose",
            "multipose_aspect": multipose_aspect(ctx) if MULTIPOSE in measured else []}


def camera_frame(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """The photo's centre cut to ``width:height`` and resized to that size (a camera's frame of the scene)."""
    src_h, src_w = image.shape[:2]
    crop_w, crop_h = min(src_w, round(src_h * width / height)), min(src_h, round(src_w * height / width))
    x0, y0 = (src_w - crop_w) // 2, (src_h - crop_h) // 2
    crop = image[y0:y0 + crop_h, x0:x0 + crop_w]
    return crop if crop.shape[:2] == (height, width) else cv2.resize(crop, (width, height),
                                                                      interpolation=cv2.INTER_AREA)


def square_letterbox_call(estimator, image: np.ndarray):
    """MultiPose as pose_ros ran it before issue 22: the frame letterboxed (cv2, grey) into the square 256x256
    input, the graph, the decode mapped back through the letterbox. Same backend, same thresholds."""
    input_hw = tuple(estimator.input_hw)
    name = estimator.backend.input_names[0]
    letterbox = Letterbox.fit(image.shape[:2], input_hw)
    canvas = None

    def call() -> dict:
        nonlocal canvas
        t0 = time.perf_counter()
        canvas = letterbox.apply(image, canvas)
        tensor = canvas[None, ..., ::-1].astype(np.int32)
        t1 = time.perf_counter()
        (output,) = estimator.backend.run({name: tensor})[:1]
        t2 = time.perf_counter()
        boxes, scores, keypoints = decode_multipose(output[0], input_hw, estimator.config.person_threshold)
        keypoints[..., :2] = letterbox.to_source(keypoints[..., :2].reshape(-1, 2)).reshape(-1, 17, 2)
        boxes = letterbox.to_source(boxes.reshape(-1, 2)).reshape(-1, 4)
        clip_boxes(boxes, *image.shape[:2])
        clip_points(keypoints[..., :2], *image.shape[:2])
        return {"total": time.perf_counter() - t0, "people": len(scores), "preprocess": t1 - t0, "infer": t2 - t1}
    return call


def multipose_aspect(ctx: BenchContext) -> list[dict]:
    """MultiPose's core latency per camera shape: aspect-kept input (now) vs square letterbox (before)."""
    estimator = ctx.estimator(MULTIPOSE)
    frames = {shape: camera_frame(ctx.images["zidane.jpg"], w, h) for shape, (w, h) in CAMERA_FRAMES.items()}
    log(f"zoo: {MULTIPOSE} on {', '.join(f'{s} {w}x{h}' for s, (w, h) in CAMERA_FRAMES.items())}, aspect-kept vs "
        f"square input, interleaved")
    cases = {}
    for shape, frame in frames.items():
        cases[(shape, "aspect_kept")] = timed_call(estimator, frame)
        cases[(shape, "square")] = square_letterbox_call(estimator, frame)
    samples = round_robin(cases, ctx.warmup, ctx.runs)
    rows = []
    for shape, frame in frames.items():
        height, width = frame.shape[:2]
        kept_hw = estimator.preprocess(frame)[0].shape[1:3]
        row = {"shape": shape, "frame": f"{width}x{height}",
               "inputs": {"aspect_kept": f"{kept_hw[1]}x{kept_hw[0]}", "square": "x".join(
                   str(v) for v in estimator.input_hw[::-1])}}
        for kind in ("aspect_kept", "square"):
            kept = samples[(shape, kind)]
            row[kind] = {"total_ms": stats_ms([x["total"] for x in kept])["median_ms"],
                         "infer_ms": stats_ms([x["infer"] for x in kept])["median_ms"],
                         "preprocess_ms": stats_ms([x["preprocess"] for x in kept])["median_ms"],
                         "people": int(np.median([x["people"] for x in kept]))}
        row["speedup"] = row["square"]["total_ms"] / row["aspect_kept"]["total_ms"]
        log(f"   {shape} {row['frame']}: {row['inputs']['aspect_kept']} {row['aspect_kept']['total_ms']:.1f} ms vs "
            f"{row['inputs']['square']} {row['square']['total_ms']:.1f} ms ({row['speedup']:.2f}x)")
        rows.append(row)
    return rows
