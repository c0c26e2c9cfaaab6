"""What the node knows about its own health, for logs and /diagnostics (no ROS imports; tested on its own).

ErrorThrottle: per-kind counts and throttled logs (rclpy's throttling is per call site, so two different
bad inputs in a row would share one budget). CameraHealth: rates, per-stage latency, input age, drops and
the reason nothing is published, over a sliding window.
"""
from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Callable

import numpy as np

OK, WARN, ERROR = 0, 1, 2  # diagnostic_msgs/DiagnosticStatus levels


class ErrorThrottle:
    def __init__(self, log: Callable[[str], None], period_s: float = 5.0, clock=time.monotonic):
        self._log = log
        self._period = period_s
        self._clock = clock
        self._last: dict[str, float] = {}
        self.counts: Counter[str] = Counter()
        self.last_message: dict[str, str] = {}

    def report(self, kind: str, message: str) -> bool:
        """Count one ``kind`` problem; log ``message`` unless that kind was logged within the period.
        Returns True when it logged."""
        self.counts[kind] += 1
        self.last_message[kind] = message
        now = self._clock()
        last = self._last.get(kind)
        if last is not None and now - last < self._period:
            return False
        self._last[kind] = now
        # After the first report, say how many there were, as the ones in between were not logged.
        self._log(message if last is None else f"{message} [{kind}: {self.counts[kind]} so far]")
        return True


@dataclass(frozen=True)
class Published:
    """One frame that made it out: when, how long each stage took (s), its age at publish (s), people."""

    time: float
    stages: dict[str, float]
    age_s: float
    people: int


class CameraHealth:
    """Sliding-window statistics of one camera's frames."""

    def __init__(self, topic: str, window_s: float = 5.0, clock=time.monotonic):
        self.topic = topic
        self.window_s = window_s
        self._clock = clock
        self._started = clock()
        self._received: deque[float] = deque(maxlen=10_000)
        self._published: deque[Published] = deque(maxlen=10_000)
        self._rejected: deque[tuple[float, str]] = deque(maxlen=10_000)
        self.received_total = 0
        self.published_total = 0
        self.dropped_total = 0  # replaced by a newer frame before processing
        self.batched_total = 0  # published frames whose model call was shared with other cameras' frames

    def received(self) -> None:
        self._received.append(self._clock())
        self.received_total += 1

    def rejected(self, reason: str) -> None:
        self._rejected.append((self._clock(), reason))

    def published(self, stages: dict[str, float], age_s: float, people: int, batched: bool = False) -> None:
        self._published.append(Published(self._clock(), dict(stages), age_s, people))
        self.published_total += 1
        self.batched_total += batched

    def _recent(self, items, now, key=lambda x: x):
        return [x for x in items if now - key(x) <= self.window_s]

    def summary(self, person_threshold: float) -> tuple[int, str, dict[str, str]]:
        """(level, message, key/values) over the window. The message says why nothing is published."""
        now = self._clock()
        received = self._recent(self._received, now)
        published = self._recent(self._published, now, key=lambda p: p.time)
        rejected = self._recent(self._rejected, now, key=lambda r: r[0])
        span = min(self.window_s, max(now - self._started, 1e-3))
        values = {
            "input rate (Hz)": f"{len(received) / span:.2f}",
            "output rate (Hz)": f"{len(published) / span:.2f}",
            "frames received": str(self.received_total),
            "frames published": str(self.published_total),
            "frames dropped (newer frame arrived)": str(self.dropped_total),
            "frames batched with other cameras": str(self.batched_total),
            "frames rejected (window)": str(len(rejected)),
        }
        if published:
            stages = sorted({k for p in published for k in p.stages})
            for stage in stages:
                median = np.median([p.stages[stage] for p in published if stage in p.stages])
                values[f"latency {stage} (ms)"] = f"{median * 1e3:.1f}"
            values["input age at publish (ms)"] = f"{np.median([p.age_s for p in published]) * 1e3:.1f}"
            values["people (last frame)"] = str(published[-1].people)
        if not received:
            since = now - (self._received[-1] if self._received else self._started)
            return WARN, f"no images on {self.topic} for {since:.1f} s", values
        if not published and rejected:
            return ERROR, f"all frames rejected: {rejected[-1][1]}", values
        if published and all(p.people == 0 for p in published):
            return OK, (f"publishing, but no person above person_threshold {person_threshold:.2f} in the last "
                        f"{len(published)} frames"), values
        if not published:
            return WARN, "receiving images, none processed yet", values
        return OK, "publishing", values
