"""The pre-processing of TF.js pose-detection 2.1.3's keypoints-first detectors (PoseNet, MoveNet MultiPose),
reproduced exactly in numpy, and its way back from model-input pixels to camera pixels.

Why hand-written: OpenCV resamples differently. `cv2.resize` samples with half-pixel centres and float32 weights,
`cv2.warpAffine`/`remap` with rounded positions or fixed-point weights, and on uint8 all round to uint8;
pose-detection samples at integer output coordinates times the scale (no half-pixel centres), interpolates in
float64 and keeps float32 (TF.js' 'cpu' kernels Transform and ResizeBilinear; no Python library ships those).
Letterboxing with OpenCV onto grey moved joints by a median 2.7-6.7 px per person, up to 200 px, and changed
PoseNet's people count on camera-sized frames (issue 22). The arithmetic below is those kernels', operation for
operation in float64, so the tensors equal what pose-detection feeds its models bit for bit (test_tfjs_parity.py
compares them; test_tfjs_preprocess.py against a per-pixel port of the kernels). It costs PoseNet ~3.9 ms of CPU
per frame (385x385x3 values in float64; the OpenCV letterbox took 0.8 ms), MultiPose 0.4-0.7 ms.

PoseNet (`convertImageToTensor` with keepAspectRatio and borderMode 'replicate', then `shiftImageValue`): the
whole frame, its ROI grown symmetrically (in fractional pixels) to the input's aspect, sampled by
`tf.image.transform` (bilinear; fill mode 'nearest' clamps each source coordinate into the image, which is a
replicated border), then scaled to [-1, 1] in float32. Back: `scalePoses`, x = (x_in + offset) * scale.

MoveNet MultiPose (`estimateMultiplePoses`): `tf.image.resizeBilinear` of the frame so that its longer side is 256
and the other is rounded (no half-pixel centres), zeros added bottom/right up to a multiple of 32 (a 16:9 frame
-> 256x160, 4:3 -> 256x192), then `tf.cast` to int32 (truncation). Back: normalised x * padded / resized * width.
Both keep pose-detection's convention that output pixel i samples source position i * scale + offset, so there
is no half-pixel term in the way back.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MULTIPOSE_DIVISOR = 32  # pose-detection's dimensionDivisor: the padded side is a multiple of it
FILL_MODES = ("nearest", "constant")
BGR_TO_RGB = (2, 1, 0)  # frames are BGR; both models take RGB


def _js_round(value: float) -> int:
    """JavaScript's Math.round (halves up) of a non-negative number."""
    return int(math.floor(value + 0.5))


def _transform_taps(coord: np.ndarray, size: int, fill: str):
    """Per output coordinate: the two source indices and their weights, as TF.js' Transform kernel takes them
    (floor, floor + 1; weights ceil - x and x - floor). A tap outside the image reads the fill value 0 there; here
    its weight is 0 and its index clamped, which gives the same sum (w * 0 == 0 * pixel)."""
    if fill == "nearest":
        coord = np.maximum(0.0, np.minimum(coord, size - 1))  # util.clamp(0, x, len - 1)
    floor = np.floor(coord)
    w0, w1 = (floor + 1) - coord, coord - floor
    i0 = floor.astype(np.int64)
    i1 = i0 + 1
    w0[(i0 < 0) | (i0 >= size)] = 0.0
    w1[(i1 < 0) | (i1 >= size)] = 0.0
    return np.clip(i0, 0, size - 1), np.clip(i1, 0, size - 1), w0, w1


def _resize_taps(n_out: int, n_in: int):
    """ResizeBilinear's taps: source r * (n_in / n_out), floor and ceil clamped into the image, fraction."""
    source = (n_in / n_out) * np.arange(n_out, dtype=np.float64)
    floor = np.maximum(0.0, np.floor(source))
    ceil = np.minimum(n_in - 1, np.ceil(source)).astype(np.int64)
    return floor.astype(np.int64), ceil, source - floor


class SeparableBilinear:
    """A bilinear resample whose source x depends on the output x only and y on y (no rotation), planned once
    per frame size. Each source row it reads is read once however many output rows share it (a replicated
    border's rows are one row); pass 1 interpolates those rows along x, pass 2 combines them along y, in float64.

    ``expression`` is the TF.js kernel's: "transform" (w0 * p0 + w1 * p1 along x, then the same along y) or
    "resize" (p0 + (p1 - p0) * f along x, then the same along y). ``channels`` picks and orders the output
    channels ((2, 1, 0): BGR -> RGB at no cost). Its work buffers are allocated once (fresh multi-MB arrays per
    frame cost thousands of page faults, 3x the arithmetic), so one instance serves one thread at a time."""

    def __init__(self, expression: str, src_shape, out_hw, x_taps, y_taps, channels=None):
        height, width, depth = src_shape
        order = np.arange(depth) if channels is None else np.asarray(channels)
        y0, y1, wy0, wy1 = y_taps
        x0, x1, wx0, wx1 = x_taps
        self.expression, self.src_shape, self.out_hw = expression, tuple(src_shape), tuple(out_hw)
        self.rows = np.unique(np.concatenate([y0, y1]))  # source rows read, ascending
        self.row_pos = (np.searchsorted(self.rows, y0), np.searchsorted(self.rows, y1))
        self.row_weights = (wy0[:, None], None if wy1 is None else wy1[:, None])
        self.cols = ((x0[:, None] * depth + order).ravel(), (x1[:, None] * depth + order).ravel())
        self.col_weights = (np.repeat(wx0, len(order)), None if wx1 is None else np.repeat(wx1, len(order)))
        values = len(self.cols[0])
        self._src = np.empty((len(self.rows), width * depth), np.uint8)
        self._taken = np.empty((len(self.rows), values), np.uint8)
        self._left, self._right = (np.empty((len(self.rows), values)) for _ in range(2))
        self._top, self._bottom = (np.empty((out_hw[0], values)) for _ in range(2))

    def apply(self, image: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """(h, w, len(channels)) float32 of an (H, W, C) image of integers (uint8), into ``out`` if given."""
        if image.shape != self.src_shape:
            raise ValueError(f"planned for {self.src_shape}, got an image of {image.shape}")
        np.take(np.ascontiguousarray(image).reshape(image.shape[0], -1), self.rows, axis=0, out=self._src)
        left, right, top, bottom = self._left, self._right, self._top, self._bottom
        for cols, dst in zip(self.cols, (left, right)):
            np.take(self._src, cols, axis=1, out=self._taken)
            np.copyto(dst, self._taken)
        if self.expression == "transform":
            left *= self.col_weights[0]
            right *= self.col_weights[1]
            left += right
            np.take(left, self.row_pos[0], axis=0, out=top)
            np.take(left, self.row_pos[1], axis=0, out=bottom)
            top *= self.row_weights[0]
            bottom *= self.row_weights[1]
        else:
            right -= left
            right *= self.col_weights[0]
            left += right
            np.take(left, self.row_pos[0], axis=0, out=top)
            np.take(left, self.row_pos[1], axis=0, out=bottom)
            bottom -= top
            bottom *= self.row_weights[0]
        top += bottom
        shape = (*self.out_hw, len(self.cols[0]) // self.out_hw[1])
        if out is None:
            return top.astype(np.float32).reshape(shape)
        np.copyto(out.reshape(top.shape), top)
        return out


def plan_transform(src_shape, matrix, out_hw, fill: str = "nearest", channels=None) -> SeparableBilinear:
    """`tf.image.transform(image, matrix, 'bilinear', fill, 0, out_hw)` as TF.js' 'cpu' backend computes it, for an
    axis-aligned matrix [a0, 0, a2, 0, b1, b2, 0, 0] (float32, as the kernel reads it): output pixel (x, y) samples
    the source at (a0 x + a2, b1 y + b2); fill "nearest" clamps that position into the image, "constant" reads 0
    outside. Axis-aligned is what pose-detection's unrotated ROI gives, and it makes the kernel separable."""
    if fill not in FILL_MODES:
        raise ValueError(f"fill mode {fill!r}; valid: {', '.join(FILL_MODES)}")
    a0, a1, a2, b0, b1, b2, c0, c1 = (float(v) for v in np.asarray(matrix, np.float32).reshape(8))
    if a1 != 0 or b0 != 0 or c0 != 0 or c1 != 0:
        raise ValueError("transform_bilinear takes an axis-aligned affine matrix (a1 = b0 = c0 = c1 = 0)")
    out_h, out_w = out_hw
    height, width = src_shape[:2]
    # (a0 x + a1 y + a2) / 1: a1 y is +-0, which adds nothing to a0 x (nor to 0); the projection is exactly 1.
    x_taps = _transform_taps(a0 * np.arange(out_w, dtype=np.float64) + a2, width, fill)
    y_taps = _transform_taps(b1 * np.arange(out_h, dtype=np.float64) + b2, height, fill)
    return SeparableBilinear("transform", src_shape, out_hw, x_taps, y_taps, channels)


def plan_resize(src_shape, out_hw, channels=None) -> SeparableBilinear:
    """`tf.image.resizeBilinear(image, out_hw)` (alignCorners and halfPixelCenters false) as TF.js' 'cpu' backend
    computes it: output row r samples source row r * (H / h), its floor and ceil clamped into the image."""
    r0, r1, fy = _resize_taps(out_hw[0], src_shape[0])
    c0, c1, fx = _resize_taps(out_hw[1], src_shape[1])
    return SeparableBilinear("resize", src_shape, out_hw, (c0, c1, fx, None), (r0, r1, fy, None), channels)


def transform_bilinear(image: np.ndarray, matrix, out_hw: tuple[int, int], fill: str = "nearest") -> np.ndarray:
    """tf.image.transform (see plan_transform) of one image: (H, W, C) integers -> (h, w, C) float32."""
    return plan_transform(image.shape, matrix, out_hw, fill).apply(image)


def resize_bilinear(image: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """tf.image.resizeBilinear (see plan_resize) of one image: (H, W, C) integers -> (h, w, C) float32."""
    return plan_resize(image.shape, out_hw).apply(image)


@dataclass(frozen=True, eq=False)
class PoseNetInput:
    """pose-detection's PoseNet input for one BGR frame size: `matrix` the projective transform (float32, as the
    Transform kernel reads it), `padding` (top, left, bottom, right) as fractions of the grown ROI, the resample
    planned once, and the way back (`scalePoses`)."""

    src_hw: tuple[int, int]
    dst_hw: tuple[int, int]
    matrix: np.ndarray
    padding: tuple[float, float, float, float]
    resample: SeparableBilinear

    @classmethod
    def fit(cls, src_hw: tuple[int, int], dst_hw: tuple[int, int]) -> "PoseNetInput":
        """getRoi (the whole frame) -> padRoi(keepAspectRatio) -> getRotatedSubRectToRectTransformMatrix (no
        rotation, no flip) -> getProjectiveTransformMatrix, each in pose-detection's order of float64 operations."""
        (height, width), (in_h, in_w) = src_hw, dst_hw
        if min(height, width, in_h, in_w) <= 0:
            raise ValueError(f"PoseNet input of empty size: {src_hw} -> {dst_hw}")
        x_center, y_center = 0.5 * width, 0.5 * height
        tensor_aspect, roi_aspect = in_h / in_w, height / width
        horizontal = vertical = 0.0
        if tensor_aspect > roi_aspect:  # pad height
            roi_w, roi_h = float(width), width * tensor_aspect
            vertical = (1 - roi_aspect / tensor_aspect) / 2
        else:  # pad width
            roi_w, roi_h = height / tensor_aspect, float(height)
            horizontal = (1 - tensor_aspect / roi_aspect) / 2
        a, b, c, d, flip = roi_w, roi_h, math.cos(0.0), math.sin(0.0), 1
        g, h = 1.0 / width, 1.0 / height
        m00, m01, m03 = a * c * flip * g, -b * d * g, (-0.5 * a * c * flip + 0.5 * b * d + x_center) * g
        m10, m11, m13 = a * d * flip * h, b * c * h, (-0.5 * b * c - 0.5 * a * d * flip + y_center) * h
        matrix = np.array([(1 / in_w) * m00 * width, (1 / in_h) * m01 * width, m03 * width,
                           (1 / in_w) * m10 * height, (1 / in_h) * m11 * height, m13 * height, 0, 0], np.float32)
        resample = plan_transform((height, width, 3), matrix, (in_h, in_w), "nearest", BGR_TO_RGB)
        return cls((height, width), (in_h, in_w), matrix, (vertical, horizontal, vertical, horizontal), resample)

    def tensor(self, image: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """(1, h, w, 3) float32 RGB in [-1, 1] of a BGR frame (into ``out`` when its shape fits): Transform, then
        x * (2 / 255) + (-1) in float32."""
        shape = (1, *self.dst_hw, 3)
        if out is None or out.shape != shape or out.dtype != np.float32:
            out = np.empty(shape, np.float32)
        self.resample.apply(image, out[0])
        out *= np.float32(2 / 255)
        out += np.float32(-1)
        return out

    def to_source(self, xy: np.ndarray) -> np.ndarray:
        """Points (..., 2) in model-input pixels -> frame pixels (float64), as `scalePoses` computes them."""
        (height, width), (in_h, in_w) = self.src_hw, self.dst_hw
        top, left, bottom, right = self.padding
        scale_y = height / (in_h * (1 - top - bottom))
        scale_x = width / (in_w * (1 - left - right))
        out = np.empty(xy.shape, np.float64)
        out[..., 0] = (xy[..., 0] + -left * in_w) * scale_x
        out[..., 1] = (xy[..., 1] + -top * in_h) * scale_y
        return out


@dataclass(frozen=True, eq=False)
class MultiPoseInput:
    """pose-detection's MoveNet MultiPose input for one BGR frame size: the frame resized to `resized_hw` (longer
    side `max_dimension`; the resample planned once), padded bottom/right with zeros to `padded_hw` (multiples of
    32)."""

    src_hw: tuple[int, int]
    resized_hw: tuple[int, int]
    padded_hw: tuple[int, int]
    resample: SeparableBilinear | None  # None: the frame is already the resized size

    @classmethod
    def fit(cls, src_hw: tuple[int, int], max_dimension: int = 256) -> "MultiPoseInput":
        height, width = src_hw
        if min(height, width, max_dimension) <= 0:
            raise ValueError(f"MultiPose input of empty size: {src_hw}, longer side {max_dimension}")
        # At least 1 px: pose-detection itself would fail on a frame more than 512 times as wide as high.
        if width > height:
            resized = (max(1, _js_round(max_dimension * height / width)), max_dimension)
            padded = (math.ceil(resized[0] / MULTIPOSE_DIVISOR) * MULTIPOSE_DIVISOR, resized[1])
        else:
            resized = (max_dimension, max(1, _js_round(max_dimension * width / height)))
            padded = (resized[0], math.ceil(resized[1] / MULTIPOSE_DIVISOR) * MULTIPOSE_DIVISOR)
        resample = None if resized == (height, width) else plan_resize((height, width, 3), resized, BGR_TO_RGB)
        return cls((height, width), resized, padded, resample)

    def tensor(self, image: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """(1, h, w, 3) int32 RGB of a BGR frame (`out` reused when its shape fits): resizeBilinear, zero padding,
        truncation to int32."""
        shape = (1, *self.padded_hw, 3)
        if out is None or out.shape != shape:
            out = np.zeros(shape, np.int32)
        res_h, res_w = self.resized_hw
        out[0, res_h:] = 0
        out[0, :res_h, res_w:] = 0
        # float32 -> int32 truncates, as tf.cast does
        out[0, :res_h, :res_w] = image[..., ::-1] if self.resample is None else self.resample.apply(image)
        return out

    @property
    def normalised_scale(self) -> tuple[float, float]:
        """(y, x) factors from the model's normalised output (of the padded input) to frame pixels:
        padded / resized * frame size."""
        (height, width), (res_h, res_w), (pad_h, pad_w) = self.src_hw, self.resized_hw, self.padded_hw
        return pad_h / res_h * height, pad_w / res_w * width
