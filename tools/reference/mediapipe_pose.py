#!/usr/bin/env python3
"""Reference BlazePose results from MediaPipe itself, for the parity test of our ONNX re-implementation.

Runs inside the MediaPipe reference venv ($POSE_ROS_CACHE/venv-mediapipe, built by mediapipe_env.py):

    python tools/reference/mediapipe_pose.py IMAGE [IMAGE ...]

and prints exactly one JSON document to stdout (everything MediaPipe, absl, glog and TFLite log goes to stderr):

    {"images": [{"path": ..., "shape": [h, w], "found": bool,
                 "landmarks": [[x_px, y_px, z, visibility, presence] x 33]}]}

"landmarks" is [] when no person was found. x_px = landmark.x * w and y_px = landmark.y * h (MediaPipe's
normalised coordinates times the image size, no clipping: landmarks may lie outside the image); z is MediaPipe's
raw normalised depth (same scale as x, origin at the hip midpoint); visibility and presence are as MediaPipe
reports them (already sigmoided).

The reference is mediapipe 0.10.14's legacy solution API, `mp.solutions.pose.Pose(static_image_mode=True,
model_complexity=1, enable_segmentation=False, min_detection_confidence=0.5)` = pose_detection.tflite +
pose_landmark_full.tflite, both shipped in the wheel (complexity 0 and 2 would download their model and fail
offline). Images are read with cv2.imread(path, cv2.IMREAD_COLOR) (BGR, alpha dropped, grey replicated) and
converted to RGB, as MediaPipe expects. One Pose object serves all images: with static_image_mode=True every
image runs the person detector afresh and nothing (ROI, smoothing) carries over from the previous image.
"""

from __future__ import annotations

import json
import os
import sys

# Quiet and headless before anything native is loaded: glog (MediaPipe's C++ logging) only warnings and up,
# matplotlib (imported by mediapipe.solutions.drawing_utils) without a GUI backend.
os.environ.setdefault("GLOG_minloglevel", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

POSE_OPTIONS = dict(static_image_mode=True, model_complexity=1, smooth_landmarks=True, enable_segmentation=False,
                    min_detection_confidence=0.5, min_tracking_confidence=0.5)


def _stdout_to_stderr():
    """Point fd 1 at stderr for everything (native code included) and return a file on the real stdout."""
    sys.stdout.flush()
    real_stdout = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return real_stdout


def run(paths: list[str]) -> dict:
    import cv2
    import mediapipe as mp
    from mediapipe.python.solution_base import SolutionBase

    images = []
    with mp.solutions.pose.Pose(**POSE_OPTIONS) as pose:
        for path in paths:
            bgr = cv2.imread(path, cv2.IMREAD_COLOR)
            if bgr is None:
                raise SystemExit(f"mediapipe_pose: cannot read image {path}")
            h, w = bgr.shape[:2]
            # Pose.process() is SolutionBase.process() plus clearing every landmark's `presence` field; skip that
            # wrapper so the graph's real presence values come through (nothing else differs).
            result = SolutionBase.process(pose, {"image": cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)})
            landmarks = []
            if result.pose_landmarks is not None:
                landmarks = [[lm.x * w, lm.y * h, lm.z, lm.visibility, lm.presence]
                             for lm in result.pose_landmarks.landmark]
            images.append({"path": path, "shape": [h, w], "found": bool(landmarks), "landmarks": landmarks})
    return {"images": images}


def main(argv: list[str]) -> int:
    if not argv or any(a in ("-h", "--help") for a in argv):
        print(__doc__, file=sys.stderr)
        return 0 if argv else 2
    out = _stdout_to_stderr()
    doc = run(argv)
    json.dump(doc, out)
    out.write("\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
