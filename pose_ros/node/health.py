"""What the node knows about its own health, for logs and /diagnostics (no ROS imports; tested on its own).

ErrorThrottle: per-kind counts and throttled logs (rclpy's throttling is per call site, so two different
bad inputs in a row would share one budget). FrameLoss: frames that never reached the node's callback (lost in
transport, replaced in a writer's or the subscription's queue), from gaps in the DDS publication sequence numbers,
or in the camera's own stamps where the middleware gives no sequence numbers. CameraHealth: the level and its reason from the age of the last
frame and of the last success (about a second: a dead camera or a rejected stream shows at the next diagnostics
message), and rates, per-stage latency, input age, drops, losses and rejects over a sliding window.
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
    """Counts problems per kind and logs each at most once per period. Two problems of one kind that differ in
    ``detail`` (an nv12 frame, then a mono16 frame: kind ``bad_image_encoding``) are throttled apart, so the second
    is not hidden behind the first, while /diagnostics counts them together under their kind. At most MAX_KEYS
    (kind, detail) pairs are kept apart; later details share one budget (a publisher inventing encodings cannot
    grow the table)."""

    MAX_KEYS = 256

    def __init__(self, log: Callable[[str], None], period_s: float = 5.0, clock=time.monotonic):
        self._log = log
        self._period = period_s
        self._clock = clock
        self._lock = threading.Lock()  # reports come from the worker and callbacks, reads from the timer
        self._last: dict[tuple[str, str], float] = {}
        self._logged_counts: Counter[tuple[str, str]] = Counter()
        self.counts: Counter[str] = Counter()
        self.last_message: dict[str, str] = {}

    def report(self, kind: str, message: str, detail: str = "") -> bool:
        """Count one ``kind`` problem; log ``message`` unless that kind with that ``detail`` was logged within the
        period. Returns True when it logged."""
        with self._lock:
            key = (kind, detail[:64])
            if key not in self._last and len(self._last) >= self.MAX_KEYS:
                key = (kind, "...")
            self.counts[kind] += 1
            self._logged_counts[key] += 1
            self.last_message[kind] = message
            now = self._clock()
            last = self._last.get(key)
            if last is not None and now - last < self._period:
                return False
            self._last[key] = now
            count = self._logged_counts[key]
        # After the first report, say how many there were, as the ones in between were not logged.
        label = f"{kind} {key[1]}" if key[1] else kind
        self._log(message if last is None else f"{message} [{label}: {count} so far]")
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


class StampGaps:
    """Frames lost before the node, told from the camera's own stamps: a gap of about k periods between two
    consecutive stamps means k - 1 frames that never arrived (Fast DDS dropping large best-effort frames, a
    reliable writer's queue overwritten on a slow link, a driver skipping frames). The period is a low quantile
    (the 25th percentile) of recent stamp intervals, not their median: with half the frames lost the median
    interval is two periods, while consecutive deliveries still show the true one. A gap longer than
    ``interruption_s`` (and 20 periods), or a stamp that goes back, is an interruption (the camera paused,
    restarted or a bag looped), not a loss."""

    MIN_INTERVALS = 8  # intervals seen before the period is trusted

    def __init__(self, history: int = 64, interruption_s: float = 2.0):
        self._intervals: deque[float] = deque(maxlen=history)
        self._interruption_s = interruption_s
        self._last: float | None = None
        self.interruptions = 0

    @property
    def period(self) -> float | None:
        """The camera's frame period (s) as its stamps show it, or None before enough frames."""
        if len(self._intervals) < self.MIN_INTERVALS:
            return None
        return float(np.percentile(self._intervals, 25))

    def add(self, stamp_s: float) -> int:
        """The next frame's stamp (s); returns how many frames its gap says were lost."""
        last, self._last = self._last, stamp_s
        if last is None or stamp_s == last:  # the first frame, or a repeated stamp (no gap to read)
            return 0
        interval = stamp_s - last
        if interval < 0:
            self.interruptions += 1
            return 0
        period = self.period
        if period is None or interval <= 1.5 * period:
            self._intervals.append(interval)
            return 0
        if interval > max(self._interruption_s, 20 * period):
            self.interruptions += 1
            return 0
        self._intervals.append(interval)  # a gap is an interval too: the quantile keeps the period honest
        return max(int(round(interval / period)) - 1, 0)


class FrameLoss:
    """Frames that never reached the node's image callback. Fast DDS numbers every sample a writer sends and rclpy
    (Iron and later) hands the number to a callback that takes a message info: a jump from n to n + k is k - 1
    frames lost on the way (best-effort fragments dropped, a reliable writer's KEEP_LAST queue or the subscription's
    queue overwritten). A number that goes back is a new publisher (a camera restart), not a loss. Where no
    numbers come (Humble), the stamps tell the losses (StampGaps), less surely: a camera whose every second frame
    is lost looks like a camera at half the rate."""

    def __init__(self):
        self.stamps = StampGaps()
        self._last_sequence: int | None = None
        self.restarts = 0

    @property
    def interruptions(self) -> int:
        return self.restarts + self.stamps.interruptions

    def add(self, stamp_s: float | None, sequence: int | None) -> int:
        """The next frame's stamp (s) and publication sequence number (None when unknown); the frames lost."""
        from_stamps = self.stamps.add(stamp_s) if stamp_s is not None else 0  # keeps the period current
        if sequence is None:
            return from_stamps
        last, self._last_sequence = self._last_sequence, sequence
        if last is None:
            return 0
        if sequence <= last:
            self.restarts += 1
            return 0
        return sequence - last - 1


class CameraHealth:
    """Statistics of one camera's frames, and the level that follows from them.

    The level comes from ages: the last frame received and the last frame published or rejected, against
    ``stale_s`` (about one second; three frame intervals for slower streams), so a camera that dies or a stream
    that turns bad shows at the next diagnostics message. Rates, latencies, losses and rejects come from a sliding
    window of ``window_s`` seconds.

    Written by the subscription callbacks and the worker thread, read by the diagnostics timer (another
    executor thread): every access holds the lock. (An unlocked read once met an append mid-iteration,
    "deque mutated during iteration", in the 10 000-frame soak, and the exception ended the node.)"""

    STALE_S = 1.0  # no frame (or no success) for longer than this (or three intervals, if longer) is reported
    LOSS_WARN_FRACTION = 0.05  # of the window's frames lost before the node (and at least LOSS_WARN_FRAMES)
    LOSS_WARN_FRAMES = 3

    def __init__(self, topic: str, window_s: float = 5.0, clock=time.monotonic):
        self.topic = topic
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._started = clock()
        self._last_received: float | None = None
        self._last_published: float | None = None
        self._last_rejected: tuple[float, str] | None = None
        # Only the window is kept (older entries are pruned); maxlen bounds a burst within it.
        self._received: deque[float] = deque(maxlen=10_000)
        self._published: deque[Published] = deque(maxlen=10_000)
        self._rejected: deque[tuple[float, str]] = deque(maxlen=10_000)
        self._lost: deque[tuple[float, int]] = deque(maxlen=10_000)
        self._gaps = FrameLoss()
        self.received_total = 0
        self.published_total = 0
        self.rejected_total = 0
        self.lost_total = 0  # before the node's callback: gaps in the sequence numbers (or stamps)
        self.dropped_total = 0  # replaced by a newer frame before processing
        self.batched_total = 0  # published frames whose model call was shared with other cameras' frames
        # The node's own cost of every frame since start, in OWN_COST_BIN_MS bins (the last one open-ended): run-long
        # percentiles in fixed memory, where the window's percentiles cover only its last few seconds.
        self._own_cost_bins = np.zeros(OWN_COST_BINS + 1, np.int64)

    def received(self, stamp_s: float | None = None, sequence: int | None = None) -> None:
        """One frame arrived; its header stamp (s) and DDS publication sequence number tell the frames lost before
        it (FrameLoss)."""
        with self._lock:
            self._last_received = now = self._clock()
            self._received.append(now)
            self.received_total += 1
            lost = self._gaps.add(stamp_s, sequence)
            if lost:
                self._lost.append((now, lost))
                self.lost_total += lost

    def rejected(self, reason: str) -> None:
        with self._lock:
            now = self._clock()
            self._rejected.append((now, reason))
            self._last_rejected = (now, reason)
            self.rejected_total += 1

    def published(self, stages: dict[str, float], age_s: float, people: int, batched: bool = False,
                  own_s: float = 0.0) -> None:
        with self._lock:
            self._last_published = now = self._clock()
            self._published.append(Published(now, dict(stages), age_s, people, own_s))
            self._own_cost_bins[min(max(int(own_s * 1e3 / OWN_COST_BIN_MS), 0), OWN_COST_BINS)] += 1
            self.published_total += 1
            self.batched_total += batched

    def _window(self, now: float) -> tuple[list, list, list, list]:
        """Copies of the entries within the window (older ones are dropped); call with the lock held."""
        for items, key in ((self._received, lambda x: x), (self._published, lambda p: p.time),
                           (self._rejected, lambda r: r[0]), (self._lost, lambda x: x[0])):
            while items and now - key(items[0]) > self.window_s:
                items.popleft()
        return list(self._received), list(self._published), list(self._rejected), list(self._lost)

    def stale_after(self, received: list[float], published: list) -> float:
        """Seconds without a frame (or a success) after which that is reported: STALE_S, or three of the
        stream's own intervals (arrivals, publications) where those are longer."""
        intervals = [self.STALE_S / 3]
        for times in (received, [p.time for p in published]):
            if len(times) >= 2:
                intervals.append(float(np.median(np.diff(times))))
        return 3 * max(intervals)

    def summary(self, person_threshold: float, silence_cause: str = "",
                loss_cause: str = "") -> tuple[int, str, dict[str, str]]:
        """(level, message, key/values). The message says what is wrong now, or why nothing is published;
        ``silence_cause`` is what the caller knows of why no image arrives (publishers, QoS), ``loss_cause`` why
        frames are lost before the node and what to do about it."""
        with self._lock:
            now = self._clock()
            received, published, rejected, lost = self._window(now)
            last_received, last_published, last_rejected = (self._last_received, self._last_published,
                                                             self._last_rejected)
            totals = (self.received_total, self.published_total, self.dropped_total, self.batched_total,
                      self.lost_total, self.rejected_total, self._gaps.interruptions)
            period = self._gaps.stamps.period
            own_since_start = own_cost_percentiles(self._own_cost_bins, (50, 99))
        span = min(self.window_s, max(now - self._started, 1e-3))
        lost_window = sum(n for _, n in lost)
        values = {
            "input rate (Hz)": f"{len(received) / span:.2f}",
            "output rate (Hz)": f"{len(published) / span:.2f}",
            "frames received": str(totals[0]),
            "frames published": str(totals[1]),
            "frames dropped (newer frame arrived)": str(totals[2]),
            "frames batched with other cameras": str(totals[3]),
            "frames lost before the node": str(totals[4]),
            "frames lost before the node (window)": str(lost_window),
            "frames rejected": str(totals[5]),
            "frames rejected (window)": str(len(rejected)),
            "stream interruptions (restarts, pauses)": str(totals[6]),
            "camera period from stamps (ms)": f"{period * 1e3:.1f}" if period else "unknown",
            "last frame age (s)": f"{now - last_received:.2f}" if last_received is not None else "never",
            "last success age (s)": f"{now - last_published:.2f}" if last_published is not None else "never",
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
        return (*self._level(now, person_threshold, silence_cause, loss_cause, received, published, rejected,
                             lost_window, (last_received, last_published, last_rejected)), values)

    def _level(self, now, person_threshold, silence_cause, loss_cause, received, published, rejected,
               lost_window, last) -> tuple[int, str]:
        """The level and message, most serious first: no frames, every frame rejected, nothing processed, frames
        lost before the node, some frames rejected, then OK (with or without people)."""
        last_received, last_published, last_rejected = last
        stale = self.stale_after(received, published)
        silence = f": {silence_cause}" if silence_cause else ""
        if last_received is None:
            return WARN, f"no images on {self.topic} for {now - self._started:.1f} s{silence}"
        if now - last_received > stale:
            return WARN, f"no images on {self.topic} for {now - last_received:.1f} s{silence}"
        failing_since = last_published if last_published is not None else self._started
        if last_rejected is not None and last_rejected[0] > failing_since and now - failing_since > stale:
            return ERROR, f"all frames rejected: {last_rejected[1]} (nothing published for {now - failing_since:.1f} s)"
        if last_published is None or now - last_published > stale:
            return WARN, "receiving images, none processed yet" if last_published is None else \
                f"receiving images, none published for {now - last_published:.1f} s"
        if lost_window >= self.LOSS_WARN_FRAMES and \
                lost_window >= self.LOSS_WARN_FRACTION * (lost_window + len(received)):
            return WARN, (f"{lost_window} of {lost_window + len(received)} frames lost before the node in the last "
                          f"{self.window_s:.0f} s" + (f": {loss_cause}" if loss_cause else ""))
        if rejected:
            return WARN, f"{len(rejected)} of {len(received)} frames rejected in the last {self.window_s:.0f} s: " \
                         f"{rejected[-1][1]}"
        if all(p.people == 0 for p in published):
            return OK, (f"publishing, but no person above person_threshold {person_threshold:.2f} in the last "
                        f"{len(published)} frames")
        return OK, "publishing"
