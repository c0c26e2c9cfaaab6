#!/usr/bin/env python3
"""Export an Ultralytics YOLO-pose checkpoint (.pt) to a static-shape fp32 ONNX file.

Runs inside the tool venv (see requirements-tools.txt); called by prepare_models.py:

    python export_yolo.py --weights yolo11n-pose.pt --out yolo11n_pose.onnx [--imgsz 640]

Uses the real Ultralytics exporter (format="onnx", static 1x3xSxS input, fp32, no NMS in the graph, onnxslim
simplification, opset chosen by the exporter). The output file is replaced atomically. On success, stdout holds a
single JSON object describing the exported graph (names, shapes, opset, Ultralytics metadata); all logging goes to
stderr.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import json
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

# Must be set before ultralytics is imported: never reach the network, never pip-install anything (a missing
# requirement would otherwise be "auto-updated", or silently skipped, e.g. simplification without onnxslim).
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "False")

LOG = logging.getLogger("export_yolo")

# Modules the ONNX export needs besides ultralytics itself.
EXPORT_MODULES = ("torch", "torchvision", "onnx", "onnxslim", "onnxruntime")


class ExportError(RuntimeError):
    pass


def _claim_stdout():
    """Return a private handle on the real stdout and point fd 1 at stderr (Ultralytics logs to stdout)."""
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    return out


def _check_modules() -> dict[str, str]:
    versions = {}
    for name in ("ultralytics", *EXPORT_MODULES):
        try:
            versions[name] = getattr(importlib.import_module(name), "__version__", "?")
        except ImportError as exc:
            raise ExportError(f"{name} is not importable in {sys.prefix} ({exc}); rebuild the tool venv") from exc
    return versions


def _dims(value_info) -> list:
    return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in value_info.type.tensor_type.shape.dim]


def describe_onnx(path: Path, imgsz: int) -> dict:
    """Check the exported graph is what pose_ros expects and return a description of it."""
    import numpy as np
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(path))
    meta = {p.key: p.value for p in model.metadata_props}
    def io(v):
        return {"name": v.name, "shape": _dims(v), "fp32": v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT}

    inputs = [io(v) for v in model.graph.input]
    outputs = [io(v) for v in model.graph.output]
    kpt_shape = ast.literal_eval(meta.get("kpt_shape", "None"))

    expected_in = [1, 3, imgsz, imgsz]
    if len(inputs) != 1 or inputs[0]["shape"] != expected_in or not inputs[0]["fp32"]:
        raise ExportError(f"unexpected ONNX input(s) {inputs}, want one static fp32 {expected_in}")
    if len(outputs) != 1 or not outputs[0]["fp32"] or not all(isinstance(d, int) for d in outputs[0]["shape"]):
        raise ExportError(f"unexpected ONNX output(s) {outputs}, want one static fp32 tensor")
    if meta.get("task") != "pose" or not kpt_shape or len(kpt_shape) != 2:
        raise ExportError(f"not a pose model: task={meta.get('task')!r} kpt_shape={kpt_shape!r}")
    nk, kd = kpt_shape
    n, channels, anchors = outputs[0]["shape"]
    if n != 1 or channels != 4 + 1 + nk * kd:  # box + one class (person) + keypoints
        raise ExportError(f"output shape {outputs[0]['shape']} does not match 1x(5+{nk}*{kd})xN")

    # Run it once: catches graphs that load but do not execute, and confirms the runtime shape.
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (y,) = sess.run(None, {inputs[0]["name"]: np.zeros(expected_in, np.float32)})
    if list(y.shape) != outputs[0]["shape"]:
        raise ExportError(f"ONNX Runtime output shape {list(y.shape)} != declared {outputs[0]['shape']}")

    return {
        "inputs": inputs,
        "outputs": outputs,
        "opset": max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
        "ir_version": model.ir_version,
        "kpt_shape": [nk, kd],
        "anchors": anchors,
        "metadata": {k: meta.get(k) for k in ("version", "task", "stride", "imgsz", "names", "license")},
    }


def export(weights: Path, out: Path, imgsz: int, opset: int | None) -> dict:
    versions = _check_modules()
    from ultralytics import YOLO

    out.parent.mkdir(parents=True, exist_ok=True)
    # Ultralytics writes <weights stem>.onnx next to the weights: export from a private copy in a temp dir on the
    # destination filesystem, then rename into place (atomic; never leaves a half-written model behind).
    with tempfile.TemporaryDirectory(prefix=".export-", dir=out.parent) as tmp:
        local = Path(tmp) / weights.name
        shutil.copyfile(weights, local)
        LOG.info("exporting %s (imgsz %d) with ultralytics %s, torch %s", weights, imgsz, versions["ultralytics"],
                 versions["torch"])
        produced = YOLO(str(local), task="pose").export(
            format="onnx",
            imgsz=imgsz,
            batch=1,
            dynamic=False,  # static shapes: ultralytics then letterboxes to a centred imgsz x imgsz square
            simplify=True,
            # nms left at its default (None): raw one-to-many head output, NMS done by the consumer. (nms=False
            # would ask for the NMS-free one-to-one head, which YOLO11 lacks: it only logs a warning.)
            opset=opset,  # None: the exporter picks (18 for torch 2.14)
            device="cpu",
        )
        produced = Path(produced)
        if not produced.is_file():
            raise ExportError(f"ultralytics reported {produced} but no such file was written")
        info = describe_onnx(produced, imgsz)
        os.replace(produced, out)
    info["versions"] = versions
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", required=True, type=Path, help="Ultralytics .pt checkpoint")
    parser.add_argument("--out", required=True, type=Path, help="ONNX file to write")
    parser.add_argument("--imgsz", type=int, default=640, help="square input size (default %(default)s)")
    parser.add_argument("--opset", type=int, default=None, help="ONNX opset (default: the exporter's choice)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s export_yolo: %(message)s", stream=sys.stderr)

    if not args.weights.is_file():
        LOG.error("no such weights file: %s", args.weights)
        return 2
    json_out = _claim_stdout()
    try:
        info = export(args.weights, args.out, args.imgsz, args.opset)
    except ExportError as exc:
        LOG.error("%s", exc)
        return 1
    json.dump(info, json_out)
    json_out.write("\n")
    json_out.flush()
    LOG.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
