"""mode auto: top-down while the crowd is small (accurate, one keypoint pass per person), bottom-up when it
grows (one pass for everyone). Switches with hysteresis so it does not flap. One decision per stream (camera):
each camera's crowd is its own."""
from __future__ import annotations

from dataclasses import dataclass

from pose_ros.core.config import PoseConfig


@dataclass(frozen=True)
class Switch:
    """A mode change: on which frame, from and to which mode, and why."""

    frame: int
    from_mode: str
    to_mode: str
    reason: str


class AutoSwitch:
    """Which mode the next frame runs in, from the number of people in the frames so far."""

    def __init__(self, config: PoseConfig):
        self.config = config
        self.mode = "top_down"
        self.switches: list[Switch] = []
        self._frame = 0
        self._streak = 0  # frames in a row that argue for the other mode

    def update(self, people: int) -> Switch | None:
        """Count one frame's people (found in :attr:`mode`); returns the switch it caused, if any."""
        cfg = self.config
        self._frame += 1
        if self.mode == "top_down":
            wants_other, reason = people > cfg.auto_switch_up, f"more than {cfg.auto_switch_up} people"
        else:
            wants_other, reason = people <= cfg.auto_switch_down, f"at most {cfg.auto_switch_down} people"
        self._streak = self._streak + 1 if wants_other else 0
        if self._streak < cfg.auto_patience:
            return None
        new_mode = "bottom_up" if self.mode == "top_down" else "top_down"
        switch = Switch(self._frame, self.mode, new_mode, f"{reason} for {cfg.auto_patience} frames (last: {people})")
        self.switches.append(switch)
        self.mode, self._streak = new_mode, 0
        return switch

    def status(self) -> dict[str, str]:
        out = {"mode in use": self.mode}
        if self.switches:
            last = self.switches[-1]
            out["last mode switch"] = f"{last.from_mode} -> {last.to_mode}: {last.reason}"
        return out
