"""Top-down crops, for every family that crops person boxes: person box -> padded, aspect-fixed centre and scale
-> affine warp to the model input (pure geometry, as MMPose 1.x ``bbox_xyxy2cs`` + ``TopdownAffine``; conventions
in mmpose/model.py's docstring)."""
from __future__ import annotations

import cv2
import numpy as np

# MMPose's PoseDataPreprocessor defaults (ImageNet statistics, RGB order), used by RTMPose, HRNet, ViTPose.
MMPOSE_MEAN = (123.675, 116.28, 103.53)
MMPOSE_STD = (58.395, 57.12, 57.375)


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
