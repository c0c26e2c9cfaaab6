"""Stage timing shared by every model family: seconds per named stage of the last call."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class StageTimer:
    """``with timer.stage("infer"): ...`` adds the block's seconds to ``times["infer"]``; a new call of a
    model starts a new timer, so ``times`` always describes one call (one frame, or one batch of frames)."""

    def __init__(self, stages: tuple[str, ...] = ()) -> None:
        # The model's stages start at 0: a frame that skips one (nobody to crop) still reports every stage.
        self.times: dict[str, float] = dict.fromkeys(stages, 0.0)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.times[name] = self.times.get(name, 0.0) + time.perf_counter() - start
