"""Top-down MMPose models a user exports (RTMPose/SimCC, HRNet/ViTPose heatmaps): docs/bring_your_own_mmpose_model.md."""
from pose_ros.core.config import ConfigError
from pose_ros.core.families.base import Family
from pose_ros.core.families.common.crops import MMPOSE_MEAN, MMPOSE_STD
from pose_ros.core.families.mmpose.codecs import REFINES
from pose_ros.core.families.mmpose.model import TopDownKeypoints
from pose_ros.core.skeletons import get_skeleton


def build(spec, loader, config, detector) -> TopDownKeypoints:
    """Options from the manifest entry: mean, std (model input normalisation), split_ratio (SimCC), refine
    (heatmaps: quarter, dark, udp or null) and blur_kernel (dark/udp)."""
    options = spec.options
    refine = options.get("refine", "quarter")
    if refine not in REFINES:
        raise ConfigError(f"model {spec.name!r}: refine {refine!r} is not one of {', '.join(map(str, REFINES))}")
    return TopDownKeypoints(loader.backend(spec), get_skeleton(spec.skeleton), spec.input_size, spec.family, config,
                            detector, mean=tuple(options.get("mean", MMPOSE_MEAN)),
                            std=tuple(options.get("std", MMPOSE_STD)),
                            split_ratio=float(options.get("split_ratio", 2.0)), refine=refine,
                            blur_kernel=int(options.get("blur_kernel", 11)), name=spec.name)


_DETECTORS = ("yolo_pose", "blazepose_detector")  # any detector's boxes will do
SIMCC = Family("simcc", "top_down", build, detectors=_DETECTORS)
HEATMAP = Family("heatmap", "top_down", build, detectors=_DETECTORS)

__all__ = ["HEATMAP", "SIMCC", "TopDownKeypoints"]
