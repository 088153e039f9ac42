"""Stage timings: the one timer behind the manifest's ``timings_ms`` (photos) and a video
row's ``timings`` (seconds per stage)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

__all__ = ["StageTimer"]


class StageTimer:
    """Seconds spent per stage, summed over every time the stage ran."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        """Time the block and add it to ``stage``."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - started)

    def add(self, stage: str, seconds: float) -> None:
        """Add ``seconds`` timed elsewhere (another thread) to ``stage``."""
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def milliseconds(self) -> dict[str, float]:
        """Each stage in milliseconds, rounded to 0.1 ms."""
        return {stage: round(s * 1000, 1) for stage, s in self.seconds.items()}
