"""Model families, one small package each, and their registry by manifest ``family`` name.

Adding a family = one folder here (pure decoders in ``decode.py``, the estimator on :class:`base.PoseModel` or
:class:`base.TopDownModel`, a ``Family`` entry with its builder in ``__init__.py``; shared helpers from ``common/``)
+ one line below (ARCHITECTURE.md, "How to add a model family").
"""
from pose_ros.core.families import blazepose, mmpose, movenet, openpifpaf, posenet, yolo_pose
from pose_ros.core.families.base import PARADIGMS, Family, PoseModel, TopDownModel

FAMILIES: dict[str, Family] = {f.name: f for f in (
    yolo_pose.FAMILY,
    blazepose.DETECTOR,
    blazepose.LANDMARKS,
    mmpose.SIMCC,
    mmpose.HEATMAP,
    posenet.FAMILY,
    movenet.MULTIPOSE,
    movenet.SINGLEPOSE,
    openpifpaf.FAMILY,
)}

__all__ = ["FAMILIES", "PARADIGMS", "Family", "PoseModel", "TopDownModel"]
