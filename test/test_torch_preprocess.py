"""torch pre-processing (the GPU path, run here on the CPU) against the OpenCV path: same tensors within a grey
level, same poses within a pixel, on real photos and the real models; torch tensors fed through IO binding."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

import torch  # a test dependency (requirements/test.txt)

from pose_ros.core.runtime.backend import BackendOptions, OrtBackend
from pose_ros.core.families.blazepose.landmarks import LANDMARK_SIZE, crop_matrices
from pose_ros.core.families.blazepose.regions import PersonRegions
from pose_ros.core.config import ConfigError, PoseConfig
from pose_ros.core.geometry import Letterbox
from pose_ros.core.models import resolve_model
from pose_ros.core.pipeline import build_estimator
from pose_ros.core.runtime.torch_ops import TorchPreprocessor, use_torch

PHOTOS = ("bus.jpg", "zidane.jpg", "astronaut.png", "grace_hopper.jpg")


@pytest.fixture(scope="module")
def images(photos):
    return {name: cv2.imread(str(photos[name]), cv2.IMREAD_COLOR) for name in PHOTOS}


@pytest.fixture(scope="module")
def pre():
    return TorchPreprocessor("cpu")


@pytest.mark.parametrize("name", PHOTOS)
@pytest.mark.parametrize("size", [(640, 640), (256, 320)], ids=["640", "256x320"])
def test_letterbox_matches_opencv_within_a_grey_level(pre, images, name, size):
    image = images[name]
    letterbox = Letterbox.fit(image.shape[:2], size)
    expected = letterbox.apply(image)[..., ::-1].transpose(2, 0, 1).astype(np.float32) / 255
    out = pre.empty((3, *size))
    pre.letterbox(image, letterbox, out)
    diff = np.abs(out.numpy() - expected)
    assert diff.max() <= 2 / 255, diff.max() * 255
    assert diff.mean() < 0.5 / 255


def _regions(image: np.ndarray, n: int = 4, seed: int = 0):
    """Rotated square regions inside and across the image border (the crop of a person near an edge)."""
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    centres = rng.uniform((-0.1 * w, -0.1 * h), (1.1 * w, 1.1 * h), (n, 2)).astype(np.float32)
    sides = rng.uniform(0.2, 0.9, n).astype(np.float32) * min(h, w)
    rotations = rng.uniform(-np.pi, np.pi, n).astype(np.float32)
    return crop_matrices(PersonRegions(centres, sides, rotations))


@pytest.mark.parametrize("name", PHOTOS)
def test_rotated_crops_match_cv2_warp_affine(pre, images, name):
    image = images[name]
    matrices = _regions(image)
    crops = pre.warp_crops(image, matrices, LANDMARK_SIZE).numpy()
    assert crops.shape == (len(matrices), LANDMARK_SIZE, LANDMARK_SIZE, 3)
    for crop, matrix in zip(crops, matrices):
        warped = cv2.warpAffine(image, matrix, (LANDMARK_SIZE, LANDMARK_SIZE), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)[..., ::-1].astype(np.float32) / 255
        diff = np.abs(crop - warped)
        # OpenCV quantises sample positions to 1/32 px and rounds to uint8: small differences at sharp edges.
        assert diff.mean() < 1 / 255, diff.mean() * 255
        assert np.percentile(diff, 99) < 6 / 255, np.percentile(diff, 99) * 255


CONFIGS = {
    "bottom_up": dict(model="yolo11n_pose"),
    "top_down_blazepose": dict(mode="top_down", model="blazepose_landmark_full", detector="blazepose_detector"),
    "top_down_yolo_regions": dict(mode="top_down", model="blazepose_landmark_full", detector="yolo11n_pose"),
}


def median_joint_error(a, b) -> float:
    """Median distance of joints confident (> 0.5) in both results, people matched by box centre."""
    centres_a, centres_b = (p.boxes.reshape(-1, 2, 2).mean(1) for p in (a, b))
    rows, cols = linear_sum_assignment(np.linalg.norm(centres_a[:, None] - centres_b[None], axis=-1))
    ka, kb = a.keypoints[rows], b.keypoints[cols]
    both = (ka[..., 2] > 0.5) & (kb[..., 2] > 0.5)
    return float(np.median(np.linalg.norm(ka[..., :2] - kb[..., :2], axis=-1)[both]))


@pytest.mark.parametrize("config", list(CONFIGS))
def test_poses_with_torch_preprocessing_match_opencv(images, config):
    """Within a pixel, or no further than the OpenCV path itself moves when the photo changes by one grey
    level: top-down with YOLO regions on a head-and-shoulders portrait (grace_hopper) is that sensitive."""
    opencv = build_estimator(PoseConfig(device="cpu", preprocess="opencv", **CONFIGS[config]))
    torch_pre = build_estimator(PoseConfig(device="cpu", preprocess="torch", **CONFIGS[config]))
    assert torch_pre.torch_pre is not None and opencv.torch_pre is None
    rng = np.random.default_rng(0)
    for name, image in images.items():
        a, b = opencv(image), torch_pre(image)
        assert len(a) == len(b) > 0, name
        error = median_joint_error(a, b)
        if error >= 1.0:
            one_grey_level = np.clip(image.astype(np.int16) + rng.integers(-1, 2, image.shape), 0, 255)
            sensitivity = median_joint_error(a, opencv(one_grey_level.astype(np.uint8)))
            assert error <= sensitivity, (name, error, sensitivity)


def test_torch_tensors_are_fed_through_io_binding_in_place():
    path = resolve_model("blazepose_landmark_full").path
    bound = OrtBackend(path, BackendOptions(device="cpu", io_binding=True))
    plain = OrtBackend(path, BackendOptions(device="cpu"))
    crops = torch.rand((2, LANDMARK_SIZE, LANDMARK_SIZE, 3), generator=torch.Generator().manual_seed(0))
    for a, b in zip(bound.run({bound.input_names[0]: crops}), plain.run({plain.input_names[0]: crops.numpy()})):
        np.testing.assert_allclose(a, b, atol=1e-5)
    with pytest.raises(ValueError, match="contiguous"):
        bound.run({bound.input_names[0]: crops.permute(0, 2, 1, 3)})


@pytest.mark.parametrize("preprocess, device, expected", [
    ("opencv", "cuda:0", False), ("auto", "cpu", False), ("torch", "cpu", True),
])
def test_where_preprocessing_runs(preprocess, device, expected):
    assert use_torch(preprocess, device) is expected


def test_unknown_preprocess_names_the_valid_ones():
    with pytest.raises(ConfigError, match="auto, opencv, torch"):
        PoseConfig(preprocess="cupy")
