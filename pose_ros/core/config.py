"""Pipeline configuration: plain instance data, validated when built, before any model loads."""
from __future__ import annotations

from dataclasses import dataclass, fields

from pose_ros.core.backend import DEVICES
from pose_ros.core.torch_ops import PREPROCESSORS

MODES = ("bottom_up", "top_down", "auto")


class ConfigError(ValueError):
    """A configuration value is invalid; the message names the field and the valid choices."""


@dataclass(frozen=True)
class PoseConfig:
    """What to run and how. Every field has a ROS parameter and a CLI flag of the same name."""

    # bottom_up: one pass finds everyone (cost independent of the crowd);
    # top_down: a person detector, then the keypoint model on each person's crop (cost grows with people);
    # auto: top_down while the crowd is small, bottom_up when it grows (see the auto_* fields).
    mode: str = "bottom_up"
    model: str = "yolo11n_pose"  # a name in the models manifest (the keypoint model in top_down mode)
    detector: str = "blazepose_detector"  # person detector of top_down mode (manifest name)
    # BlazePose's detector also looks at overlapping tiles (finds people farther away; ~7 detector runs)
    detector_tiling: bool = True
    skeleton: str = "coco17"  # output layout: coco17, or the model's native one (e.g. blazepose33)
    device: str = "auto"  # auto | cpu | cuda | tensorrt (falls back to CPU, logged)
    allow_cpu_fallback: bool = True  # False: a missing GPU is a configuration error
    gpu_fp16: bool = False  # TensorRT: build FP16 engines
    trt_cache_dir: str = ""  # TensorRT engine cache (the first build takes minutes); empty = no cache
    # Letterbox (YOLO-pose) and person crops (BlazePose landmarks) as torch ops on the model's device: auto = on
    # a CUDA device when torch is installed; opencv = always on the CPU; torch = always (needs torch).
    preprocess: str = "auto"
    person_threshold: float = 0.5  # min person score, [0, 1]
    keypoint_threshold: float = 0.3  # keypoints scoring below are reported with score 0
    nms_iou: float = 0.7  # IoU above which the weaker of two person boxes is suppressed
    max_people: int = 100
    threads: int = 0  # ONNX Runtime intra-op threads, 0 = one per core
    model_dir: str = ""  # empty: $POSE_ROS_MODEL_DIR or ~/.cache/pose_ros/models
    # mode auto: `model` + `detector` are the top-down pair, `bottom_up_model` the one-stage model. Switch to
    # bottom_up after `auto_patience` frames in a row with more than `auto_switch_up` people, back to top_down
    # after as many with at most `auto_switch_down` (hysteresis: down < up, so it does not flap).
    bottom_up_model: str = "yolo11n_pose"
    auto_switch_up: int = 3
    auto_switch_down: int = 2
    auto_patience: int = 5

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"mode {self.mode!r} is not valid; valid: {', '.join(MODES)}")
        if self.device not in DEVICES:
            raise ConfigError(f"device {self.device!r} is not valid; valid: {', '.join(DEVICES)}")
        if self.preprocess not in PREPROCESSORS:
            raise ConfigError(f"preprocess {self.preprocess!r} is not valid; valid: {', '.join(PREPROCESSORS)}")
        if not self.model or (self.mode != "bottom_up" and not self.detector):
            raise ConfigError("model (and detector, in top_down mode) must name models of the manifest")
        if self.mode == "auto":
            if not 0 <= self.auto_switch_down < self.auto_switch_up:
                raise ConfigError(f"auto_switch_down ({self.auto_switch_down}) must be >= 0 and below "
                                  f"auto_switch_up ({self.auto_switch_up}), or the mode would flap")
            if self.auto_patience < 1:
                raise ConfigError(f"auto_patience = {self.auto_patience} must be >= 1")
        for name in ("person_threshold", "keypoint_threshold", "nms_iou"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"{name} = {value} is outside [0, 1]")
        if self.max_people < 1:
            raise ConfigError(f"max_people = {self.max_people} must be >= 1")
        if self.threads < 0:
            raise ConfigError(f"threads = {self.threads} must be >= 0 (0 = automatic)")

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))
