"""Keypoints to 3D with a depth image: robust depth lookup, pinhole back-projection, stamp pairing.

The depth image must be registered to the colour image the keypoints come from (same size, same
optical frame, e.g. a RealSense ``aligned_depth_to_color`` stream), and ``K`` is that camera's 3x3
intrinsic matrix (``sensor_msgs/CameraInfo.k``). Pixel centres are at integer coordinates (the
OpenCV / ROS convention of ``K``): a joint at (x, y) reads the patch centred on pixel
(floor(x + 0.5), floor(y + 0.5)).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from pose_ros.core.settings import ConfigError, check_settings, setting

DEPTH_ENCODINGS = ("16UC1", "mono16", "32FC1")


@dataclass(frozen=True)
class DepthConfig:
    """How depth frames are paired with colour frames and read around each keypoint."""

    tolerance: float = setting(0.05, "max stamp difference, s, between a colour frame and its depth frame",
                               change="read_only", low=0.0, high=10.0)
    window: int = setting(5, "side of the depth patch around each keypoint whose median depth is used, px (odd)",
                          change="read_only", low=1, high=51)

    def __post_init__(self) -> None:
        check_settings(self)
        if self.window % 2 != 1:
            raise ConfigError(f"depth window = {self.window} must be odd (a patch centred on the keypoint)")


@dataclass(frozen=True)
class DepthImage:
    """A depth image registered to the colour image (same size and optical frame), in metres, with that
    camera's 3x3 intrinsics; ``source`` is whatever the adapter wants back with the 3D points (the node: the
    depth message's header)."""

    depth: np.ndarray
    k_matrix: np.ndarray
    source: Any = None


def keypoints_to_3d(keypoints: np.ndarray, depth: np.ndarray, K_matrix: np.ndarray, window: int = 5,
                    depth_scale: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Camera-frame 3D points of 2D keypoints.

    keypoints:   (N, K, 3) [x, y, score] in pixels of the (registered) depth image.
    depth:       (H, W) uint16 (millimetres, 0 = no reading) or float32/float64 (metres, 0/NaN/inf =
                 no reading).
    K_matrix:    (3, 3) intrinsics [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] (or the 9 values flat).
    window:      odd side of the square patch whose median depth is taken (robust to holes and to
                 joints landing just off the body's silhouette).
    depth_scale: metres per depth unit; default 0.001 for integer depth images, 1.0 for float ones.

    Returns ``points`` (N, K, 3) float32 [X, Y, Z] metres in the camera optical frame (x right, y down,
    z forward), ``valid`` (N, K) bool, ``variance`` (N, K) float32 m^2: variance of the valid depths of
    the patch (0 on a flat fronto-parallel patch; large at depth edges, where the median may belong to
    either side). A joint is valid when its score is > 0, it lies inside the image and its patch has at
    least one valid depth (finite, > 0); invalid joints have NaN points and variance. Patches are
    clipped at the image border (pixels outside are ignored, not repeated).
    """
    keypoints = np.asarray(keypoints)
    if keypoints.ndim != 3 or keypoints.shape[2] != 3:
        raise ValueError(f"keypoints: expected (N, K, 3), got {keypoints.shape}")
    if depth.ndim != 2:
        raise ValueError(f"depth: expected (H, W), got {depth.shape}")
    if not (isinstance(window, (int, np.integer)) and window >= 1 and window % 2 == 1):
        raise ValueError(f"window = {window} must be an odd integer >= 1")
    k = np.asarray(K_matrix, dtype=np.float64).reshape(3, 3)
    fx, fy, cx, cy = k[0, 0], k[1, 1], k[0, 2], k[1, 2]
    if not (fx > 0 and fy > 0):
        raise ValueError(f"K_matrix: focal lengths must be > 0, got fx={fx}, fy={fy}")
    if depth_scale is None:
        depth_scale = 0.001 if np.issubdtype(depth.dtype, np.integer) else 1.0

    n, nk = keypoints.shape[:2]
    h, w = depth.shape
    x, y = keypoints[..., 0].astype(np.float64), keypoints[..., 1].astype(np.float64)
    u, v = np.floor(x + 0.5), np.floor(y + 0.5)
    inside = (keypoints[..., 2] > 0) & (u >= 0) & (u < w) & (v >= 0) & (v < h)
    idx = np.flatnonzero(inside)  # joints to look up, flat over (N, K)

    z = np.full(n * nk, np.nan)
    var = np.full(n * nk, np.nan)
    if len(idx):
        # Gather all patches at once: (J, window * window) depth values, NaN where invalid.
        half = window // 2
        offsets = np.arange(-half, half + 1)
        rows = (v.ravel()[idx].astype(np.int64)[:, None, None] + offsets[None, :, None])
        cols = (u.ravel()[idx].astype(np.int64)[:, None, None] + offsets[None, None, :])
        rows, cols = np.broadcast_arrays(rows, cols)
        in_image = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
        patch = depth[np.clip(rows, 0, h - 1), np.clip(cols, 0, w - 1)].reshape(len(idx), -1)
        patch = patch.astype(np.float64) * depth_scale
        ok = in_image.reshape(len(idx), -1) & np.isfinite(patch) & (patch > 0)
        patch = np.where(ok, patch, np.nan)
        count = ok.sum(1)

        # Median of the valid values: NaNs sort last, so the middle of the first `count` entries.
        ordered = np.sort(patch, axis=1)
        lo = np.maximum((count - 1) // 2, 0)
        hi = np.maximum(count // 2, 0)
        median = 0.5 * (np.take_along_axis(ordered, lo[:, None], 1)[:, 0]
                        + np.take_along_axis(ordered, hi[:, None], 1)[:, 0])
        safe = np.maximum(count, 1)
        mean = np.where(ok, patch, 0.0).sum(1) / safe
        variance = np.where(ok, (patch - mean[:, None]) ** 2, 0.0).sum(1) / safe
        has = count > 0
        z[idx] = np.where(has, median, np.nan)
        var[idx] = np.where(has, variance, np.nan)

    z = z.reshape(n, nk)
    valid = np.isfinite(z)
    points = np.stack([(x - cx) * z / fx, (y - cy) * z / fy, z], axis=-1).astype(np.float32)
    return points, valid, var.reshape(n, nk).astype(np.float32)


def depth_from_image(data: Any, height: int, width: int, step: int, encoding: str,
                     is_bigendian: bool = False) -> np.ndarray:
    """Depth image (H, W) float32 in metres from the fields of a ``sensor_msgs/Image``.

    ``16UC1`` / ``mono16``: unsigned millimetres (0 = no reading, stays 0); ``32FC1``: metres (NaN/0 =
    no reading, kept). ``step`` is the row length in bytes (rows may be padded). Returns a new array.
    """
    if encoding in ("16UC1", "mono16"):
        dtype = np.dtype(">u2" if is_bigendian else "<u2")
        scale = 0.001
    elif encoding == "32FC1":
        dtype = np.dtype(">f4" if is_bigendian else "<f4")
        scale = 1.0
    else:
        raise ValueError(f"unsupported depth encoding {encoding!r}; supported: {', '.join(DEPTH_ENCODINGS)}")
    try:
        buf = np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8)
    except TypeError:  # not a buffer (e.g. a list of ints)
        buf = np.asarray(data, dtype=np.uint8).ravel()
    if height < 0 or width < 0 or step < width * dtype.itemsize:
        raise ValueError(f"depth image: step {step} is shorter than width {width} x {dtype.itemsize} bytes")
    if len(buf) < step * height:
        raise ValueError(f"depth image: {len(buf)} bytes for {height} rows of {step} bytes")
    rows = buf[:step * height].reshape(height, step)[:, :width * dtype.itemsize]
    values = np.ascontiguousarray(rows).view(dtype).reshape(height, width)
    return (values.astype(np.float32) * np.float32(scale)) if scale != 1.0 else values.astype(np.float32)


class StampMatcher:
    """Pairs colour frames with the buffered depth frame of the nearest time stamp.

    ``add(stamp_s, item)`` buffers a depth frame (any object; the ``capacity`` newest are kept, so the
    buffer should span more than the colour pipeline's latency: 30 frames is 1 s at 30 Hz);
    ``match(stamp_s)`` returns the buffered item whose stamp is nearest to ``stamp_s`` if within
    ``tolerance_s`` (inclusive), else None; on a tie the newer frame wins. Items are not consumed: a
    slower depth stream may pair one depth frame with several colour frames. Stamps in seconds.
    """

    def __init__(self, tolerance_s: float, capacity: int = 30) -> None:
        if not (np.isfinite(tolerance_s) and tolerance_s >= 0):
            raise ConfigError(f"tolerance_s = {tolerance_s} must be >= 0 (seconds)")
        if capacity < 1:
            raise ConfigError(f"capacity = {capacity} must be >= 1")
        self.tolerance_s, self.capacity = float(tolerance_s), int(capacity)
        self._buffer: deque[tuple[float, Any]] = deque(maxlen=self.capacity)

    def __len__(self) -> int:
        return len(self._buffer)

    def clear(self) -> None:
        self._buffer.clear()

    def add(self, stamp_s: float, item: Any) -> None:
        self._buffer.append((float(stamp_s), item))

    def match(self, stamp_s: float) -> Any | None:
        if not self._buffer:
            return None
        stamps = np.fromiter((s for s, _ in self._buffer), np.float64, len(self._buffer))
        error = np.abs(stamps - float(stamp_s))
        ties = np.flatnonzero(error == error.min())
        best = int(ties[np.argmax(stamps[ties])])  # on a tie, the newer frame
        return self._buffer[best][1] if error[best] <= self.tolerance_s else None
