"""COCO keypoint AP of a pose configuration on any COCO-format set, scored by pycocotools:

    python -m pose_ros evaluate --annotations person_keypoints_val2017.json --images val2017/ [--profile NAME]

Every image is estimated on its own (a fresh PoseStream per image: no tracking, no smoothing, no mode-auto
memory), its people become COCO results (``keypoints`` [x, y, score] x K, ``score`` = the person's score), and
pycocotools' ``COCOeval(iouType="keypoints")`` scores them: AP is pycocotools' own number, nothing here computes
OKS or AP. The per-joint figures are read from pycocotools' own matches (``evalImgs``, OKS 0.5, all areas): for
every labelled joint of a matched person, its distance to the ground truth / sqrt(person area) (median) and its
term of the OKS sum (mean; 1 = on the spot).

``ground_truth_box_predictor`` runs a top-down model's keypoints on the ground-truth person boxes instead of its
detector's (MMPose's protocol: box score 1, then rescored by the joints' scores), so detection and keypoint
quality can be told apart.

Images are read one at a time (the full COCO val2017, 5000 images, runs unchanged); results are small dicts.
pycocotools is an optional dependency (requirements/eval.txt): imported when scoring, never by the core.
"""
from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from pose_ros.core.result import Poses
from pose_ros.core.skeletons import COCO17

# Settings for scoring: a person threshold low enough that the precision/recall curve reaches its recall end
# (COCO keeps each image's 20 best-scored people, so low-scored extras cost little), every joint kept (OKS ignores
# predicted joint scores), and up to those 20 people per image whatever the profile's cost cap (max_people).
EVALUATION_SETTINGS = {"person_threshold": 0.05, "keypoint_threshold": 0.0, "max_people": 20}
METRICS = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")  # COCOeval.stats, in order
PERSON = "person"

# image (BGR), its ground-truth annotations (used only by the ground-truth-box protocol) -> the people found
Predictor = Callable[[np.ndarray, list], Poses]


class EvaluationError(Exception):
    """Unusable annotations or images (reported before anything runs where possible)."""


def require_pycocotools():
    try:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    except ImportError:
        raise EvaluationError("evaluate needs pycocotools: pip install -r requirements/eval.txt") from None
    return COCO, COCOeval


@contextlib.contextmanager
def quiet():
    """pycocotools prints its progress to stdout; keep stdout for our results (--json)."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


@dataclass
class GroundTruth:
    """A COCO keypoint annotation file, loaded by pycocotools, and the person category's layout."""

    coco: object  # pycocotools.coco.COCO
    category: int
    keypoint_names: tuple[str, ...]
    path: Path

    @classmethod
    def load(cls, path: Path | str) -> "GroundTruth":
        COCO, _ = require_pycocotools()
        path = Path(path)
        if not path.is_file():
            raise EvaluationError(f"--annotations {path}: no such file")
        try:
            with quiet():
                coco = COCO(str(path))
        except (ValueError, KeyError, TypeError, AssertionError) as err:  # json errors are ValueErrors
            raise EvaluationError(f"--annotations {path}: not a COCO annotation file ({err})") from None
        people = [c for c in coco.loadCats(coco.getCatIds()) if c.get("name") == PERSON and c.get("keypoints")]
        if not people:
            raise EvaluationError(f"--annotations {path}: no {PERSON!r} category with keypoints")
        return cls(coco, people[0]["id"], tuple(people[0]["keypoints"]), path)

    @property
    def image_ids(self) -> list[int]:
        return sorted(self.coco.getImgIds())

    def annotations(self, image_id: int) -> list[dict]:
        return self.coco.loadAnns(self.coco.getAnnIds(imgIds=[image_id], catIds=[self.category]))

    @property
    def people_with_keypoints(self) -> int:
        return sum(1 for a in self.coco.loadAnns(self.coco.getAnnIds(catIds=[self.category]))
                   if a.get("num_keypoints", 0) > 0 and not a.get("iscrowd", 0))


def image_paths(truth: GroundTruth, images_dir: Path, image_ids: list[int]) -> dict[int, Path]:
    """Each image's file, all checked before anything runs (a missing one is named, with how many more)."""
    images_dir = Path(images_dir)
    if not images_dir.is_dir():
        raise EvaluationError(f"--images {images_dir}: not a directory")
    paths = {i: images_dir / truth.coco.imgs[i]["file_name"] for i in image_ids}
    missing = [p for p in paths.values() if not p.is_file()]
    if missing:
        raise EvaluationError(f"{len(missing)} of {len(paths)} images of {truth.path.name} are not in {images_dir}, "
                              f"e.g. {missing[0].name}")
    return paths


def layout_indices(skeleton, keypoint_names: tuple[str, ...]) -> np.ndarray:
    """Index of each ground-truth joint in the model's skeleton, by name (COCO-17 into COCO-17: identity)."""
    missing = [n for n in keypoint_names if n not in skeleton.keypoint_names]
    if missing:
        raise EvaluationError(f"the model's skeleton {skeleton.name!r} has no {', '.join(missing)} (the ground "
                              f"truth's joints): use skeleton coco17")
    return np.array([skeleton.keypoint_names.index(n) for n in keypoint_names])


def coco_results(image_id: int, category: int, poses: Poses, keypoint_names: tuple[str, ...]) -> list[dict]:
    """The people of one image as COCO keypoint results. People published without joints (keypoint_source
    NO_KEYPOINTS: a top-down crop rejected, and a detector that gives no joints) are not results: OKS cannot
    score a box."""
    poses = poses[poses.keypoint_source != Poses.NO_KEYPOINTS]
    kps = poses.keypoints[:, layout_indices(poses.skeleton, keypoint_names)]
    return [{"image_id": int(image_id), "category_id": int(category),
             "keypoints": [round(float(v), 3) for v in person.ravel()], "score": round(float(score), 5)}
            for person, score in zip(kps, poses.scores)]


class Progress:
    """images done / total, rate and time left, on stderr: rewritten in place on a terminal, else one line
    every ``every_s``."""

    def __init__(self, total: int, every_s: float = 30.0, enabled: bool = True):
        self.total, self.every_s, self.enabled = total, every_s, enabled
        self.tty = enabled and sys.stderr.isatty()
        self.start = self.last = time.monotonic()

    def update(self, done: int) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < (0.5 if self.tty else self.every_s) and done < self.total):
            return
        self.last = now
        rate = done / max(now - self.start, 1e-9)
        left = (self.total - done) / rate if rate > 0 else 0.0
        line = f"[evaluate] {done}/{self.total} images, {rate:.1f}/s, {left / 60:.1f} min left"
        print(("\r" + line + ("\n" if done == self.total else "")) if self.tty else line, file=sys.stderr,
              end="" if self.tty else "\n", flush=True)


def predict_all(truth: GroundTruth, paths: dict[int, Path], predict: Predictor,
                progress: Progress | None = None) -> Iterator[list[dict]]:
    """COCO results of every image, one image at a time (read, estimate, convert, forget)."""
    import cv2

    for done, (image_id, path) in enumerate(paths.items(), 1):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise EvaluationError(f"cannot read image {path}")
        poses = predict(image, truth.annotations(image_id))
        yield coco_results(image_id, truth.category, poses, truth.keypoint_names)
        if progress is not None:
            progress.update(done)


def score(truth: GroundTruth, results: list[dict], image_ids: list[int]) -> dict:
    """pycocotools' keypoint metrics of ``results`` on ``image_ids``, plus per-joint figures of its matches."""
    _, COCOeval = require_pycocotools()
    if not results:  # loadRes cannot load an empty list; no detections score 0 (as COCOeval would say)
        return {**{m: 0.0 for m in METRICS}, "per_joint": {}, "matched": 0}
    with quiet():
        detections = truth.coco.loadRes(results)
        evaluation = COCOeval(truth.coco, detections, "keypoints")
        evaluation.params.imgIds = list(image_ids)
        evaluation.params.catIds = [truth.category]
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    out = {name: float(value) for name, value in zip(METRICS, evaluation.stats)}
    out.update(per_joint(evaluation, truth, detections))
    return out


def per_joint(evaluation, truth: GroundTruth, detections) -> dict:
    """Per labelled joint of the people pycocotools matched at OKS 0.5 (area range "all", the largest maxDets):
    median distance / sqrt(area), and the mean of the joint's OKS term exp(-d^2 / (2 area (2 sigma)^2)) with
    pycocotools' own sigmas. Shows where the keypoints are off, apart from who was found and how ranked."""
    params = evaluation.params
    sigmas = np.asarray(params.kpt_oks_sigmas, np.float64)
    errors: list[list[float]] = [[] for _ in truth.keypoint_names]
    similarity: list[list[float]] = [[] for _ in truth.keypoint_names]
    matched = 0
    for entry in evaluation.evalImgs:
        if entry is None or entry["aRng"] != params.areaRng[0] or entry["maxDet"] != params.maxDets[-1]:
            continue
        for gt_id, dt_id, ignored in zip(entry["gtIds"], entry["gtMatches"][0], entry["gtIgnore"]):
            if ignored or not dt_id:
                continue
            matched += 1
            gt, dt = truth.coco.anns[gt_id], detections.anns[int(dt_id)]
            g, d = np.reshape(gt["keypoints"], (-1, 3)), np.reshape(dt["keypoints"], (-1, 3))
            area = float(gt["area"]) + np.spacing(1)
            for j in np.flatnonzero(g[:, 2] > 0):
                distance_sq = float(((g[j, :2] - d[j, :2]) ** 2).sum())
                errors[j].append(np.sqrt(distance_sq / area))
                similarity[j].append(float(np.exp(-distance_sq / (2 * area * (2 * sigmas[j]) ** 2))))
    return {"matched": matched, "per_joint": {
        name: {"labelled": len(e), "median_error": float(np.median(e)) if e else None,
               "mean_similarity": float(np.mean(s)) if s else None}
        for name, e, s in zip(truth.keypoint_names, errors, similarity)}}


def evaluate(truth: GroundTruth, images_dir: Path, predict: Predictor, *, results_path: Path | None = None,
             max_images: int | None = None, progress: bool = True) -> dict:
    """Estimate every image of ``truth`` (or its first ``max_images``) with ``predict`` and score the results;
    ``results_path`` keeps the COCO results file. Returns the metrics, per-joint figures and counts."""
    image_ids = truth.image_ids[:max_images] if max_images else truth.image_ids
    paths = image_paths(truth, images_dir, image_ids)
    started = time.monotonic()
    results = [r for rs in predict_all(truth, paths, predict, Progress(len(paths), enabled=progress)) for r in rs]
    seconds = time.monotonic() - started
    if results_path is not None:
        Path(results_path).write_text(json.dumps(results))
    return {**score(truth, results, image_ids), "images": len(image_ids), "people_found": len(results),
            "seconds": seconds}


# --- predictors ------------------------------------------------------------------------------------------------

def stream_predictor(models) -> Predictor:
    """A configuration's people, as the node would publish them for one frame: a fresh PoseStream per image
    (no tracking, no smoothing, mode auto decided on this image alone)."""
    from pose_ros.core.stream import Frame, PoseStream, StreamConfig

    single = StreamConfig(tracking=False, smoothing=False)

    def predict(image: np.ndarray, _annotations: list) -> Poses:
        return PoseStream(models, single, name="evaluate").process(Frame(image, 0.0)).poses

    return predict


def ground_truth_people(annotations: list[dict]) -> Poses:
    """The ground truth's person boxes (iscrowd regions excluded) as detections of score 1, with no joints (so a
    BlazePose region is centred on the box); as MMPose's top-down evaluation with ground-truth boxes."""
    boxes = np.array([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]]
                      for a in annotations if not a.get("iscrowd", 0) and a["bbox"][2] > 0 and a["bbox"][3] > 0],
                     np.float32).reshape(-1, 4)
    keypoints = np.zeros((len(boxes), COCO17.num_keypoints, 3), np.float32)
    keypoints[..., :2] = ((boxes[:, :2] + boxes[:, 2:]) / 2)[:, None]
    return Poses(boxes, np.ones(len(boxes), np.float32), keypoints, COCO17)


RESCORE_JOINT_SCORE = 0.2  # MMPose CocoMetric's score_thr for its rescoring


def rescored(poses: Poses) -> Poses:
    """Each person's score x the mean score of its joints above RESCORE_JOINT_SCORE (0 if none), best first:
    MMPose's CocoMetric rescoring of top-down people. Used with the ground-truth boxes, whose score is 1 for all
    (without it the ranking would be arbitrary). Not in the pipeline: on minicoco val2017 it lowered
    movenet_thunder's AP from 0.510 to 0.500 and movenet_lightning's from 0.424 to 0.385 (the detector's score
    ranks people better than the keypoint model's confidence)."""
    joints = poses.keypoints[..., 2]
    confident = joints > RESCORE_JOINT_SCORE
    mean = (joints * confident).sum(1) / np.maximum(confident.sum(1), 1)
    scored = replace(poses, scores=(poses.scores * mean).astype(np.float32))
    return scored[np.argsort(-scored.scores, kind="stable")]


def ground_truth_box_predictor(model) -> Predictor:
    """A top-down model's keypoints on the ground-truth person boxes (its detector unused), rescored as MMPose
    does (:func:`rescored`)."""
    if not hasattr(model, "on_people"):
        raise EvaluationError(f"ground-truth boxes need a top-down model; {model.name} is {model.paradigm}")

    def predict(image: np.ndarray, annotations: list) -> Poses:
        return rescored(model.on_people(image, ground_truth_people(annotations)))

    return predict


# --- report ---------------------------------------------------------------------------------------------------

def summary(scores: dict, what: str) -> str:
    """The text report: metrics, then the per-joint table."""
    lines = [f"{what}: {scores['images']} images, {scores['people_found']} people found, "
             f"{scores['seconds']:.0f} s",
             "  ".join(f"{m} {scores[m]:.3f}" for m in METRICS[:6]),
             "  ".join(f"{m} {scores[m]:.3f}" for m in METRICS[6:]),
             f"per joint, on the {scores['matched']} people matched at OKS 0.5: median distance / sqrt(area), "
             "mean OKS term"]
    for name, j in scores["per_joint"].items():
        if j["labelled"]:
            lines.append(f"  {name:<15} {j['labelled']:>5} labelled  {j['median_error']:.3f}  "
                         f"{j['mean_similarity']:.3f}")
    return "\n".join(lines)
