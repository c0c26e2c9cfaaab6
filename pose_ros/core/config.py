"""What the estimator runs: plain instance data, validated when built, before any model loads. Each field's
schema (meaning, limits, change kind) is on the field (pose_ros.core.settings); node parameters and CLI flags
of the same names are generated from it."""
from __future__ import annotations

from dataclasses import dataclass, fields

from pose_ros.core.region import RegionConfig
from pose_ros.core.runtime.backend import DEVICES
from pose_ros.core.runtime.torch_ops import PREPROCESSORS
from pose_ros.core.settings import ConfigError, check_settings, group, setting

__all__ = ["ConfigError", "MODES", "PoseConfig"]

# bottom_up: one pass finds everyone, whatever the crowd (one-stage YOLO-pose, which finds boxes first and
# regresses each box's keypoints; or keypoints-first models, which find all joints, then group them);
# top_down: a person detector, then the keypoint model on each person's crop (cost grows with the crowd);
# auto: top_down while the crowd is small, bottom_up when it grows (see the auto_* fields).
MODES = ("bottom_up", "top_down", "auto")


@dataclass(frozen=True)
class PoseConfig:
    """What to run and how (one estimator; a node serves all its cameras with it)."""

    mode: str = setting("bottom_up", "bottom_up (one pass for everyone) | top_down (a detector, then keypoints "
                        "per person) | auto (top_down for small crowds, bottom_up for large ones)", choices=MODES)
    model: str = setting("yolo11n_pose", "keypoint model, a name of the models manifest (the top-down model in "
                         "mode auto)")
    detector: str = setting("blazepose_detector", "person detector of top_down mode, a name of the models manifest")
    detector_tiling: bool = setting(True, "BlazePose's detector also scans overlapping tiles (finds smaller "
                                    "people; ~7 detector runs)")
    bottom_up_tiles: int = setting(1, "bottom-up models also run on N x N overlapping tiles of the frame (finds "
                                      "smaller people; N*N + 1 model runs a frame); 1: the whole frame only",
                                   change="reload", low=1, high=4)
    tile_overlap: float = setting(0.25, "overlap of neighbouring tiles, as a fraction of a tile side",
                                  change="reload", low=0.0, high=0.75)
    region: RegionConfig = group(RegionConfig, "roi_")
    skeleton: str = setting("coco17", "published layout: coco17, or the model's own (blazepose33 for BlazePose)")
    device: str = setting("auto", "where the models run; a missing GPU falls back to the CPU (logged)",
                          choices=DEVICES)
    allow_cpu_fallback: bool = setting(True, "false: running on the CPU although a GPU was asked for (no GPU build, "
                                       "or its CUDA/cuDNN/TensorRT libraries did not load) fails configure")
    device_id: int = setting(0, "CUDA device the models run on (0 = the first GPU)", low=0, high=64)
    gpu_fp16: bool = setting(False, "TensorRT only: build FP16 engines (the CUDA provider runs the model's FP32; "
                             "a warning says so)")
    trt_cache_dir: str = setting("~/.cache/pose_ros/trt", "TensorRT engine and timing caches (a subdirectory per "
                                 "onnxruntime/TensorRT version and model); the first build takes minutes; "
                                 "empty = none (rebuilt at every start)")
    max_batch: int = setting(4, "largest batch prepared at configure (cameras per YOLO call, people per top-down "
                             "keypoint call): TensorRT's profile covers 1..max_batch (larger batches run in chunks) "
                             "and the warm-up runs every model at batch 1 and max_batch", low=1, high=64)
    preprocess: str = setting("auto", "where letterbox and person crops run: auto (torch ops on a CUDA device when "
                              "torch is installed), opencv, torch", choices=PREPROCESSORS)
    person_threshold: float = setting(0.5, "minimum person score", change="live", low=0.0, high=1.0)
    keypoint_threshold: float = setting(0.3, "keypoints scoring below are published with score 0 (never dropped)",
                                        change="live", low=0.0, high=1.0)
    nms_iou: float = setting(0.7, "IoU above which the weaker of two overlapping person boxes is suppressed",
                             change="live", low=0.0, high=1.0)
    max_people: int = setting(100, "most people reported per image", change="live", low=1, high=1000)
    threads: int = setting(0, "ONNX Runtime threads, 0 = one per core", low=0, high=256)
    model_dir: str = setting("", "models directory; empty = $POSE_ROS_MODEL_DIR or ~/.cache/pose_ros/models")
    bottom_up_model: str = setting("yolo11n_pose", "mode auto: the bottom-up model used for crowds")
    auto_switch_up: int = setting(3, "mode auto: switch to bottom_up above this many people", low=1, high=1000)
    auto_switch_down: int = setting(2, "mode auto: back to top_down at or below this many people "
                                    "(below auto_switch_up)", low=0, high=1000)
    auto_patience: int = setting(5, "mode auto: frames in a row a crowd size must hold before switching",
                                 low=1, high=1000)

    def __post_init__(self) -> None:
        check_settings(self)
        if not self.model or (self.mode != "bottom_up" and not self.detector):
            raise ConfigError("model (and detector, in top_down mode) must name models of the manifest")
        if self.mode == "auto" and not self.auto_switch_down < self.auto_switch_up:
            raise ConfigError(f"auto_switch_down ({self.auto_switch_down}) must be below auto_switch_up "
                              f"({self.auto_switch_up}), or the mode would flap")

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))
