"""families/tfjs_preprocess.py without node.js: the separable, vectorised resample against a per-pixel port of TF.js'
cpu kernels (Transform, ResizeBilinear) value for value, and pose-detection's sizes and coordinate maps on the
frame shapes cameras give. test_tfjs_parity.py compares the same tensors with pose-detection itself."""
import math

import numpy as np
import pytest

from pose_ros.core.families.tfjs_preprocess import (MultiPoseInput, PoseNetInput, resize_bilinear,
                                                     transform_bilinear)


def kernel_transform(image, m, out_hw, fill):
    """tfjs-backend-cpu Transform (bilinear), one output value at a time in Python floats (= JS numbers)."""
    m = [float(v) for v in np.asarray(m, np.float32)]
    height, width, depth = image.shape
    out = np.zeros((*out_hw, depth), np.float32)

    def read(y, x, c):
        return float(image[y, x, c]) if 0 <= y < height and 0 <= x < width else 0.0

    for oy in range(out_hw[0]):
        for ox in range(out_hw[1]):
            for c in range(depth):
                projection = m[6] * ox + m[7] * oy + 1
                in_x = (m[0] * ox + m[1] * oy + m[2]) / projection
                in_y = (m[3] * ox + m[4] * oy + m[5]) / projection
                if fill == "nearest":
                    in_x, in_y = max(0, min(in_x, width - 1)), max(0, min(in_y, height - 1))
                y0, x0 = math.floor(in_y), math.floor(in_x)
                y1, x1 = y0 + 1, x0 + 1
                top = (x1 - in_x) * read(y0, x0, c) + (in_x - x0) * read(y0, x1, c)
                bottom = (x1 - in_x) * read(y1, x0, c) + (in_x - x0) * read(y1, x1, c)
                out[oy, ox, c] = (y1 - in_y) * top + (in_y - y0) * bottom
    return out


def kernel_resize(image, out_hw):
    """tfjs-backend-cpu ResizeBilinear (alignCorners and halfPixelCenters false), one value at a time."""
    height, width, depth = image.shape
    out = np.zeros((*out_hw, depth), np.float32)
    row_ratio, col_ratio = height / out_hw[0], width / out_hw[1]
    for r in range(out_hw[0]):
        src_r = row_ratio * r
        r0, r1 = max(0, math.floor(src_r)), min(height - 1, math.ceil(src_r))
        fy = src_r - r0
        for c in range(out_hw[1]):
            src_c = col_ratio * c
            c0, c1 = max(0, math.floor(src_c)), min(width - 1, math.ceil(src_c))
            fx = src_c - c0
            for d in range(depth):
                tl, tr = float(image[r0, c0, d]), float(image[r0, c1, d])
                bl, br = float(image[r1, c0, d]), float(image[r1, c1, d])
                top, bottom = tl + (tr - tl) * fx, bl + (br - bl) * fx
                out[r, c, d] = top + (bottom - top) * fy
    return out


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(22).integers(0, 256, (23, 31, 3), np.uint8)


@pytest.mark.parametrize("fill", ["nearest", "constant"])
@pytest.mark.parametrize("matrix", [
    [31 / 19, 0, 0, 0, 31 / 19, -4.0, 0, 0],  # PoseNet-like: a 31x23 frame grown to a square 19x19 input
    [0.37, 0, -2.6, 0, 0.81, 1.3, 0, 0],  # upsampling, both borders crossed
    [1.0, 0, 0, 0, 1.0, 0, 0, 0],  # identity
])
def test_transform_equals_the_kernel(image, matrix, fill):
    np.testing.assert_array_equal(transform_bilinear(image, matrix, (19, 21), fill),
                                  kernel_transform(image, matrix, (19, 21), fill))


def test_transform_takes_only_axis_aligned_matrices(image):
    with pytest.raises(ValueError, match="axis-aligned"):
        transform_bilinear(image, [1, 0.1, 0, 0, 1, 0, 0, 0], (5, 5))
    with pytest.raises(ValueError, match="fill mode"):
        transform_bilinear(image, [1, 0, 0, 0, 1, 0, 0, 0], (5, 5), "reflect")


@pytest.mark.parametrize("out_hw", [(8, 13), (17, 31), (40, 50)])
def test_resize_equals_the_kernel(image, out_hw):
    np.testing.assert_array_equal(resize_bilinear(image, out_hw), kernel_resize(image, out_hw))


@pytest.mark.parametrize("src_hw, resized, padded", [
    ((480, 640), (192, 256), (192, 256)),
    ((720, 1280), (144, 256), (160, 256)),
    ((1080, 1920), (144, 256), (160, 256)),
    ((1280, 720), (256, 144), (256, 160)),
    ((600, 512), (256, 218), (256, 224)),
    ((512, 512), (256, 256), (256, 256)),
])
def test_multipose_keeps_the_aspect(src_hw, resized, padded):
    geometry = MultiPoseInput.fit(src_hw, 256)
    assert (geometry.resized_hw, geometry.padded_hw) == (resized, padded)
    frame = np.full((*src_hw, 3), 200, np.uint8)
    tensor = geometry.tensor(frame)
    assert tensor.shape == (1, *padded, 3) and tensor.dtype == np.int32
    assert (tensor[0, :resized[0], :resized[1]] == 200).all()  # a flat frame stays flat
    assert not tensor[0, resized[0]:].any() and not tensor[0, :, resized[1]:].any()  # zeros bottom/right
    # Normalised model coordinates (of the padded input) back to the frame: the resized part spans the frame.
    scale_y, scale_x = geometry.normalised_scale
    assert resized[1] / padded[1] * scale_x == pytest.approx(src_hw[1])
    assert resized[0] / padded[0] * scale_y == pytest.approx(src_hw[0])


def test_multipose_truncates_and_swaps_channels():
    frame = np.zeros((4, 8, 3), np.uint8)
    frame[..., 0] = np.arange(8) * 7  # blue ramp along x
    tensor = MultiPoseInput.fit((4, 8), 6).tensor(frame)  # 8 -> 6: x samples 0, 4/3, 8/3, 4, ...
    resized = kernel_resize(frame, (3, 6))[0, :, 0]  # 0, 9.33, 18.67, 28, 37.33, 46.67
    assert not np.array_equal(resized, np.trunc(resized))  # some are fractions: truncation is tested
    np.testing.assert_array_equal(tensor[0, 0, :6, 2], np.trunc(resized).astype(np.int32))  # blue last (RGB)
    assert not tensor[..., :2].any()


def test_posenet_grows_the_frame_to_a_square_and_maps_back():
    geometry = PoseNetInput.fit((480, 640), (385, 385))
    top, left, bottom, right = geometry.padding
    assert (top, left, bottom, right) == (0.125, 0.0, 0.125, 0.0)
    a0, _, a2, _, b1, b2, _, _ = geometry.matrix
    assert a0 == pytest.approx(640 / 385) and a2 == 0 and b1 == pytest.approx(640 / 385) and b2 == pytest.approx(-80)
    # The input's corners and centre go back to the grown ROI's: x * 640 / 385, y * 640 / 385 - 80.
    points = np.array([[0.0, 0.0], [385.0, 385.0], [192.5, 192.5]])
    np.testing.assert_allclose(geometry.to_source(points), [[0, -80], [640, 560], [320, 240]], atol=1e-9)


def test_posenet_tensor_replicates_the_border():
    frame = np.zeros((30, 60, 3), np.uint8)
    frame[0] = (10, 20, 30)  # top row BGR
    frame[-1] = (40, 50, 60)  # bottom row
    tensor = PoseNetInput.fit(frame.shape[:2], (33, 33)).tensor(frame)
    # The grown ROI reaches 15 px above and below the frame: those input rows repeat the edge rows, in RGB.
    np.testing.assert_allclose(tensor[0, 0, 0], np.float32([30, 20, 10]) * np.float32(2 / 255) - 1)
    np.testing.assert_allclose(tensor[0, -1, 0], np.float32([60, 50, 40]) * np.float32(2 / 255) - 1)
    assert tensor.dtype == np.float32 and tensor.flags.c_contiguous
