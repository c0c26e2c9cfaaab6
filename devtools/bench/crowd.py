"""Composite crowd images for the scaling benchmark: 1, 2, 4, 8 people on a grey canvas of fixed size.

Every person is a crop of one of the shipped sample photos (sha256-pinned, so the boxes below are fixed),
scaled to fit one cell of a fixed grid: the canvas size and every person's size stay the same whatever the
crowd, so only the number of people changes. The n-person image holds people 0..n-1 in cells 0..n-1 (the
4-person image is the 2-person one plus two people). Pure numpy/OpenCV; no model runs here.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

CANVAS_HW = (720, 1280)
GRID = (2, 4)  # rows, columns: cells of 360 x 320 px
MARGIN = 10  # px kept free on each side of a person in its cell
GREY = 114
CROWD_SIZES = (1, 2, 4, 8)


@dataclass(frozen=True)
class PersonSource:
    photo: str  # sample photo name (pose_ros.tools.sample_data.PHOTOS)
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the photo (YOLO11n-pose's box of that person)
    flip: bool = False  # mirrored, so a person used twice does not look duplicated


# One person per crop (checked: the bottom-up model finds exactly one person in each crop on the canvas).
# zidane.jpg's left person is left out: its box also holds part of the right one.
PEOPLE = (
    PersonSource("astronaut.png", (11, 18, 360, 511)),
    PersonSource("bus.jpg", (221, 404, 343, 858)),
    PersonSource("zidane.jpg", (744, 37, 1142, 709)),
    PersonSource("camera.png", (0, 63, 302, 511)),
    PersonSource("bus.jpg", (48, 396, 245, 905)),
    PersonSource("grace_hopper.jpg", (13, 40, 501, 599)),
    PersonSource("bus.jpg", (669, 391, 810, 876)),
    PersonSource("bus.jpg", (221, 404, 343, 858), flip=True),
)


def load_person_crops(photos: dict[str, Path], sources=PEOPLE) -> list[np.ndarray]:
    """BGR crops of ``sources`` from the photo files (name -> path, as ``ensure_photos()`` returns)."""
    crops = []
    for source in sources:
        image = cv2.imread(str(photos[source.photo]), cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(f"cannot read {photos[source.photo]}")
        x0, y0, x1, y1 = source.box
        crop = image[y0:y1, x0:x1]
        crops.append(np.ascontiguousarray(crop[:, ::-1] if source.flip else crop))
    return crops


def cell_rects(canvas_hw=CANVAS_HW, grid=GRID) -> list[tuple[int, int, int, int]]:
    """Cells (x0, y0, x1, y1) of the grid, row by row."""
    (height, width), (rows, cols) = canvas_hw, grid
    ys = np.linspace(0, height, rows + 1).round().astype(int)
    xs = np.linspace(0, width, cols + 1).round().astype(int)
    return [(int(xs[c]), int(ys[r]), int(xs[c + 1]), int(ys[r + 1])) for r in range(rows) for c in range(cols)]


def compose_crowd(crops: list[np.ndarray], count: int, canvas_hw=CANVAS_HW, grid=GRID, margin: int = MARGIN,
                  fill: int = GREY) -> tuple[np.ndarray, np.ndarray]:
    """Place people ``0..count-1`` (crops cycled if fewer) in the first ``count`` cells of a grey canvas.

    Each crop is scaled (aspect kept) to fit its cell less ``margin`` on every side, centred horizontally
    and standing on the cell's bottom margin. Returns the BGR canvas (H, W, 3) uint8 and the people's boxes
    (count, 4) float32 xyxy in canvas pixels.
    """
    cells = cell_rects(canvas_hw, grid)
    if not 0 <= count <= len(cells):
        raise ValueError(f"count {count} does not fit a {grid[0]}x{grid[1]} grid (at most {len(cells)})")
    if count and not crops:
        raise ValueError("no person crops given")
    canvas = np.full((*canvas_hw, 3), fill, np.uint8)
    boxes = np.zeros((count, 4), np.float32)
    for i in range(count):
        crop = crops[i % len(crops)]
        x0, y0, x1, y1 = cells[i]
        avail_w, avail_h = x1 - x0 - 2 * margin, y1 - y0 - 2 * margin
        scale = min(avail_w / crop.shape[1], avail_h / crop.shape[0])
        w, h = max(int(round(crop.shape[1] * scale)), 1), max(int(round(crop.shape[0] * scale)), 1)
        resized = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        left = x0 + margin + (avail_w - w) // 2
        top = y1 - margin - h
        canvas[top:top + h, left:left + w] = resized
        boxes[i] = (left, top, left + w, top + h)
    return canvas, boxes


def crowd_images(crops: list[np.ndarray], sizes=CROWD_SIZES, **kwargs) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """size -> (image, boxes) for every crowd size."""
    return {n: compose_crowd(crops, n, **kwargs) for n in sizes}
