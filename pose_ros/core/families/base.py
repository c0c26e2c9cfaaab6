"""The base every model family builds on: it owns the backend, the configuration (thresholds), stage timing and
the keypoint threshold, and says whether frames can share one model call. A family implements one step,
``_estimate`` (``preprocess -> backend.run -> postprocess``, each timed as a stage), with pure decoders beside it.
"""
from __future__ import annotations

import copy
import dataclasses
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from pose_ros.core.config import PoseConfig
from pose_ros.core.families.common.people import select_people
from pose_ros.core.result import Poses
from pose_ros.core.runtime.backend import Backend
from pose_ros.core.runtime.timing import StageTimer
from pose_ros.core.geometry import box_area
from pose_ros.core.skeletons import Skeleton, keypoints_by_name

LOG = logging.getLogger(__name__)
# How a family finds people, for documentation and messages ("paradigms", as the README names them).
PARADIGMS = {
    "one_stage": "one-stage: finds each person's box and regresses its keypoints in one pass",
    "keypoints_first": "bottom-up: finds every joint first, then groups the joints into people",
    "centre_bottom_up": "bottom-up: finds person centres on a heatmap, then each centre's joints (no boxes first)",
    "top_down": "top-down: a person detector, then the keypoint model on each person's crop",
    "detector": "person detector (feeds a top-down keypoint model)",
}


def threshold_keypoints(keypoints: np.ndarray, threshold: float) -> np.ndarray:
    """Keypoints (..., 3) whose score is below ``threshold`` get score 0 (their slot is kept), in place."""
    scores = keypoints[..., 2]
    scores[scores < threshold] = 0.0
    return keypoints


class PoseModel:
    """A model family's estimator: ``model(image) -> Poses`` for one BGR frame, ``model.batch(images)`` for
    frames that arrived together. ``timings`` holds the last call's seconds per stage.

    Subclasses set ``family`` and ``paradigm`` and implement :meth:`_estimate`; a family with state derived from
    the config (a detector, say) overrides :meth:`_configured`.
    """

    family = ""
    paradigm = ""
    stages: tuple[str, ...] = ("preprocess", "infer", "decode")  # what ``timings`` reports, in order

    def __init__(self, backend: Backend, skeleton: Skeleton, config: PoseConfig, name: str = ""):
        self.backend = backend
        self.skeleton = skeleton
        self.config = config
        self.name = name or config.model  # the manifest name: the PoseArray's `model` field
        self.timings: dict[str, float] = {}

    @property
    def mode(self) -> str:
        """The ``mode`` this model serves: top_down for top-down families, else bottom_up."""
        return "top_down" if self.paradigm == "top_down" else "bottom_up"

    @property
    def can_batch(self) -> bool:
        """True when several frames (one per camera) go through one model call in :meth:`batch`."""
        return False

    @property
    def useful_long_side(self) -> int:
        """The longest image side beyond which this model sees no more detail (its letterboxed input's), so a
        compressed frame may be decoded that small; 0 = it uses the full resolution (top-down crops do)."""
        return 0

    @property
    def may_repeat_people(self) -> bool:
        """True when one person may be reported twice (seen by two overlapping tiles, say). People come in
        priority order: a top-down keypoint model that finds two of them to be one person keeps the first."""
        return False

    def with_config(self, config: PoseConfig) -> "PoseModel":
        """The same loaded model with new thresholds (a live parameter change needs no reload)."""
        other = copy.copy(self)
        other.config, other.timings = config, {}
        other._configured()
        return other

    def _configured(self) -> None:
        """Hook for state derived from ``self.config`` (called after :meth:`with_config`)."""

    def __call__(self, image: np.ndarray) -> Poses:
        return self.batch([image])[0]

    def batch(self, images: Sequence[np.ndarray]) -> list[Poses]:
        """Poses of each frame: one model call for all when :attr:`can_batch`, else one call each; ``timings``
        then covers them all."""
        timer = StageTimer(self.stages)
        if self.can_batch or len(images) == 1:
            poses = self._estimate(images, timer)
        else:
            poses = [p for image in images for p in self._estimate([image], timer)]
        self.timings = timer.times
        return poses

    def _estimate(self, images: Sequence[np.ndarray], timer: StageTimer) -> list[Poses]:
        raise NotImplementedError

    def threshold(self, keypoints: np.ndarray) -> np.ndarray:
        return threshold_keypoints(keypoints, self.config.keypoint_threshold)

    def status(self) -> dict[str, str]:
        """What this model is and where it runs, for the node's /diagnostics and log."""
        return {"model": f"{self.name} ({self.family}, {self.paradigm.replace('_', '-')})", **self.backend.status()}

    def backends(self) -> list[Backend]:
        """The backends one call runs (a top-down model's detector's first), for the warm-up."""
        return [self.backend]


class TopDownModel(PoseModel):
    """A top-down family: ``detector`` (any PoseModel: a person detector, or a bottom-up model whose people it
    takes) finds the people, then this model's keypoints are computed on each person's crop.

    A family implements :meth:`_keypoints` (the detector's people -> their keypoints); the detection step is
    here, so the keypoint model can also run on people found elsewhere (:meth:`on_people`: evaluation on
    ground-truth boxes, MMPose's protocol)."""

    paradigm = "top_down"
    stages = ("detect", "preprocess", "infer", "decode")

    def __init__(self, backend: Backend, skeleton: Skeleton, config: PoseConfig, detector: PoseModel,
                 name: str = ""):
        super().__init__(backend, skeleton, config, name)
        self.detector = detector

    def _estimate(self, images: Sequence[np.ndarray], timer: StageTimer) -> list[Poses]:
        out = []
        for image in images:
            with timer.stage("detect"):
                people = self.crop_people(self.detector(image))
            out.append(self._keypoints(image, people, timer))
        return out

    def on_people(self, image: np.ndarray, people: Poses) -> Poses:
        """Keypoints of ``people`` given from elsewhere instead of the detector's (their boxes and scores; the
        keypoints too where the family's crops use them, else all-zero scores will do)."""
        timer = StageTimer(self.stages)
        poses = self._keypoints(image, self.crop_people(people), timer)
        self.timings = timer.times
        return poses

    def _keypoints(self, image: np.ndarray, people: Poses, timer: StageTimer) -> Poses:
        """The keypoints of ``people`` (already :meth:`crop_people`) on one BGR image (stages preprocess, infer,
        decode)."""
        raise NotImplementedError

    def crop_people(self, people: Poses) -> Poses:
        """The people this model crops: those with a crop, best first, at most ``max_people`` (common/people.py)."""
        return select_people(people, self.config.max_people)

    def detector_fallback(self, keypoints: np.ndarray, people: Poses) -> tuple[np.ndarray, np.ndarray]:
        """``keypoints`` (N, K, 3) of ``people`` (one each), with the detector's own joints, in place, for the
        people whose keypoint-model pose lies on someone else (:func:`disagrees_with_detector`); and each
        person's keypoint_source (DETECTOR for those)."""
        wrong = disagrees_with_detector(keypoints, self.skeleton, people)
        if wrong.any():
            keypoints[wrong] = keypoints_by_name(people.keypoints[wrong], people.skeleton, self.skeleton)
        return keypoints, np.where(wrong, Poses.DETECTOR, Poses.KEYPOINT_MODEL).astype(np.uint8)

    def _configured(self) -> None:
        self.detector = self.detector.with_config(detector_config(self.config))

    def status(self) -> dict[str, str]:
        detector = self.detector.status()
        return {**super().status(), "detector": f"{detector['model']} on {detector['device']}"}

    def backends(self) -> list[Backend]:
        return [*self.detector.backends(), self.backend]


def warm_up(models: Iterable[PoseModel], image: np.ndarray) -> list[str]:
    """Run each model once on ``image`` (its own buffers, torch pre-processing), then every backend of ``models``
    (once each, whatever roles it plays) at the batches it is run with that this did not reach (OrtBackend.
    warm_batches: on a GPU the smallest and the largest). A blank frame alone never runs a top-down keypoint model
    (nobody is found) nor a batch above one, so TensorRT engine builds and cuDNN algorithm searches would land on
    the first person or crowd. Returns the lines it logged, one per backend."""
    models = list(models)
    for model in models:
        model(image)
    lines, seen = [], set()
    for backend in (b for model in models for b in model.backends()):
        warm = getattr(backend, "warm_up", None)
        if id(backend) in seen or warm is None:
            continue
        seen.add(id(backend))
        runs = [f"batch {batch} " + (f"{seconds * 1000:.0f} ms" if seconds is not None else "(by the first frame)")
                for batch, seconds in warm()]
        name = getattr(backend, "name", type(backend).__name__)
        lines.append(f"warm-up {name} on {backend.providers[0]}: {', '.join(runs) or 'by the first frame (free size)'}")
        LOG.info("%s", lines[-1])
    return lines


# A top-down pose whose OKS with its detector's own pose of the person is below this lies on someone else.
DETECTOR_DISAGREEMENT_OKS = 0.3
DETECTOR_JOINT_SCORE = 0.3  # the detector's joints that count in that comparison


def disagrees_with_detector(keypoints: np.ndarray, skeleton: Skeleton, people: Poses) -> np.ndarray:
    """(N,) True where the keypoint model's pose of a person (``keypoints`` (N, K, 3) in ``skeleton``) lies on
    someone else than the detector's own pose of that person (``people``, one each, joints matched by name):
    their OKS over the detector's confident joints, scaled by its box area, is below DETECTOR_DISAGREEMENT_OKS.

    Why: a single-person keypoint model (MoveNet SinglePose above all) takes the most prominent person of its
    crop, and where people overlap, the crop of one holds another. Measured on COCO val2017 photos (minicoco),
    movenet_thunder then reported that other person for 10 of 92 detections, often twice over, and lost 0.08
    AP to it. False for people whose detector gives no body joints (BlazePose's detector)."""
    reference = keypoints_by_name(people.keypoints, people.skeleton, skeleton)
    confident = reference[..., 2] >= DETECTOR_JOINT_SCORE
    if not confident.any():
        return np.zeros(len(keypoints), bool)
    area = np.maximum(box_area(people.boxes.astype(np.float64)), 1.0)
    d2 = ((keypoints[..., :2].astype(np.float64) - reference[..., :2]) ** 2).sum(-1)
    similarity = np.exp(-d2 / (2 * area[:, None] * (2 * skeleton.oks_sigmas.astype(np.float64)) ** 2))
    oks = (similarity * confident).sum(1) / np.maximum(confident.sum(1), 1)
    return confident.any(1) & (oks < DETECTOR_DISAGREEMENT_OKS)


def detector_config(config: PoseConfig) -> PoseConfig:
    """A detector's view of a top-down configuration: the same thresholds, but raw keypoint scores (the
    keypoint model grades the joints itself)."""
    return dataclasses.replace(config, keypoint_threshold=0.0)


@dataclass(frozen=True)
class Family:
    """A registry entry: a manifest ``family`` name, how it finds people, and how to build its estimator.

    build(spec, loader, config) -> PoseModel; a top-down family's builder also takes the built ``detector``
    (``pipeline.build_models`` builds it first). ``detectors``: for top-down families, the families whose people
    it can take as its input (their boxes, and keypoints where it uses them)."""

    name: str
    paradigm: str
    build: Callable[..., PoseModel]
    detectors: tuple[str, ...] = ()

    @property
    def mode(self) -> str:
        """The ``mode`` it serves: top_down, bottom_up, or "" for detectors (they only feed top-down models)."""
        return {"top_down": "top_down", "detector": ""}.get(self.paradigm, "bottom_up")

    def make(self, spec, loader, config: PoseConfig, detector: PoseModel | None = None) -> PoseModel:
        """The estimator of manifest entry ``spec``; ``detector`` for a top-down family."""
        if self.paradigm == "top_down":
            return self.build(spec, loader, config, detector)
        return self.build(spec, loader, config)
