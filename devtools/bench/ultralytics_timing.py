#!/usr/bin/env python3
"""Per-image time of Ultralytics' own `YOLO(onnx).predict()`, for the pose_ros benchmark (peer engine).

Runs inside the tool venv ($POSE_ROS_CACHE/venv-tools, where ultralytics lives; never in the project venv),
driven by run_bench.py through a pipe so that its frames alternate with pose_ros' own, frame by frame, and
both see the same machine:

    python devtools/bench/ultralytics_timing.py --model yolo11n_pose.onnx IMAGE...

Prints one JSON line {"ready": true, "versions": {...}} once the model is loaded and the images are read
(cv2.imread, BGR: the decoded array is what predict() gets, as pose_ros' pipeline is timed on a decoded
image); then, for every line "INDEX" read from stdin, predicts on that image and prints one JSON line
{"seconds": time.perf_counter() around predict() only, "people": boxes scoring >= 0.5,
 "speed_ms": Ultralytics' own preprocess/inference/postprocess}. Ultralytics' logs go to stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

# Before ultralytics is imported: offline, no auto-install, settings kept in the cache (not ~/.config).
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "False")
os.environ.setdefault(
    "YOLO_CONFIG_DIR",
    str(Path(os.environ.get("POSE_ROS_CACHE", Path.home() / ".cache" / "pose_ros")).expanduser() / "ultralytics"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("images", nargs="+", type=Path)
    args = parser.parse_args(argv)

    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # Ultralytics' LOGGER writes to stdout: keep our stdout for the JSON lines

    import cv2
    import numpy
    import onnxruntime
    import torch
    import ultralytics
    from ultralytics import YOLO

    model = YOLO(str(args.model), task="pose")
    images = []
    for path in args.images:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise SystemExit(f"ultralytics_timing: cannot read {path}")
        images.append(image)

    def send(doc: dict) -> None:
        out.write(json.dumps(doc) + "\n")
        out.flush()

    send({"ready": True, "versions": {"ultralytics": ultralytics.__version__, "torch": torch.__version__,
                                      "onnxruntime": onnxruntime.__version__, "numpy": numpy.__version__,
                                      "opencv": cv2.__version__}})
    for line in sys.stdin:
        image = images[int(line)]
        t0 = time.perf_counter()
        # rect=False: the square 640x640 input the ONNX's image axes are pinned to (and that pose_ros feeds it).
        (result,) = model.predict(image, imgsz=640, conf=0.25, iou=0.7, rect=False, device="cpu", verbose=False,
                                  save=False)
        seconds = time.perf_counter() - t0
        people = int((result.boxes.conf >= 0.5).sum()) if result.boxes is not None else 0
        send({"seconds": seconds, "people": people, "speed_ms": dict(result.speed)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
