"""MMPose codecs, decoding only: SimCC (``SimCCLabel``) and heatmaps (``MSRAHeatmap``, ``UDPHeatmap``), vectorised
(pure numpy + OpenCV's Gaussian blur). Conventions in model.py's docstring."""
from __future__ import annotations

import cv2
import numpy as np

CODECS = ("simcc", "heatmap")
REFINES = ("dark", "quarter", "udp", None)


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
    float32 >= 0. The score is ``min(max_x, max_y)`` as MMPose 1.x's ``get_simcc_maximum``; the
    ``0.5 * (max_x + max_y)`` of some third-party ports (rtmlib 0.0.16's ``get_simcc_maximum``; its 3-D variant
    uses ``min``) is available as ``score_mode="mean"``. Both are checked against rtmlib (test_mmpose_rtmlib.py).
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
