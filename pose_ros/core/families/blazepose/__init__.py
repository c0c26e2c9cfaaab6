"""BlazePose (MediaPipe): the person detector and the full-body landmark model, top-down."""
from pose_ros.core.families.base import Family
from pose_ros.core.families.blazepose.detector import BlazePoseDetector
from pose_ros.core.families.blazepose.landmarks import BlazePoseLandmarks
from pose_ros.core.skeletons import get_skeleton


def build_detector(spec, loader, config) -> BlazePoseDetector:
    return BlazePoseDetector(loader.backend(spec), config, name=spec.name)


def build_landmarks(spec, loader, config, detector) -> BlazePoseLandmarks:
    backend = loader.backend(spec)
    return BlazePoseLandmarks(backend, detector, config, get_skeleton(config.skeleton), loader.torch_pre(backend),
                              name=spec.name)


DETECTOR = Family("blazepose_detector", BlazePoseDetector.paradigm, build_detector)
# Regions come from BlazePose's alignment points, or from a COCO-17 model's people.
LANDMARKS = Family("blazepose_landmark", BlazePoseLandmarks.paradigm, build_landmarks,
                   detectors=("blazepose_detector", "yolo_pose"))

__all__ = ["DETECTOR", "LANDMARKS", "BlazePoseDetector", "BlazePoseLandmarks"]
