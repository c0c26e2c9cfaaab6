"""Newest-frame mailboxes between subscription callbacks and the inference worker.

A callback never blocks: it drops its camera's new frame into the mailbox, replacing (and counting) any
frame of that camera the worker has not taken yet. The worker takes the newest frame of every camera at
once, so a slow model never works through a queue of stale images. No ROS imports: tested on its own.
"""
from __future__ import annotations

import threading
from collections import Counter
from typing import Generic, Hashable, TypeVar

T = TypeVar("T")


class LatestFrames(Generic[T]):
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._items: dict[Hashable, T] = {}
        self._closed = False
        self.replaced: Counter[Hashable] = Counter()  # frames overwritten before the worker took them

    def put(self, key: Hashable, item: T) -> None:
        with self._cond:
            if self._closed:
                return
            if key in self._items:
                self.replaced[key] += 1
            self._items[key] = item
            self._cond.notify()

    def take(self, timeout: float | None = None) -> dict[Hashable, T]:
        """The newest item of every key that has one, waiting up to ``timeout`` s; {} on timeout or closed."""
        with self._cond:
            self._cond.wait_for(lambda: self._items or self._closed, timeout)
            items, self._items = self._items, {}
            return items

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._items = {}
            self._cond.notify_all()
