"""Progress bars for `fastredact redact`: files, and the frames of the videos among them."""

from __future__ import annotations

import sys
import threading
from typing import Any

from tqdm import tqdm


class FrameBar:
    """A second bar, shown from the first video frame on: frames written over all videos
    (the running frame rate), the total growing as each video's declared frame count is
    learnt. Called from the worker threads (:data:`fastredact.pipeline.FrameProgress`)."""

    def __init__(self, *, position: int = 1) -> None:
        self._lock = threading.Lock()
        self._done: dict[str, int] = {}
        self._declared: dict[str, int] = {}
        self._position = position
        self._bar: Any = None

    def __call__(self, path: str, done: int, total: int | None) -> None:
        with self._lock:
            if self._bar is None:
                self._bar = tqdm(
                    unit="frame",
                    desc="video frames",
                    position=self._position,
                    file=sys.stderr,
                    dynamic_ncols=True,
                    disable=None,  # drawn on a terminal only
                )
            if total and path not in self._declared:
                self._declared[path] = total
                self._bar.total = sum(self._declared.values())
                self._bar.refresh()
            step = done - self._done.get(path, 0)
            self._done[path] = done
            if step > 0:
                self._bar.update(step)

    @property
    def frames(self) -> int:
        """Frames reported so far, over all videos."""
        with self._lock:
            return sum(self._done.values())

    def close(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.close()
