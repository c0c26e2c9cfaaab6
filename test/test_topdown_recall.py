"""Top-down never loses a person its detector found (issue 11), on the sample photos, their transforms
(photo_transforms.py: mirrored, rolled +-10 degrees, wide, darkened, a 2x2 grid) and the benchmark's crowds.

Every person the detector reports above ``person_threshold`` is published: with the landmark model's keypoints,
or, where that model rejects the crop, with the detector's own keypoints (keypoint_source DETECTOR) or none
(NO_KEYPOINTS) and the detector's box. Only a repeat of a person already found (BlazePose's tiles seeing one
close person twice, shown by the landmarks) is removed, and counted in the model's status.
"""
import cv2
import numpy as np
import pytest

from devtools.bench.crowd import crowd_images, load_person_crops
from photo_transforms import TRANSFORMS, grid_2x2
from pose_ros.core.config import PoseConfig
from pose_ros.core.families.blazepose.detector import detection_windows
from pose_ros.core.pipeline import build_estimator
from pose_ros.core.result import Poses


@pytest.fixture(scope="module")
def scenes(photos) -> dict[str, np.ndarray]:
    images = {name: cv2.imread(str(path), cv2.IMREAD_COLOR) for name, path in photos.items()}
    out = {f"{name}:{t}": transform(image) for name, image in images.items() for t, transform in TRANSFORMS.items()}
    out["grid_2x2"] = grid_2x2([images[n] for n in ("bus.jpg", "zidane.jpg", "astronaut.png", "grace_hopper.jpg")])
    out.update({f"crowd_{n}": image for n, (image, _) in crowd_images(load_person_crops(photos)).items()})
    return out


@pytest.fixture(scope="module", params=["yolo11n_pose", "blazepose_detector"])
def top_down(request):
    return build_estimator(PoseConfig(mode="top_down", model="blazepose_landmark_full", detector=request.param,
                                      device="cpu"))


def test_every_detected_person_is_published(top_down, scenes):
    lost, fallback, repeats = {}, 0, 0
    for name, image in scenes.items():
        detected = top_down.detector(image)
        before = top_down.repeats_removed
        published = top_down(image)
        repeats += top_down.repeats_removed - before
        if len(published) != len(detected) - (top_down.repeats_removed - before):
            lost[name] = (len(detected), len(published))
        assert set(np.unique(published.keypoint_source)) <= {Poses.KEYPOINT_MODEL, Poses.DETECTOR, Poses.NO_KEYPOINTS}
        fallback += int((published.keypoint_source != Poses.KEYPOINT_MODEL).sum())
        # a person without the landmark model's keypoints still has its detector's box and score
        rejected = published.keypoint_source != Poses.KEYPOINT_MODEL
        assert (published.scores[rejected] >= top_down.config.person_threshold).all()
        assert (published.boxes[rejected, 2:] > published.boxes[rejected, :2]).all()
    print(f"\n[recall] {top_down.detector.name}: {len(scenes)} scenes, people published from the detector's "
          f"keypoints or box only: {fallback}, tile repeats removed: {repeats}")
    assert not lost, f"detected -> published: {lost}"
    if not top_down.detector.may_repeat_people:
        assert repeats == 0


def test_one_stage_detector_people_are_all_kept_with_their_joints(scenes, yolo_estimator):
    """With YOLO11n-pose as detector, every person YOLO11n-pose alone reports (score > 0.5) is published, and
    a rejected crop keeps YOLO's own COCO joints (by name in BlazePose's layout)."""
    top_down = build_estimator(PoseConfig(mode="top_down", model="blazepose_landmark_full", detector="yolo11n_pose",
                                          skeleton="coco17", device="cpu"))
    for name, image in scenes.items():
        alone = yolo_estimator(image)
        published = top_down(image)
        assert len(published) == int((alone.scores > 0.5).sum()), name
        from_detector = published[published.keypoint_source == Poses.DETECTOR]
        assert (from_detector.keypoints[..., 2] > 0).any(axis=1).all(), name


def test_tiles_do_not_move_a_person_the_whole_image_finds(photos):
    """The whole-image pass's detections come out unchanged whether tiles are on or off (issue 11's drift:
    averaging them with the tiles' views moved the region and the landmarks with it)."""
    whole = build_estimator(PoseConfig(mode="top_down", model="blazepose_landmark_full",
                                       detector="blazepose_detector", detector_tiling=False, device="cpu"))
    tiled = whole.with_config(PoseConfig(mode="top_down", model="blazepose_landmark_full",
                                         detector="blazepose_detector", detector_tiling=True, device="cpu"))
    for name, path in photos.items():
        image = TRANSFORMS["rotate+10"](cv2.imread(str(path), cv2.IMREAD_COLOR))
        assert len(detection_windows(*image.shape[:2], True)) > 1
        alone = whole.detector.detect(image)
        with_tiles = tiled.detector.detect(image)
        n = len(alone[1])
        assert len(with_tiles[1]) >= n, name
        for a, b in zip(alone, with_tiles):
            np.testing.assert_array_equal(a, b[:n], err_msg=name)
        # ... and so are their landmarks
        ours, theirs = whole(image), tiled(image)
        for person in ours.keypoints:
            assert np.abs(theirs.keypoints - person).max(axis=(1, 2)).min() == 0, name
