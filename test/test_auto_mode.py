"""mode auto: switching between top-down and bottom-up with hysteresis, decided per stream (camera)."""
import cv2
import numpy as np
import pytest

from pose_ros.core.config import ConfigError, PoseConfig
from pose_ros.core.pipeline import PoseModels, build_models
from pose_ros.core.result import Poses
from pose_ros.core.skeletons import COCO17
from pose_ros.core.stream import Frame, PoseStream, StreamConfig


class CountingEstimator:
    """Test double: returns as many people as the 'image' (1x1 pixel) says, records its calls."""

    def __init__(self, name):
        self.skeleton, self.calls, self.timings, self.name = COCO17, 0, {"infer": 0.0}, name

    def __call__(self, image) -> Poses:
        self.calls += 1
        people = int(image[0, 0, 0])
        k = COCO17.num_keypoints
        return Poses(np.zeros((people, 4), np.float32), np.full(people, 0.9, np.float32),
                     np.zeros((people, k, 3), np.float32), COCO17)

    def batch(self, images) -> list[Poses]:  # as PoseModel: the stream calls batch (one image, or cameras together)
        return [self(image) for image in images]


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
    top, bottom = CountingEstimator("top"), CountingEstimator("bottom")
    stream = PoseStream(PoseModels(CONFIG, {"top_down": top, "bottom_up": bottom}), StreamConfig(tracking=False))
    seen = ""
    for i, people in enumerate(crowd):
        seen += stream.mode[0].upper()
        result = stream.process(Frame(np.full((1, 1, 3), people, np.uint8), float(i)))
        assert result.mode[0].upper() == seen[-1] and result.model == ("top" if seen[-1] == "T" else "bottom")
    assert seen == modes
    assert top.calls == modes.count("T") and bottom.calls == modes.count("B")
    assert all("for 3 frames" in s.reason for s in stream.auto.switches)


def test_each_stream_decides_for_its_own_crowd():
    top, bottom = CountingEstimator("top"), CountingEstimator("bottom")
    models = PoseModels(CONFIG, {"top_down": top, "bottom_up": bottom})
    crowded, alone = PoseStream(models, StreamConfig(tracking=False)), PoseStream(models, StreamConfig(tracking=False))
    for i in range(4):
        crowded.process(Frame(np.full((1, 1, 3), 5, np.uint8), float(i)))
        alone.process(Frame(np.full((1, 1, 3), 1, np.uint8), float(i)))
    assert (crowded.mode, alone.mode) == ("bottom_up", "top_down")


def test_flapping_config_is_rejected():
    with pytest.raises(ConfigError, match="flap"):
        PoseConfig(mode="auto", auto_switch_up=2, auto_switch_down=2)


def test_real_models_switch_to_bottom_up_in_a_crowd_and_back(photos):
    config = PoseConfig(mode="auto", model="blazepose_landmark_full", detector="yolo11n_pose", device="cpu",
                        auto_switch_up=3, auto_switch_down=2, auto_patience=2)
    stream = PoseStream(build_models(config))
    alone = cv2.imread(str(photos["astronaut.png"]))
    bus, zidane = cv2.imread(str(photos["bus.jpg"])), cv2.imread(str(photos["zidane.jpg"]))
    crowd = np.hstack([cv2.resize(bus, (540, 720)), cv2.resize(zidane, (1280, 720))])  # 3 + 2 people
    people = [len(stream.process(Frame(image, float(i))).poses)
              for i, image in enumerate([alone, crowd, crowd, crowd, alone, alone, alone])]
    switches = stream.auto.switches
    assert [(s.from_mode, s.to_mode) for s in switches] == [("top_down", "bottom_up"), ("bottom_up", "top_down")]
    assert people[1] >= 4 and people[0] == 1
