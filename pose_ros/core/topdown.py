"""Top-down keypoints with ONNX models exported from MMPose/MMDeploy, after any person detector.

detect -> one crop per person (affine warp of the padded, aspect-fixed box) -> ONE backend.run on the
batch -> decode (SimCC or heatmaps) -> inverse warp back to source pixels.

Conventions (all as MMPose 1.x, so that a model behaves as it did in MMPose):

* Sizes are ``(w, h)`` when named ``*_wh`` and ``(h, w)`` when named ``*_hw``.
* Pixel centres sit at integer coordinates in every frame (source image, model input, heatmap, SimCC
  bins): pixel ``(i, j)`` covers ``[i - 0.5, i + 0.5]``. This is OpenCV's ``warpAffine`` convention,
  which MMPose's ``TopdownAffine`` relies on.
* The crop (``get_warp_matrix``) maps the box centre to ``(w / 2, h / 2)`` and scales by
  ``w / scale_w``. With ``udp=True`` (``get_udp_warp_matrix``, for ``UDPHeatmap`` models such as
  ViTPose) it maps the centre to ``((w - 1) / 2, (h - 1) / 2)`` and scales by ``(w - 1) / scale_w``.
* SimCC (``SimCCLabel``): bin ``b`` is input pixel ``b / split_ratio``.
* Heatmaps: ``MSRAHeatmap`` (refine ``"quarter"`` or ``"dark"``) maps heatmap pixel ``i`` to input pixel
  ``i * w / W``; ``UDPHeatmap`` (refine ``"udp"``) to ``i * (w - 1) / (W - 1)``, which, with the UDP
  crop, gives exactly MMPose's source-pixel result.

Scores: SimCC and heatmap maxima are not probabilities (SimCC logits can exceed 1, heatmap peaks are
trained towards 1 but are unbounded). The decoders return them raw, floored at 0; :func:`keypoint_confidence`
clips them to the [0, 1] that :class:`Poses` requires. A joint whose raw score is <= 0 (MMPose would set
its location to -1) gets score 0 and keeps its finite argmax location.
"""
from __future__ import annotations

import time
from typing import Callable

import cv2
import numpy as np

from pose_ros.core.backend import Backend
from pose_ros.core.config import PoseConfig
from pose_ros.core.geometry import clip_boxes, clip_points
from pose_ros.core.result import Poses
from pose_ros.core.skeletons import Skeleton

# MMPose's PoseDataPreprocessor defaults (ImageNet statistics, RGB order), used by RTMPose, HRNet, ViTPose.
MMPOSE_MEAN = (123.675, 116.28, 103.53)
MMPOSE_STD = (58.395, 57.12, 57.375)
CODECS = ("simcc", "heatmap")
REFINES = ("dark", "quarter", "udp", None)

Detector = Callable[[np.ndarray], "tuple[np.ndarray, np.ndarray]"]


# ---------------------------------------------------------------------------------------------- geometry

def box_to_center_scale(boxes_xyxy: np.ndarray, input_wh: tuple[int, int],
                        padding: float = 1.25) -> tuple[np.ndarray, np.ndarray]:
    """Person boxes to crop centres and sizes, as MMPose ``bbox_xyxy2cs`` + ``TopdownAffine``.

    boxes_xyxy: (N, 4) [x1, y1, x2, y2] source pixels.
    Returns centres (N, 2) and scales (N, 2) = crop (w, h) in source pixels, float32: the box is
    multiplied by ``padding``, then its shorter side (relative to the model input) is expanded so that
    w / h equals input_w / input_h (the crop is never squeezed, only extended).
    """
    boxes = np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4)
    centers = (boxes[:, 0:2] + boxes[:, 2:4]) * 0.5
    w = (boxes[:, 2] - boxes[:, 0]) * padding
    h = (boxes[:, 3] - boxes[:, 1]) * padding
    aspect = input_wh[0] / input_wh[1]
    wider = w > h * aspect
    scales = np.stack([np.where(wider, w, h * aspect), np.where(wider, w / aspect, h)], axis=1)
    return centers.astype(np.float32), scales.astype(np.float32)


def crop_warp_matrices(centers: np.ndarray, scales: np.ndarray, input_wh: tuple[int, int],
                       rotations_deg: np.ndarray | None = None, udp: bool = False) -> np.ndarray:
    """Affine matrices (N, 2, 3) float32 mapping source pixels to model-input pixels.

    centers, scales: (N, 2) from :func:`box_to_center_scale`; rotations_deg: (N,) or None (0).
    ``udp=False`` is MMPose ``get_warp_matrix`` (shift 0) in closed form: a similarity of factor
    ``input_w / scale_w`` turning by ``-rot`` about the centre, which lands on ``(w / 2, h / 2)``.
    ``udp=True`` is ``get_udp_warp_matrix``: per-axis factors ``(size - 1) / scale``, turning by ``+rot``,
    centre on ``((w - 1) / 2, (h - 1) / 2)`` (the opposite turn is MMPose's; rotation is 0 at inference).
    """
    centers = np.asarray(centers, dtype=np.float64).reshape(-1, 2)
    scales = np.asarray(scales, dtype=np.float64).reshape(-1, 2)
    n = len(centers)
    rot = np.zeros(n) if rotations_deg is None else np.broadcast_to(
        np.asarray(rotations_deg, dtype=np.float64), (n,))
    cos, sin = np.cos(np.deg2rad(rot)), np.sin(np.deg2rad(rot))
    in_w, in_h = float(input_wh[0]), float(input_wh[1])
    matrices = np.empty((n, 2, 3), dtype=np.float64)
    if udp:
        sx, sy = (in_w - 1) / scales[:, 0], (in_h - 1) / scales[:, 1]
        linear = np.stack([np.stack([cos * sx, -sin * sx], -1), np.stack([sin * sy, cos * sy], -1)], 1)
        dst_center = np.array([(in_w - 1) / 2, (in_h - 1) / 2])
    else:
        s = in_w / scales[:, 0]
        linear = np.stack([np.stack([cos * s, sin * s], -1), np.stack([-sin * s, cos * s], -1)], 1)
        dst_center = np.array([in_w / 2, in_h / 2])
    matrices[:, :, :2] = linear
    matrices[:, :, 2] = dst_center - np.einsum("nij,nj->ni", linear, centers)
    return matrices.astype(np.float32)


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


def transform_points(points: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """Apply person n's matrix to its points: points (N, K, 2), matrices (N, 2, 3) -> (N, K, 2) float32."""
    p = np.asarray(points, dtype=np.float64)
    m = np.asarray(matrices, dtype=np.float64)
    return (np.einsum("nij,nkj->nki", m[:, :, :2], p) + m[:, None, :, 2]).astype(np.float32)


def crop_batch(image_bgr: np.ndarray, matrices: np.ndarray, input_wh: tuple[int, int],
               mean=MMPOSE_MEAN, std=MMPOSE_STD, to_rgb: bool = True,
               out: np.ndarray | None = None) -> np.ndarray:
    """Warp and normalise one crop per person into one batch tensor (N, 3, H, W) float32.

    image_bgr: (h, w, 3) uint8; matrices: (N, 2, 3) from :func:`crop_warp_matrices`.
    Each crop is ``cv2.warpAffine`` (INTER_LINEAR, BORDER_CONSTANT 0, as MMPose's TopdownAffine), then
    ``(pixel - mean) / std`` per channel; ``mean``/``std`` are in the channel order of the tensor (RGB when
    ``to_rgb``, as MMPose's ``bgr_to_rgb=True``). ``out``, when it has room for N people (its first N
    rows are used), is reused, so no per-frame allocation of the batch happens.
    """
    in_w, in_h = int(input_wh[0]), int(input_wh[1])
    n = len(matrices)
    if out is None or out.shape[0] < n or out.shape[1:] != (3, in_h, in_w) or out.dtype != np.float32:
        out = np.empty((n, 3, in_h, in_w), dtype=np.float32)
    out = out[:n]
    mean = np.asarray(mean, dtype=np.float32).reshape(3, 1, 1)
    inv_std = (1.0 / np.asarray(std, dtype=np.float32)).reshape(3, 1, 1)
    crop = np.empty((in_h, in_w, 3), dtype=image_bgr.dtype)
    for i in range(n):
        cv2.warpAffine(image_bgr, matrices[i], (in_w, in_h), dst=crop, flags=cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        chw = (crop[..., ::-1] if to_rgb else crop).transpose(2, 0, 1)
        np.subtract(chw, mean, out=out[i], dtype=np.float32)
        np.multiply(out[i], inv_std, out=out[i])
    return out


# ---------------------------------------------------------------------------------------------- decoders

def keypoint_confidence(raw_scores: np.ndarray) -> np.ndarray:
    """Raw SimCC/heatmap maxima -> the [0, 1] float32 scores of :class:`Poses`.

    These maxima are not calibrated probabilities: a Gaussian-target heatmap peaks near 1 for a sure
    joint, RTMPose's SimCC logits mostly fall in [0, 1] but are unbounded. Clipping keeps the model's own
    ranking and MMPose's usual thresholds (0.3 and the like) meaningful; it does not calibrate.
    """
    return np.clip(np.asarray(raw_scores, dtype=np.float32), 0.0, 1.0)


def decode_simcc(simcc_x: np.ndarray, simcc_y: np.ndarray, split_ratio: float = 2.0,
                 *, score_mode: str = "min") -> tuple[np.ndarray, np.ndarray]:
    """Decode SimCC vectors as MMPose ``SimCCLabel.decode`` / ``get_simcc_maximum``.

    simcc_x: (N, K, Wx), simcc_y: (N, K, Wy), Wx = input_w * split_ratio (same for y).
    Returns keypoints (N, K, 2) float32 in model-input pixels (argmax bin / split_ratio) and scores (N, K)
    float32 >= 0. The score is ``min(max_x, max_y)`` as MMPose 1.x's ``get_simcc_maximum`` (and rtmlib);
    the ``0.5 * (max_x + max_y)`` of some third-party ports is available as ``score_mode="mean"``.
    A joint whose score is <= 0 gets score 0 (MMPose would set its location to -1); its location stays
    the finite argmax.
    """
    simcc_x, simcc_y = np.asarray(simcc_x), np.asarray(simcc_y)
    if simcc_x.ndim != 3 or simcc_y.shape[:2] != simcc_x.shape[:2]:
        raise ValueError(f"SimCC outputs must be (N, K, Wx) and (N, K, Wy); got {simcc_x.shape}, {simcc_y.shape}")
    ix, iy = simcc_x.argmax(axis=2), simcc_y.argmax(axis=2)
    max_x = np.take_along_axis(simcc_x, ix[..., None], axis=2)[..., 0]
    max_y = np.take_along_axis(simcc_y, iy[..., None], axis=2)[..., 0]
    if score_mode == "min":
        scores = np.minimum(max_x, max_y)
    elif score_mode == "mean":
        scores = 0.5 * (max_x + max_y)
    else:
        raise ValueError(f"score_mode {score_mode!r} is not valid; valid: min, mean")
    keypoints = np.stack([ix, iy], axis=-1).astype(np.float32) / np.float32(split_ratio)
    return keypoints, np.maximum(scores, 0).astype(np.float32)


class _ModulatedLog:
    """MMPose ``gaussian_blur`` (zero border, each map's peak rescaled to its original peak), then
    clip and log, evaluated only at the sampled pixels.

    heatmaps: (M, H, W). The M maps are stacked into one tall image with ``kernel // 2`` zero rows between
    them, so ONE cv2.GaussianBlur (BORDER_CONSTANT) blurs them all exactly as MMPose's per-map blur of a
    zero-padded map. Sampled indices are clamped to the map (= MMPose's one-pixel edge padding for UDP;
    DARK masks out what it samples near the border).
    """

    def __init__(self, heatmaps: np.ndarray, kernel: int, floor: float, ceil: float | None):
        if kernel % 2 != 1:
            raise ValueError(f"blur kernel must be odd, got {kernel}")
        m, h, w = heatmaps.shape
        gap = kernel // 2
        tall = np.zeros((m, h + gap, w), dtype=np.float32)
        tall[:, :h] = heatmaps
        blurred = cv2.GaussianBlur(tall.reshape(m * (h + gap), w), (kernel, kernel), 0,
                                   borderType=cv2.BORDER_CONSTANT)
        self.blurred = blurred.reshape(m, h + gap, w)[:, :h]
        peak, blurred_peak = heatmaps.max(axis=(1, 2)).astype(np.float64), self.blurred.max(axis=(1, 2))
        self.factor = np.divide(peak, blurred_peak, out=np.zeros_like(peak), where=blurred_peak > 0)
        self.floor, self.ceil, self.hw, self.rows = floor, ceil, (h, w), np.arange(m)

    def at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """log(clip(modulated[m, y[m], x[m]])) for every map m, float64 (M,)."""
        x, y = np.clip(x, 0, self.hw[1] - 1), np.clip(y, 0, self.hw[0] - 1)
        values = self.blurred[self.rows, y, x] * self.factor
        return np.log(np.clip(values, self.floor, self.ceil))


def _quarter_offset(hm: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """MMPose ``refine_keypoints``: 0.25 px towards the higher neighbour, per axis. hm (M, H, W) -> (M, 2).

    The border conditions are MMPose's exactly (``1 < x < W - 1 and 0 < y < H`` for x, symmetric for y).
    """
    m, h, w = hm.shape
    i = np.arange(m)
    ok_x = (1 < x) & (x < w - 1) & (0 < y) & (y < h)
    ok_y = (1 < y) & (y < h - 1) & (0 < x) & (x < w)
    xc, yc = np.clip(x, 1, w - 2), np.clip(y, 1, h - 2)
    dx = np.where(ok_x, hm[i, y, xc + 1] - hm[i, y, xc - 1], 0.0)
    dy = np.where(ok_y, hm[i, yc + 1, x] - hm[i, yc - 1, x], 0.0)
    return 0.25 * np.sign(np.stack([dx, dy], axis=-1))


def _dark_offset(hm: np.ndarray, x: np.ndarray, y: np.ndarray, kernel: int) -> np.ndarray:
    """MMPose ``refine_keypoints_dark`` (Zhang et al. 2020), vectorised: (M, H, W) -> offsets (M, 2).

    On the log of the Gaussian-modulated heatmap, one Newton step ``-H^-1 g`` from the integer maximum,
    with central first derivatives and step-2 second derivatives; only where ``1 < x < W - 2`` and
    ``1 < y < H - 2`` and the Hessian is invertible (else 0), as MMPose.
    """
    _, h, w = hm.shape
    lg = _ModulatedLog(hm, kernel, 1e-10, None)
    ok = (1 < x) & (x < w - 2) & (1 < y) & (y < h - 2)

    def at(ddx, ddy):
        return lg.at(x + ddx, y + ddy)

    dx = 0.5 * (at(1, 0) - at(-1, 0))
    dy = 0.5 * (at(0, 1) - at(0, -1))
    dxx = 0.25 * (at(2, 0) - 2 * at(0, 0) + at(-2, 0))
    dyy = 0.25 * (at(0, 2) - 2 * at(0, 0) + at(0, -2))
    dxy = 0.25 * (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1))
    det = dxx * dyy - dxy ** 2
    ok &= det != 0
    det = np.where(ok, det, 1.0)
    off_x = -(dyy * dx - dxy * dy) / det
    off_y = -(dxx * dy - dxy * dx) / det
    return np.where(ok[:, None], np.stack([off_x, off_y], axis=-1), 0.0)


def _dark_udp_offset(hm: np.ndarray, x: np.ndarray, y: np.ndarray, kernel: int) -> np.ndarray:
    """MMPose ``refine_keypoints_dark_udp``, vectorised: (M, H, W) -> offsets (M, 2).

    Log of the modulated heatmap clipped to [1e-3, 50], edge-padded; step-1 derivatives,
    ``-(H + eps I)^-1 g`` everywhere (no border condition), as MMPose.
    """
    lg = _ModulatedLog(hm, kernel, 1e-3, 50.0)

    def at(ddx, ddy):
        return lg.at(x + ddx, y + ddy)

    c = at(0, 0)
    dx = 0.5 * (at(1, 0) - at(-1, 0))
    dy = 0.5 * (at(0, 1) - at(0, -1))
    dxx = at(1, 0) - 2 * c + at(-1, 0)
    dyy = at(0, 1) - 2 * c + at(0, -1)
    dxy = 0.5 * (at(1, 1) - at(1, 0) - at(0, 1) + 2 * c - at(-1, 0) - at(0, -1) + at(-1, -1))
    eps = float(np.finfo(np.float32).eps)
    a, d = dxx + eps, dyy + eps
    det = a * d - dxy ** 2
    det = np.where(det == 0, eps, det)
    return -np.stack([(d * dx - dxy * dy) / det, (a * dy - dxy * dx) / det], axis=-1)


def decode_heatmap(heatmaps: np.ndarray, input_wh: tuple[int, int], refine: str | None = "quarter",
                   blur_kernel: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """Decode keypoint heatmaps as MMPose ``MSRAHeatmap`` / ``UDPHeatmap``.

    heatmaps: (N, K, H, W). Returns keypoints (N, K, 2) float32 in model-input pixels and scores (N, K)
    float32 >= 0 (the heatmap maximum, before any refinement, floored at 0).
    refine:
      * ``"quarter"``: MSRAHeatmap (``unbiased=False``, the MMPose default): argmax moved 0.25 px
        towards the higher neighbour per axis; input = heatmap * (w / W).
      * ``"dark"``: MSRAHeatmap ``unbiased=True`` (DARK, Zhang et al. 2020): Taylor expansion of the log
        of the Gaussian-modulated heatmap (blur ``blur_kernel``: 11 for sigma 2, 17 for sigma 3);
        input = heatmap * (w / W).
      * ``"udp"``: UDPHeatmap (ViTPose, ``*_udp`` configs): DARK-UDP refinement; input = heatmap *
        (w - 1) / (W - 1); pair it with ``crop_warp_matrices(..., udp=True)``.
      * ``None``: integer argmax; input = heatmap * (w / W).
    Joints whose maximum is <= 0 are not refined and get score 0.
    """
    if refine not in REFINES:
        raise ValueError(f"refine {refine!r} is not valid; valid: {', '.join(map(str, REFINES))}")
    heatmaps = np.asarray(heatmaps)
    if heatmaps.ndim != 4:
        raise ValueError(f"heatmaps must be (N, K, H, W); got {heatmaps.shape}")
    n, k, h, w = heatmaps.shape
    maps = heatmaps.reshape(n * k, h, w)
    flat_index = maps.reshape(n * k, h * w).argmax(axis=1)
    scores = maps.reshape(n * k, h * w)[np.arange(n * k), flat_index]
    y, x = np.divmod(flat_index, w)
    xy = np.stack([x, y], axis=-1).astype(np.float64)
    live = np.flatnonzero(scores > 0)
    if refine is not None and len(live):
        offset = {"quarter": lambda: _quarter_offset(maps[live], x[live], y[live]),
                  "dark": lambda: _dark_offset(maps[live], x[live], y[live], blur_kernel),
                  "udp": lambda: _dark_udp_offset(maps[live], x[live], y[live], blur_kernel)}[refine]()
        xy[live] += offset
    if refine == "udp":
        factor = np.array([(input_wh[0] - 1) / (w - 1), (input_wh[1] - 1) / (h - 1)])
    else:
        factor = np.array([input_wh[0] / w, input_wh[1] / h])
    keypoints = (xy * factor).astype(np.float32).reshape(n, k, 2)
    return keypoints, np.maximum(scores, 0).astype(np.float32).reshape(n, k)


# ---------------------------------------------------------------------------------------------- estimator

class TopDownKeypoints:
    """Top-down estimator: a person detector, then an MMPose SimCC or heatmap model on each person.

    backend: the keypoint model, input (B, 3, H, W) normalised float32; B dynamic (one run for the whole
    crowd) or fixed (people run in chunks of B, the last chunk zero-padded).
    detector: ``image_bgr -> (boxes (N, 4) float32 xyxy source pixels, scores (N,))``, optionally with
    ``with_config(config)``.
    codec: ``"simcc"`` (outputs simcc_x (B, K, Wx), simcc_y (B, K, Wy); by name when so named, else in
    order) or ``"heatmap"`` (first output, (B, K, h, w)).
    Uses ``config.max_people`` (best detector scores kept) and ``config.keypoint_threshold`` (joints below
    get score 0). Boxes and person scores are the detector's; boxes and keypoints are clipped to the image.
    """

    families = CODECS

    def __init__(self, backend: Backend, skeleton: Skeleton, input_hw: tuple[int, int], codec: str,
                 config: PoseConfig, detector: Detector, *, mean=MMPOSE_MEAN, std=MMPOSE_STD,
                 to_rgb: bool = True, padding: float = 1.25, split_ratio: float = 2.0,
                 refine: str | None = "quarter", blur_kernel: int = 11):
        if codec not in CODECS:
            raise ValueError(f"codec {codec!r} is not valid; valid: {', '.join(CODECS)}")
        if refine not in REFINES:
            raise ValueError(f"refine {refine!r} is not valid; valid: {', '.join(map(str, REFINES))}")
        self.backend = backend
        self.skeleton = skeleton
        self.input_hw = (int(input_hw[0]), int(input_hw[1]))
        self.codec = self.family = codec
        self.config = config
        self.detector = detector
        self._options = dict(mean=mean, std=std, to_rgb=to_rgb, padding=padding, split_ratio=split_ratio,
                             refine=refine, blur_kernel=blur_kernel)
        self.mean, self.std, self.to_rgb, self.padding = mean, std, to_rgb, padding
        self.split_ratio, self.refine, self.blur_kernel = split_ratio, refine, blur_kernel
        self.udp = codec == "heatmap" and refine == "udp"
        self._input_name = backend.input_names[0]
        batch = backend.input_shapes[0][0] if backend.input_shapes and backend.input_shapes[0] else None
        # A fixed batch dimension (an int, usually 1) means chunks of that size; a name or None is dynamic.
        self.fixed_batch = batch if isinstance(batch, int) and batch > 0 else None
        self._batch: np.ndarray | None = None  # crop tensor reused frame after frame
        self.timings: dict[str, float] = {}

    def with_config(self, config: PoseConfig) -> "TopDownKeypoints":
        """Same model, new thresholds (a live parameter change needs no reload); a detector that has its own
        ``with_config`` (e.g. BlazePoseDetector: person_threshold, max_people) gets the new config too."""
        detector = self.detector.with_config(config) if hasattr(self.detector, "with_config") else self.detector
        return TopDownKeypoints(self.backend, self.skeleton, self.input_hw, self.codec, config, detector,
                                **self._options)

    @property
    def input_wh(self) -> tuple[int, int]:
        return self.input_hw[1], self.input_hw[0]

    def _batch_buffer(self, n: int) -> np.ndarray:
        """The reused crop tensor, grown to hold n people (rounded up to whole fixed-size batches)."""
        rows = n if self.fixed_batch is None else -(-n // self.fixed_batch) * self.fixed_batch
        if self._batch is None or len(self._batch) < rows:
            self._batch = np.zeros((rows, 3, *self.input_hw), dtype=np.float32)
        return self._batch

    def _infer(self, batch: np.ndarray, n: int) -> list[np.ndarray]:
        """One run for the batch (dynamic batch) or one per chunk of the fixed batch size, concatenated."""
        if self.fixed_batch is None:
            return self.backend.run({self._input_name: batch[:n]})
        b = self.fixed_batch
        padded = -(-n // b) * b
        batch[n:padded] = 0.0
        runs = [self.backend.run({self._input_name: batch[i:i + b]}) for i in range(0, padded, b)]
        return [np.concatenate([run[j] for run in runs])[:n] for j in range(len(runs[0]))]

    def _select_outputs(self, outputs: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        names = list(self.backend.output_names)
        if self.codec == "heatmap":
            return (outputs[0],)
        if "simcc_x" in names and "simcc_y" in names:
            return outputs[names.index("simcc_x")], outputs[names.index("simcc_y")]
        if len(outputs) < 2:
            raise ValueError(f"a SimCC model needs two outputs (simcc_x, simcc_y); this one has {len(outputs)}")
        return outputs[0], outputs[1]

    def decode(self, outputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Raw model outputs for N people -> keypoints (N, K, 2) model-input pixels, raw scores (N, K)."""
        k, (in_w, in_h) = self.skeleton.num_keypoints, self.input_wh
        selected = self._select_outputs(outputs)
        if self.codec == "simcc":
            simcc_x, simcc_y = selected
            expected = (round(in_w * self.split_ratio), round(in_h * self.split_ratio))
            if simcc_x.shape[1] != k or (simcc_x.shape[2], simcc_y.shape[2]) != expected:
                raise ValueError(f"SimCC outputs {simcc_x.shape[1:]}, {simcc_y.shape[1:]} do not match "
                                 f"{k} keypoints, input {in_w}x{in_h} and split_ratio {self.split_ratio} "
                                 f"(expected ({k}, {expected[0]}), ({k}, {expected[1]}))")
            return decode_simcc(simcc_x, simcc_y, self.split_ratio)
        (heatmaps,) = selected
        if heatmaps.ndim != 4 or heatmaps.shape[1] != k:
            raise ValueError(f"heatmap output {heatmaps.shape} does not match (N, {k}, H, W)")
        return decode_heatmap(heatmaps, self.input_wh, self.refine, self.blur_kernel)

    def __call__(self, image: np.ndarray) -> Poses:
        cfg, height, width = self.config, *image.shape[:2]
        t0 = time.perf_counter()
        boxes, scores = self.detector(image)
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        scores = np.asarray(scores, dtype=np.float32).reshape(-1)
        # Degenerate boxes have no crop (a singular warp): drop them; keep the best max_people.
        ok = np.isfinite(boxes).all(axis=1) & np.isfinite(scores) & (boxes[:, 2] > boxes[:, 0]) & \
            (boxes[:, 3] > boxes[:, 1])
        order = np.flatnonzero(ok)[np.argsort(-scores[ok], kind="stable")][:cfg.max_people]
        boxes, scores = boxes[order], np.clip(scores[order], 0.0, 1.0)
        t1 = time.perf_counter()
        n = len(order)
        if n == 0:
            self.timings = {"detect": t1 - t0, "preprocess": 0.0, "infer": 0.0, "decode": 0.0}
            return Poses.empty(self.skeleton)
        centers, scales = box_to_center_scale(boxes, self.input_wh, self.padding)
        matrices = crop_warp_matrices(centers, scales, self.input_wh, udp=self.udp)
        buffer = self._batch_buffer(n)  # whole buffer: fixed-size chunks read past row n (zero padding)
        crop_batch(image, matrices, self.input_wh, self.mean, self.std, self.to_rgb, out=buffer)
        t2 = time.perf_counter()
        outputs = self._infer(buffer, n)
        t3 = time.perf_counter()
        xy, raw = self.decode(outputs)
        keypoints = np.empty((n, self.skeleton.num_keypoints, 3), dtype=np.float32)
        keypoints[..., :2] = transform_points(xy, invert_affine(matrices))
        keypoints[..., 2] = keypoint_confidence(raw)
        keypoints[..., 2][keypoints[..., 2] < cfg.keypoint_threshold] = 0.0
        clip_boxes(boxes, height, width)
        clip_points(keypoints[..., :2], height, width)
        t4 = time.perf_counter()
        self.timings = {"detect": t1 - t0, "preprocess": t2 - t1, "infer": t3 - t2, "decode": t4 - t3}
        return Poses(boxes, scores, keypoints, self.skeleton)
