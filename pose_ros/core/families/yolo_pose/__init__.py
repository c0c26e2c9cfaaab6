"""YOLO-pose (ultralytics' YOLO11n-pose): the one-stage family."""
from pose_ros.core.families.base import Family
from pose_ros.core.families.yolo_pose.model import YoloPose
from pose_ros.core.skeletons import get_skeleton


def build(spec, loader, config) -> YoloPose:
    backend = loader.backend(spec)
    return YoloPose(backend, get_skeleton(spec.skeleton), spec.input_size, config, loader.torch_pre(backend),
                    name=spec.name)


FAMILY = Family("yolo_pose", YoloPose.paradigm, build)

__all__ = ["FAMILY", "YoloPose"]
