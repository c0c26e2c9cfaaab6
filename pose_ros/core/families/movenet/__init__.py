"""MoveNet: MultiPose (centre-heatmap bottom-up, grouped inside the graph)."""
from pose_ros.core.families.base import Family
from pose_ros.core.families.movenet.model import MoveNetMultiPose
from pose_ros.core.skeletons import get_skeleton


def build_multipose(spec, loader, config) -> MoveNetMultiPose:
    return MoveNetMultiPose(loader.backend(spec), get_skeleton(spec.skeleton), spec.input_size, config,
                            name=spec.name)


MULTIPOSE = Family("movenet_multipose", MoveNetMultiPose.paradigm, build_multipose)

__all__ = ["MULTIPOSE", "MoveNetMultiPose"]
