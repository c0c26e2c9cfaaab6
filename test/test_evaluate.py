"""`python -m pose_ros evaluate`: its AP is pycocotools' own, the ground truth scores 1.0, and the accuracy floor of
the default profile and one profile per family on the COCO photos of ../shared/data/coco_minipose (val2017, 30
images). A pre-processing or decoding regression shows here first."""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("pycocotools", reason="pycocotools (requirements/eval.txt) is not installed")
from pycocotools.coco import COCO  # noqa: E402
from pycocotools.cocoeval import COCOeval  # noqa: E402

from pose_ros.cli import main  # noqa: E402
from pose_ros.core.result import Poses  # noqa: E402
from pose_ros.core.skeletons import BLAZEPOSE33, COCO17  # noqa: E402
from pose_ros.tools import evaluate as ev  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
MINICOCO = REPO.parent / "shared" / "data" / "coco_minipose"
VAL_ANNOTATIONS = MINICOCO / "annotations" / "person_keypoints_val2017.json"
VAL_IMAGES = MINICOCO / "images" / "val2017"

# AP on minicoco val2017 (pycocotools), measured by `python -m pose_ros evaluate --profile P`, minus 0.02: the
# default profile and one profile per family (docs/accuracy.md has every profile's figure).
FLOORS = {"yolo11n_pose": 0.487 - 0.02, "posenet": 0.251 - 0.02, "movenet_multipose": 0.280 - 0.02,
          "movenet_thunder": 0.510 - 0.02, "blazepose_full": 0.175 - 0.02}
GT_BOX_FLOORS = {"movenet_thunder": 0.443 - 0.02}


def need_minicoco() -> None:
    for path in (VAL_ANNOTATIONS, VAL_IMAGES):
        if not path.exists():
            pytest.skip(f"shared test data missing: {path}")


# --- a hand-made COCO set --------------------------------------------------------------------------------------

def person(rng, centre, size, visible):
    """A COCO annotation's keypoints (17 x 3) around ``centre``; joints outside ``visible`` unlabelled."""
    kps = np.zeros((17, 3))
    kps[:, :2] = np.asarray(centre) + rng.uniform(-size / 2, size / 2, (17, 2))
    kps[:, 2] = 2
    kps[~np.isin(np.arange(17), visible)] = 0
    return kps


def handmade(tmp_path: Path):
    """Two 200x160 images, four annotated people (one without labelled joints, one crowd region) and
    predictions of every kind: close, far, a false positive, a missed person, tied scores."""
    rng = np.random.default_rng(7)
    people = {1: [person(rng, (60, 60), 50, range(17)), person(rng, (140, 100), 40, range(5, 17))],
              2: [person(rng, (100, 80), 70, range(0, 11)), person(rng, (30, 30), 10, [])]}
    images, annotations, ann_id = [], [], 0
    for image_id, kpss in people.items():
        name = f"{image_id:012d}.jpg"
        cv2.imwrite(str(tmp_path / name), np.full((160, 200, 3), 40 * image_id, np.uint8))
        images.append({"id": image_id, "file_name": name, "width": 200, "height": 160})
        for kps in kpss:
            ann_id += 1
            labelled = kps[kps[:, 2] > 0, :2]
            lo, hi = (labelled.min(0), labelled.max(0)) if len(labelled) else ((25, 25), (35, 35))
            annotations.append({"id": ann_id, "image_id": image_id, "category_id": 1, "iscrowd": 0,
                                "keypoints": kps.ravel().tolist(), "num_keypoints": int((kps[:, 2] > 0).sum()),
                                "bbox": [float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1])],
                                "area": float(np.prod(np.asarray(hi) - lo)) * 1.3})
    annotations.append({"id": ann_id + 1, "image_id": 2, "category_id": 1, "iscrowd": 1, "num_keypoints": 0,
                        "keypoints": [0] * 51, "bbox": [150, 10, 40, 40], "area": 1600,
                        "segmentation": {"counts": [0, 1600], "size": [160, 200]}})
    categories = [{"id": 1, "name": "person", "supercategory": "person", "keypoints": list(COCO17.keypoint_names),
                   "skeleton": []}]
    path = tmp_path / "person_keypoints_handmade.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    gt = {image_id: [p[:, :2] for p in kpss] for image_id, kpss in people.items()}
    predictions = {  # image id -> (keypoints (N, 17, 2), scores)
        1: (np.stack([gt[1][0] + rng.normal(0, 1.5, (17, 2)), gt[1][1] + rng.normal(0, 6, (17, 2)),
                      gt[1][0] + 80]), np.array([0.9, 0.6, 0.95])),
        2: (np.stack([gt[2][0] + rng.normal(0, 3, (17, 2)), gt[2][0] + rng.normal(0, 12, (17, 2))]),
            np.array([0.6, 0.6])),
    }
    return path, predictions


def poses_of(keypoints_xy: np.ndarray, scores: np.ndarray, skeleton=COCO17) -> Poses:
    """People as Poses of ``skeleton`` (COCO-17 joints placed by name; joint scores 0.5)."""
    n = len(scores)
    keypoints = np.zeros((n, skeleton.num_keypoints, 3), np.float32)
    for j, name in enumerate(COCO17.keypoint_names):
        keypoints[:, skeleton.keypoint_names.index(name), :2] = keypoints_xy[:, j]
        keypoints[:, skeleton.keypoint_names.index(name), 2] = 0.5
    boxes = np.concatenate([keypoints_xy.min(1), keypoints_xy.max(1)], 1).astype(np.float32)
    return Poses(boxes, scores.astype(np.float32), keypoints, skeleton)


def pycocotools_stats(annotations: Path, results: list[dict]) -> np.ndarray:
    """pycocotools' keypoint metrics, computed here as its own README shows."""
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(annotations))
        evaluation = COCOeval(gt, gt.loadRes(results), "keypoints")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return evaluation.stats


@pytest.mark.parametrize("skeleton", [COCO17, BLAZEPOSE33], ids=lambda s: s.name)
def test_ap_equals_pycocotools_on_a_handmade_set(tmp_path, skeleton):
    annotations, predictions = handmade(tmp_path)
    truth = ev.GroundTruth.load(annotations)

    def predict(image, anns):
        return poses_of(*predictions[anns[0]["image_id"]], skeleton)

    kept = tmp_path / "results.json"
    scores = ev.evaluate(truth, tmp_path, predict, results_path=kept, progress=False)
    # The same predictions written as COCO results by hand, scored by pycocotools directly.
    results = [{"image_id": image_id, "category_id": 1, "score": float(s),
                "keypoints": np.concatenate([xy, np.full((17, 1), 0.5)], 1).ravel().tolist()}
               for image_id, (kps, ss) in predictions.items() for xy, s in zip(kps, ss)]
    expected = pycocotools_stats(annotations, results)
    np.testing.assert_allclose([scores[m] for m in ev.METRICS], expected, atol=1e-9)
    assert 0.2 < scores["AP"] < 0.95  # the case is neither trivial nor hopeless
    assert len(json.loads(kept.read_text())) == 5
    assert scores["matched"] >= 2 and scores["per_joint"]["left_hip"]["labelled"] >= 1


def test_ground_truth_scored_as_detections_gives_ap_1(tmp_path):
    annotations, _ = handmade(tmp_path)
    truth = ev.GroundTruth.load(annotations)
    scores = ev.evaluate(truth, tmp_path, ground_truth_predictor, progress=False)
    assert scores["AP"] == pytest.approx(1.0) and scores["AR"] == pytest.approx(1.0)
    assert all(j["median_error"] < 1e-4 for j in scores["per_joint"].values() if j["labelled"])


def ground_truth_predictor(image, annotations):
    """The people with labelled joints, as detections of score 1."""
    people = [a for a in annotations if a.get("num_keypoints", 0) > 0]
    xy = np.array([np.reshape(a["keypoints"], (17, 3))[:, :2] for a in people], np.float32).reshape(-1, 17, 2)
    return poses_of(xy, np.ones(len(people)))


def test_ground_truth_of_minicoco_val2017_scores_ap_1():
    need_minicoco()
    scores = ev.evaluate(ev.GroundTruth.load(VAL_ANNOTATIONS), VAL_IMAGES, ground_truth_predictor, progress=False)
    assert scores["AP"] == pytest.approx(1.0) and scores["matched"] == ev.GroundTruth.load(
        VAL_ANNOTATIONS).people_with_keypoints == 40


def test_no_people_found_scores_0(tmp_path):
    annotations, _ = handmade(tmp_path)
    scores = ev.evaluate(ev.GroundTruth.load(annotations), tmp_path, lambda image, anns: Poses.empty(COCO17),
                         progress=False)
    assert scores["AP"] == 0.0 and scores["people_found"] == 0


def test_ground_truth_people_are_the_boxes_without_crowds(tmp_path):
    annotations, _ = handmade(tmp_path)
    truth = ev.GroundTruth.load(annotations)
    people = ev.ground_truth_people(truth.annotations(2))
    assert len(people) == 2 and (people.scores == 1).all() and (people.keypoints[..., 2] == 0).all()
    box = truth.annotations(2)[0]["bbox"]
    np.testing.assert_allclose(people.boxes[0], [box[0], box[1], box[0] + box[2], box[1] + box[3]], rtol=1e-6)


# --- the command -----------------------------------------------------------------------------------------------

def run_evaluate(capsys, *args) -> tuple[int, str, str]:
    code = main(["evaluate", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("profile", sorted(FLOORS))
def test_accuracy_floor_on_minicoco_val2017(capsys, profile):
    need_minicoco()
    code, out, _ = run_evaluate(capsys, "--annotations", VAL_ANNOTATIONS, "--images", VAL_IMAGES,
                                "--profile", profile, "--device", "cpu", "--json", "--no-progress")
    assert code == 0
    scores = json.loads(out)
    assert scores["images"] == 30
    assert scores["AP"] >= FLOORS[profile], f"{profile}: AP {scores['AP']:.3f} < floor {FLOORS[profile]:.3f}"


@pytest.mark.parametrize("profile", sorted(GT_BOX_FLOORS))
def test_ground_truth_boxes_floor_and_results_file(capsys, tmp_path, profile):
    need_minicoco()
    results = tmp_path / "results.json"
    code, out, _ = run_evaluate(capsys, "--annotations", VAL_ANNOTATIONS, "--images", VAL_IMAGES, "--profile",
                                profile, "--device", "cpu", "--gt-boxes", "--results", results)
    assert code == 0
    assert "AP " in out and "left_ankle" in out  # the text report: metrics and the per-joint table
    rows = json.loads(results.read_text())
    assert {r["category_id"] for r in rows} == {1} and all(len(r["keypoints"]) == 51 for r in rows)
    # one result per non-crowd ground-truth box
    truth = ev.GroundTruth.load(VAL_ANNOTATIONS)
    assert len(rows) == sum(len(ev.ground_truth_people(truth.annotations(i))) for i in truth.image_ids)
    ap = pycocotools_stats(VAL_ANNOTATIONS, rows)[0]
    assert ap >= GT_BOX_FLOORS[profile]


def test_bad_inputs_are_refused_with_the_reason(capsys, caplog, tmp_path):
    code, _, _ = run_evaluate(capsys, "--annotations", tmp_path / "nope.json", "--images", tmp_path)
    assert code == 2 and "nope.json: no such file" in caplog.text
    annotations, _ = handmade(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, _ = run_evaluate(capsys, "--annotations", annotations, "--images", empty, "--device", "cpu")
    assert code == 2 and "2 of 2 images" in caplog.text and "000000000001.jpg" in caplog.text
    code, _, _ = run_evaluate(capsys, "--annotations", annotations, "--images", tmp_path, "--profile",
                              "yolo11n_pose", "--gt-boxes", "--device", "cpu")
    assert code == 2 and "--gt-boxes needs a top-down configuration" in caplog.text
    with pytest.raises(SystemExit):
        main(["evaluate", "--annotations", str(annotations), "--images", str(tmp_path), "--max-images", "0"])


def test_max_images_scores_the_first_images_only(capsys, tmp_path):
    annotations, _ = handmade(tmp_path)
    code, out, _ = run_evaluate(capsys, "--annotations", annotations, "--images", tmp_path, "--device", "cpu",
                                "--max-images", "1", "--json", "--no-progress")
    assert code == 0 and json.loads(out)["images"] == 1


# --- what the measurement changed in the pipeline --------------------------------------------------------------

def test_a_top_down_pose_on_another_person_than_the_detectors_is_flagged():
    from pose_ros.core.families.base import disagrees_with_detector

    rng = np.random.default_rng(3)
    detector_xy = rng.uniform(100, 200, (1, 17, 2))
    elsewhere_xy = detector_xy + [150, 0]  # the neighbour, one body width to the right
    detected = poses_of(np.concatenate([detector_xy, detector_xy]), np.array([0.9, 0.8]))
    model = poses_of(np.concatenate([detector_xy + rng.normal(0, 3, (1, 17, 2)), elsewhere_xy]), np.ones(2))
    assert disagrees_with_detector(model.keypoints, COCO17, detected).tolist() == [False, True]
    # a detector without body joints (BlazePose's alignment points) never overrules the keypoint model
    jointless = Poses(detected.boxes, detected.scores, np.zeros_like(detected.keypoints), COCO17)
    assert not disagrees_with_detector(model.keypoints, COCO17, jointless).any()


def test_movenet_thunder_publishes_the_detectors_joints_where_it_found_someone_else():
    """On the crowd photo of minicoco val2017 (#162092, 11 annotated people) some crops lock onto a neighbour:
    those people carry YOLO11n-pose's joints (keypoint_source DETECTOR), every other one MoveNet's."""
    need_minicoco()
    from pose_ros.core.pipeline import build_estimator
    from pose_ros.core.profiles import load_profile

    thunder = build_estimator(load_profile("movenet_thunder", device="cpu"))
    poses = thunder(cv2.imread(str(VAL_IMAGES / "000000162092.jpg"), cv2.IMREAD_COLOR))
    sources = set(poses.keypoint_source.tolist())
    assert sources == {Poses.KEYPOINT_MODEL, Poses.DETECTOR}, sources


def test_accuracy_section_pareto_front_and_report():
    """The benchmark's accuracy section: the Pareto front and the rendered tables (made-up numbers)."""
    from devtools.bench import report
    from devtools.bench.measure.accuracy import pareto

    assert pareto({"fast": (10, 0.3), "slow_better": (100, 0.5), "dominated": (50, 0.2), "tie": (10, 0.3)}) == \
        ["fast", "tie", "slow_better"]
    joint = {"nose": {"labelled": 3, "median_error": 0.02, "mean_similarity": 0.9}}
    row = {"AP": 0.5, "AP50": 0.7, "AP75": 0.5, "APm": 0.2, "APl": 0.7, "AR": 0.6, "per_joint": joint, "median_ms": 50.0}
    accuracy = {"headline": "val2017", "pareto": ["a"], "person_threshold": 0.05, "data": "shared/data/x",
                "sets": {"val2017": {"images": 30, "people": 40}, "train2017": {"images": 30, "people": 53}},
                "rows": [{"config": "a", "paradigm": "one_stage", "val2017": row, "train2017": row},
                         {"config": "b", "paradigm": "top_down", "val2017": {**row, "AP": 0.4}, "train2017": row,
                          "gt_boxes": {**row, "AP": 0.45}}]}
    results = {"meta": {}, "accuracy": accuracy}
    results["notes"] = report.notes(results)
    text = report.render_accuracy(results)
    assert "| **a** | one-stage | 0.500 |" in text and "| b | top-down | 0.400 |" in text and "0.450" in text
    assert "b +0.050" in text  # ground-truth boxes against the detector's people
    assert "16. Accuracy" in report.render(results, None)
