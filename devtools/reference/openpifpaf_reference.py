"""OpenPifPaf 0.13.11 itself, for the parity tests and the models step. Runs in the reference venv
(devtools/reference/openpifpaf_env.py); exchanges only .npz and JSON files (never pickles).

    python openpifpaf_reference.py encode PEOPLE.json OUT.npz     # OpenPifPaf's own CIF/CAF encoders
    python openpifpaf_reference.py decode FIELDS.npz OUT.npz      # OpenPifPaf's default CifCaf decoder (C++)
    python openpifpaf_reference.py export OUT.onnx --width 641 --height 481 [--checkpoint FILE | --basenet NAME]
    python openpifpaf_reference.py random-checkpoint OUT.pkl [--basenet NAME]   # for the models step's test

encode: PEOPLE.json = {"width": W, "height": H, "stride": 16, "images": [{"name": ..., "people": [{"keypoints":
[[x, y, v] x 17], "bbox": [x, y, w, h], "iscrowd": 0}, ...]}, ...]}, in network-input pixels. For each image the
encoders' training targets (CIF [c, dx, dy, bmin, s], CAF [c, dx1, dy1, dx2, dy2, bmin1, bmin2, s1, s2], offsets
from the cell, NaN where unset) are turned into what the network's heads output in eval mode and the decoder reads:
CIF [b, c, x, y, s], CAF [b, c, x1, y1, x2, y2, s1, s2], the cell index added to the offsets, NaN -> 0.
Writes cif_<i>, caf_<i> per image.

decode: FIELDS.npz holds cif_<name>, caf_<name> (float32, one image each) and "stride"; a fresh
``openpifpaf.decoder.CifCaf`` (so the C++ decoder starts from the same state every time) decodes each pair with the
library's default settings. Writes joints_<name> (N, 17, 4) [v, x, y, s] and scores_<name> (N,) (Annotation.score).

export: a shufflenetv2k16 (or --basenet) initialised at random, or the network of a checkpoint (a pickle: opened here,
in the build environment only, with torch.load(weights_only=False)), to ONNX with the TorchScript exporter
(dynamo=False; openpifpaf's own export_onnx wants the dynamo exporter's onnxscript on torch 2.14), input
``input_batch`` 1x3xHxW, outputs ``cif`` and ``caf``, the heads' eval-mode decoding (sigmoid, cell index, softplus)
inside the graph.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time

from pathlib import Path

# openpifpaf imports every top-level module named openpifpaf_* on sys.path as a plugin: this folder's own
# (openpifpaf_env.py, ...) must not be found, so the script's folder leaves sys.path before the import.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402
import torch  # noqa: E402

import openpifpaf  # noqa: E402
from openpifpaf.plugins.coco import constants as coco  # noqa: E402

LOG = logging.getLogger("openpifpaf_reference")


def head_metas(stride: int):
    """COCO person CIF and CAF head metas, as openpifpaf.plugins.coco.CocoKp makes them, at ``stride``."""
    cif = openpifpaf.headmeta.Cif("cif", "cocokp", keypoints=coco.COCO_KEYPOINTS, sigmas=coco.COCO_PERSON_SIGMAS,
                                  pose=coco.COCO_UPRIGHT_POSE, draw_skeleton=coco.COCO_PERSON_SKELETON,
                                  score_weights=coco.COCO_PERSON_SCORE_WEIGHTS)
    caf = openpifpaf.headmeta.Caf("caf", "cocokp", keypoints=coco.COCO_KEYPOINTS, sigmas=coco.COCO_PERSON_SIGMAS,
                                  pose=coco.COCO_UPRIGHT_POSE, skeleton=coco.COCO_PERSON_SKELETON)
    for index, meta in enumerate((cif, caf)):
        meta.head_index = index
        meta.base_stride = stride
        meta.upsample_stride = 1
    return cif, caf


def _index_grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(w, dtype=np.float32)[None, :], np.arange(h, dtype=np.float32)[:, None]


def targets_to_fields(cif_t: np.ndarray, caf_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Encoder targets -> the heads' eval-mode output layout (see the module docstring)."""
    _, _, h, w = cif_t.shape
    gx, gy = _index_grid(h, w)
    cif = np.stack([cif_t[:, 3], cif_t[:, 0], cif_t[:, 1] + gx, cif_t[:, 2] + gy, cif_t[:, 4]], axis=1)
    caf = np.stack([caf_t[:, 5], caf_t[:, 0], caf_t[:, 1] + gx, caf_t[:, 2] + gy, caf_t[:, 3] + gx,
                    caf_t[:, 4] + gy, caf_t[:, 7], caf_t[:, 8]], axis=1)
    return (np.nan_to_num(cif, nan=0.0).astype(np.float32), np.nan_to_num(caf, nan=0.0).astype(np.float32))


def encode(people_json: str, out: str) -> None:
    spec = json.loads(open(people_json, encoding="utf-8").read())
    cif_meta, caf_meta = head_metas(int(spec["stride"]))
    image = torch.zeros((3, int(spec["height"]), int(spec["width"])))
    result = {}
    for i, entry in enumerate(spec["images"]):
        anns = [{"keypoints": np.asarray(p["keypoints"], dtype=np.float64).reshape(17, 3),
                 "bbox": np.asarray(p["bbox"], dtype=np.float64), "iscrowd": int(p.get("iscrowd", 0))}
                for p in entry["people"]]
        cif_t = openpifpaf.encoder.Cif(cif_meta)(image, anns, {}).numpy()
        caf_t = openpifpaf.encoder.Caf(caf_meta)(image, anns, {}).numpy()
        result[f"cif_{i}"], result[f"caf_{i}"] = targets_to_fields(cif_t, caf_t)
    np.savez_compressed(out, **result)


def decode(fields_npz: str, out: str, repeat: int = 0) -> None:
    fields = np.load(fields_npz, allow_pickle=False)
    stride = int(fields["stride"])
    cif_meta, caf_meta = head_metas(stride)
    result = {}
    for key in fields.files:
        if not key.startswith("cif_"):
            continue
        name = key[len("cif_"):]
        decoder = openpifpaf.decoder.CifCaf([cif_meta], [caf_meta])
        anns = decoder([torch.from_numpy(fields[f"cif_{name}"]), torch.from_numpy(fields[f"caf_{name}"])])
        joints = np.zeros((len(anns), 17, 4), dtype=np.float32)
        for n, ann in enumerate(anns):
            joints[n, :, 0] = ann.data[:, 2]
            joints[n, :, 1:3] = ann.data[:, :2]
            joints[n, :, 3] = ann.joint_scales
        result[f"joints_{name}"] = joints
        result[f"scores_{name}"] = np.array([ann.score for ann in anns], dtype=np.float64)
        if repeat:  # seconds per decode (median), the library's whole default path: C++ decoder + Annotations
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                decoder([torch.from_numpy(fields[f"cif_{name}"]), torch.from_numpy(fields[f"caf_{name}"])])
                times.append(time.perf_counter() - t0)
            result[f"seconds_{name}"] = np.array([np.median(times), np.min(times)])
    np.savez_compressed(out, **result)


def export(out: str, width: int, height: int, checkpoint: str | None, basenet: str) -> None:
    if checkpoint:
        # A checkpoint pickles the whole network: loaded only here, in the build venv, after its sha256 was checked.
        net = torch.load(checkpoint, map_location="cpu", weights_only=False)["model"]
        openpifpaf.network.model_migration.model_migration(net)
    else:
        torch.manual_seed(0)
        net = openpifpaf.network.Factory(base_name=basenet).from_scratch(list(head_metas(16)))
    net.eval()
    # The heads' out-of-place eval path (the in-place one does not trace to ONNX), as openpifpaf.export_onnx sets.
    openpifpaf.network.heads.CompositeField3.inplace_ops = False
    openpifpaf.network.heads.CompositeField4.inplace_ops = False
    dummy = torch.zeros(1, 3, height, width)
    with torch.inference_mode():
        net(dummy)
    torch.onnx.export(net, dummy, out, input_names=["input_batch"], output_names=["cif", "caf"], opset_version=17,
                      do_constant_folding=True, dynamo=False)
    print(json.dumps({"stride": int(net.base_net.stride), "basenet": net.base_net.name}))


def random_checkpoint(out: str, basenet: str) -> None:
    """A checkpoint in OpenPifPaf's own format ({"model": network, "epoch": n}, pickled by torch.save) of a randomly
    initialised network: what the models step's user-checkpoint path is tested with (no trained weights here)."""
    torch.manual_seed(0)
    net = openpifpaf.network.Factory(base_name=basenet).from_scratch(list(head_metas(16)))
    torch.save({"model": net, "epoch": 0}, out)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("encode")
    p.add_argument("people_json")
    p.add_argument("out")
    p = sub.add_parser("decode")
    p.add_argument("fields_npz")
    p.add_argument("out")
    p.add_argument("--repeat", type=int, default=0, help="also time each decode this many times (median)")
    p = sub.add_parser("export")
    p.add_argument("out")
    p.add_argument("--width", type=int, default=641)
    p.add_argument("--height", type=int, default=481)
    p.add_argument("--checkpoint")
    p.add_argument("--basenet", default="shufflenetv2k16")
    p = sub.add_parser("random-checkpoint")
    p.add_argument("out")
    p.add_argument("--basenet", default="shufflenetv2k16")
    args = parser.parse_args(argv)
    if args.command == "random-checkpoint":
        random_checkpoint(args.out, args.basenet)
    elif args.command == "encode":
        encode(args.people_json, args.out)
    elif args.command == "decode":
        decode(args.fields_npz, args.out, args.repeat)
    else:
        export(args.out, args.width, args.height, args.checkpoint, args.basenet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
