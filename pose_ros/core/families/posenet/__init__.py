"""PoseNet: the keypoints-first bottom-up family (joints first, grouped by displacement fields)."""
from pose_ros.core.families.base import Family
from pose_ros.core.families.posenet.model import PoseNet
from pose_ros.core.skeletons import get_skeleton


def build(spec, loader, config) -> PoseNet:
    return PoseNet(loader.backend(spec), get_skeleton(spec.skeleton), spec.input_size, config,
                   stride=int(spec.options.get("output_stride", 16)), name=spec.name)


FAMILY = Family("posenet", PoseNet.paradigm, build)

__all__ = ["FAMILY", "PoseNet"]
