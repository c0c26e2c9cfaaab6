"""Per-kind error counting and throttled reporting for the node (no ROS imports; tested on its own).

rclpy's own throttling is per call site, so two different bad inputs in a row would share one budget;
here every kind of problem (bad encoding, bad step, ...) gets its own, and a count for diagnostics.
"""
from __future__ import annotations

import time
from collections import Counter
from typing import Callable


class ErrorThrottle:
    def __init__(self, log: Callable[[str], None], period_s: float = 5.0, clock=time.monotonic):
        self._log = log
        self._period = period_s
        self._clock = clock
        self._last: dict[str, float] = {}
        self.counts: Counter[str] = Counter()

    def report(self, kind: str, message: str) -> bool:
        """Count one ``kind`` problem; log ``message`` unless that kind was logged within the period.
        Returns True when it logged."""
        self.counts[kind] += 1
        now = self._clock()
        last = self._last.get(kind)
        if last is not None and now - last < self._period:
            return False
        self._last[kind] = now
        # After the first report, say how many there were, as the ones in between were not logged.
        self._log(message if last is None else f"{message} [{kind}: {self.counts[kind]} so far]")
        return True
