"""The run's idle workers, lent to a video one frame detection at a time.

A run has ``workers`` worker threads, each with its share of the cores. While a worker has no
file (one video left at the end of a batch, or a batch of one video) its cores idle. A video
job detects one frame on its own worker and, for each idle worker it can borrow, one more
frame at once (:class:`fastredact.video._job.VideoJob`). Loans last one frame's detection: a
worker that takes a new file never waits for one (for at most one detection more threads run
than cores), and the video stops borrowing as soon as no worker is idle.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

__all__ = ["SpareCores"]


class SpareCores:
    """How many of the run's ``workers`` are idle: a worker holds one while it works on a
    file (:meth:`working`); a video borrows one per extra frame in detection."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self._idle = workers
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SpareCores(workers={self.workers}, idle={self.idle})"

    @property
    def idle(self) -> int:
        """Workers neither on a file nor lent (negative for a moment when a worker took a
        file while its cores were lent)."""
        with self._lock:
            return self._idle

    @contextlib.contextmanager
    def working(self) -> Iterator[None]:
        """One worker busy with one file for the block (never waits)."""
        with self._lock:
            self._idle -= 1
        try:
            yield
        finally:
            with self._lock:
                self._idle += 1

    def borrow(self) -> bool:
        """Take an idle worker's cores for one frame; ``False`` when none is idle."""
        with self._lock:
            if self._idle <= 0:
                return False
            self._idle -= 1
            return True

    def give_back(self) -> None:
        """Return what :meth:`borrow` took."""
        with self._lock:
            self._idle += 1
