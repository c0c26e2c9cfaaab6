#!/usr/bin/env python3
"""Per-image time of MediaPipe's legacy BlazePose solution, for the pose_ros benchmark (peer engine).

Runs inside the MediaPipe reference venv ($POSE_ROS_CACHE/venv-mediapipe, devtools/reference/mediapipe_env.py),
driven by run_bench.py through a pipe so that its frames alternate with pose_ros' own, frame by frame:

    python devtools/bench/mediapipe_timing.py IMAGE...

`mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1)` (pose_detection.tflite +
pose_landmark_full.tflite: the weights pose_ros converts to ONNX), one Pose object for all images (static
mode: every image runs the detector afresh, nothing carries over). Each image is read once and converted to
RGB (MediaPipe's input) outside the timed part. Prints one JSON line {"ready": true, "versions": {...}}, then
for every line "INDEX" read from stdin one JSON line {"seconds": time.perf_counter() around
`pose.process()` only, "found": bool}.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("GLOG_minloglevel", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("images", nargs="+")
    args = parser.parse_args(argv)

    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # native logs (glog, TFLite) go to stderr: our stdout carries the JSON lines only
    sys.stdout = sys.stderr

    import cv2
    import mediapipe as mp
    import numpy

    images = []
    for path in args.images:
        bgr = cv2.imread(path, cv2.IMREAD_COLOR)
        if bgr is None:
            raise SystemExit(f"mediapipe_timing: cannot read {path}")
        images.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))

    def send(doc: dict) -> None:
        out.write(json.dumps(doc) + "\n")
        out.flush()

    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1, enable_segmentation=False,
                                min_detection_confidence=0.5) as pose:
        send({"ready": True, "versions": {"mediapipe": mp.__version__, "numpy": numpy.__version__,
                                          "opencv": cv2.__version__}})
        for line in sys.stdin:
            rgb = images[int(line)]
            t0 = time.perf_counter()
            result = pose.process(rgb)
            seconds = time.perf_counter() - t0
            send({"seconds": seconds, "found": result.pose_landmarks is not None})
    return 0


if __name__ == "__main__":
    sys.exit(main())
