import numpy as np
import pytest

from pose_ros.core.result import Poses
from pose_ros.core.skeletons import COCO17, get_skeleton


def make(n=2, k=17, **override):
    fields = dict(boxes=np.zeros((n, 4), np.float32), scores=np.full(n, 0.5, np.float32),
                  keypoints=np.zeros((n, k, 3), np.float32), skeleton=COCO17)
    fields.update(override)
    return Poses(**fields)


def test_valid_poses_default_to_untracked():
    poses = make()
    assert len(poses) == 2 and poses.track_ids.tolist() == [-1, -1]


@pytest.mark.parametrize("override, message", [
    (dict(boxes=np.zeros((2, 5), np.float32)), "boxes"),
    (dict(boxes=np.zeros((2, 4), np.float64)), "boxes"),
    (dict(keypoints=np.zeros((2, 33, 3), np.float32)), "keypoints"),
    (dict(track_ids=np.zeros(3, np.int32)), "track_ids"),
    (dict(scores=np.full(2, 1.5, np.float32)), r"\[0, 1\]"),
    (dict(boxes=np.full((2, 4), np.nan, np.float32)), "finite"),
])
def test_invalid_arrays_are_rejected_on_construction(override, message):
    with pytest.raises(ValueError, match=message):
        make(**override)


def test_json_form_has_one_entry_per_person_with_k_rows():
    d = make(n=1).to_dict()
    assert d["skeleton"] == "coco17" and len(d["people"][0]["keypoints"]) == 17


def test_unknown_skeleton_lists_the_valid_names():
    with pytest.raises(KeyError, match="valid: blazepose33, coco17"):
        get_skeleton("coco18")
