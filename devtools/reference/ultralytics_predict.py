#!/usr/bin/env python3
"""Reference YOLO-pose predictions from Ultralytics itself, for the pose_ros parity test.

Runs inside the tool venv ($POSE_ROS_CACHE/venv-tools, built by devtools/models/prepare_models.py):

    python devtools/reference/ultralytics_predict.py --model yolo11n_pose.onnx IMAGE [IMAGE ...]

and prints one JSON document to stdout (everything Ultralytics logs goes to stderr):

    {"images": [{"path": ..., "orig_shape": [h, w],
                 "boxes": [[x1, y1, x2, y2], ...], "scores": [...],
                 "keypoints": [[[x, y, score] x 17], ...]}]}

Boxes and keypoints are in original-image pixels, detections in descending score order, the keypoint score is
Ultralytics' keypoint confidence (`Results.keypoints.data[..., 2]`, the model's sigmoided visibility).

What Ultralytics (8.4.190, see devtools/models/requirements-tools.txt) does for `YOLO(onnx, task="pose").predict(
image, imgsz=640, conf=0.25, iou=0.7, rect=False, device="cpu")` on the Bx3x640x640 ONNX of prepare_models.py; our own
decoder must reproduce it (engine/predictor.py, data/augment.py LetterBox, utils/nms.py, utils/ops.py):

* Read: `ultralytics.utils.patches.imread(path, cv2.IMREAD_COLOR)` = cv2.imdecode -> BGR uint8, 3 channels
  (grayscale is replicated to 3 channels, alpha is dropped).
* Letterbox: LetterBox(new_shape=(640, 640), auto=False, scale_fill=False, scaleup=True, center=True,
  padding_value=114, interpolation=cv2.INTER_LINEAR). `auto` (minimum-rectangle padding to a stride multiple) is
  only used with `rect=True` (predict()'s default) for .pt or dynamic-shape models; this ONNX's export metadata says
  dynamic (its batch is), but its image axes are pinned to 640x640, so `rect=False` is passed and every image becomes
  a CENTRED SQUARE 640x640 with pad value 114 (imgsz is also forced to the export metadata imgsz). With h, w = image shape:
      r = min(640 / h, 640 / w)                         (images are also scaled UP: scaleup=True)
      new_w, new_h = max(round(w * r), 1), max(round(h * r), 1)    (Python round: half to even)
      dw, dh = (640 - new_w) / 2, (640 - new_h) / 2
      top, bottom = round(dh - 0.1), round(dh + 0.1);  left, right = round(dw - 0.1), round(dw + 0.1)
      cv2.resize(img, (new_w, new_h), interpolation=cv2.INTER_LINEAR) (skipped when the size is unchanged),
      then cv2.copyMakeBorder(..., BORDER_CONSTANT, value=(114, 114, 114)).
* Tensor: BGR -> RGB, float32 / 255, NCHW, no mean/std.
* Model output `output0` float32 [1, 56, 8400] (8400 anchors = 80x80 + 40x40 + 20x20, strides 8/16/32), per anchor:
  cx, cy, w, h (letterboxed-input pixels), person score (already sigmoided), then 17 x (x, y, v) with x, y in
  letterboxed-input pixels and v already sigmoided. No NMS in the graph.
* NMS (utils/nms.non_max_suppression): conf=0.25 (keep score > conf, strict), iou=0.7, classes=None,
  agnostic_nms=False (irrelevant: nc=1, class offset is 0), multi_label=False, max_det=300, max_nms=30000 (top by
  score before NMS), max_wh=7680; boxes xywh -> xyxy (c -/+ wh/2), then torchvision.ops.nms (drops IoU > 0.7,
  result sorted by descending score), truncated to max_det.
* Back to the original image (ops.scale_boxes / ops.scale_coords, same for boxes and keypoints):
      gain_x, gain_y = new_w / w, new_h / h           (per-axis, from the ROUNDED resized size, not r)
      pad_x, pad_y = round((640 - new_w) / 2 - 0.1), round((640 - new_h) / 2 - 0.1)
      x = (x - pad_x) / gain_x;  y = (y - pad_y) / gain_y
  then clipped to [0, w] and [0, h] (not w - 1). Keypoint scores are untouched and low-confidence keypoints are
  NOT zeroed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

# Must be set before ultralytics is imported: never reach the network, never pip-install anything, keep the
# settings file out of the user's home config.
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "False")
os.environ.setdefault(
    "YOLO_CONFIG_DIR",
    str(Path(os.environ.get("POSE_ROS_CACHE", Path.home() / ".cache" / "pose_ros")).expanduser() / "ultralytics"),
)

# Ultralytics defaults for predict(), restated for the JSON consumer (see module docstring).
IMGSZ = 640
CONF = 0.25
IOU = 0.7


def _claim_stdout():
    """Return a private handle on the real stdout and point fd 1 at stderr.

    Ultralytics' LOGGER writes to stdout; sending fd 1 to stderr keeps stdout a single clean JSON document.
    """
    sys.stdout.flush()
    json_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    return json_out


def predict(model_path: Path, images: list[Path], conf: float, iou: float) -> dict:
    """Run Ultralytics' own predictor on each image and return the JSON-ready result."""
    from ultralytics import YOLO

    model = YOLO(str(model_path), task="pose")
    out = []
    for image in images:
        (res,) = model.predict(str(image), imgsz=IMGSZ, conf=conf, iou=iou, rect=False, device="cpu", verbose=False,
                               save=False)
        boxes = res.boxes.xyxy.cpu().numpy().astype(float)
        scores = res.boxes.conf.cpu().numpy().astype(float)
        kpts = res.keypoints.data.cpu().numpy().astype(float) if res.keypoints is not None else []
        out.append(
            {
                "path": str(image),
                "orig_shape": [int(v) for v in res.orig_shape],
                "boxes": [[float(v) for v in b] for b in boxes],
                "scores": [float(s) for s in scores],
                "keypoints": [[[float(v) for v in kp] for kp in person] for person in kpts],
            }
        )
    return {"images": out}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, type=Path, help="static-shape YOLO-pose ONNX file")
    parser.add_argument("--conf", type=float, default=CONF, help="confidence threshold (default %(default)s)")
    parser.add_argument("--iou", type=float, default=IOU, help="NMS IoU threshold (default %(default)s)")
    parser.add_argument("images", nargs="+", type=Path)
    args = parser.parse_args(argv)

    for p in [args.model, *args.images]:
        if not p.is_file():
            parser.error(f"no such file: {p}")

    json_out = _claim_stdout()
    result = predict(args.model, args.images, args.conf, args.iou)
    json.dump(result, json_out)
    json_out.write("\n")
    json_out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
