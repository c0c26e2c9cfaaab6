"""MMPose decoders against rtmlib 0.0.16, a numpy re-implementation of MMPose's RTMPose (SimCC) and ViTPose
(DARK-UDP heatmap) decoding, on the same arrays: real-shaped (RTMPose-m 256x192, ViTPose 256x192 -> 64x48),
random and peaked. Same joints within 1e-4 px.

rtmlib is installed --no-deps into the test venv (requirements/test-nodeps.txt): it declares opencv-contrib-python.

Where rtmlib itself departs from MMPose, the test says so and compares only what both define the same way:
* ``get_simcc_maximum`` scores ``0.5 * (max_x + max_y)`` (MMPose 1.x: ``min``; rtmlib's own 3-D variant and its
  ``_combine_axis_scores('min')`` give MMPose's): pose_ros' ``score_mode="mean"`` is compared with the first,
  the default ``"min"`` with the second. rtmlib sets the location of a joint scoring <= 0 to -1; pose_ros keeps
  the argmax and scores it 0, so locations are compared where the score is > 0.
* ``post_dark_udp`` blurs with OpenCV's default border (reflect-101) and does not rescale each blurred map to its
  original peak; MMPose's ``gaussian_blur`` pads with zeros and rescales. Inside the map the rescaling is a constant
  added to the log (its derivatives do not see it) and the border cannot reach a joint more than ``kernel // 2 + 1``
  pixels from it, so joints that far inside must agree; the others are left out, and the test checks that most
  joints are compared. On pure noise a DARK step can leave its pixel (near-singular Hessian): there rtmlib's float32
  log and pose_ros' float64 one agree to 0.2 %, not 1e-4 px.
"""
import numpy as np
import pytest

rtmlib_post = pytest.importorskip(
    "rtmlib.tools.pose_estimation.post_processings",
    reason="rtmlib is missing: scripts/setup_env.sh installs it (pip install --no-deps -r requirements/test-nodeps.txt)")
from rtmlib.tools.pose_estimation.pre_processings import bbox_xyxy2cs, top_down_affine  # noqa: E402
from rtmlib.tools.pose_estimation.rtmpose import RTMPose  # noqa: E402
from rtmlib.tools.pose_estimation.vitpose import ViTPose  # noqa: E402

from pose_ros.core.families.mmpose.codecs import decode_heatmap, decode_simcc  # noqa: E402
from pose_ros.core.families.common.crops import box_to_center_scale, crop_warp_matrices  # noqa: E402
from pose_ros.core.geometry import invert_affine, transform_points  # noqa: E402

TOL_PX = 1e-4
K = 17
INPUT_WH = (192, 256)          # RTMPose-m / ViTPose-S COCO input (w, h)
SPLIT = 2.0                    # RTMPose simcc_split_ratio
HM_WH = (48, 64)               # ViTPose heatmap (w, h) for a 192x256 input
DARK_KERNEL = 11               # ViTPose's blur_kernel_size (rtmlib's default too)


def _simcc_cases(rng):
    """(name, simcc_x, simcc_y): real shapes (N people, 17, 384 / 512 bins), random and peaked."""
    n = 5
    wx, wy = int(INPUT_WH[0] * SPLIT), int(INPUT_WH[1] * SPLIT)
    random_x = rng.normal(0.2, 0.3, (n, K, wx)).astype(np.float32)
    random_y = rng.normal(0.2, 0.3, (n, K, wy)).astype(np.float32)
    mu = rng.uniform([0, 0], [INPUT_WH[0], INPUT_WH[1]], (n, K, 2)) * SPLIT
    peak = rng.uniform(0.05, 1.2, (n, K, 2))
    peaked_x = (np.exp(-(np.arange(wx) - mu[..., :1]) ** 2 / (2 * 4.9 ** 2)) * peak[..., :1]).astype(np.float32)
    peaked_y = (np.exp(-(np.arange(wy) - mu[..., 1:]) ** 2 / (2 * 5.66 ** 2)) * peak[..., 1:]).astype(np.float32)
    negative_x, negative_y = random_x - 0.6, random_y - 0.6   # many joints scoring <= 0
    return [("random", random_x, random_y), ("peaked", peaked_x, peaked_y), ("negative", negative_x, negative_y)]


def _heatmap_cases(rng):
    """(name, heatmaps (N, 17, 64, 48)): random, peaked Gaussians (sigma 2, sub-pixel centres), peaked + noise."""
    n = 8
    w, h = HM_WH
    random = rng.uniform(0.0, 1.0, (n, K, h, w)).astype(np.float32)
    centre = rng.uniform([1.0, 1.0], [w - 2.0, h - 2.0], (n, K, 2))
    gx = np.exp(-(np.arange(w) - centre[..., :1]) ** 2 / (2 * 2.0 ** 2))
    gy = np.exp(-(np.arange(h) - centre[..., 1:]) ** 2 / (2 * 2.0 ** 2))
    peaked = (gy[..., :, None] * gx[..., None, :] * rng.uniform(0.3, 1.0, (n, K, 1, 1))).astype(np.float32)
    noisy = np.clip(peaked + rng.normal(0, 0.02, peaked.shape), 0, None).astype(np.float32)
    return [("random", random), ("peaked", peaked), ("peaked+noise", noisy)]


@pytest.mark.parametrize("case", range(3))
def test_simcc_argmax_and_scores_equal_rtmlib(case):
    name, sx, sy = _simcc_cases(np.random.default_rng(7))[case]
    locs, vals = rtmlib_post.get_simcc_maximum(sx.copy(), sy.copy())        # rtmlib: mean of the two maxima
    ours_xy, ours_mean = decode_simcc(sx, sy, SPLIT, score_mode="mean")
    np.testing.assert_allclose(ours_mean, np.maximum(vals, 0), atol=1e-7, err_msg=name)
    live = vals > 0
    np.testing.assert_allclose(ours_xy[live], locs[live] / SPLIT, atol=TOL_PX, err_msg=name)
    assert (locs[~live] == -1).all()
    # MMPose's min score, as rtmlib's own helper computes it
    _, ours_min = decode_simcc(sx, sy, SPLIT)
    want_min = rtmlib_post._combine_axis_scores(sx.max(axis=2), sy.max(axis=2), "min")
    np.testing.assert_allclose(ours_min, np.maximum(want_min, 0), atol=1e-7, err_msg=name)


def test_rtmpose_end_to_end_mapping_equals_rtmlib():
    """Box -> crop (padding 1.25, aspect fixed) -> SimCC -> image pixels: pose_ros' crop geometry and decoder against
    rtmlib's RTMPose.preprocess/postprocess on the same outputs."""
    rng = np.random.default_rng(11)
    image = np.zeros((480, 640, 3), np.uint8)
    boxes = np.array([[100.0, 50.0, 220.0, 400.0], [300.5, 120.25, 520.0, 300.0], [10.0, 10.0, 60.0, 40.0]])
    _, sx, sy = _simcc_cases(rng)[1]
    sx, sy = sx[:len(boxes)], sy[:len(boxes)]
    tool = RTMPose.__new__(RTMPose)                      # no model file: only postprocess's arithmetic is used
    tool.model_input_size = INPUT_WH
    centers, scales = box_to_center_scale(boxes, INPUT_WH)
    ours_xy, _ = decode_simcc(sx, sy, SPLIT)
    ours = transform_points(ours_xy, invert_affine(crop_warp_matrices(centers, scales, INPUT_WH)))
    for i, box in enumerate(boxes):
        center, scale = bbox_xyxy2cs(box, padding=1.25)
        _, scale = top_down_affine(INPUT_WH, scale, center, image)
        want, _ = tool.postprocess([sx[i:i + 1], sy[i:i + 1]], center, scale, SPLIT)
        # 1e-4 model-input px is 1e-4 * scale / input_w image px (measured: at most 6.1e-5 image px, 4.3e-5 input px)
        np.testing.assert_allclose(ours[i], want[0], atol=TOL_PX * scale[0] / INPUT_WH[0])
        np.testing.assert_allclose(centers[i], center, atol=1e-4)
        np.testing.assert_allclose(scales[i], scale, rtol=1e-6)


def _interior(xy_int, shape_hw, margin):
    h, w = shape_hw
    return ((xy_int[..., 0] >= margin) & (xy_int[..., 0] < w - margin)
            & (xy_int[..., 1] >= margin) & (xy_int[..., 1] < h - margin))


@pytest.mark.parametrize("case", range(3))
def test_heatmap_dark_udp_equals_rtmlib(case):
    name, heatmaps = _heatmap_cases(np.random.default_rng(3))[case]
    n, k, h, w = heatmaps.shape
    flat = heatmaps.reshape(n, k, -1)
    idx = flat.argmax(axis=2)
    coords = np.stack([idx % w, idx // w], axis=-1).astype(np.float32)
    want = rtmlib_post.post_dark_udp(coords.copy(), heatmaps.copy(), kernel=DARK_KERNEL)   # heatmap pixels
    ours, scores = decode_heatmap(heatmaps, INPUT_WH, refine="udp", blur_kernel=DARK_KERNEL)
    np.testing.assert_allclose(scores, flat.max(axis=2), atol=0)
    ours_hm = ours / ((np.array(INPUT_WH) - 1) / (np.array(HM_WH) - 1))                  # back to heatmap pixels
    compared = _interior(coords, (h, w), DARK_KERNEL // 2 + 2)
    assert compared.mean() > 0.45, f"{name}: too few joints away from the border to compare"
    # On noise the Hessian at a maximum can be nearly singular: the Newton step then leaves the pixel (tens of px)
    # and amplifies rounding (rtmlib takes the log in float32, pose_ros in float64). Such steps agree to 0.2 %;
    # steps that stay within their pixel (every peaked joint) agree to 1e-4 px.
    small = (np.abs(want - coords) <= 1.0).all(axis=-1)
    np.testing.assert_allclose(ours_hm[compared & small], want[compared & small], atol=TOL_PX, err_msg=name)
    np.testing.assert_allclose(ours_hm[compared & ~small], want[compared & ~small], rtol=2e-3, err_msg=name)
    if name != "random":
        assert small[compared].all()


def test_vitpose_end_to_end_mapping_equals_rtmlib():
    """Box -> UDP crop -> heatmaps -> image pixels against rtmlib's ViTPose.postprocess (DARK-UDP, kernel 11)."""
    _, heatmaps = _heatmap_cases(np.random.default_rng(5))[1]
    image = np.zeros((480, 640, 3), np.uint8)
    boxes = np.array([[100.0, 50.0, 220.0, 400.0], [300.5, 120.25, 520.0, 300.0]])
    heatmaps = heatmaps[:len(boxes)]
    centers, scales = box_to_center_scale(boxes, INPUT_WH)
    ours_xy, _ = decode_heatmap(heatmaps, INPUT_WH, refine="udp", blur_kernel=DARK_KERNEL)
    ours = transform_points(ours_xy, invert_affine(crop_warp_matrices(centers, scales, INPUT_WH, udp=True)))
    h, w = heatmaps.shape[2:]
    for i, box in enumerate(boxes):
        center, scale = bbox_xyxy2cs(box, padding=1.25)
        _, scale = top_down_affine(INPUT_WH, scale, center, image)
        want, _ = ViTPose.postprocess(None, [heatmaps[i:i + 1].copy()], center, scale, dark_kernel=DARK_KERNEL)
        idx = heatmaps[i].reshape(K, -1).argmax(axis=1)
        inside = _interior(np.stack([idx % w, idx // w], -1), (h, w), DARK_KERNEL // 2 + 2)
        # heatmap px -> image px multiplies by scale / (W - 1): ~5 here, so 1e-4 heatmap px is 5e-4 image px
        np.testing.assert_allclose(ours[i][inside], want[0][inside], atol=TOL_PX * scale[0] / (w - 1))
