"""Parity of the top-down BlazePose path with MediaPipe 0.10.14 itself (legacy mp.solutions.pose.Pose,
static_image_mode, model_complexity=1: the same two models, with the graph's own 7x7 heatmap window: see
devtools/reference/mediapipe_pose.py), run in its own test-only environment.

Single-person photos, stage by stage: the detector's score and alignment points, then the landmarks computed
from MediaPipe's own region, then the whole chain, on the photos and on transforms of them. Both sides resample
the same way (1/32 px, fixed point: geometry.warp_affine_fixed_point) so the models see the same tensors and the
bounds are tight (measured, see END_TO_END_BOUNDS); the issue's bounds are 2 px per 512 px and 1.5 %.
Multi-person bus.jpg: every person the one-stage model finds with score > 0.5 is also found by the top-down path
(box IoU > 0.5).
"""
import importlib.util
import json
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from photo_transforms import TRANSFORMS
from pose_ros.core.families.blazepose import BlazePoseLandmarks
from pose_ros.core.geometry import box_iou
from pose_ros.core.result import Poses
from pose_ros.core.skeletons import BLAZEPOSE_ALIGNMENT
from pose_ros.core.config import PoseConfig
from pose_ros.core.pipeline import build_estimator

REPO = Path(__file__).resolve().parents[1]
SINGLE_PERSON = ["astronaut.png", "camera.png", "grace_hopper.jpg"]
BOUND_PX_AT_512 = 2.0  # the bound; the stage tests assert a fraction of it (measured, below)


def _mediapipe_env():
    spec = importlib.util.spec_from_file_location("mediapipe_env", REPO / "devtools/reference/mediapipe_env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reference(photos):
    env = _mediapipe_env()
    paths = [photos[name] for name in SINGLE_PERSON]
    result = subprocess.run([str(env.ensure_mediapipe_env()), str(REPO / "devtools/reference/mediapipe_pose.py"),
                             *map(str, paths)], capture_output=True, text=True, timeout=600,
                            env=env.clean_env(), stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-3000:]
    return {Path(image["path"]).name: image for image in json.loads(result.stdout)["images"]}


def _estimator(**settings):
    return build_estimator(PoseConfig(mode="top_down", model="blazepose_landmark_full", detector="blazepose_detector",
                                      skeleton="blazepose33", device="cpu", **settings))


@pytest.fixture(scope="module")
def mediapipe_like():
    """Our top-down path set up as MediaPipe's graph: its detector on the whole image (no tiles), one
    person, the native 33 landmarks with raw visibilities."""
    return _estimator(detector_tiling=False, person_threshold=0.5, keypoint_threshold=0.0, max_people=1)


@pytest.fixture(scope="module")
def default_settings():
    """Our top-down path as shipped (detector tiles, several people), the native 33 landmarks."""
    return _estimator()


class _FixedRegion:
    """Detector double that hands the landmark stage MediaPipe's own region: one person whose alignment points
    (hips' centre, full-body circle point) make exactly that region."""

    def __init__(self, centre_x, centre_y, side, rotation):
        up = np.array([np.sin(rotation), -np.cos(rotation)]) * side / (2 * 1.25)  # centre -> circle point
        points = np.zeros((1, 4, 3), np.float32)
        points[0, 0] = [centre_x, centre_y, 1.0]
        points[0, 1] = [centre_x + up[0], centre_y + up[1], 1.0]
        self._people = Poses(np.zeros((1, 4), np.float32), np.ones(1, np.float32), points, BLAZEPOSE_ALIGNMENT)
        self.name = "mediapipe_region"
        self.may_repeat_people = False

    def __call__(self, image):
        return self._people

    def with_config(self, config):
        return self


def _bound(image) -> float:
    return BOUND_PX_AT_512 * max(image.shape[:2]) / 512


@pytest.mark.parametrize("name", SINGLE_PERSON)
def test_detector_alignment_points_agree_with_mediapipe(name, photos, reference, mediapipe_like):
    """Detector stage: the score and the two points the region is built from (mid-hip, full-body circle). Its
    input tensor is bit-identical to MediaPipe's (measured: points within 0.001 px, scores within 2e-6)."""
    ref = reference[name]["detection"]
    image = cv2.imread(str(photos[name]), cv2.IMREAD_COLOR)
    _, scores, points = mediapipe_like.detector.detect(image)
    assert scores[0] == pytest.approx(ref["score"], abs=1e-4)
    error = np.hypot(*(points[0, :2] - np.array(ref["keypoints"])[:2]).T)
    assert error.max() <= 0.01 * _bound(image), f"{name}: alignment points off by {error} px"


@pytest.mark.parametrize("name", SINGLE_PERSON)
def test_landmarks_from_mediapipes_region_agree_with_mediapipe(name, photos, reference, mediapipe_like):
    """Landmark stage, from the region MediaPipe made: crop, model, heatmap refinement, projection. Every
    visible joint (visibility > 0.5) within a quarter of the bound (measured: at most 0.3 px, camera.png; the
    crop differs from MediaPipe's in ~25 of 196608 values, by the last bit of a sub-pixel position)."""
    ref = reference[name]
    image = cv2.imread(str(photos[name]), cv2.IMREAD_COLOR)
    landmark_stage = BlazePoseLandmarks(mediapipe_like.backend, _FixedRegion(*ref["region"]),
                                        mediapipe_like.config, mediapipe_like.skeleton)
    np.testing.assert_allclose(landmark_stage.regions(landmark_stage.detector(image)).sides, [ref["region"][2]],
                               rtol=1e-5)
    ours = landmark_stage(image)
    ref_landmarks = np.array(ref["landmarks"])  # (33, 5): x_px, y_px, z, visibility, presence
    visible = ref_landmarks[:, 3] > 0.5
    error = np.hypot(*(ours.keypoints[0, visible, :2] - ref_landmarks[visible, :2]).T)
    assert error.max() <= _bound(image) / 4, f"{name}: errors {np.round(error, 2)} px, bound {_bound(image) / 4:.2f}"
    np.testing.assert_allclose(ours.keypoints[0, :, 2], ref_landmarks[:, 3], atol=0.01)  # visibilities


# End to end on the photos and their transforms (issue 11): the median visible-joint distance (px per 512 px of
# image) and the worst visible joint (% of the person's landmark box height). The issue asks 2 px and 1.5 %
# (3 % with the default settings). Measured, both settings alike (the default's tiles only add people): median
# <= 0.02 px/512 on every photo and transform, worst joint <= 0.11 % except camera.png rolled +10 degrees, 0.49 %
# (its person scores 0.501). Before the crops were sampled as MediaPipe's OpenCV 3.4 samples them, OpenCV 5.0's
# exact interpolation moved the detector's points by up to 1.4 px and the ~1000 px region with them: up to
# 4.5 px/512 and 10.6 % (camera.png's hands, darkened astronaut.png), on the untransformed photos too.
END_TO_END_MEDIAN_PX_AT_512 = 0.2
END_TO_END_WORST_PCT = 1.0


@pytest.fixture(scope="module")
def transformed(photos, tmp_path_factory):
    """(photo, transform) -> (image, MediaPipe's answer) for every single-person photo and transform."""
    folder = tmp_path_factory.mktemp("transformed")
    images = {}
    for name in SINGLE_PERSON:
        photo = cv2.imread(str(photos[name]), cv2.IMREAD_COLOR)
        for t, transform in TRANSFORMS.items():
            images[(name, t)] = transform(photo)
            cv2.imwrite(str(folder / f"{Path(name).stem}__{t}.png"), images[(name, t)])
    paths = [folder / f"{Path(name).stem}__{t}.png" for name, t in images]
    env = _mediapipe_env()
    result = subprocess.run([str(env.ensure_mediapipe_env()), str(REPO / "devtools/reference/mediapipe_pose.py"),
                             *map(str, paths)], capture_output=True, text=True, timeout=600,
                            env=env.clean_env(), stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-3000:]
    answers = json.loads(result.stdout)["images"]
    return {key: (images[key], answer) for key, answer in zip(images, answers)}


@pytest.mark.parametrize("settings", ["mediapipe_like", "default_settings"])
@pytest.mark.parametrize("name", SINGLE_PERSON)
@pytest.mark.parametrize("transform", list(TRANSFORMS))
def test_end_to_end_on_transformed_photos_agrees_with_mediapipe(name, transform, settings, transformed, request):
    estimator = request.getfixturevalue(settings)
    image, answer = transformed[(name, transform)]
    ours = estimator(image)
    if not answer["found"]:
        # The scores agree within 2e-6 (test above): MediaPipe's graph alone misses darkened grace_hopper.jpg and
        # camera.png rolled -10 degrees, and so do we, on the whole image; the default's tiles may find more.
        if settings == "mediapipe_like":
            assert len(ours) == 0, f"MediaPipe found nobody, we found {len(ours)}"
            return
        pytest.skip("MediaPipe finds nobody; the default settings' tiles may")
    assert len(ours) >= 1 if settings == "default_settings" else len(ours) == 1, \
        f"MediaPipe found the person, we found {len(ours)}"
    ref = np.array(answer["landmarks"])
    visible = ref[:, 3] > 0.5
    error = np.hypot(*(ours.keypoints[0, visible, :2] - ref[visible, :2]).T)
    median_at_512 = np.median(error) * 512 / max(image.shape[:2])
    worst_pct = 100 * error.max() / np.ptp(ref[:, 1])
    print(f"\n[parity e2e] {settings} {name} {transform}: median {median_at_512:.2f} px/512, "
          f"worst {worst_pct:.2f} % of height")
    assert median_at_512 <= END_TO_END_MEDIAN_PX_AT_512 and worst_pct <= END_TO_END_WORST_PCT, \
        f"median {median_at_512:.2f} px/512 (bound {END_TO_END_MEDIAN_PX_AT_512}), " \
        f"worst {worst_pct:.2f} % (bound {END_TO_END_WORST_PCT})"


@pytest.mark.parametrize("detector", ["yolo11n_pose", "blazepose_detector"])
def test_every_bottom_up_person_is_found_top_down_on_bus(detector, bus_image, yolo_estimator):
    bottom_up = yolo_estimator(bus_image)
    wanted = bottom_up.boxes[bottom_up.scores > 0.5]
    top_down = build_estimator(PoseConfig(mode="top_down", model="blazepose_landmark_full", detector=detector,
                                          device="cpu"))(bus_image)
    best_iou = box_iou(wanted, top_down.boxes).max(axis=1) if len(top_down) else np.zeros(len(wanted))
    found = best_iou > 0.5
    if detector == "blazepose_detector":
        # BlazePose's own detector is made for people near the camera: even with tiles it misses the man cut
        # off at the right border. Pinned so a regression (or an improvement) shows.
        assert found.sum() == 2, best_iou
    else:
        assert found.all(), f"bottom-up people missed top-down: IoU {best_iou}"
