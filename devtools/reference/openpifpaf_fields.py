"""CIF/CAF fields for the OpenPifPaf parity test and the decoder timing: real COCO people (coco_minipose) encoded by
OpenPifPaf's own encoders (openpifpaf_reference.py encode, in the reference venv), then noised or damaged here.
Runs in the project's venv (numpy only); talks to the reference venv through .npz/JSON files."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np

from openpifpaf_env import clean_env, ensure_openpifpaf_env

REFERENCE = Path(__file__).resolve().parent / "openpifpaf_reference.py"
WIDTH, HEIGHT, STRIDE = 641, 481, 16     # shufflenetv2k16's eval size for 640x480 (CenterPadTight(16)): 41x31 cells


def coco_people(coco: Path, split: str, min_keypoints: int = 1) -> list[dict]:
    """Every image of a coco_minipose split with people, its annotations (people and crowds) scaled to fit 640x480.
    ``count``: people with at least ``min_keypoints`` labelled joints."""
    data = json.loads((coco / "annotations" / f"person_keypoints_{split}.json").read_text())
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
        count = sum(1 for a in anns if not a["iscrowd"] and a["num_keypoints"] >= min_keypoints)
        images.append({"name": f"{split}_{image['id']}", "people": people, "count": count})
    return images


def run_reference(*args, timeout: float = 900) -> None:
    """openpifpaf_reference.py in the reference venv (built first if needed)."""
    proc = subprocess.run([str(ensure_openpifpaf_env()), str(REFERENCE), *map(str, args)], env=clean_env(),
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"OpenPifPaf reference {args[0]} failed:\n{proc.stderr[-3000:]}")


def encode(images: list[dict], workdir: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """OpenPifPaf's encoders on the images' annotations: (cif, caf) per image, in the decoder's layout."""
    spec = {"width": WIDTH, "height": HEIGHT, "stride": STRIDE, "images": images}
    (workdir / "people.json").write_text(json.dumps(spec))
    run_reference("encode", workdir / "people.json", workdir / "encoded.npz")
    encoded = np.load(workdir / "encoded.npz")
    return [(encoded[f"cif_{i}"], encoded[f"caf_{i}"]) for i in range(len(images))]


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
