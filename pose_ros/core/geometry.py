"""Pure geometry shared by the model families: the letterbox transform between a source image and a model's
input, clipping, rotations and affine maps (numpy only)."""
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


def normalize_angle(angle: np.ndarray) -> np.ndarray:
    """Angles (radians) wrapped into [-pi, pi)."""
    return (angle + np.pi) % (2 * np.pi) - np.pi


def upright_rotation(up: np.ndarray) -> np.ndarray:
    """Rotation (radians, image coordinates: y down) that turns the direction ``up`` (..., 2) to point up the
    image, as MediaPipe's alignment-points rotation (target angle 90 degrees); in [-pi, pi)."""
    return normalize_angle(np.pi / 2 - np.arctan2(-up[..., 1], up[..., 0]))


def rotate(xy: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Vectors ``xy`` (..., 2) rotated by ``angle`` (radians, broadcast against ``xy[..., 0]``)."""
    cos, sin = np.cos(angle), np.sin(angle)
    return np.stack([xy[..., 0] * cos - xy[..., 1] * sin, xy[..., 0] * sin + xy[..., 1] * cos], axis=-1)


def invert_affine(matrices: np.ndarray) -> np.ndarray:
    """Inverse of each affine matrix: (N, 2, 3) -> (N, 2, 3) float32 (computed in float64)."""
    m = np.asarray(matrices, dtype=np.float64)
    a, b, c, d = m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1]
    det = a * d - b * c
    inv_linear = np.stack([np.stack([d, -b], -1), np.stack([-c, a], -1)], 1) / det[:, None, None]
    out = np.empty_like(m)
    out[:, :, :2] = inv_linear
    out[:, :, 2] = -np.einsum("nij,nj->ni", inv_linear, m[:, :, 2])
    return out.astype(np.float32)


INTER_TAB_SIZE = 32  # OpenCV's INTER_BITS = 5: sub-pixel positions in 1/32 px for the fixed-point remap


def warp_affine_fixed_point(image: np.ndarray, matrix: np.ndarray, size: tuple[int, int], border_mode: int,
                            border_value: float = 0) -> np.ndarray:
    """``cv2.warpAffine(image, matrix, size, INTER_LINEAR, border_mode)`` as OpenCV computed it up to 4.10, and as
    the OpenCV 3.4 inside MediaPipe's wheel still does: each output pixel samples the source at its position
    rounded to 1/32 px, with fixed-point bilinear weights. OpenCV 4.11+ (5.0 here) interpolates at the exact
    position instead: a difference of up to 3 grey levels (mean 0.07) that moves BlazePose's detector points by
    up to 1.4 px and its ~1000 px region with them. matrix (2, 3) maps source to output pixels; size = (w, h).
    """
    width, height = size
    inverse = cv2.invertAffineTransform(np.asarray(matrix, np.float64)) * INTER_TAB_SIZE
    columns, rows = np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64)
    # Source position of every output pixel rounded to 1/32 px (cvRound), as OpenCV 3.4's warpAffine; k / 32 is
    # exact in float32, so convertMaps (which rounds x * 32) keeps exactly these positions.
    map_x, map_y = ((np.rint(np.add.outer(row[1] * rows + row[2], row[0] * columns)) / INTER_TAB_SIZE)
                    .astype(np.float32) for row in inverse)
    whole, fraction = cv2.convertMaps(map_x, map_y, cv2.CV_16SC2)
    return cv2.remap(image, whole, fraction, cv2.INTER_LINEAR, borderMode=border_mode,
                     borderValue=(border_value,) * 4)


def transform_points(points: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """Apply person n's affine matrix to its points: points (N, K, 2), matrices (N, 2, 3) -> (N, K, 2) float32."""
    p = np.asarray(points, dtype=np.float64)
    m = np.asarray(matrices, dtype=np.float64)
    return (np.einsum("nij,nkj->nki", m[:, :, :2], p) + m[:, None, :, 2]).astype(np.float32)


def boxes_of_points(xy: np.ndarray) -> np.ndarray:
    """Axis-aligned extent (N, 4) xyxy float32 of each person's points (N, K, 2)."""
    return np.concatenate([xy.min(axis=1), xy.max(axis=1)], axis=1).astype(np.float32)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of boxes ``a`` (M, 4) and ``b`` (N, 4), xyxy -> (M, N) float64 (0 where both are empty)."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(w, 0, None) * np.clip(h, 0, None)
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def box_area(boxes: np.ndarray) -> np.ndarray:
    """Areas (N,) of xyxy boxes (N, 4); inverted boxes count 0."""
    return np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
