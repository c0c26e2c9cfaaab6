"""MoveNet: MultiPose (centre-heatmap bottom-up, grouped inside the graph); SinglePose lightning/thunder top-down."""
from pose_ros.core.families.base import Family
from pose_ros.core.families.movenet.model import MoveNetMultiPose
from pose_ros.core.families.movenet.topdown import MoveNetTopDown
from pose_ros.core.skeletons import get_skeleton


def build_multipose(spec, loader, config) -> MoveNetMultiPose:
    return MoveNetMultiPose(loader.backend(spec), get_skeleton(spec.skeleton), spec.input_size, config,
                            name=spec.name)


def build_topdown(spec, loader, config, detector) -> MoveNetTopDown:
    return MoveNetTopDown(loader.backend(spec), get_skeleton(spec.skeleton), spec.input_size, config, detector,
                          name=spec.name)


MULTIPOSE = Family("movenet_multipose", MoveNetMultiPose.paradigm, build_multipose)
# Any detector's boxes will do (YOLO11n-pose's people, or BlazePose's detector regions' boxes).
SINGLEPOSE = Family("movenet", "top_down", build_topdown, detectors=("yolo_pose", "blazepose_detector"))

__all__ = ["MULTIPOSE", "SINGLEPOSE", "MoveNetMultiPose", "MoveNetTopDown"]
