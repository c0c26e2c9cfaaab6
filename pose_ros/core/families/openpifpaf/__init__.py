"""OpenPifPaf: the keypoints-first bottom-up family of composite fields (CIF joints, CAF connections)."""
from pose_ros.core.families.base import Family
from pose_ros.core.families.openpifpaf.model import OpenPifPaf
from pose_ros.core.skeletons import get_skeleton


def build(spec, loader, config) -> OpenPifPaf:
    return OpenPifPaf(loader.backend(spec), get_skeleton(spec.skeleton), spec.input_size, config,
                      stride=int(spec.options.get("stride", 16)), name=spec.name)


FAMILY = Family("openpifpaf", OpenPifPaf.paradigm, build)

__all__ = ["FAMILY", "OpenPifPaf"]
