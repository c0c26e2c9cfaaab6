"""mode auto: switching between top-down and bottom-up with hysteresis."""
import cv2
import numpy as np
import pytest

from pose_ros.core.auto_mode import AutoMode
from pose_ros.core.config import ConfigError, PoseConfig
from pose_ros.core.pipeline import build_estimator
from pose_ros.core.result import Poses
from pose_ros.core.skeletons import COCO17


class CountingEstimator:
    """Test double: returns the number of people written in the 'image' (an int), records its calls."""

    def __init__(self):
        self.skeleton, self.calls, self.timings = COCO17, 0, {"infer": 0.0}

    def __call__(self, people: int) -> Poses:
        self.calls += 1
        k = COCO17.num_keypoints
        return Poses(np.zeros((people, 4), np.float32), np.full(people, 0.9, np.float32),
                     np.zeros((people, k, 3), np.float32), COCO17)


CONFIG = PoseConfig(mode="auto", model="blazepose_landmark_full", detector="yolo11n_pose", auto_switch_up=3,
                    auto_switch_down=2, auto_patience=3)


@pytest.mark.parametrize("crowd, modes", [
    ([1] * 6, "T" * 6),                               # small crowd: stays top-down
    ([5] * 6, "TTTBBB"),                              # big crowd: switches after 3 frames
    ([5] * 3 + [1] * 6, "TTT" + "BBB" + "TTT"),       # and back after 3 small frames
    ([5, 1] * 6, "T" * 12),                           # alternating: never 3 in a row, no flapping
    ([5] * 3 + [3] * 6, "TTT" + "B" * 6),             # 3 people: above 'down', not above 'up': stays
])
def test_switches_with_hysteresis(crowd, modes):
    top, bottom = CountingEstimator(), CountingEstimator()
    auto = AutoMode(top, bottom, CONFIG)
    seen = ""
    for people in crowd:
        seen += auto.mode[0].upper().replace("B", "B")
        auto(people)
    assert seen == modes
    assert top.calls == modes.count("T") and bottom.calls == modes.count("B")
    assert all("for 3 frames" in s.reason for s in auto.switches)


def test_flapping_config_is_rejected():
    with pytest.raises(ConfigError, match="flap"):
        PoseConfig(mode="auto", auto_switch_up=2, auto_switch_down=2)


def test_real_models_switch_to_bottom_up_in_a_crowd_and_back(photos):
    config = PoseConfig(mode="auto", model="blazepose_landmark_full", detector="yolo11n_pose", device="cpu",
                        auto_switch_up=3, auto_switch_down=2, auto_patience=2)
    auto = build_estimator(config)
    alone = cv2.imread(str(photos["astronaut.png"]))
    bus, zidane = cv2.imread(str(photos["bus.jpg"])), cv2.imread(str(photos["zidane.jpg"]))
    crowd = np.hstack([cv2.resize(bus, (540, 720)), cv2.resize(zidane, (1280, 720))])  # 3 + 2 people
    people = [len(auto(image)) for image in [alone, crowd, crowd, crowd, alone, alone, alone]]
    assert [(s.from_mode, s.to_mode) for s in auto.switches] == [("top_down", "bottom_up"), ("bottom_up", "top_down")]
    assert people[1] >= 4 and people[0] == 1
