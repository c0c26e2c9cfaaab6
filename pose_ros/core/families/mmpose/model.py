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

import numpy as np

from pose_ros.core.config import PoseConfig
from pose_ros.core.families.base import PoseModel, TopDownModel
from pose_ros.core.families.common.crops import MMPOSE_MEAN, MMPOSE_STD, box_to_center_scale, crop_batch, crop_warp_matrices
from pose_ros.core.families.mmpose.codecs import CODECS, REFINES, decode_heatmap, decode_simcc, keypoint_confidence
from pose_ros.core.geometry import clip_boxes, clip_points, invert_affine, transform_points
from pose_ros.core.result import Poses
from pose_ros.core.runtime.backend import Backend
from pose_ros.core.runtime.timing import StageTimer
from pose_ros.core.skeletons import Skeleton


class TopDownKeypoints(TopDownModel):
    """Top-down estimator: a person detector, then an MMPose SimCC or heatmap model on each person.

    backend: the keypoint model, input (B, 3, H, W) normalised float32; B dynamic (one run for the whole
    crowd) or fixed (people run in chunks of B, the last chunk zero-padded).
    detector: any PoseModel (a person detector, or a bottom-up model): its people's boxes and scores are used.
    codec: ``"simcc"`` (outputs simcc_x (B, K, Wx), simcc_y (B, K, Wy); by name when so named, else in
    order) or ``"heatmap"`` (first output, (B, K, h, w)).
    Uses ``config.max_people`` (best detector scores kept) and ``config.keypoint_threshold`` (joints below
    get score 0). Boxes and person scores are the detector's; boxes and keypoints are clipped to the image.
    """

    def __init__(self, backend: Backend, skeleton: Skeleton, input_hw: tuple[int, int], codec: str,
                 config: PoseConfig, detector: PoseModel, *, mean=MMPOSE_MEAN, std=MMPOSE_STD,
                 to_rgb: bool = True, padding: float = 1.25, split_ratio: float = 2.0,
                 refine: str | None = "quarter", blur_kernel: int = 11, name: str = ""):
        if codec not in CODECS:
            raise ValueError(f"codec {codec!r} is not valid; valid: {', '.join(CODECS)}")
        if refine not in REFINES:
            raise ValueError(f"refine {refine!r} is not valid; valid: {', '.join(map(str, REFINES))}")
        super().__init__(backend, skeleton, config, detector, name)
        self.input_hw = (int(input_hw[0]), int(input_hw[1]))
        self.codec = self.family = codec
        self.mean, self.std, self.to_rgb, self.padding = mean, std, to_rgb, padding
        self.split_ratio, self.refine, self.blur_kernel = split_ratio, refine, blur_kernel
        self.udp = codec == "heatmap" and refine == "udp"
        self._input_name = backend.input_names[0]
        batch = backend.input_shapes[0][0] if backend.input_shapes and backend.input_shapes[0] else None
        # A fixed batch dimension (an int, usually 1) means chunks of that size; a name or None is dynamic.
        self.fixed_batch = batch if isinstance(batch, int) and batch > 0 else None
        self._batch: np.ndarray | None = None  # crop tensor reused frame after frame

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

    def _keypoints(self, image: np.ndarray, people: Poses, timer: StageTimer) -> Poses:
        height, width = image.shape[:2]
        boxes, scores = people.boxes.copy(), people.scores
        n = len(boxes)
        if n == 0:
            return Poses.empty(self.skeleton)
        with timer.stage("preprocess"):
            centers, scales = box_to_center_scale(boxes, self.input_wh, self.padding)
            matrices = crop_warp_matrices(centers, scales, self.input_wh, udp=self.udp)
            buffer = self._batch_buffer(n)  # whole buffer: fixed-size chunks read past row n (zero padding)
            crop_batch(image, matrices, self.input_wh, self.mean, self.std, self.to_rgb, out=buffer)
        with timer.stage("infer"):
            outputs = self._infer(buffer, n)
        with timer.stage("decode"):
            xy, raw = self.decode(outputs)
            keypoints = np.empty((n, self.skeleton.num_keypoints, 3), dtype=np.float32)
            keypoints[..., :2] = transform_points(xy, invert_affine(matrices))
            keypoints[..., 2] = keypoint_confidence(raw)
            keypoints, source = self.detector_fallback(keypoints, people)
            clip_boxes(boxes, height, width)
            clip_points(keypoints[..., :2], height, width)
            return Poses(boxes, scores, self.threshold(keypoints), self.skeleton, keypoint_source=source)
