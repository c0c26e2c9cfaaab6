"""What the node knows about its own health, for logs and /diagnostics (no ROS imports; tested on its own).

ErrorThrottle: per-kind counts and throttled logs (rclpy's throttling is per call site, so two different
bad inputs in a row would share one budget). CameraHealth: rates, per-stage latency, input age, drops and
the reason nothing is published, over a sliding window.
"""
from __future__ import annotations

import threading
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
        self._lock = threading.Lock()  # reports come from the worker and callbacks, reads from the timer
        self._last: dict[str, float] = {}
        self.counts: Counter[str] = Counter()
        self.last_message: dict[str, str] = {}

    def report(self, kind: str, message: str) -> bool:
        """Count one ``kind`` problem; log ``message`` unless that kind was logged within the period.
        Returns True when it logged."""
        with self._lock:
            self.counts[kind] += 1
            self.last_message[kind] = message
            now = self._clock()
            last = self._last.get(kind)
            if last is not None and now - last < self._period:
                return False
            self._last[kind] = now
            count = self.counts[kind]
        # After the first report, say how many there were, as the ones in between were not logged.
        self._log(message if last is None else f"{message} [{kind}: {count} so far]")
        return True

    def snapshot(self) -> dict[str, int]:
        """The counts per kind, copied (safe to iterate while other threads report)."""
        with self._lock:
            return dict(self.counts)


@dataclass(frozen=True)
class Published:
    """One frame that made it out: when, how long each stage took (s), its age at publish (s), people."""

    time: float
    stages: dict[str, float]
    age_s: float
    people: int
    own_s: float = 0.0  # received -> published, less the core pipeline


OWN_COST_BIN_MS = 0.25
OWN_COST_BINS = 400  # 0-100 ms in 0.25 ms bins; above that, one open-ended bin


def own_cost_percentiles(bins: np.ndarray, percentiles: tuple[float, ...]) -> tuple[float, ...]:
    """Percentiles (ms) of the own costs counted in ``bins``, each as the upper edge of the bin where the
    cumulative count reaches it (a bound, at most OWN_COST_BIN_MS above the true value; inf in the open bin);
    () when nothing was counted."""
    total = int(bins.sum())
    if not total:
        return ()
    cumulative = np.cumsum(bins)
    out = []
    for q in percentiles:
        index = int(np.searchsorted(cumulative, q / 100 * total))
        out.append(float("inf") if index >= OWN_COST_BINS else (index + 1) * OWN_COST_BIN_MS)
    return tuple(out)


class CameraHealth:
    """Sliding-window statistics of one camera's frames.

    Written by the subscription callbacks and the worker thread, read by the diagnostics timer (another
    executor thread): every access holds the lock. (An unlocked read once met an append mid-iteration,
    "deque mutated during iteration", in the 10 000-frame soak, and the exception ended the node.)"""

    def __init__(self, topic: str, window_s: float = 5.0, clock=time.monotonic):
        self.topic = topic
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._started = clock()
        self._last_received: float | None = None
        # Only the window is kept (older entries are pruned); maxlen bounds a burst within it.
        self._received: deque[float] = deque(maxlen=10_000)
        self._published: deque[Published] = deque(maxlen=10_000)
        self._rejected: deque[tuple[float, str]] = deque(maxlen=10_000)
        self.received_total = 0
        self.published_total = 0
        self.dropped_total = 0  # replaced by a newer frame before processing
        self.batched_total = 0  # published frames whose model call was shared with other cameras' frames
        # The node's own cost of every frame since start, in OWN_COST_BIN_MS bins (the last one open-ended): run-long
        # percentiles in fixed memory, where the window's percentiles cover only its last few seconds.
        self._own_cost_bins = np.zeros(OWN_COST_BINS + 1, np.int64)

    def received(self) -> None:
        with self._lock:
            self._last_received = now = self._clock()
            self._received.append(now)
            self.received_total += 1

    def rejected(self, reason: str) -> None:
        with self._lock:
            self._rejected.append((self._clock(), reason))

    def published(self, stages: dict[str, float], age_s: float, people: int, batched: bool = False,
                  own_s: float = 0.0) -> None:
        with self._lock:
            self._published.append(Published(self._clock(), dict(stages), age_s, people, own_s))
            self._own_cost_bins[min(max(int(own_s * 1e3 / OWN_COST_BIN_MS), 0), OWN_COST_BINS)] += 1
            self.published_total += 1
            self.batched_total += batched

    def _window(self, now: float) -> tuple[list, list, list]:
        """Copies of the entries within the window (older ones are dropped); call with the lock held."""
        for items, key in ((self._received, lambda x: x), (self._published, lambda p: p.time),
                           (self._rejected, lambda r: r[0])):
            while items and now - key(items[0]) > self.window_s:
                items.popleft()
        return list(self._received), list(self._published), list(self._rejected)

    def summary(self, person_threshold: float, silence_cause: str = "") -> tuple[int, str, dict[str, str]]:
        """(level, message, key/values) over the window. The message says why nothing is published;
        ``silence_cause`` is what the caller knows of why no image arrives (publishers, QoS)."""
        with self._lock:
            now = self._clock()
            received, published, rejected = self._window(now)
            last_received = self._last_received
            totals = (self.received_total, self.published_total, self.dropped_total, self.batched_total)
            own_since_start = own_cost_percentiles(self._own_cost_bins, (50, 99))
        span = min(self.window_s, max(now - self._started, 1e-3))
        values = {
            "input rate (Hz)": f"{len(received) / span:.2f}",
            "output rate (Hz)": f"{len(published) / span:.2f}",
            "frames received": str(totals[0]),
            "frames published": str(totals[1]),
            "frames dropped (newer frame arrived)": str(totals[2]),
            "frames batched with other cameras": str(totals[3]),
            "frames rejected (window)": str(len(rejected)),
        }
        if published:
            stages = sorted({k for p in published for k in p.stages})
            for stage in stages:
                median = np.median([p.stages[stage] for p in published if stage in p.stages])
                values[f"latency {stage} (ms)"] = f"{median * 1e3:.1f}"
            values["input age at publish (ms)"] = f"{np.median([p.age_s for p in published]) * 1e3:.1f}"
            own = np.array([p.own_s for p in published]) * 1e3
            values["node own cost p50 / p99 (ms)"] = f"{np.median(own):.2f} / {np.percentile(own, 99):.2f}"
            values["people (last frame)"] = str(published[-1].people)
        if own_since_start:
            values["node own cost p50 / p99 since start (ms, upper bin edges)"] = \
                f"{own_since_start[0]:.2f} / {own_since_start[1]:.2f}"
        if not received:
            since = now - (last_received if last_received is not None else self._started)
            return WARN, f"no images on {self.topic} for {since:.1f} s" + (f": {silence_cause}" if silence_cause
                                                                          else ""), values
        if not published and rejected:
            return ERROR, f"all frames rejected: {rejected[-1][1]}", values
        if published and all(p.people == 0 for p in published):
            return OK, (f"publishing, but no person above person_threshold {person_threshold:.2f} in the last "
                        f"{len(published)} frames"), values
        if not published:
            return WARN, "receiving images, none processed yet", values
        return OK, "publishing", values
