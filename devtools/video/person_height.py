"""Recall against person height on COCO ground truth: below which height does each profile stop finding people?

    python -m devtools.video.person_height ../shared/data/coco_minipose [--profile yolo11n_pose --profile far_field]

Every non-crowd ground-truth person of ``annotations/person_keypoints_*.json`` (boxes of every size, labelled
keypoints or not) is binned by its box height in pixels; a person is *found* when some predicted person, each
used once (best score first, the GT person it overlaps most), has at least 70 % of its box inside the person's
box and is at least half as tall (a keypoints-first model's box is its joints' extent, so box IoU would
undercount it). Prints recall per bin and the smallest bin from which recall stays >= 0.7: the height a profile
finds "reliably". The val2017 and train2017 halves are pooled (the models saw train2017 in training: the
numbers lean optimistic; the full val2017 gives the real figure with the same command).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from pose_ros.core.pipeline import build_models
from pose_ros.core.profiles import load_profile

BINS = (0, 32, 48, 64, 96, 128, 192, 256, 10_000)
RELIABLE = 0.7


def ground_truth(root: Path) -> list[tuple[Path, np.ndarray]]:
    """(image path, GT boxes xyxy (N, 4)) per image, non-crowd people only."""
    out = []
    for ann in sorted((root / "annotations").glob("person_keypoints_*.json")):
        data = json.loads(ann.read_text())
        split = ann.stem.rsplit("_", 1)[-1]
        boxes: dict[int, list] = {}
        for a in data["annotations"]:
            if not a.get("iscrowd", 0):
                x, y, w, h = a["bbox"]
                boxes.setdefault(a["image_id"], []).append([x, y, x + w, y + h])
        for image in data["images"]:
            out.append((root / "images" / split / image["file_name"],
                        np.array(boxes.get(image["id"], []), np.float64).reshape(-1, 4)))
    return out


def found_mask(gt: np.ndarray, pred: np.ndarray, scores: np.ndarray) -> np.ndarray:
    found = np.zeros(len(gt), bool)
    for i in np.argsort(-scores):
        p = pred[i]
        iw = np.clip(np.minimum(gt[:, 2], p[2]) - np.maximum(gt[:, 0], p[0]), 0, None)
        ih = np.clip(np.minimum(gt[:, 3], p[3]) - np.maximum(gt[:, 1], p[1]), 0, None)
        inside = iw * ih / max((p[2] - p[0]) * (p[3] - p[1]), 1e-6)
        tall = (p[3] - p[1]) >= 0.5 * (gt[:, 3] - gt[:, 1])
        ok = (inside >= 0.7) & tall & ~found
        if ok.any():
            found[np.flatnonzero(ok)[np.argmax((iw * ih)[ok])]] = True
    return found


def recall_by_height(root: Path, profile: str, **overrides) -> dict:
    models = build_models(load_profile(profile, device="cpu", **overrides))
    model = models.by_mode["top_down" if "top_down" in models.by_mode else "bottom_up"]
    heights, hits = [], []
    for path, gt in ground_truth(root):
        if not len(gt):
            continue
        poses = model(cv2.imread(str(path)))
        hits.append(found_mask(gt, poses.boxes.astype(np.float64), poses.scores))
        heights.append(gt[:, 3] - gt[:, 1])
    heights, hits = np.concatenate(heights), np.concatenate(hits)
    rows = []
    for lo, hi in zip(BINS[:-1], BINS[1:]):
        sel = (heights >= lo) & (heights < hi)
        rows.append((lo, hi, int(sel.sum()), float(hits[sel].mean()) if sel.any() else float("nan")))
    reliable = None
    for k in range(len(rows)):
        if all(r[2] == 0 or r[3] >= RELIABLE for r in rows[k:]):
            reliable = rows[k][0]
            break
    return {"profile": profile, "bins": rows, "reliable_from_px": reliable, "recall": float(hits.mean()),
            "people": int(len(hits))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="COCO-style folder: annotations/ and images/<split>/")
    parser.add_argument("--profile", action="append")
    args = parser.parse_args(argv)
    profiles = args.profile or ["yolo11n_pose", "yolo11n_pose_480", "far_field", "posenet", "blazepose_full",
                                "blazepose_full_yolo", "movenet_multipose"]
    for profile in profiles:
        r = recall_by_height(args.root, profile)
        bins = "  ".join(f"{lo}-{hi if hi < 10_000 else ''}px {rec:.2f} (n={n})" for lo, hi, n, rec in r["bins"])
        print(f"{profile:22s} recall {r['recall']:.2f} of {r['people']}; reliable (>= {RELIABLE}) from "
              f"{r['reliable_from_px']} px | {bins}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
