"""The openpifpaf family's CIF/CAF decoder against OpenPifPaf 0.13.11's own (its default CifCaf: the C++ decoder),
on fields made by OpenPifPaf's own encoders from the real COCO annotations of ../shared/data/coco_minipose (crowded,
overlapping people), as they are, with noise, and damaged. Both decode the same float32 arrays; OpenPifPaf runs in
its reference venv (devtools/reference/openpifpaf_env.py) as a subprocess, exchanging .npz and JSON files.

Same people (count and found joints), joints within 0.05 px, joint values and scores within 1e-4.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pose_ros.core.families.openpifpaf.decode import decode_cifcaf

REPO = Path(__file__).resolve().parents[1]
COCO = REPO.parent / "shared" / "data" / "coco_minipose"
sys.path.insert(0, str(REPO / "devtools" / "reference"))
from openpifpaf_env import clean_env, ensure_openpifpaf_env  # noqa: E402

REFERENCE = REPO / "devtools" / "reference" / "openpifpaf_reference.py"
WIDTH, HEIGHT, STRIDE = 641, 481, 16     # shufflenetv2k16's export size (CenterPadTight(16) of 640x480)
JOINT_TOL_PX, SCORE_TOL = 0.05, 1e-4


def coco_people(split: str) -> list[dict]:
    """Every image of the split with its annotations (people and crowds), scaled to fit 640x480."""
    data = json.loads((COCO / "annotations" / f"person_keypoints_{split}.json").read_text())
    by_image: dict[int, list] = {}
    for ann in data["annotations"]:
        by_image.setdefault(ann["image_id"], []).append(ann)
    images = []
    for image in sorted(data["images"], key=lambda im: im["id"]):
        anns = by_image.get(image["id"], [])
        if not any(a["num_keypoints"] > 0 for a in anns):
            continue
        s = min((WIDTH - 1) / image["width"], (HEIGHT - 1) / image["height"])
        people = []
        for a in anns:
            kp = np.asarray(a["keypoints"], dtype=np.float64).reshape(17, 3)
            kp[:, :2] *= s
            kp[kp[:, 2] == 0] = 0.0
            people.append({"keypoints": kp.tolist(), "bbox": (np.asarray(a["bbox"]) * s).tolist(),
                           "iscrowd": int(a["iscrowd"])})
        images.append({"name": f"{split}_{image['id']}", "people": people})
    return images


def run_reference(python: Path, *args) -> None:
    proc = subprocess.run([str(python), str(REFERENCE), *map(str, args)], env=clean_env(), capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, f"OpenPifPaf reference failed:\n{proc.stderr[-3000:]}"


def noisy(cif, caf, rng):
    """Fields as a trained network would blur them: confidence noise and a low background, jittered regressions and
    scales (no exact ties between cells)."""
    cif, caf = cif.copy(), caf.copy()
    for field, reg, scale in ((cif, (2, 3), (4,)), (caf, (2, 3, 4, 5), (6, 7))):
        c = field[:, 1]
        field[:, 1] = np.clip(c + rng.normal(0, 0.03, c.shape) + rng.uniform(0, 0.25, c.shape), 0, 1)
        for k in reg:
            field[:, k] += rng.normal(0, 0.05, field[:, k].shape)
        for k in scale:
            field[:, k] *= np.exp(rng.normal(0, 0.05, field[:, k].shape))
    return cif.astype(np.float32), caf.astype(np.float32)


def damaged(cif, caf, rng):
    """Broken outputs: head joints gone, shoulder-hip links gone, a block of spurious confident joints and of
    connections pointing anywhere, zero and huge scales."""
    cif, caf = noisy(cif, caf, rng)
    h, w = cif.shape[2:]
    cif[0:5, 1] = 0.0
    caf[5:7, 1] = 0.0
    j, i = rng.integers(0, h - 6), rng.integers(0, w - 6)
    cif[9, 1, j:j + 6, i:i + 6] = 0.95
    cif[9, 2, j:j + 6, i:i + 6] = rng.uniform(0, w, (6, 6))
    cif[9, 3, j:j + 6, i:i + 6] = rng.uniform(0, h, (6, 6))
    caf[8, 1, j:j + 6, i:i + 6] = 1.0
    caf[8, 2:6:2, j:j + 6, i:i + 6] = rng.uniform(0, w, (2, 6, 6))
    caf[8, 3:6:2, j:j + 6, i:i + 6] = rng.uniform(0, h, (2, 6, 6))
    cif[11:13, 4] = 0.0
    cif[13:15, 4] *= 30.0
    return cif, caf


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    if not (COCO / "annotations").is_dir():
        pytest.skip(f"{COCO} is absent (the workplace's shared test data)")
    python = ensure_openpifpaf_env()
    tmp = tmp_path_factory.mktemp("openpifpaf")
    images = coco_people("val2017") + coco_people("train2017")
    spec = {"width": WIDTH, "height": HEIGHT, "stride": STRIDE, "images": images}
    (tmp / "people.json").write_text(json.dumps(spec))
    run_reference(python, "encode", tmp / "people.json", tmp / "encoded.npz")
    encoded = np.load(tmp / "encoded.npz")
    rng = np.random.default_rng(23)
    fields = {"stride": np.array(STRIDE)}
    for i, image in enumerate(images):
        cif, caf = encoded[f"cif_{i}"], encoded[f"caf_{i}"]
        variants = {"clean": (cif, caf), "noise": noisy(cif, caf, rng)}
        if i % 4 == 0:
            variants["damaged"] = damaged(cif, caf, rng)
        for variant, (c, a) in variants.items():
            fields[f"cif_{variant}-{image['name']}"] = c
            fields[f"caf_{variant}-{image['name']}"] = a
    np.savez(tmp / "fields.npz", **fields)
    run_reference(python, "decode", tmp / "fields.npz", tmp / "decoded.npz")
    decoded = np.load(tmp / "decoded.npz")
    names = sorted(k[len("cif_"):] for k in fields if k.startswith("cif_"))
    return [(n, fields[f"cif_{n}"], fields[f"caf_{n}"], decoded[f"joints_{n}"], decoded[f"scores_{n}"],
             sum(1 for p in images[[im["name"] for im in images].index(n.split("-", 1)[1])]["people"]
                 if not p["iscrowd"])) for n in names]


def _match(ours: np.ndarray, theirs: np.ndarray) -> list[int]:
    """For each of their people, the index of ours with the same found joints nearest to theirs."""
    order = []
    for person in theirs:
        found = person[:, 0] > 0
        same = [k for k, p in enumerate(ours) if k not in order and ((p[:, 0] > 0) == found).all()]
        assert same, f"no person with the same found joints {np.flatnonzero(found).tolist()}"
        order.append(min(same, key=lambda k: np.abs(ours[k, found, 1:3] - person[found, 1:3]).max()))
    return order


def test_decoder_equals_openpifpaf(cases):
    worst = {"joint_px": 0.0, "value": 0.0, "score": 0.0}
    people = {"clean": 0, "noise": 0, "damaged": 0}
    for name, cif, caf, their_joints, their_scores, n_annotated in cases:
        joints, scores = decode_cifcaf(cif, caf, STRIDE)
        assert len(joints) == len(their_joints), f"{name}: {len(joints)} people, OpenPifPaf {len(their_joints)}"
        order = _match(joints, their_joints)
        joints, scores = joints[order], scores[order]
        found = their_joints[..., 0] > 0
        worst["joint_px"] = max(worst["joint_px"], float(np.abs(joints[..., 1:3] - their_joints[..., 1:3])[found]
                                                          .max(initial=0)))
        worst["value"] = max(worst["value"], float(np.abs(joints[..., 0] - their_joints[..., 0]).max(initial=0)))
        worst["score"] = max(worst["score"], float(np.abs(scores - their_scores).max(initial=0)))
        assert worst["joint_px"] <= JOINT_TOL_PX, f"{name}: joints {worst}"
        assert worst["value"] <= SCORE_TOL and worst["score"] <= SCORE_TOL, f"{name}: values/scores {worst}"
        people[name.split("-")[0]] += len(joints)
    print(f"\nOpenPifPaf parity on {len(cases)} field sets: people decoded {people}; worst {worst}")
    # the fields hold people: the comparison is not between two empty lists
    assert people["clean"] >= 40 and people["noise"] >= 40
