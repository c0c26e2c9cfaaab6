import cv2
import numpy as np
import pytest

from pose_ros.core.geometry import PAD_VALUE, Letterbox, clip_boxes, warp_affine_fixed_point

# (source h, w) -> expected resized (w, h) and padding (x, y) in a 640x640 input
CASES = [
    ((1080, 810), (480, 640), (80, 0)),     # bus.jpg: portrait
    ((720, 1280), (640, 360), (0, 140)),    # zidane.jpg: landscape
    ((512, 512), (640, 640), (0, 0)),       # square, scaled up
    ((600, 512), (546, 640), (47, 0)),      # grace_hopper.jpg: odd padding goes right
    ((1, 1000), (640, 1), (0, 319)),        # degenerate strip keeps one row
]


@pytest.mark.parametrize("src_hw, resized_wh, pad_xy", CASES)
def test_fit_matches_reference_rounding(src_hw, resized_wh, pad_xy):
    lb = Letterbox.fit(src_hw, (640, 640))
    assert (lb.resized_w, lb.resized_h) == resized_wh
    assert (lb.pad_x, lb.pad_y) == pad_xy


@pytest.mark.parametrize("src_hw, _r, _p", CASES)
def test_to_source_inverts_the_forward_map(src_hw, _r, _p):
    lb = Letterbox.fit(src_hw, (640, 640))
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 1, (50, 2)) * np.array([src_hw[1], src_hw[0]])
    model = src * np.array([lb.scale_x, lb.scale_y]) + np.array([lb.pad_x, lb.pad_y])
    np.testing.assert_allclose(lb.to_source(model), src, atol=1e-3)


def test_apply_pads_with_grey_and_reuses_the_buffer():
    image = np.full((100, 200, 3), 7, np.uint8)
    lb = Letterbox.fit(image.shape[:2], (64, 64))
    out = lb.apply(image)
    assert out.shape == (64, 64, 3)
    assert (out[:lb.pad_y] == PAD_VALUE).all() and (out[lb.pad_y + lb.resized_h:] == PAD_VALUE).all()
    assert (out[lb.pad_y:lb.pad_y + lb.resized_h] == 7).all()
    assert lb.apply(image, out) is out


def test_apply_rejects_empty_images():
    with pytest.raises(ValueError):
        Letterbox.fit((0, 10), (640, 640))


def test_clip_boxes_in_place():
    boxes = np.array([[-5, -5, 50, 50], [10, 10, 500, 500]], np.float32)
    clip_boxes(boxes, height=100, width=200)
    np.testing.assert_array_equal(boxes, [[0, 0, 50, 50], [10, 10, 200, 100]])


# A black -> white edge sampled t px to its right: OpenCV 3.4 (MediaPipe's) rounds t to 1/32 px and weighs the two
# pixels in fixed point, 255 * round(32 t) / 32; OpenCV >= 4.11 interpolates at t itself, 255 t.
@pytest.mark.parametrize("shift, expected", [
    (0.0, 0),
    (0.01, 0),      # 0.32/32 -> 0: exact interpolation gives 3
    (0.02, 8),      # 0.64/32 -> 1/32: 7.97 (exact: 5)
    (0.25, 64),     # 8/32 exactly: 63.75
    (0.74, 191),    # 23.68/32 -> 24/32: 191.25 (exact: 189)
    (-0.3, 0),      # before the edge, in the black: 0 either way
])
def test_fixed_point_warp_samples_at_a_32nd_of_a_pixel(shift, expected):
    image = np.zeros((4, 8), np.uint8)
    image[:, 4:] = 255
    matrix = np.float32([[1, 0, -shift], [0, 1, 0]])  # output x samples source x + shift
    out = warp_affine_fixed_point(image, matrix, (8, 4), cv2.BORDER_REPLICATE)
    assert out[1, 3] == expected
    assert out[1, 5] == 255 and out[1, 1] == 0


def test_fixed_point_warp_follows_warpaffine_geometry_and_borders():
    """Same geometry and border handling as cv2.warpAffine (within the sub-pixel rounding), for a rotated
    scaled map partly outside the image, for both borders the BlazePose models use."""
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.integers(0, 256, (120, 160, 3), np.uint8), (0, 0), 3)
    matrix = cv2.getRotationMatrix2D((80, 60), 25, 1.7)
    for border in (cv2.BORDER_REPLICATE, cv2.BORDER_CONSTANT):
        ours = warp_affine_fixed_point(image, matrix, (96, 80), border).astype(int)
        reference = cv2.warpAffine(image, matrix, (96, 80), flags=cv2.INTER_LINEAR, borderMode=border).astype(int)
        assert ours.shape == reference.shape
        assert np.abs(ours - reference).max() <= 3
        if border == cv2.BORDER_CONSTANT:
            assert (ours[reference == 0] <= 3).all()
