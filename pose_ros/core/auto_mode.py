"""mode auto: top-down while the crowd is small (accurate, one keypoint pass per person), bottom-up when
it grows (one pass for everyone). Switches with hysteresis so it does not flap."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from pose_ros.core.config import PoseConfig
from pose_ros.core.result import Poses


@dataclass(frozen=True)
class Switch:
    """A mode change: on which frame, from and to which mode, and why."""

    frame: int
    from_mode: str
    to_mode: str
    reason: str


class AutoMode:
    """Delegates each frame to the top-down or the bottom-up estimator; both publish the same skeleton."""

    def __init__(self, top_down, bottom_up, config: PoseConfig):
        if top_down.skeleton != bottom_up.skeleton:
            raise ValueError(f"auto mode needs one skeleton for both paradigms, got {top_down.skeleton.name} "
                             f"and {bottom_up.skeleton.name}")
        self.estimators = {"top_down": top_down, "bottom_up": bottom_up}
        self.config = config
        self.skeleton = top_down.skeleton
        self.mode = "top_down"
        self.switches: list[Switch] = []
        self.timings: dict[str, float] = {}
        self._frame = 0
        self._streak = 0  # frames in a row that argue for the other mode

    def with_config(self, config: PoseConfig) -> "AutoMode":
        """New thresholds for both estimators; the current mode and its history are kept."""
        other = AutoMode.__new__(AutoMode)
        other.__dict__.update(self.__dict__)
        other.config = config
        other.estimators = {"top_down": self.estimators["top_down"].with_config(replace(config, mode="top_down")),
                            "bottom_up": self.estimators["bottom_up"].with_config(
                                replace(config, mode="bottom_up", model=config.bottom_up_model))}
        return other

    def __call__(self, image: np.ndarray) -> Poses:
        estimator = self.estimators[self.mode]
        poses = estimator(image)
        self.timings = dict(estimator.timings)
        self._frame += 1
        self._update(len(poses))
        return poses

    def _update(self, people: int) -> None:
        cfg = self.config
        if self.mode == "top_down":
            wants_other, reason = people > cfg.auto_switch_up, f"more than {cfg.auto_switch_up} people"
        else:
            wants_other, reason = people <= cfg.auto_switch_down, f"at most {cfg.auto_switch_down} people"
        self._streak = self._streak + 1 if wants_other else 0
        if self._streak >= cfg.auto_patience:
            new_mode = "bottom_up" if self.mode == "top_down" else "top_down"
            self.switches.append(Switch(self._frame, self.mode, new_mode,
                                        f"{reason} for {cfg.auto_patience} frames (last: {people})"))
            self.mode, self._streak = new_mode, 0
