#!/usr/bin/env python3
"""Reference BlazePose results from MediaPipe itself, for the parity test of our ONNX re-implementation.

Runs inside the MediaPipe reference venv ($POSE_ROS_CACHE/venv-mediapipe, built by mediapipe_env.py):

    python devtools/reference/mediapipe_pose.py [--as-shipped] IMAGE [IMAGE ...]

and prints exactly one JSON document to stdout (everything MediaPipe, absl, glog and TFLite log goes to stderr):

    {"images": [{"path": ..., "shape": [h, w], "found": bool,
                 "landmarks": [[x_px, y_px, z, visibility, presence] x 33],
                 "detection": {"score": s, "keypoints": [[x_px, y_px] x 4]},
                 "region": [centre_x_px, centre_y_px, side_px, rotation_rad]}]}

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

One correction to mp.solutions.pose as shipped: it round-trips the graph through Python protobuf, which silently
drops the options of calculators whose _pb2 module nobody imported (mediapipe/python/solutions/pose.py imports
them for that reason, but misses refine_landmarks_from_heatmap_calculator_pb2). So Pose() refines the landmarks
from the heatmap with the proto's default 9x9 window instead of the 7x7 that pose_landmark_cpu's graph asks
for, and that C++ MediaPipe and the Tasks API's PoseLandmarker use. Here the module is imported: the graph as
written (measured: on camera.png a hand joint moves 25 px between the two). --as-shipped skips the import.
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

POSE_OPTIONS = dict(static_image_mode=True, model_complexity=1, min_detection_confidence=0.5,
                    min_tracking_confidence=0.5)


def _stdout_to_stderr():
    """Point fd 1 at stderr for everything (native code included) and return a file on the real stdout."""
    sys.stdout.flush()
    real_stdout = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return real_stdout


def run(paths: list[str], as_shipped: bool = False) -> dict:
    import cv2
    import mediapipe as mp
    if not as_shipped:  # keep the graph's RefineLandmarksFromHeatmapCalculator options (see the docstring)
        from mediapipe.calculators.util import refine_landmarks_from_heatmap_calculator_pb2  # noqa: F401
    from mediapipe.python.solution_base import SolutionBase

    images = []
    # The legacy Pose graph with the same side inputs and thresholds as mp.solutions.pose.Pose(**POSE_OPTIONS),
    # asking also for the detection and the region it made of it (streams the graph has but Pose() hides), so
    # a parity test can check the detector and the landmark stages each on their own.
    pose_cls = mp.solutions.pose
    with SolutionBase(
            binary_graph_path=pose_cls._BINARYPB_FILE_PATH,
            side_inputs={"model_complexity": POSE_OPTIONS["model_complexity"], "smooth_landmarks": False,
                         "enable_segmentation": False, "smooth_segmentation": False, "use_prev_landmarks": False},
            calculator_params={
                "posedetectioncpu__TensorsToDetectionsCalculator.min_score_thresh":
                    POSE_OPTIONS["min_detection_confidence"],
                "poselandmarkbyroicpu__tensorstoposelandmarksandsegmentation__ThresholdingCalculator.threshold":
                    POSE_OPTIONS["min_tracking_confidence"]},
            outputs=["pose_landmarks", "pose_detection", "pose_rect_from_detection"]) as pose:
        for path in paths:
            bgr = cv2.imread(path, cv2.IMREAD_COLOR)
            if bgr is None:
                raise SystemExit(f"mediapipe_pose: cannot read image {path}")
            h, w = bgr.shape[:2]
            result = pose.process({"image": cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)})
            landmarks = []
            if result.pose_landmarks is not None:
                landmarks = [[lm.x * w, lm.y * h, lm.z, lm.visibility, lm.presence]
                             for lm in result.pose_landmarks.landmark]
            entry = {"path": path, "shape": [h, w], "found": bool(landmarks), "landmarks": landmarks}
            if result.pose_detection is not None:
                kps = result.pose_detection.location_data.relative_keypoints
                entry["detection"] = {"score": float(result.pose_detection.score[0]),
                                      "keypoints": [[k.x * w, k.y * h] for k in kps]}
            if result.pose_rect_from_detection is not None:
                roi = result.pose_rect_from_detection
                # centre x, y and side in pixels (the region is square in pixels), rotation in radians
                entry["region"] = [roi.x_center * w, roi.y_center * h, roi.width * w, roi.rotation]
            images.append(entry)
    return {"images": images}


def main(argv: list[str]) -> int:
    if not argv or any(a in ("-h", "--help") for a in argv):
        print(__doc__, file=sys.stderr)
        return 0 if argv else 2
    as_shipped = "--as-shipped" in argv
    out = _stdout_to_stderr()
    doc = run([a for a in argv if a != "--as-shipped"], as_shipped)
    json.dump(doc, out)
    out.write("\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
