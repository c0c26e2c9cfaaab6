import cv2
import numpy as np
import pytest

from pose_ros.core.imaging import (ImageDecodeError, bgr_from_compressed, bgr_from_compressed_scaled, bgr_from_raw,
                                   jpeg_size, jpeg_truncated, reduction_for)

RNG = np.random.default_rng(1)
BGR = RNG.integers(0, 255, (6, 8, 3), dtype=np.uint8)

# encoding -> (channels, BGR -> that encoding's pixels, tolerance of the round trip)
ENCODINGS = {
    "bgr8": (3, lambda im: im, 0),
    "rgb8": (3, lambda im: im[..., ::-1], 0),
    "bgra8": (4, lambda im: cv2.cvtColor(im, cv2.COLOR_BGR2BGRA), 0),
    "rgba8": (4, lambda im: cv2.cvtColor(im, cv2.COLOR_BGR2RGBA), 0),
}


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
@pytest.mark.parametrize("row_padding", [0, 5])
def test_colour_encodings_round_trip(encoding, row_padding):
    channels, encode, _ = ENCODINGS[encoding]
    pixels = np.ascontiguousarray(encode(BGR))
    step = BGR.shape[1] * channels + row_padding
    rows = np.zeros((BGR.shape[0], step), np.uint8)
    rows[:, :BGR.shape[1] * channels] = pixels.reshape(BGR.shape[0], -1)
    out = bgr_from_raw(rows.tobytes(), BGR.shape[0], BGR.shape[1], step, encoding)
    np.testing.assert_array_equal(out, BGR)


def test_bgr8_is_a_view_of_the_buffer_even_with_row_padding():
    step = 8 * 3 + 4
    buffer = bytearray(RNG.integers(0, 255, 6 * step, dtype=np.uint8).tobytes())
    out = bgr_from_raw(buffer, 6, 8, step, "bgr8")
    assert np.shares_memory(out, np.frombuffer(buffer, np.uint8))
    assert out[1, 0, 0] == buffer[step]


def test_mono8_is_replicated_to_three_channels():
    grey = RNG.integers(0, 255, (4, 6), dtype=np.uint8)
    out = bgr_from_raw(grey.tobytes(), 4, 6, 6, "mono8")
    assert out.shape == (4, 6, 3) and (out == grey[..., None]).all()


@pytest.mark.parametrize("encoding, code", [("yuv422", cv2.COLOR_YUV2BGR_UYVY), ("yuv422_yuy2", cv2.COLOR_YUV2BGR_YUY2)])
def test_yuv422_matches_opencv(encoding, code):
    yuv = RNG.integers(16, 235, (4, 8, 2), dtype=np.uint8)
    out = bgr_from_raw(yuv.tobytes(), 4, 8, 16, encoding)
    np.testing.assert_array_equal(out, cv2.cvtColor(yuv, code))


@pytest.mark.parametrize("data_len, height, width, step, encoding, reason", [
    (6 * 8 * 2, 6, 8, 16, "mono16", "16-bit"),
    (6 * 8 * 2, 6, 8, 16, "32FC1", "unsupported encoding"),
    (6 * 24 - 1, 6, 8, 24, "bgr8", r"expected step\*height"),
    (6 * 24 + 1, 6, 8, 24, "bgr8", r"expected step\*height"),
    (6 * 20, 6, 8, 20, "bgr8", "step 20 is smaller"),
    (0, 0, 0, 0, "bgr8", "empty image"),
    (2 * 7 * 2, 2, 7, 14, "yuv422", "even width"),
])
def test_bad_buffers_raise_a_clear_error(data_len, height, width, step, encoding, reason):
    with pytest.raises(ImageDecodeError, match=reason):
        bgr_from_raw(bytes(data_len), height, width, step, encoding)


def test_compressed_jpeg_and_png_decode_and_garbage_is_rejected():
    for ext in (".jpg", ".png"):
        ok, data = cv2.imencode(ext, BGR)
        assert bgr_from_compressed(data.tobytes(), ext).shape == BGR.shape
    with pytest.raises(ImageDecodeError, match="empty"):
        bgr_from_compressed(b"", "jpeg")
    with pytest.raises(ImageDecodeError, match="cannot decode"):
        bgr_from_compressed(b"\xff\xd8 not really a jpeg", "jpeg")


@pytest.mark.parametrize("height, width, progressive", [(480, 640, 0), (1080, 1920, 0), (1081, 1919, 1), (7, 9, 0)])
def test_jpeg_size_reads_the_frame_header(height, width, progressive):
    image = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_PROGRESSIVE, progressive])
    assert jpeg_size(data.tobytes()) == (height, width)
    ok, png = cv2.imencode(".png", image)
    assert jpeg_size(png.tobytes()) is None and jpeg_size(b"\xff\xd8\xff") is None


@pytest.mark.parametrize("height, width, min_long_side, factor", [
    (1080, 1920, 640, 2),    # 960 >= 640; 480 is not
    (2160, 3840, 640, 4),    # 960
    (1080, 1920, 224, 8),    # 240
    (480, 640, 640, 1),      # already the model's size
    (1080, 1920, 0, 1),      # 0 = full size (top-down crops)
    (1079, 1281, 321, 4),    # libjpeg rounds up: ceil(1281 / 4) = 321
])
def test_reduction_keeps_the_long_side_at_least_the_models(height, width, min_long_side, factor):
    assert reduction_for(height, width, min_long_side) == factor


def test_reduced_decode_returns_the_factors_back_to_full_size():
    image = cv2.resize(np.random.default_rng(1).integers(0, 255, (270, 481, 3), dtype=np.uint8), (1921, 1081))
    ok, data = cv2.imencode(".jpg", image)
    reduced, scale = bgr_from_compressed_scaled(data.tobytes(), "jpeg", 640)
    assert reduced.shape[:2] == (541, 961)  # ceil(1081 / 2), ceil(1921 / 2)
    assert scale == pytest.approx((1921 / 961, 1081 / 541))
    full, scale = bgr_from_compressed_scaled(data.tobytes(), "jpeg", 0)
    assert full.shape[:2] == (1081, 1921) and scale == (1.0, 1.0)
    ok, png = cv2.imencode(".png", image)  # not a JPEG: decoded at full size
    assert bgr_from_compressed_scaled(png.tobytes(), "png", 640)[0].shape[:2] == (1081, 1921)


@pytest.mark.parametrize("encoding, hint", [
    ("bgr16", "16-bit colour"), ("rgba16", "16-bit colour"), ("mono16", "depth or IR"), ("32FC1", "depth or IR"),
])
def test_unsupported_encodings_say_what_they_are(encoding, hint):
    with pytest.raises(ImageDecodeError, match=hint):
        bgr_from_raw(bytes(12), 2, 2, 6, encoding)


@pytest.mark.parametrize("data, truncated", [
    (b"\xff\xd8\xff\xe0" + b"x" * 100 + b"\xff\xd9", False),
    (b"\xff\xd8\xff\xe0" + b"x" * 100 + b"\xff\xd9\x00\x00", False),  # zero padding after the end marker
    (b"\xff\xd8\xff\xe0" + b"x" * 100, True),
    (b"\x89PNG\r\n\x1a\n" + b"x" * 100, False),  # not a JPEG
])
def test_truncated_jpegs_are_recognised(data, truncated):
    assert jpeg_truncated(data) is truncated
