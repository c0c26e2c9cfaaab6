"""Raw camera buffers to BGR arrays, for any transport (sensor_msgs/Image fields, files, bags).

Takes plain fields (bytes, sizes, encoding string), so it carries no ROS dependency. The common
bgr8 case is a zero-copy view of the buffer, ``step`` padding included.
"""
from __future__ import annotations

import cv2
import numpy as np


class ImageDecodeError(ValueError):
    """The buffer cannot be read as an image; the message says why, ``kind`` names the problem
    (``encoding``, ``size``, ``step``, ``data_length``, ``compressed``) for counting and throttling."""

    def __init__(self, message: str, kind: str):
        super().__init__(message)
        self.kind = kind


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
                               f"{', '.join(SUPPORTED_ENCODINGS)}", "encoding")
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


def jpeg_truncated(data) -> bool:
    """True for JPEG data that does not end with its end-of-image marker (a file cut short: libjpeg still decodes
    the part it has, with a warning on stderr only). Trailing zero padding is allowed."""
    buffer = bytes(data[:2]), bytes(data[-64:]).rstrip(b"\0")
    return buffer[0] == b"\xff\xd8" and not buffer[1].endswith(b"\xff\xd9")
