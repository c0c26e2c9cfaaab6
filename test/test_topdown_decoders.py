"""Top-down geometry and SimCC/heatmap decoders on synthetic model outputs whose keypoints are known exactly.

The MMPose references below (three-point warp, per-keypoint refinement loops with cv2.GaussianBlur) follow
MMPose 1.x's mmpose/structures/bbox/transforms.py and mmpose/codecs/utils/{post_processing,refinement}.py
step by step; the vectorised code under test must agree with them.
"""
import cv2
import numpy as np
import pytest

from pose_ros.core.config import PoseConfig
from pose_ros.core.result import Poses
from pose_ros.core.skeletons import COCO17
from pose_ros.core.families.mmpose.codecs import decode_heatmap, decode_simcc, keypoint_confidence
from pose_ros.core.families.common.crops import (MMPOSE_MEAN, MMPOSE_STD, box_to_center_scale, crop_batch,
                                                 crop_warp_matrices)
from pose_ros.core.families.mmpose.model import TopDownKeypoints
from pose_ros.core.geometry import invert_affine, transform_points

K = COCO17.num_keypoints
RTMPOSE_SIGMA = {(192, 256): (4.9, 5.66), (288, 384): (6.0, 6.93)}  # SimCCLabel sigma (bins) per input (w, h)


# ------------------------------------------------------------------------------------------ synthetic outputs

def simcc_vectors(points, input_wh, split_ratio, sigma, peak=(1.0, 1.0)):
    """1-D Gaussians (RTMPose SimCCLabel, normalize=False) centred at points (N, K, 2) input pixels."""
    wx, wy = round(input_wh[0] * split_ratio), round(input_wh[1] * split_ratio)
    mu = np.asarray(points, np.float64) * split_ratio
    gx = np.exp(-(np.arange(wx) - mu[..., 0:1]) ** 2 / (2 * sigma[0] ** 2)) * peak[0]
    gy = np.exp(-(np.arange(wy) - mu[..., 1:2]) ** 2 / (2 * sigma[1] ** 2)) * peak[1]
    return gx.astype(np.float32), gy.astype(np.float32)


def gaussian_heatmaps(points_hm, hw, sigma=2.0):
    """2-D Gaussians (peak 1) centred at points (N, K, 2) in heatmap pixels (centres at integers)."""
    h, w = hw
    p = np.asarray(points_hm, np.float64)
    gx = np.exp(-(np.arange(w) - p[..., 0:1]) ** 2 / (2 * sigma ** 2))
    gy = np.exp(-(np.arange(h) - p[..., 1:2]) ** 2 / (2 * sigma ** 2))
    return (gy[..., :, None] * gx[..., None, :]).astype(np.float32)


# ------------------------------------------------------------------------------------------ MMPose references

def mmpose_warp_matrix(center, scale, rot, output_wh):
    """get_warp_matrix: three point pairs (centre, centre + rotated up-vector, its 90-degree turn)."""
    def rotate(pt, rad):
        return np.array([[np.cos(rad), -np.sin(rad)], [np.sin(rad), np.cos(rad)]]) @ pt

    def third(a, b):
        d = a - b
        return b + np.array([-d[1], d[0]])

    dst_w, dst_h = output_wh
    src_dir = rotate(np.array([0.0, scale[0] * -0.5]), np.deg2rad(rot))
    src = np.zeros((3, 2), np.float32)
    src[0], src[1] = center, center + src_dir
    src[2] = third(src[0], src[1])
    dst = np.zeros((3, 2), np.float32)
    dst[0] = dst_w * 0.5, dst_h * 0.5
    dst[1] = dst[0] + np.array([0.0, dst_w * -0.5])
    dst[2] = third(dst[0], dst[1])
    return cv2.getAffineTransform(src, dst)


def mmpose_udp_warp_matrix(center, scale, rot, output_wh):
    """get_udp_warp_matrix, term by term."""
    size = np.asarray(center, np.float64) * 2
    r = np.deg2rad(rot)
    sx, sy = (output_wh[0] - 1) / scale[0], (output_wh[1] - 1) / scale[1]
    return np.array([
        [np.cos(r) * sx, -np.sin(r) * sx,
         sx * (-0.5 * size[0] * np.cos(r) + 0.5 * size[1] * np.sin(r) + 0.5 * scale[0])],
        [np.sin(r) * sy, np.cos(r) * sy,
         sy * (-0.5 * size[0] * np.sin(r) - 0.5 * size[1] * np.cos(r) + 0.5 * scale[1])]])


def mmpose_blur(heatmaps, kernel):
    """gaussian_blur: zero border of the kernel radius, cv2.GaussianBlur, peak restored; (K, H, W)."""
    border = (kernel - 1) // 2
    out = heatmaps.copy()
    for k in range(len(out)):
        peak = out[k].max()
        padded = np.zeros((out.shape[1] + 2 * border, out.shape[2] + 2 * border), out.dtype)
        padded[border:-border, border:-border] = out[k]
        out[k] = cv2.GaussianBlur(padded, (kernel, kernel), 0)[border:-border, border:-border]
        out[k] *= peak / out[k].max()
    return out


def mmpose_argmax(heatmaps):
    k, h, w = heatmaps.shape
    y, x = np.unravel_index(heatmaps.reshape(k, -1).argmax(1), (h, w))
    return np.stack([x, y], -1).astype(np.float64)


def mmpose_refine(heatmaps, mode, kernel=11):
    """refine_keypoints / refine_keypoints_dark / refine_keypoints_dark_udp, one keypoint at a time."""
    k, h, w = heatmaps.shape
    kps = mmpose_argmax(heatmaps)
    if mode == "quarter":
        for j in range(k):
            x, y = kps[j].astype(int)
            dx = heatmaps[j, y, x + 1] - heatmaps[j, y, x - 1] if 1 < x < w - 1 and 0 < y < h else 0.0
            dy = heatmaps[j, y + 1, x] - heatmaps[j, y - 1, x] if 1 < y < h - 1 and 0 < x < w else 0.0
            kps[j] += np.sign([dx, dy]) * 0.25
    elif mode == "dark":
        lg = np.log(np.maximum(mmpose_blur(heatmaps, kernel), 1e-10))
        for j in range(k):
            x, y = kps[j].astype(int)
            if 1 < x < w - 2 and 1 < y < h - 2:
                g = np.array([0.5 * (lg[j, y, x + 1] - lg[j, y, x - 1]), 0.5 * (lg[j, y + 1, x] - lg[j, y - 1, x])])
                dxx = 0.25 * (lg[j, y, x + 2] - 2 * lg[j, y, x] + lg[j, y, x - 2])
                dxy = 0.25 * (lg[j, y + 1, x + 1] - lg[j, y - 1, x + 1] - lg[j, y + 1, x - 1] + lg[j, y - 1, x - 1])
                dyy = 0.25 * (lg[j, y + 2, x] - 2 * lg[j, y, x] + lg[j, y - 2, x])
                hess = np.array([[dxx, dxy], [dxy, dyy]])
                if np.linalg.det(hess) != 0:
                    kps[j] -= np.linalg.inv(hess) @ g
    elif mode == "udp":
        lg = np.pad(np.log(np.clip(mmpose_blur(heatmaps, kernel), 1e-3, 50)), ((0, 0), (1, 1), (1, 1)), "edge")
        for j in range(k):
            x, y = kps[j].astype(int) + 1
            c = lg[j, y, x]
            g = np.array([0.5 * (lg[j, y, x + 1] - lg[j, y, x - 1]), 0.5 * (lg[j, y + 1, x] - lg[j, y - 1, x])])
            dxx = lg[j, y, x + 1] - 2 * c + lg[j, y, x - 1]
            dyy = lg[j, y + 1, x] - 2 * c + lg[j, y - 1, x]
            dxy = 0.5 * (lg[j, y + 1, x + 1] - lg[j, y, x + 1] - lg[j, y + 1, x] + 2 * c - lg[j, y, x - 1]
                         - lg[j, y - 1, x] + lg[j, y - 1, x - 1])
            hess = np.array([[dxx, dxy], [dxy, dyy]]) + np.finfo(np.float32).eps * np.eye(2)
            kps[j] -= np.linalg.inv(hess) @ g
    return kps


# ------------------------------------------------------------------------------------------ (a) SimCC

@pytest.mark.parametrize("input_wh", [(192, 256), (288, 384)])
@pytest.mark.parametrize("split_ratio", [2.0, 1.0, 3.0])
def test_simcc_decodes_gaussian_labels_to_within_half_a_bin(input_wh, split_ratio):
    rng = np.random.default_rng(0)
    points = rng.uniform(5, np.array(input_wh) - 5, size=(4, K, 2))  # sub-bin positions
    gx, gy = simcc_vectors(points, input_wh, split_ratio, RTMPOSE_SIGMA[input_wh])
    keypoints, scores = decode_simcc(gx, gy, split_ratio)
    assert keypoints.shape == (4, K, 2) and keypoints.dtype == np.float32 and scores.shape == (4, K)
    # argmax resolution: the nearest bin, i.e. at most half a bin (1 / (2 * split_ratio) px) away
    assert np.abs(keypoints - points).max() <= 0.5 / split_ratio + 1e-5


@pytest.mark.parametrize("peaks, mode, expected", [
    ((0.9, 0.6), "min", 0.6),     # MMPose get_simcc_maximum: the smaller of the two maxima
    ((0.6, 0.9), "min", 0.6),
    ((0.9, 0.6), "mean", 0.75),   # the third-party variant, on request only
    ((1.7, 1.3), "min", 1.3),     # raw logits above 1 stay raw here; keypoint_confidence clips
])
def test_simcc_score_is_the_smaller_maximum(peaks, mode, expected):
    points = np.full((1, K, 2), 50.0)  # on a bin: peak values are exactly the given ones
    gx, gy = simcc_vectors(points, (192, 256), 2.0, (4.9, 5.66), peak=peaks)
    _, scores = decode_simcc(gx, gy, 2.0, score_mode=mode)
    np.testing.assert_allclose(scores, expected, rtol=1e-6)


# ------------------------------------------------------------------------------------------ (b) heatmaps

@pytest.mark.parametrize("refine, tolerance", [("dark", 0.05), ("udp", 0.05), ("quarter", 0.3), (None, 0.5)])
@pytest.mark.parametrize("input_wh, hm_hw", [((192, 256), (64, 48)), ((288, 384), (96, 72))])
def test_heatmap_decodes_off_grid_gaussians(refine, tolerance, input_wh, hm_hw):
    rng = np.random.default_rng(1)
    h, w = hm_hw
    points = rng.uniform([4, 4], [w - 5, h - 5], size=(3, K, 2))
    points[np.isclose(points % 1, 0)] += 0.37  # strictly non-integer
    keypoints, scores = decode_heatmap(gaussian_heatmaps(points, hm_hw), input_wh, refine)
    if refine == "udp":  # UDP: heatmap pixel i is input pixel i * (w_in - 1) / (W - 1)
        per_hm_px = np.array([(input_wh[0] - 1) / (w - 1), (input_wh[1] - 1) / (h - 1)])
    else:  # MSRA: input pixel = heatmap pixel * (w_in / W)
        per_hm_px = np.array([input_wh[0] / w, input_wh[1] / h])
    error = np.abs(keypoints / per_hm_px - points)
    assert error.max() < tolerance if refine else error.max() <= tolerance
    assert ((scores > 0.75) & (scores <= 1.0)).all()  # the sampled peak of a sigma-2 Gaussian


@pytest.mark.parametrize("refine", ["quarter", "dark", "udp"])
def test_heatmap_refinement_matches_mmpose_loops(refine):
    """Noisy, irregular heatmaps, including maxima on and near the borders (where MMPose's conditions bite)."""
    rng = np.random.default_rng(2)
    h, w = 64, 48
    points = rng.uniform([-1, -1], [w, h], size=(2, K, 2))
    points[0, :4] = [[0, 10], [1, 20], [w - 2, 30], [20, h - 1]]  # border and next-to-border maxima
    heatmaps = gaussian_heatmaps(points, (h, w), sigma=2.5) + rng.uniform(0, 0.05, (2, K, h, w)).astype(np.float32)
    keypoints, _ = decode_heatmap(heatmaps, (w, h), refine)  # input = heatmap size: a factor of 1
    for n in range(2):
        np.testing.assert_allclose(keypoints[n], mmpose_refine(heatmaps[n].astype(np.float64), refine), atol=2e-4)


# ------------------------------------------------------------------------------------------ (c) affine geometry

def random_crops(rng, n):
    x1, y1 = rng.uniform(0, 500, n), rng.uniform(0, 300, n)
    boxes = np.stack([x1, y1, x1 + rng.uniform(10, 300, n), y1 + rng.uniform(10, 300, n)], 1)
    return boxes, rng.uniform(-180, 180, n)


@pytest.mark.parametrize("udp", [False, True])
@pytest.mark.parametrize("input_wh", [(192, 256), (288, 384), (256, 256)])
def test_affine_round_trip_and_mmpose_parity(udp, input_wh):
    rng = np.random.default_rng(3)
    boxes, rotations = random_crops(rng, 20)
    centers, scales = box_to_center_scale(boxes, input_wh)
    matrices = crop_warp_matrices(centers, scales, input_wh, rotations, udp=udp)
    assert matrices.shape == (20, 2, 3) and matrices.dtype == np.float32
    reference = mmpose_udp_warp_matrix if udp else mmpose_warp_matrix
    for m, c, s, r in zip(matrices, centers, scales, rotations):
        np.testing.assert_allclose(m, reference(c, s, r, input_wh), rtol=1e-4, atol=1e-3)
    points = rng.uniform(-100, 900, (20, K, 2)).astype(np.float32)
    back = transform_points(transform_points(points, matrices), invert_affine(matrices))
    assert np.abs(back - points).max() < 1e-3
    # the box centre lands on the centre of the model input
    centre_in = transform_points(centers[:, None], matrices)[:, 0]
    expected_centre = (np.array(input_wh) - (1 if udp else 0)) / 2
    np.testing.assert_allclose(centre_in, np.broadcast_to(expected_centre, centre_in.shape), atol=1e-3)


def test_rotation_defaults_to_zero_and_keeps_the_crop_upright():
    centers, scales = np.array([[100.0, 200.0]]), np.array([[150.0, 200.0]])
    m = crop_warp_matrices(centers, scales, (192, 256))
    np.testing.assert_allclose(m[0], [[192 / 150, 0, 96 - 100 * 192 / 150], [0, 192 / 150, 128 - 200 * 192 / 150]],
                               rtol=1e-6)
    np.testing.assert_allclose(crop_warp_matrices(centers, scales, (192, 256), np.zeros(1)), m)


# ------------------------------------------------------------------------------------------ (d) box -> centre, scale

@pytest.mark.parametrize("box, input_wh, padding, center, scale", [
    ((0, 0, 100, 100), (192, 256), 1.25, (50, 50), (125, 125 / 0.75)),         # square box, tall input: grow h
    ((10, 20, 40, 220), (192, 256), 1.25, (25, 120), (0.75 * 250, 250)),        # very tall box: grow w
    ((0, 0, 300, 100), (192, 256), 1.0, (150, 50), (300, 400)),                 # wide box: grow h
    ((0, 0, 75, 100), (192, 256), 1.0, (37.5, 50), (75, 100)),                  # already 3:4: unchanged
    ((5, 5, 105, 55), (256, 256), 1.25, (55, 30), (125, 125)),                  # square input
    ((0, 0, 100, 300), (288, 384), 1.0, (50, 150), (225, 300)),
])
def test_box_to_center_scale_fixes_the_aspect_ratio_by_growing_the_short_side(box, input_wh, padding, center,
                                                                              scale):
    centers, scales = box_to_center_scale(np.array([box], np.float32), input_wh, padding)
    assert centers.shape == scales.shape == (1, 2) and centers.dtype == scales.dtype == np.float32
    np.testing.assert_allclose(centers[0], center, rtol=1e-6)
    np.testing.assert_allclose(scales[0], scale, rtol=1e-6)
    assert scales[0, 0] / scales[0, 1] == pytest.approx(input_wh[0] / input_wh[1], rel=1e-6)


# ------------------------------------------------------------------------------------------ crops

def test_crop_batch_warps_where_transform_points_says_and_normalises_rgb():
    image = np.full((480, 640, 3), (10, 20, 30), np.uint8)  # BGR
    dots = np.array([[[200.0, 150.0]], [[420.0, 330.0]]])
    for (x, y), in dots:
        image[int(y), int(x)] = (255, 255, 255)
    boxes = np.array([[150, 60, 260, 260], [380, 250, 470, 420]], np.float32)
    matrices = crop_warp_matrices(*box_to_center_scale(boxes, (192, 256)), (192, 256))
    buffer = np.empty((4, 3, 256, 192), np.float32)
    batch = crop_batch(image, matrices, (192, 256), out=buffer)
    assert batch.shape == (2, 3, 256, 192) and batch.dtype == np.float32 and np.shares_memory(batch, buffer)
    # background: RGB (30, 20, 10) normalised with MMPose's RGB statistics
    expected = (np.array([30, 20, 10]) - np.array(MMPOSE_MEAN)) / np.array(MMPOSE_STD)
    np.testing.assert_allclose(batch[0, :, 128, 96], expected, rtol=1e-5)
    # outside the source image the crop is black (BORDER_CONSTANT 0) before normalisation
    far = crop_batch(image, crop_warp_matrices(np.array([[0.0, 0.0]]), np.array([[300.0, 400.0]]), (192, 256)),
                     (192, 256))
    np.testing.assert_allclose(far[0, :, 0, 0], -np.array(MMPOSE_MEAN) / np.array(MMPOSE_STD), rtol=1e-5)
    # the bright dot is brightest where transform_points maps it (bilinear: within a pixel)
    predicted = transform_points(dots, matrices)[:, 0]
    for crop, (px, py) in zip(batch, predicted):
        y, x = np.unravel_index(crop[0].argmax(), crop[0].shape)
        assert abs(x - px) <= 1 and abs(y - py) <= 1


def test_crop_batch_without_rgb_swap_keeps_bgr_order():
    image = np.full((50, 50, 3), (10, 20, 30), np.uint8)
    m = crop_warp_matrices(np.array([[25.0, 25.0]]), np.array([[20.0, 20.0]]), (8, 8))
    out = crop_batch(image, m, (8, 8), mean=(0, 0, 0), std=(1, 1, 1), to_rgb=False)
    np.testing.assert_allclose(out[0, :, 4, 4], [10, 20, 30])


# ------------------------------------------------------------------------------------------ (e) end to end

class RecordingBackendDouble:
    """TEST DOUBLE for the Backend protocol (no model): records every input batch and returns outputs
    precomputed from known model-input-space keypoints, one person per batch row, in order; rows past the
    known people (zero padding of a fixed batch) get empty outputs."""

    def __init__(self, codec, model_points, input_wh, batch_dim="batch", heatmap_hw=(64, 48)):
        self.input_names, self.input_shapes = ("input",), (((batch_dim, 3, input_wh[1], input_wh[0])),)
        self.providers = ("CPUExecutionProvider",)
        self.codec, self.input_wh, self.heatmap_hw = codec, input_wh, heatmap_hw
        self.output_names = ("simcc_x", "simcc_y") if codec == "simcc" else ("heatmaps",)
        self.model_points = np.asarray(model_points, np.float64)
        self.inputs, self._next = [], 0

    def _outputs(self, points):
        if self.codec == "simcc":
            return list(simcc_vectors(points, self.input_wh, 2.0, (4.9, 5.66), peak=(0.8, 0.8)))
        per_px = np.array(self.input_wh) / self.heatmap_hw[::-1]
        return [gaussian_heatmaps(points / per_px, self.heatmap_hw) * np.float32(0.8)]

    def run(self, feeds):
        (batch,) = feeds.values()
        self.inputs.append(batch.copy())
        rows = self.model_points[self._next:self._next + len(batch)]
        self._next += len(batch)
        outputs = self._outputs(rows)
        missing = len(batch) - len(rows)
        return [np.concatenate([o, np.zeros((missing, *o.shape[1:]), o.dtype)]) for o in outputs]


class DetectorDouble:
    """A person detector that finds the given boxes (detectors are PoseModels: Poses out, with_config)."""

    may_repeat_people = False

    def __init__(self, boxes, scores, config=None):
        self.boxes, self.scores, self.config = boxes, scores, config

    def __call__(self, image):
        n = len(self.scores)
        return Poses(np.array(self.boxes, np.float32).reshape(n, 4), np.array(self.scores, np.float32),
                     np.zeros((n, K, 3), np.float32), COCO17)

    def with_config(self, config):
        return self


def detector_double(boxes, scores):
    return DetectorDouble(boxes, scores)


BOXES = [[100, 80, 220, 400], [300, 50, 380, 300], [420, 200, 600, 460]]
SCORES = [0.6, 0.95, 0.8]  # best first: person 1, 2, 0


def model_space_points(n, input_wh):
    """Known keypoints on exact SimCC bins / heatmap pixels, inside the central part of the crop."""
    rng = np.random.default_rng(4)
    return rng.integers(12, np.array(input_wh) * 0.8 // 4, size=(n, K, 2)) * 4.0 + 8


@pytest.mark.parametrize("codec", ["simcc", "heatmap"])
@pytest.mark.parametrize("batch_dim, runs", [("batch", 1), (1, 3), (2, 2)])
def test_end_to_end_keypoints_are_the_inverse_warp_of_the_model_outputs(codec, batch_dim, runs):
    input_wh = (192, 256)
    points = model_space_points(3, input_wh)
    backend = RecordingBackendDouble(codec, points, input_wh, batch_dim)
    estimator = TopDownKeypoints(backend, COCO17, (256, 192), codec, PoseConfig(keypoint_threshold=0.3),
                                 detector_double(BOXES, SCORES), refine=None)
    image = np.zeros((480, 640, 3), np.uint8)
    poses = estimator(image)

    assert len(backend.inputs) == runs  # one run for the whole crowd unless the batch size is fixed
    assert all(b.shape[1:] == (3, 256, 192) for b in backend.inputs)
    assert sum(len(b) for b in backend.inputs) == (3 if batch_dim == "batch" else runs * batch_dim)
    order = np.argsort(SCORES)[::-1]
    np.testing.assert_array_equal(poses.boxes, np.array(BOXES, np.float32)[order])
    np.testing.assert_array_equal(poses.scores, np.array(SCORES, np.float32)[order])
    matrices = crop_warp_matrices(*box_to_center_scale(poses.boxes, input_wh), input_wh)
    expected = transform_points(points, invert_affine(matrices))
    np.testing.assert_allclose(poses.keypoints[..., :2], expected, atol=1e-3)
    np.testing.assert_allclose(poses.keypoints[..., 2], 0.8, rtol=1e-5)
    assert set(estimator.timings) == {"detect", "preprocess", "infer", "decode"}


def test_end_to_end_udp_heatmaps_use_the_udp_crop():
    input_wh = (192, 256)
    points = model_space_points(3, input_wh).astype(np.float64)
    per_hm_px = (np.array(input_wh) - 1) / (np.array([48, 64]) - 1)

    class UdpBackendDouble(RecordingBackendDouble):
        def _outputs(self, pts):
            return [gaussian_heatmaps(pts / per_hm_px, (64, 48))]

    backend = UdpBackendDouble("heatmap", points, input_wh)
    estimator = TopDownKeypoints(backend, COCO17, (256, 192), "heatmap", PoseConfig(),
                                 detector_double(BOXES, SCORES), refine="udp")
    poses = estimator(np.zeros((480, 640, 3), np.uint8))
    matrices = crop_warp_matrices(*box_to_center_scale(poses.boxes, input_wh), input_wh, udp=True)
    expected = transform_points(points, invert_affine(matrices))
    scale_per_input_px = box_to_center_scale(poses.boxes, input_wh)[1][:, None, :1] / (input_wh[0] - 1)
    assert (np.abs(poses.keypoints[..., :2] - expected) / scale_per_input_px).max() < 0.05 * per_hm_px.max()


def test_max_people_keeps_the_best_detections_and_nobody_gives_empty_poses():
    input_wh = (192, 256)
    backend = RecordingBackendDouble("simcc", model_space_points(3, input_wh), input_wh)
    estimator = TopDownKeypoints(backend, COCO17, (256, 192), "simcc", PoseConfig(max_people=2),
                                 detector_double(BOXES, SCORES))
    poses = estimator(np.zeros((480, 640, 3), np.uint8))
    np.testing.assert_allclose(poses.scores, [0.95, 0.8])
    assert len(backend.inputs[0]) == 2

    nobody = TopDownKeypoints(backend, COCO17, (256, 192), "simcc", PoseConfig(),
                              detector_double(np.zeros((0, 4)), np.zeros(0)))
    empty = nobody(np.zeros((480, 640, 3), np.uint8))
    assert isinstance(empty, Poses) and len(empty) == 0 and empty.keypoints.shape == (0, K, 3)
    assert set(nobody.timings) == {"detect", "preprocess", "infer", "decode"}


def test_with_config_keeps_model_and_detector():
    backend = RecordingBackendDouble("simcc", model_space_points(1, (192, 256)), (192, 256))
    detect = detector_double(BOXES[:1], SCORES[:1])
    estimator = TopDownKeypoints(backend, COCO17, (256, 192), "heatmap", PoseConfig(), detect, refine="dark")
    changed = estimator.with_config(PoseConfig(keypoint_threshold=0.7))
    assert changed.backend is backend and changed.detector is detect and changed.refine == "dark"
    assert changed.config.keypoint_threshold == 0.7 and changed.family == "heatmap"

    class ConfigurableDetectorDouble(DetectorDouble):
        def __init__(self, config):
            super().__init__(np.zeros((0, 4)), np.zeros(0), config)

        def with_config(self, config):
            return ConfigurableDetectorDouble(config)

    estimator = TopDownKeypoints(backend, COCO17, (256, 192), "simcc", PoseConfig(),
                                 ConfigurableDetectorDouble(PoseConfig()))
    assert estimator.with_config(PoseConfig(person_threshold=0.8)).detector.config.person_threshold == 0.8


def test_wrong_simcc_layout_is_reported():
    backend = RecordingBackendDouble("simcc", model_space_points(1, (192, 256)), (192, 256))
    estimator = TopDownKeypoints(backend, COCO17, (256, 192), "simcc", PoseConfig(),
                                 detector_double(BOXES[:1], SCORES[:1]), split_ratio=3.0)
    with pytest.raises(ValueError, match="split_ratio 3.0"):
        estimator(np.zeros((480, 640, 3), np.uint8))


# ------------------------------------------------------------------------------------------ (f) missing joints

def test_low_score_joints_get_score_zero_and_finite_coordinates():
    gx, gy = simcc_vectors(np.full((1, K, 2), 40.0), (192, 256), 2.0, (4.9, 5.66))
    gx[0, 3] -= 5.0  # all logits negative: MMPose would put this joint at -1
    keypoints, scores = decode_simcc(gx, gy)
    assert scores[0, 3] == 0 and np.isfinite(keypoints).all() and (keypoints >= 0).all()

    hm = gaussian_heatmaps(np.full((1, K, 2), 20.3), (64, 48))
    hm[0, 5] = 0.0
    hm[0, 6] = -0.2
    for refine in ("dark", "udp", "quarter", None):
        keypoints, scores = decode_heatmap(hm, (192, 256), refine)
        assert scores[0, 5] == scores[0, 6] == 0 and np.isfinite(keypoints).all()
    np.testing.assert_array_equal(keypoint_confidence(np.array([-1.0, 0.0, 0.5, 1.0, 3.0])), [0, 0, 0.5, 1, 1])


def test_estimator_zeroes_joints_below_the_keypoint_threshold():
    input_wh = (192, 256)
    points = model_space_points(3, input_wh)

    class WeakJointDouble(RecordingBackendDouble):
        def _outputs(self, pts):
            gx, gy = super()._outputs(pts)
            gx[:, 7] *= 0.25  # 0.8 * 0.25 = 0.2 < 0.3
            gy[:, 8] -= 1.0  # negative
            return [gx, gy]

    estimator = TopDownKeypoints(WeakJointDouble("simcc", points, input_wh), COCO17, (256, 192), "simcc",
                                 PoseConfig(keypoint_threshold=0.3), detector_double(BOXES, SCORES))
    poses = estimator(np.zeros((480, 640, 3), np.uint8))
    assert (poses.keypoints[:, 7:9, 2] == 0).all() and (poses.keypoints[:, 9:, 2] > 0.3).all()
    assert np.isfinite(poses.keypoints).all()
