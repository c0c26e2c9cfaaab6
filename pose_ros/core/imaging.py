"""Raw camera buffers to BGR arrays, for any transport (sensor_msgs/Image fields, files, bags).

Takes plain fields (bytes, sizes, encoding string), so it carries no ROS dependency. The common
bgr8 case is a zero-copy view of the buffer, ``step`` padding included.
"""
from __future__ import annotations

import cv2
import numpy as np


class ImageDecodeError(ValueError):
    """The buffer cannot be read as an image; the message says why, ``kind`` names the problem
    (``encoding``, ``size``, ``step``, ``data_length``, ``compressed``) for counting, and ``detail`` (the encoding)
    tells problems of one kind apart for throttling."""

    def __init__(self, message: str, kind: str, detail: str = ""):
        super().__init__(message)
        self.kind = kind
        self.detail = detail


# encoding -> (channels, OpenCV conversion to BGR or None when already BGR)
_ENCODINGS: dict[str, tuple[int, int | None]] = {
    "bgr8": (3, None),
    "rgb8": (3, cv2.COLOR_RGB2BGR),
    "mono8": (1, cv2.COLOR_GRAY2BGR),
    "8uc1": (1, cv2.COLOR_GRAY2BGR),
    "8uc3": (3, None),
    "bgra8": (4, cv2.COLOR_BGRA2BGR),
    "rgba8": (4, cv2.COLOR_RGBA2BGR),
    # YUV 4:2:2, two bytes per pixel. ROS "yuv422" is UYVY; "yuv422_yuy2"/"yuyv" are YUYV.
    "yuv422": (2, cv2.COLOR_YUV2BGR_UYVY),
    "uyvy": (2, cv2.COLOR_YUV2BGR_UYVY),
    "yuv422_yuy2": (2, cv2.COLOR_YUV2BGR_YUY2),
    "yuyv": (2, cv2.COLOR_YUV2BGR_YUY2),
}
SUPPORTED_ENCODINGS = tuple(sorted(_ENCODINGS))
_DEPTH_HINT = " (a 16-bit or float single-channel image is depth or IR, not colour: give it as depth_topics)"
_UNSUPPORTED_HINTS = {
    **dict.fromkeys(("mono16", "16uc1", "32fc1", "16sc1"), _DEPTH_HINT),
    **dict.fromkeys(("bgr16", "rgb16", "bgra16", "rgba16"),
                    " (16-bit colour: have the camera driver publish 8-bit colour, e.g. bgr8)"),
}


def bgr_from_raw(data, height: int, width: int, step: int, encoding: str) -> np.ndarray:
    """Return the image as (height, width, 3) uint8 BGR.

    ``data`` is any buffer (bytes, array.array, memoryview). For bgr8 the result is a view of it
    (no copy); other encodings are converted by OpenCV. Raises :class:`ImageDecodeError`.
    """
    key = encoding.lower()
    if key not in _ENCODINGS:
        hint = _UNSUPPORTED_HINTS.get(key, "")
        raise ImageDecodeError(f"unsupported encoding {encoding!r}{hint}; supported: "
                               f"{', '.join(SUPPORTED_ENCODINGS)}", "encoding", encoding)
    channels, conversion = _ENCODINGS[key]
    if height <= 0 or width <= 0:
        raise ImageDecodeError(f"empty image {width}x{height}", "size")
    if key in ("yuv422", "uyvy", "yuv422_yuy2", "yuyv") and width % 2:
        raise ImageDecodeError(f"{encoding} needs an even width, got {width}", "size")
    row_bytes = width * channels
    if step < row_bytes:
        raise ImageDecodeError(f"step {step} is smaller than width*channels = {width}*{channels}", "step")
    buffer = np.frombuffer(data, dtype=np.uint8)
    if buffer.size != step * height:
        raise ImageDecodeError(f"data has {buffer.size} bytes, expected step*height = {step}*{height} "
                               f"= {step * height}", "data_length")
    # Strided view: rows are `step` apart, so padding at the end of each row is skipped, not copied.
    image = np.lib.stride_tricks.as_strided(buffer, shape=(height, width, channels),
                                            strides=(step, channels, 1), writeable=False)
    if conversion is None:
        return image
    if channels == 2:
        image = image.reshape(height, width * 2) if step == row_bytes else np.ascontiguousarray(image)
        image = image.reshape(height, width, 2)
    return cv2.cvtColor(image, conversion)


def bgr_from_compressed(data, format_: str = "") -> np.ndarray:
    """Decode a compressed frame (JPEG, PNG, ...; the format string is informational) to BGR."""
    buffer = np.frombuffer(data, dtype=np.uint8)
    if buffer.size == 0:
        raise ImageDecodeError("empty compressed image", "compressed")
    image = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
    if image is None:
        raise ImageDecodeError(f"cannot decode compressed image ({buffer.size} bytes, format {format_!r})",
                               "compressed")
    return image


_REDUCED_FLAGS = {2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8}
# JPEG start-of-frame markers (they hold the image size); C4 (DHT), C8 (JPG) and CC (DAC) are not frames.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def jpeg_size(data) -> tuple[int, int] | None:
    """(height, width) from a JPEG's start-of-frame header, without decoding; None if not a JPEG or no frame
    header is found. Hand-written (a few bytes of header) because OpenCV offers no header-only read."""
    buffer = memoryview(data)
    if bytes(buffer[:2]) != b"\xff\xd8":
        return None
    i = 2
    while i + 9 <= len(buffer):
        if buffer[i] != 0xFF:
            return None
        marker = buffer[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        length = int.from_bytes(buffer[i + 2:i + 4], "big")
        if marker in _SOF_MARKERS:
            return int.from_bytes(buffer[i + 5:i + 7], "big"), int.from_bytes(buffer[i + 7:i + 9], "big")
        i += 2 + length
    return None


def reduction_for(height: int, width: int, min_long_side: int) -> int:
    """The largest JPEG DCT reduction (1, 2, 4 or 8) that keeps the long side >= ``min_long_side``
    (0 = full size). libjpeg's scaled sizes are ceil(side / factor)."""
    long_side = max(height, width)
    for factor in (8, 4, 2):
        if min_long_side > 0 and -(-long_side // factor) >= min_long_side:
            return factor
    return 1


def bgr_from_compressed_scaled(data, format_: str = "", min_long_side: int = 0) -> tuple[np.ndarray, tuple[float, float]]:
    """Decode a compressed frame to BGR at the smallest size whose long side is still >= ``min_long_side``
    (JPEG only: libjpeg's DCT scaling decodes 1/2, 1/4, 1/8 size directly, much faster than full size and
    a resize). Returns the image and the (x, y) factors back to the full-size pixels ((1, 1) at full size)."""
    size = jpeg_size(data) if min_long_side > 0 else None
    factor = reduction_for(*size, min_long_side) if size else 1
    if factor == 1:
        return bgr_from_compressed(data, format_), (1.0, 1.0)
    buffer = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(buffer, _REDUCED_FLAGS[factor])
    if image is None:
        raise ImageDecodeError(f"cannot decode compressed image ({buffer.size} bytes, format {format_!r})",
                               "compressed")
    (height, width), (h, w) = size, image.shape[:2]
    return image, (width / w, height / h)


def at_size(image: np.ndarray, height_width: tuple[int, int]) -> np.ndarray:
    """``image`` at (height, width): a frame decoded at reduced size, back at the camera's size (where the poses
    are) for drawing on; the image itself when it already is."""
    height, width = height_width
    if image.shape[:2] == (height, width):
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)


def jpeg_truncated(data) -> bool:
    """True for JPEG data that does not end with its end-of-image marker (a file cut short: libjpeg still decodes
    the part it has, with a warning on stderr only). Trailing zero padding is allowed."""
    buffer = bytes(data[:2]), bytes(data[-64:]).rstrip(b"\0")
    return buffer[0] == b"\xff\xd8" and not buffer[1].endswith(b"\xff\xd9")
