"""Static INT8 quantization of the YOLO11n-pose ONNX export with ONNX Runtime's own tool (run in the tool venv).

    python devtools/models/quantize_yolo.py --model yolo11n_pose.onnx --out yolo11n_pose_int8.onnx PHOTO...

QDQ format, per-channel INT8 weights, UINT8 activations calibrated (min-max) on the given photos, their mirror
images, wide-framed and darkened versions, letterboxed as pose_ros feeds the model. Every convolution is quantized, the head's decoding is
not: in the head's non-Conv nodes (model.23: DFL, anchors, sigmoid, the final concat) box coordinates in pixels
and scores in [0, 1] share one tensor, and one INT8 scale for both rounds every score to 0. Prints a JSON summary.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import onnx
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

HEAD_PREFIX = "/model.23/"  # ultralytics' Pose head in the exported graph's node names
GREY = 114


def letterboxed(image: np.ndarray, size: int) -> np.ndarray:
    """(1, 3, size, size) float32 RGB in [0, 1], centred with grey padding: pose_ros' Letterbox."""
    height, width = image.shape[:2]
    gain = size / max(height, width)
    new_w, new_h = int(round(width * gain)), int(round(height * gain))
    canvas = np.full((size, size, 3), GREY, np.uint8)
    x0, y0 = (size - new_w) // 2, (size - new_h) // 2
    canvas[y0:y0 + new_h, x0:x0 + new_w] = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(canvas[..., ::-1].transpose(2, 0, 1)[None], dtype=np.float32) / 255.0


class PhotoReader(CalibrationDataReader):
    def __init__(self, input_name: str, photos: list[Path], size: int):
        images = [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in photos]
        if any(image is None for image in images):
            raise SystemExit(f"cannot read a calibration photo: {photos}")
        # Also framed wide and darkened: a letterbox mostly grey and a dark scene shift the activation ranges
        # (calibrated on the photos alone, the model lost three confident people of bus.jpg framed wide).
        wide = [cv2.copyMakeBorder(image, 0, 0, image.shape[0], image.shape[0], cv2.BORDER_CONSTANT,
                                   value=(GREY,) * 3) for image in images]
        dark = [cv2.LUT(image, (255.0 * (np.arange(256) / 255.0) ** 2.2).astype(np.uint8)) for image in images]
        images += [np.ascontiguousarray(image[:, ::-1]) for image in images] + wide + dark
        self._feeds = iter([{input_name: letterboxed(image, size)} for image in images])

    def get_next(self):
        return next(self._feeds, None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("photos", type=Path, nargs="+", help="calibration photos")
    args = parser.parse_args(argv)
    model = onnx.load(str(args.model))
    head = [n.name for n in model.graph.node if n.name.startswith(HEAD_PREFIX) and n.op_type != "Conv"]
    if not head:
        raise SystemExit(f"no {HEAD_PREFIX} nodes in {args.model}: not a YOLO11 pose export?")
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(args.model), str(prepared), skip_symbolic_shape=True)
        quantize_static(str(prepared), str(args.out), PhotoReader(model.graph.input[0].name, args.photos, args.imgsz),
                        quant_format=QuantFormat.QDQ, per_channel=True, weight_type=QuantType.QInt8,
                        activation_type=QuantType.QUInt8, nodes_to_exclude=head)
    json.dump({"float_nodes": len(head), "calibration_images": 4 * len(args.photos)}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
