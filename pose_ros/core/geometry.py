"""Pure geometry: the letterbox transform between a source image and a model's square input."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PAD_VALUE = 114  # grey used by YOLO training for the padding


@dataclass(frozen=True)
class Letterbox:
    """Uniform resize then centred padding: ``model_x = source_x * scale_x + pad_x`` (same for y).

    ``resized_w`` x ``resized_h`` is the size of the resized image inside the ``dst_w`` x ``dst_h`` input.
    ``scale_x``/``scale_y`` are the exact factors of that resize (resized size over source size), which
    differ slightly from the nominal uniform scale because sizes are rounded to whole pixels.
    """

    scale_x: float
    scale_y: float
    pad_x: int
    pad_y: int
    resized_w: int
    resized_h: int
    dst_w: int
    dst_h: int

    @classmethod
    def fit(cls, src_hw: tuple[int, int], dst_hw: tuple[int, int]) -> "Letterbox":
        """Largest uniform scale that fits, padding split evenly (ultralytics' LetterBox rounding,
        so that coordinates match the reference implementation of the YOLO weights exactly)."""
        (src_h, src_w), (dst_h, dst_w) = src_hw, dst_hw
        if min(src_h, src_w, dst_h, dst_w) <= 0:
            raise ValueError(f"letterbox of empty size: {src_hw} -> {dst_hw}")
        scale = min(dst_h / src_h, dst_w / src_w)
        resized_w, resized_h = max(int(round(src_w * scale)), 1), max(int(round(src_h * scale)), 1)
        # round(d - 0.1) puts the odd pixel at the bottom/right, as ultralytics does.
        pad_x = int(round((dst_w - resized_w) / 2 - 0.1))
        pad_y = int(round((dst_h - resized_h) / 2 - 0.1))
        return cls(resized_w / src_w, resized_h / src_h, pad_x, pad_y, resized_w, resized_h, dst_w, dst_h)

    def to_source(self, xy: np.ndarray) -> np.ndarray:
        """Map points (..., 2) from model-input pixels back to source pixels (float32, new array)."""
        out = np.empty(xy.shape, dtype=np.float32)
        out[..., 0] = (xy[..., 0] - self.pad_x) / self.scale_x
        out[..., 1] = (xy[..., 1] - self.pad_y) / self.scale_y
        return out

    def apply(self, image: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Letterbox ``image`` (H, W, C uint8) into ``out`` (dst_h, dst_w, C), reused when given.

        The resize writes straight into the inner region of ``out``; only the borders are filled,
        so no intermediate image is allocated.
        """
        shape = (self.dst_h, self.dst_w, image.shape[2])
        if out is None or out.shape != shape or out.dtype != image.dtype:
            out = np.empty(shape, dtype=image.dtype)
        top, left = self.pad_y, self.pad_x
        bottom, right = top + self.resized_h, left + self.resized_w
        out[:top] = PAD_VALUE
        out[bottom:] = PAD_VALUE
        out[top:bottom, :left] = PAD_VALUE
        out[top:bottom, right:] = PAD_VALUE
        inner = out[top:bottom, left:right]
        if image.shape[:2] == inner.shape[:2]:
            inner[...] = image
        else:
            cv2.resize(image, (self.resized_w, self.resized_h), dst=inner, interpolation=cv2.INTER_LINEAR)
        return out


def clip_boxes(boxes: np.ndarray, height: int, width: int) -> None:
    """Clip xyxy boxes (N, 4) to the image, in place."""
    np.clip(boxes[:, 0::2], 0, width, out=boxes[:, 0::2])
    np.clip(boxes[:, 1::2], 0, height, out=boxes[:, 1::2])


def clip_points(xy: np.ndarray, height: int, width: int) -> None:
    """Clip points (..., 2) to the image, in place."""
    np.clip(xy[..., 0], 0, width, out=xy[..., 0])
    np.clip(xy[..., 1], 0, height, out=xy[..., 1])
