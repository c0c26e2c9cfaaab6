"""Transformed versions of the sample photos, made in the tests (nothing stored): what a robot's camera does to
a scene that the sample photos do not show — mirrored, rolled a few degrees, darkened, framed wide, and several
people in one frame. Pure OpenCV; every transform keeps the whole photo in view."""
from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

GREY = 114


def flip(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[:, ::-1])


def rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    """Rotated about the centre on a canvas grown to hold all of it (grey corners), as a rolled camera sees."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    out_w, out_h = int(np.ceil(width * cos + height * sin)), int(np.ceil(width * sin + height * cos))
    matrix[:, 2] += ((out_w - width) / 2, (out_h - height) / 2)
    return cv2.warpAffine(image, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=(GREY, GREY, GREY))


def pad_wide(image: np.ndarray, aspect: float = 2.4) -> np.ndarray:
    """Centred on a grey canvas ``aspect`` times as wide as high (a wide-angle frame with one person in it)."""
    height, width = image.shape[:2]
    out_w = max(width, int(round(height * aspect)))
    left = (out_w - width) // 2
    return cv2.copyMakeBorder(image, 0, 0, left, out_w - width - left, cv2.BORDER_CONSTANT, value=(GREY,) * 3)


def darken(image: np.ndarray, gamma: float = 2.2) -> np.ndarray:
    """Gamma-darkened (an underexposed camera): out = 255 (in / 255) ** gamma."""
    table = (255.0 * (np.arange(256) / 255.0) ** gamma).round().astype(np.uint8)
    return cv2.LUT(image, table)


def grid_2x2(images: list[np.ndarray], cell_hw: tuple[int, int] = (480, 640)) -> np.ndarray:
    """Four photos letterboxed into the cells of a 2x2 grid: several people at a quarter of their size."""
    height, width = cell_hw
    canvas = np.full((2 * height, 2 * width, 3), GREY, np.uint8)
    for i, image in enumerate(images[:4]):
        scale = min(height / image.shape[0], width / image.shape[1])
        resized = cv2.resize(image, (int(image.shape[1] * scale), int(image.shape[0] * scale)),
                             interpolation=cv2.INTER_AREA)
        y0 = (i // 2) * height + (height - resized.shape[0]) // 2
        x0 = (i % 2) * width + (width - resized.shape[1]) // 2
        canvas[y0:y0 + resized.shape[0], x0:x0 + resized.shape[1]] = resized
    return canvas


# name -> transform of one photo
TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "original": lambda image: image,
    "flip": flip,
    "rotate+10": lambda image: rotate(image, 10),
    "rotate-10": lambda image: rotate(image, -10),
    "pad_wide": pad_wide,
    "darken": darken,
}
