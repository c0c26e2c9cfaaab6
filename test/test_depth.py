"""Keypoints to 3D on synthetic depth images with exact answers; depth decoding; stamp pairing."""
from __future__ import annotations

import numpy as np
import pytest

from pose_ros.core.stream.depth import StampMatcher, depth_from_image, keypoints_to_3d

H, W = 480, 640
FX, FY, CX, CY = 500.0, 520.0, 319.5, 239.5
K = np.array([[FX, 0, CX], [0, FY, CY], [0, 0, 1]])
# Joints (x, y) spread over the image, on whole pixels and between them.
JOINTS = np.array([[320, 240], [100, 50], [600, 400], [10.4, 470.2], [333.3, 123.7], [2, 2]])


def kps(xy, score=1.0) -> np.ndarray:
    xy = np.asarray(xy, np.float32).reshape(1, -1, 2)
    return np.concatenate([xy, np.full(xy.shape[:2] + (1,), score, np.float32)], -1)


def back_project(xy: np.ndarray, z: np.ndarray) -> np.ndarray:
    return np.stack([(xy[:, 0] - CX) * z / FX, (xy[:, 1] - CY) * z / FY, z], -1)


@pytest.mark.parametrize("depth", [
    np.full((H, W), 2000, np.uint16),  # millimetres
    np.full((H, W), 2.0, np.float32),  # metres
    np.full((H, W), 2.0, np.float64),
], ids=["uint16_mm", "float32_m", "float64_m"])
def test_fronto_parallel_plane_at_2m(depth):
    points, valid, variance = keypoints_to_3d(kps(JOINTS), depth, K)
    assert points.dtype == np.float32 and variance.dtype == np.float32 and valid.dtype == bool
    assert points.shape == (1, len(JOINTS), 3) and valid.shape == variance.shape == (1, len(JOINTS))
    assert valid.all()
    np.testing.assert_allclose(points[0], back_project(JOINTS, np.full(len(JOINTS), 2.0)), rtol=1e-6)
    np.testing.assert_array_equal(variance, 0.0)  # flat patch


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
def test_tilted_plane(dtype):
    """Z = 1.5 m + 2 mm per column right of the centre: the median of a patch is its centre's depth."""
    z = 1.5 + 0.002 * (np.arange(W) - 320.0)
    depth = np.broadcast_to(z, (H, W))
    depth = np.round(depth * 1000).astype(np.uint16) if dtype == np.uint16 else depth.astype(np.float32)
    joints = np.array([[320, 240], [100, 50], [600, 400], [333, 124]], np.float64)
    points, valid, variance = keypoints_to_3d(kps(joints), depth, K, window=5)
    assert valid.all()
    np.testing.assert_allclose(points[0], back_project(joints, z[joints[:, 0].astype(int)]), rtol=1e-5)
    # Columns -2..2 around the centre: variance of (0, +-2, +-4) mm = 8e-6 m^2.
    np.testing.assert_allclose(variance[0], 8e-6, rtol=1e-3)


@pytest.mark.parametrize("window", [1, 3, 5, 7])
def test_window_sizes_on_a_plane_tilted_both_ways(window):
    yy, xx = np.mgrid[0:H, 0:W]
    depth = (1.0 + 0.001 * xx + 0.0005 * yy).astype(np.float32)
    points, valid, _ = keypoints_to_3d(kps([[200, 100], [500, 300]]), depth, K, window=window)
    expected_z = 1.0 + 0.001 * np.array([200, 500]) + 0.0005 * np.array([100, 300])
    np.testing.assert_allclose(points[0, :, 2], expected_z, rtol=1e-6)


@pytest.mark.parametrize("hole", [0, np.nan, np.inf, -1.0])
def test_holes_are_ignored_by_the_median(hole):
    depth = np.full((H, W), 2.0, np.float32)
    patch = depth[238:243, 318:323]  # the 5x5 patch of the joint at (320, 240)
    patch.flat[:12] = hole  # 12 of 25 invalid
    patch.flat[12:15] = 3.0  # 3 far values among the 13 valid ones: median 2.0
    points, valid, variance = keypoints_to_3d(kps([[320, 240]]), depth, K)
    assert valid[0, 0] and points[0, 0, 2] == pytest.approx(2.0)
    # Variance of 10 x 2.0 and 3 x 3.0 (m^2); the holes do not count.
    assert variance[0, 0] == pytest.approx(np.var([2.0] * 10 + [3.0] * 3), rel=1e-5)


def test_median_of_an_even_number_of_valid_depths_averages_the_middle_two():
    depth = np.zeros((H, W), np.uint16)
    depth[240, 318:322] = [1000, 2000, 3000, 4000]
    points, valid, variance = keypoints_to_3d(kps([[320, 240]]), depth, K)
    assert valid[0, 0] and points[0, 0, 2] == pytest.approx(2.5)
    assert variance[0, 0] == pytest.approx(1.25)


@pytest.mark.parametrize("fill", [0, np.nan], ids=["zeros", "nans"])
def test_patch_without_any_valid_depth_is_invalid(fill):
    depth = np.full((H, W), 2.0, np.float32)
    depth[230:250, 310:330] = fill
    points, valid, variance = keypoints_to_3d(kps([[320, 240], [100, 100]]), depth, K)
    assert valid.tolist() == [[False, True]]
    assert np.isnan(points[0, 0]).all() and np.isnan(variance[0, 0])
    assert points[0, 1, 2] == pytest.approx(2.0)


@pytest.mark.parametrize("xy, score, expected_valid", [
    ((320, 240), 1.0, True),
    ((320, 240), 0.0, False),  # not found by the model
    ((-0.6, 240), 1.0, False),  # nearest pixel column -1
    ((-0.4, 240), 1.0, True),  # nearest pixel column 0
    ((639.4, 479.4), 1.0, True),  # nearest pixel is the last one
    ((639.6, 240), 1.0, False),
    ((320, 480), 1.0, False),
    ((5000, -300), 1.0, False),
])
def test_joints_outside_the_image_or_not_found_are_invalid(xy, score, expected_valid):
    depth = np.full((H, W), 2000, np.uint16)
    points, valid, _ = keypoints_to_3d(kps([xy], score), depth, K)
    assert valid[0, 0] == expected_valid
    assert np.isfinite(points[0, 0]).all() == expected_valid


def test_patch_is_clipped_at_the_border_not_padded():
    """The 5x5 patch of a corner joint has 3x3 pixels inside: 4 of them at 1 m, 5 at 4 m. Repeating
    the border pixels instead would count the corner 9 times and give 1 m."""
    depth = np.full((H, W), 4.0, np.float32)
    depth[:2, :2] = 1.0
    points, valid, variance = keypoints_to_3d(kps([[0, 0]]), depth, K)
    assert valid[0, 0] and points[0, 0, 2] == pytest.approx(4.0)
    assert variance[0, 0] == pytest.approx(np.var([1.0] * 4 + [4.0] * 5))


def test_many_people_at_once_and_empty_input():
    rng = np.random.default_rng(0)
    depth = rng.uniform(0.5, 8.0, (H, W)).astype(np.float32)
    xy = rng.uniform((0, 0), (W - 1, H - 1), (20, 17, 2)).astype(np.float32)
    keypoints = np.concatenate([xy, np.ones((20, 17, 1), np.float32)], -1)
    points, valid, variance = keypoints_to_3d(keypoints, depth, K, window=3)
    assert points.shape == (20, 17, 3) and valid.all()
    # Reference for a few joints, one at a time.
    for n, k in ((0, 0), (7, 3), (19, 16)):
        u, v = (np.floor(keypoints[n, k, :2] + 0.5)).astype(int)
        patch = depth[max(v - 1, 0):v + 2, max(u - 1, 0):u + 2]
        assert points[n, k, 2] == pytest.approx(np.median(patch))
        assert variance[n, k] == pytest.approx(np.var(patch.astype(np.float64)), rel=1e-4)
    points, valid, variance = keypoints_to_3d(np.zeros((0, 17, 3), np.float32), depth, K)
    assert points.shape == (0, 17, 3) and valid.shape == variance.shape == (0, 17)


def test_depth_scale_overrides_the_default():
    depth = np.full((H, W), 500, np.uint16)  # e.g. a sensor reporting units of 4 mm
    points, _, _ = keypoints_to_3d(kps([[320, 240]]), depth, K.ravel(), depth_scale=0.004)
    assert points[0, 0, 2] == pytest.approx(2.0)


@pytest.mark.parametrize("window", [0, 2, 4, -1, 3.0])
def test_bad_window_is_rejected(window):
    with pytest.raises(ValueError, match="window"):
        keypoints_to_3d(kps([[1, 1]]), np.ones((H, W), np.float32), K, window=window)


# ----------------------------------------------------------------------------- depth_from_image
def _image_bytes(values: np.ndarray, pad: int, bigendian: bool = False) -> tuple[bytes, int]:
    dtype = values.dtype.newbyteorder(">" if bigendian else "<")
    rows = values.astype(dtype).view(np.uint8).reshape(values.shape[0], -1)
    rows = np.concatenate([rows, np.full((rows.shape[0], pad), 0xAB, np.uint8)], 1)
    return rows.tobytes(), rows.shape[1]


DEPTH_MM = np.array([[0, 1000, 2000], [65535, 1, 1500]], np.uint16)
DEPTH_M = np.array([[np.nan, 1.0, 2.0], [0.0, 0.001, 1.5]], np.float32)


@pytest.mark.parametrize("encoding, values, pad, bigendian, expected", [
    ("16UC1", DEPTH_MM, 0, False, DEPTH_MM / 1000.0),
    ("16UC1", DEPTH_MM, 6, False, DEPTH_MM / 1000.0),  # padded rows
    ("mono16", DEPTH_MM, 2, False, DEPTH_MM / 1000.0),
    ("16UC1", DEPTH_MM, 0, True, DEPTH_MM / 1000.0),
    ("32FC1", DEPTH_M, 0, False, DEPTH_M),
    ("32FC1", DEPTH_M, 4, True, DEPTH_M),
])
def test_depth_from_image(encoding, values, pad, bigendian, expected):
    data, step = _image_bytes(values, pad, bigendian)
    for buffer in (data, bytearray(data), np.frombuffer(data, np.uint8), list(data)):
        depth = depth_from_image(buffer, 2, 3, step, encoding, is_bigendian=bigendian)
        assert depth.dtype == np.float32 and depth.shape == (2, 3) and depth.flags.writeable
        np.testing.assert_allclose(depth, expected.astype(np.float32), rtol=1e-6)


@pytest.mark.parametrize("encoding, step, size, message", [
    ("rgb8", 9, 18, "unsupported depth encoding 'rgb8'; supported: 16UC1, mono16, 32FC1"),
    ("8UC1", 3, 6, "unsupported"),
    ("16UC1", 4, 12, "step 4 is shorter"),
    ("16UC1", 6, 11, "11 bytes for 2 rows of 6 bytes"),
])
def test_depth_from_image_errors(encoding, step, size, message):
    with pytest.raises(ValueError, match=message):
        depth_from_image(bytes(size), 2, 3, step, encoding)


# --------------------------------------------------------------------------------- StampMatcher
@pytest.mark.parametrize("stamps, tolerance, query, expected", [
    ([], 0.02, 1.0, None),
    ([1.000, 1.033, 1.066], 0.01, 1.034, 1.033),
    ([1.000, 1.033, 1.066], 0.01, 1.050, None),  # 17 ms from the nearest
    ([1.000, 1.033, 1.066], 0.02, 1.050, 1.066),
    ([1.000, 1.033, 1.066], 0.0, 1.033, 1.033),  # exact stamps with zero tolerance
    ([1.000, 1.033, 1.066], 0.0, 1.0331, None),
    ([1.000, 1.033, 1.066], 0.02, 0.990, 1.000),  # colour older than all depth frames
    ([1.000, 1.033, 1.066], 0.02, 2.000, None),
    ([1.066, 1.000, 1.033], 0.01, 1.001, 1.000),  # depth frames added out of order
    ([1.0, 2.0], 0.5, 1.5, 2.0),  # tie: the newer frame
    ([2.0, 1.0], 0.5, 1.5, 2.0),
])
def test_stamp_matcher(stamps, tolerance, query, expected):
    matcher = StampMatcher(tolerance)
    for s in stamps:
        matcher.add(s, f"depth@{s}")
    assert matcher.match(query) == (None if expected is None else f"depth@{expected}")


def test_stamp_matcher_buffer_is_bounded_and_items_are_not_consumed():
    matcher = StampMatcher(0.01, capacity=3)
    for i in range(5):
        matcher.add(i * 0.1, i)
    assert len(matcher) == 3
    assert matcher.match(0.0) is None and matcher.match(0.1) is None  # dropped
    assert matcher.match(0.2) == 2 and matcher.match(0.201) == 2 and matcher.match(0.4) == 4
    matcher.clear()
    assert len(matcher) == 0 and matcher.match(0.4) is None


@pytest.mark.parametrize("kwargs", [dict(tolerance_s=-0.1), dict(tolerance_s=float("nan")),
                                    dict(tolerance_s=0.1, capacity=0)])
def test_stamp_matcher_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError):
        StampMatcher(**kwargs)
