"""Pre-processing as torch ops on the model's device, for GPU machines (``preprocess: torch``).

The frame goes to the device once, as uint8 (a third of the bytes of the float input), and is letterboxed
(YOLO-pose) or cut into rotated person crops (BlazePose landmarks) there; ONNX Runtime then reads the
tensor in place through IO binding (:meth:`pose_ros.core.backend.OrtBackend.run`), so the model input never
crosses the bus as float32. The geometry is that of the OpenCV path (:class:`pose_ros.core.geometry.Letterbox`,
:func:`pose_ros.core.blazepose.crop_matrices`); the tests run both on the CPU and compare them.

torch is optional: imported only when this module is used (``pip install torch``, matching the robot's CUDA).
"""
from __future__ import annotations

import logging

import numpy as np

from pose_ros.core.geometry import PAD_VALUE, Letterbox

LOG = logging.getLogger(__name__)

PREPROCESSORS = ("auto", "opencv", "torch")


class TorchUnavailable(RuntimeError):
    """``preprocess: torch`` was asked for but torch cannot be imported (the message says how to install it)."""


def import_torch():
    try:
        import torch
    except ImportError as err:
        raise TorchUnavailable(f"preprocess 'torch' needs PyTorch, which is not importable ({err}); install the "
                               "torch build matching the robot's CUDA, or use preprocess 'opencv'") from None
    return torch


def use_torch(preprocess: str, backend_device: str) -> bool:
    """Whether pre-processing runs as torch ops: ``torch`` always (raises when torch is missing), ``auto`` when
    the model runs on a CUDA device and torch can use it, ``opencv`` never."""
    if preprocess == "opencv":
        return False
    if preprocess == "torch":
        import_torch()
        return True
    if not backend_device.startswith("cuda"):
        return False
    try:
        return import_torch().cuda.is_available()
    except TorchUnavailable:
        LOG.info("preprocess auto: torch is not installed, pre-processing runs on the CPU (OpenCV)")
        return False


def _pixel_to_normalized(width: int, height: int) -> np.ndarray:
    """3x3 map from pixel coordinates (pixel centres at integers) to grid_sample's [-1, 1] (align_corners=False)."""
    return np.array([[2 / width, 0, 1 / width - 1], [0, 2 / height, 1 / height - 1], [0, 0, 1]], np.float64)


class TorchPreprocessor:
    """Letterbox and affine crops on ``device`` ("cpu", "cuda:0", ...); buffers are torch tensors there."""

    def __init__(self, device: str):
        self.torch = import_torch()
        self.device = self.torch.device(device)

    def upload(self, image: np.ndarray):
        """BGR uint8 (H, W, 3) -> RGB float32 (1, 3, H, W) in [0, 255] on the device (one uint8 transfer)."""
        torch = self.torch
        frame = torch.from_numpy(np.ascontiguousarray(image)).to(self.device, non_blocking=True)
        return frame.permute(2, 0, 1).flip(0).unsqueeze(0).float()

    def letterbox(self, image: np.ndarray, letterbox: Letterbox, out) -> None:
        """Letterbox ``image`` into ``out`` (3, dst_h, dst_w) float32 RGB in [0, 1] on the device.

        Bilinear without antialiasing and half-pixel centres, as cv2.resize INTER_LINEAR; OpenCV rounds its
        result to uint8 first, so the two differ by up to about one grey level."""
        functional = self.torch.nn.functional
        frame = self.upload(image)
        top, left = letterbox.pad_y, letterbox.pad_x
        if frame.shape[2:] != (letterbox.resized_h, letterbox.resized_w):
            frame = functional.interpolate(frame, size=(letterbox.resized_h, letterbox.resized_w), mode="bilinear",
                                           align_corners=False, antialias=False)
        out.fill_(PAD_VALUE / 255)
        out[:, top:top + letterbox.resized_h, left:left + letterbox.resized_w] = frame[0] / 255
        self._finish()

    def warp_crops(self, image: np.ndarray, matrices: np.ndarray, size: int):
        """Crops (N, size, size, 3) float32 RGB in [0, 1] on the device, NHWC as the BlazePose landmark model
        takes them: crop n samples ``image`` through the affine map ``matrices[n]`` (2x3, source pixels -> crop
        pixels, as cv2.warpAffine), bilinear, the border replicated (cv2.BORDER_REPLICATE)."""
        torch, functional = self.torch, self.torch.nn.functional
        frame = self.upload(image)
        height, width = image.shape[:2]
        # grid_sample wants crop -> source in normalized coordinates: N_src . M^-1 . N_crop^-1 per crop.
        full = np.concatenate([matrices.astype(np.float64), np.tile([[[0, 0, 1]]], (len(matrices), 1, 1))], axis=1)
        theta = _pixel_to_normalized(width, height) @ np.linalg.inv(full) @ np.linalg.inv(
            _pixel_to_normalized(size, size))
        theta = torch.from_numpy(theta[:, :2].astype(np.float32)).to(self.device)
        grid = functional.affine_grid(theta, [len(matrices), 3, size, size], align_corners=False)
        crops = functional.grid_sample(frame.expand(len(matrices), -1, -1, -1), grid, mode="bilinear",
                                       padding_mode="border", align_corners=False)
        crops = (crops / 255).permute(0, 2, 3, 1).contiguous()
        self._finish()
        return crops

    def _finish(self) -> None:
        """CUDA kernels run asynchronously on torch's stream, and ONNX Runtime reads the tensor by address on
        its own: wait until the tensor is written. (A no-op on the CPU.)"""
        if self.device.type == "cuda":
            self.torch.cuda.current_stream(self.device).synchronize()

    def empty(self, shape: tuple[int, ...]):
        return self.torch.empty(shape, dtype=self.torch.float32, device=self.device)
