"""FFmpeg's log messages, captured on the calling thread while a block runs.

PyAV's log level is process-wide and several jobs (threads) may capture at once, so the
level is lowered to ``WARNING`` while at least one capture is active and restored when the
last one ends (a job restoring it under another job's feet would hide that job's messages).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import av.logging

__all__ = ["capture_messages"]

_lock = threading.Lock()
_active = 0
_saved_level: int | None = None


def _acquire() -> None:
    global _active, _saved_level
    with _lock:
        if _active == 0:
            _saved_level = av.logging.get_level()
            av.logging.set_level(av.logging.WARNING)
        _active += 1


def _release() -> None:
    global _active
    with _lock:
        _active -= 1
        if _active == 0:
            av.logging.set_level(_saved_level)


@contextlib.contextmanager
def capture_messages() -> Iterator[list[Any]]:
    """The list of ``(level, source, text)`` FFmpeg logs on this thread during the block
    (``WARNING`` and worse), filled as messages arrive."""
    _acquire()
    try:
        with av.logging.Capture(local=True) as logs:
            yield logs
    finally:
        _release()
