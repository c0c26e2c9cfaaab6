#!/usr/bin/env python3
"""Export an Ultralytics YOLO-pose checkpoint (.pt) to an fp32 ONNX file: dynamic batch, fixed square image.

Runs inside the tool venv (see requirements-tools.txt); called by prepare_models.py:

    python export_yolo.py --weights yolo11n-pose.pt --out yolo11n_pose.onnx [--imgsz 640]

Uses the real Ultralytics exporter (format="onnx", dynamic axes, fp32, no NMS in the graph, onnxslim
simplification, opset chosen by the exporter), then pins the image axes to SxS so the input is Bx3xSxS: the batch
stays free (several cameras' frames in one call, pose_ros' multi-camera batching), the image size does not (pose_ros
letterboxes every frame to the centred SxS square). The output file is replaced atomically. On success, stdout holds a
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

    expected_in = ["batch", 3, imgsz, imgsz]
    if len(inputs) != 1 or inputs[0]["shape"] != expected_in or not inputs[0]["fp32"]:
        raise ExportError(f"unexpected ONNX input(s) {inputs}, want one fp32 {expected_in}")
    out_shape = outputs[0]["shape"] if len(outputs) == 1 else []
    if len(outputs) != 1 or not outputs[0]["fp32"] or out_shape[:1] != ["batch"] or \
            not all(isinstance(d, int) for d in out_shape[1:]):
        raise ExportError(f"unexpected ONNX output(s) {outputs}, want one fp32 batch x C x A tensor")
    if meta.get("task") != "pose" or not kpt_shape or len(kpt_shape) != 2:
        raise ExportError(f"not a pose model: task={meta.get('task')!r} kpt_shape={kpt_shape!r}")
    nk, kd = kpt_shape
    _, channels, anchors = out_shape
    if channels != 4 + 1 + nk * kd:  # box + one class (person) + keypoints
        raise ExportError(f"output shape {out_shape} does not match batch x (5+{nk}*{kd}) x N")

    # Run it: catches graphs that load but do not execute, confirms the runtime shape, and checks that a batch of
    # two gives each image the answer it gets alone (no cross-talk between batch entries).
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    pair = rng.random((2, 3, imgsz, imgsz), dtype=np.float32)
    (both,) = sess.run(None, {inputs[0]["name"]: pair})
    alone = [sess.run(None, {inputs[0]["name"]: pair[i:i + 1]})[0] for i in range(2)]
    if list(both.shape) != [2, channels, anchors]:
        raise ExportError(f"ONNX Runtime output shape {list(both.shape)} != [2, {channels}, {anchors}]")
    batch_error = float(max(np.abs(both[i] - alone[i][0]).max() for i in range(2)))
    if batch_error > 1e-3:
        raise ExportError(f"a batch of 2 differs from single runs by {batch_error} (> 1e-3)")

    return {
        "inputs": inputs,
        "outputs": outputs,
        "opset": max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
        "ir_version": model.ir_version,
        "kpt_shape": [nk, kd],
        "anchors": anchors,
        "batch_vs_single_max_abs": batch_error,
        "metadata": {k: meta.get(k) for k in ("version", "task", "stride", "imgsz", "names", "license")},
    }


def pin_image_size(path: Path, imgsz: int) -> None:
    """Fix the input's height and width (and so the anchor count) in the declared shapes; the batch stays symbolic.

    The exporter only offers all axes dynamic or none; a fixed square lets ONNX Runtime plan memory for it and
    makes a wrong-sized input fail loudly instead of silently running another resolution."""
    import onnx
    from onnx.tools import update_model_dims

    model = onnx.load(str(path))
    (inp,), (out,) = model.graph.input, model.graph.output
    nk, kd = ast.literal_eval({p.key: p.value for p in model.metadata_props}.get("kpt_shape", "(17, 3)"))
    channels = 4 + 1 + nk * kd  # box, person score, keypoints
    anchors = sum((imgsz // stride) ** 2 for stride in (8, 16, 32))  # one anchor per cell of the P3-P5 heads
    model = update_model_dims.update_inputs_outputs_dims(model, {inp.name: ["batch", 3, imgsz, imgsz]},
                                                         {out.name: ["batch", channels, anchors]})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


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
            dynamic=True,  # a free batch axis; the image axes are pinned below
            simplify=True,
            # nms left at its default (None): raw one-to-many head output, NMS done by the consumer. (nms=False
            # would ask for the NMS-free one-to-one head, which YOLO11 lacks: it only logs a warning.)
            opset=opset,  # None: the exporter picks (18 for torch 2.14)
            device="cpu",
        )
        produced = Path(produced)
        if not produced.is_file():
            raise ExportError(f"ultralytics reported {produced} but no such file was written")
        pin_image_size(produced, imgsz)
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
