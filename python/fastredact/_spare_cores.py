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
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

__all__ = ["Lanes", "SpareCores"]

T = TypeVar("T")


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


class Lanes:
    """Calls run on the caller's own worker and, one each, on the idle workers it can borrow
    from ``spare`` (a loan lasts one call). :meth:`submit` waits while its own lane is busy
    and nothing can be borrowed. Results come back as futures, in whatever order the caller
    takes them."""

    def __init__(self, spare: SpareCores) -> None:
        self.spare = spare
        self._pool = ThreadPoolExecutor(spare.workers, thread_name_prefix="fastredact-lane")
        self._own: Future[Any] | None = None
        self._borrowed: set[Future[Any]] = set()

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``fn(*args)`` on a free lane (waiting for one when none is free)."""
        while True:
            self._borrowed = {f for f in self._borrowed if not f.done()}
            if self._own is None or self._own.done():
                future = self._pool.submit(fn, *args)
                self._own = future
                return future
            if self.spare.borrow():
                return self._on_loan(fn, *args)
            wait([self._own, *self._borrowed], return_when=FIRST_COMPLETED)

    def _on_loan(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        try:
            future = self._pool.submit(fn, *args)
        except BaseException:
            self.spare.give_back()
            raise
        future.add_done_callback(lambda _: self.spare.give_back())
        self._borrowed.add(future)
        return future

    def close(self) -> None:
        """Cancel what has not started, wait for what has (every loan comes back)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
