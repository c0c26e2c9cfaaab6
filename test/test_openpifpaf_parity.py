"""The openpifpaf family's CIF/CAF decoder against OpenPifPaf 0.13.11's own (its default CifCaf: the C++ decoder),
on fields made by OpenPifPaf's own encoders from the real COCO annotations of ../shared/data/coco_minipose (crowded,
overlapping people), as they are, with noise, and damaged. Both decode the same float32 arrays; OpenPifPaf runs in
its reference venv (devtools/reference/openpifpaf_env.py) as a subprocess, exchanging .npz and JSON files.

Same people (count and found joints), joints within 0.05 px, joint values and scores within 1e-4.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from pose_ros.core.families.openpifpaf.decode import decode_cifcaf

REPO = Path(__file__).resolve().parents[1]
COCO = REPO.parent / "shared" / "data" / "coco_minipose"
sys.path.insert(0, str(REPO / "devtools" / "reference"))
from openpifpaf_fields import STRIDE, coco_people, damaged, encode, noisy, run_reference  # noqa: E402

JOINT_TOL_PX, SCORE_TOL = 0.05, 1e-4


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    if not (COCO / "annotations").is_dir():
        pytest.skip(f"{COCO} is absent (the workplace's shared test data)")
    tmp = tmp_path_factory.mktemp("openpifpaf")
    images = coco_people(COCO, "val2017") + coco_people(COCO, "train2017")
    rng = np.random.default_rng(23)
    fields = {"stride": np.array(STRIDE)}
    for i, (image, (cif, caf)) in enumerate(zip(images, encode(images, tmp))):
        variants = {"clean": (cif, caf), "noise": noisy(cif, caf, rng)}
        if i % 4 == 0:
            variants["damaged"] = damaged(cif, caf, rng)
        for variant, (c, a) in variants.items():
            fields[f"cif_{variant}-{image['name']}"] = c
            fields[f"caf_{variant}-{image['name']}"] = a
    np.savez(tmp / "fields.npz", **fields)
    run_reference("decode", tmp / "fields.npz", tmp / "decoded.npz")
    decoded = np.load(tmp / "decoded.npz")
    names = sorted(k[len("cif_"):] for k in fields if k.startswith("cif_"))
    return [(n, fields[f"cif_{n}"], fields[f"caf_{n}"], decoded[f"joints_{n}"], decoded[f"scores_{n}"])
            for n in names]


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
    for name, cif, caf, their_joints, their_scores in cases:
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
