#!/usr/bin/env python3
"""The people a profile gets most wrong on a COCO set, ground truth and prediction side by side, as one PNG:

    python devtools/bench/failure_gallery.py --profile movenet_thunder --out docs/accuracy_failures.png
    python devtools/bench/failure_gallery.py --profile movenet_thunder --photos --out out/failures.png

For each annotated person (>= 3 labelled joints, not a crowd region) the best OKS any of the profile's people
reaches, from pycocotools' own OKS matrix (``COCOeval.computeOks``); the ``--worst`` lowest are drawn: left the
ground truth, right the prediction that came closest (its score and OKS in the caption; "not found" when no
prediction overlaps). By default on a plain background: the COCO photos keep their own Flickr licences (some
no-derivatives) and stay out of git; ``--photos`` draws on the photo itself, for a look on your own machine.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO)]

from devtools.bench.measure.accuracy import MINICOCO, annotations  # noqa: E402
from pose_ros.core.annotators import SkeletonAnnotator  # noqa: E402
from pose_ros.core.result import Poses  # noqa: E402
from pose_ros.core.skeletons import COCO17  # noqa: E402

TILE = 200
GT_COLOURS = SkeletonAnnotator(limb_color=(60, 180, 60), joint_color=(0, 120, 0))
PREDICTION_COLOURS = SkeletonAnnotator(limb_color=(255, 128, 0), joint_color=(0, 0, 255))


def worst_people(truth, results: list[dict], count: int) -> list[tuple[dict, dict | None, float]]:
    """(ground-truth annotation, closest prediction or None, its OKS), worst first."""
    from pycocotools.cocoeval import COCOeval

    from pose_ros.tools.evaluate import quiet

    with quiet():
        detections = truth.coco.loadRes(results)
        evaluation = COCOeval(truth.coco, detections, "keypoints")
        evaluation.params.catIds = [truth.category]
        evaluation.evaluate()
    rows = []
    for image_id in truth.image_ids:
        people = [a for a in truth.annotations(image_id) if a.get("num_keypoints", 0) >= 3 and not a["iscrowd"]]
        if not people:
            continue
        # computeOks orders ground truth as loaded and detections best first, as evaluate() does
        gts = truth.annotations(image_id)
        dts = sorted(detections.loadAnns(detections.getAnnIds(imgIds=[image_id])), key=lambda d: -d["score"])
        oks = np.asarray(evaluation.computeOks(image_id, truth.category))
        for person in people:
            column = gts.index(person)
            if len(dts) == 0 or oks.size == 0:
                rows.append((person, None, 0.0))
                continue
            best = int(np.argmax(oks[:, column]))
            rows.append((person, dts[best] if oks[best, column] > 0 else None, float(oks[best, column])))
    return sorted(rows, key=lambda r: r[2])[:count]


def pose_of(flat: list[float], score: float = 1.0, labelled_only: bool = False) -> Poses:
    kps = np.asarray(flat, np.float32).reshape(-1, 3).copy()
    kps[:, 2] = (kps[:, 2] > 0) if labelled_only else np.where(kps[:, 2] > 0, np.clip(kps[:, 2], 1e-3, 1), 1e-3)
    box = np.concatenate([kps[:, :2].min(0), kps[:, :2].max(0)])[None]
    return Poses(box.astype(np.float32), np.array([score], np.float32), kps[None], COCO17)


def tile(image: np.ndarray | None, size_hw: tuple[int, int], box: list[float], pose: Poses | None,
         annotator: SkeletonAnnotator, caption: str) -> np.ndarray:
    """A TILE x TILE view of the ground-truth box (padded x1.3, square), the pose drawn, the caption below."""
    x, y, w, h = box
    side = max(w, h) * 1.3 + 10
    cx, cy = x + w / 2, y + h / 2
    scale = TILE / side
    matrix = np.array([[scale, 0, TILE / 2 - scale * cx], [0, scale, TILE / 2 - scale * cy]], np.float32)
    canvas = (cv2.warpAffine(image, matrix, (TILE, TILE), borderValue=(40, 40, 40)) if image is not None
              else np.full((TILE, TILE, 3), 235, np.uint8))
    if pose is not None:
        kps = pose.keypoints.copy()
        kps[..., 0] = kps[..., 0] * scale + matrix[0, 2]
        kps[..., 1] = kps[..., 1] * scale + matrix[1, 2]
        annotator.annotate(canvas, Poses(pose.boxes, pose.scores, kps, pose.skeleton))
    band = np.full((22, TILE, 3), 255, np.uint8)
    cv2.putText(band, caption, (4, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([canvas, band])


def gallery(truth, images_dir: Path, rows, photos: bool, title: str) -> np.ndarray:
    pairs = []
    for person, prediction, oks in rows:
        image = cv2.imread(str(images_dir / truth.coco.imgs[person["image_id"]]["file_name"])) if photos else None
        size = (truth.coco.imgs[person["image_id"]]["height"], truth.coco.imgs[person["image_id"]]["width"])
        left = tile(image, size, person["bbox"], pose_of(person["keypoints"], labelled_only=True), GT_COLOURS,
                    f"#{person['image_id']} truth ({person['num_keypoints']} joints)")
        right = tile(image, size, person["bbox"], None if prediction is None else pose_of(prediction["keypoints"]),
                     PREDICTION_COLOURS, "not found" if prediction is None else
                     f"score {prediction['score']:.2f}, OKS {oks:.2f}")
        pairs.append(np.hstack([left, np.full((left.shape[0], 4, 3), 255, np.uint8), right]))
    columns = 2
    while len(pairs) % columns:
        pairs.append(np.full_like(pairs[0], 255))
    grid = np.vstack([np.hstack([p for q in pairs[i:i + columns] for p in (q, np.full((q.shape[0], 16, 3), 255,
                                                                                        np.uint8))])
                      for i in range(0, len(pairs), columns)])
    head = np.full((30, grid.shape[1], 3), 255, np.uint8)
    cv2.putText(head, title, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([head, grid])


def main(argv: list[str] | None = None) -> int:
    from pose_ros.core.pipeline import build_models
    from pose_ros.core.profiles import load_profile
    from pose_ros.tools import evaluate as ev

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="movenet_thunder")
    parser.add_argument("--set", default="val2017", help="minicoco set (val2017, train2017)")
    parser.add_argument("--data", type=Path, default=MINICOCO, help="a COCO folder (annotations/, images/)")
    parser.add_argument("--worst", type=int, default=10)
    parser.add_argument("--photos", action="store_true", help="draw on the photos (keep out of git)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    truth = ev.GroundTruth.load(annotations(args.data, args.set))
    images_dir = args.data / "images" / args.set
    models = build_models(load_profile(args.profile, device="cpu", **ev.EVALUATION_SETTINGS))
    results = [r for rs in ev.predict_all(truth, ev.image_paths(truth, images_dir, truth.image_ids),
                                         ev.stream_predictor(models)) for r in rs]
    rows = worst_people(truth, results, args.worst)
    title = f"{args.profile}, {args.set}: lowest best OKS (left truth, right closest prediction)"
    png = gallery(truth, images_dir, rows, args.photos, title)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), png, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {args.out}: " + ", ".join(f"#{p['image_id']} OKS {o:.2f}" for p, _, o in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
