"""The check of a written video: the detectors run again on every decoded frame of the output.

:func:`residual_boxes` decodes a video fastredact just wrote and returns, per frame index,
what a detector still finds there (in stored pixels). :func:`fastredact.video.redact_video`
uses it when given a ``check`` detector: a re-encode can move a score across the threshold
(codec noise turned a car wheel that CenterFace scored 0.20 in the redacted frame into a 0.43
"face" once encoded at CRF 18), and only the decoded output shows what a reader of the file
will see.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np
from numpy.typing import NDArray

from fastredact._spare_cores import Lanes, SpareCores
from fastredact.errors import FastRedactError
from fastredact.video._display import DisplayTransform
from fastredact.video._frames import ColourTags, to_rgb

__all__ = ["residual_boxes"]


def residual_boxes(
    path: Path,
    check: Any,
    transform: DisplayTransform,
    tags: ColourTags,
    *,
    previous: Path | None = None,
    recheck: set[int] | None = None,
    source_size: tuple[int, int] | None = None,
    spare: SpareCores | None = None,
) -> tuple[dict[int, NDArray[np.float32]], int]:
    """``({frame index: boxes (N, 4) in stored pixels}, frames checked)`` for the video at
    ``path``: where ``check.detect`` (on the frame as displayed, converted to RGB as the
    redaction read it) finds anything.

    With ``previous`` (an earlier output of the same video whose frames were all checked and
    found clean except those in ``recheck``), a frame that decodes to exactly the pixels of
    the same frame there is known clean and is not detected again. With ``source_size`` (the
    input's stored width and height, when the output was scaled down), boxes are returned
    in the input's pixels. With ``spare`` (the run's idle workers), several frames are
    checked at once."""
    lanes = Lanes(spare) if spare is not None and spare.workers > 1 else None
    most_in_flight = 2 * (spare.workers if spare is not None else 1)
    found = _Residuals(transform, source_size)
    in_flight: deque[tuple[av.VideoFrame, int, Future[Any]]] = deque()
    checked = 0
    recheck = recheck or set()
    try:
        with contextlib.ExitStack() as stack:
            container = stack.enter_context(contextlib.closing(av.open(str(path))))
            earlier: Iterator[Any] = iter(())
            if previous is not None:
                old = stack.enter_context(contextlib.closing(av.open(str(previous))))
                earlier = old.decode(video=0)
            for index, frame in enumerate(container.decode(video=0)):
                before = next(earlier, None)
                if before is not None and index not in recheck and _same_pixels(frame, before):
                    continue
                checked += 1
                display = np.ascontiguousarray(transform.to_display(to_rgb(frame, tags)))
                if lanes is None:
                    found.add(index, frame, check.detect(display))
                    continue
                in_flight.append((frame, index, lanes.submit(check.detect, display)))
                while in_flight and (in_flight[0][2].done() or len(in_flight) > most_in_flight):
                    found.take(in_flight.popleft())
            while in_flight:
                found.take(in_flight.popleft())
    except av.error.FFmpegError as exc:
        raise FastRedactError(f"cannot read back the written video: {exc}") from None
    finally:
        if lanes is not None:
            lanes.close()
    return found.boxes, checked


class _Residuals:
    """What the check found, per frame index, in stored (or source) pixels."""

    def __init__(self, transform: DisplayTransform, source_size: tuple[int, int] | None) -> None:
        self.transform = transform
        self.source_size = source_size
        self.boxes: dict[int, NDArray[np.float32]] = {}

    def take(self, checked: tuple[av.VideoFrame, int, Future[Any]]) -> None:
        """Add what a lane found (waiting for it)."""
        frame, index, detection = checked
        self.add(index, frame, detection.result())

    def add(self, index: int, frame: av.VideoFrame, detections: Any) -> None:
        boxes = np.asarray(detections.boxes, np.float32).reshape(-1, 4)
        if not len(boxes):
            return
        stored = self.transform.boxes_to_stored(boxes, frame.width, frame.height)
        if self.source_size is not None:
            sx, sy = self.source_size[0] / frame.width, self.source_size[1] / frame.height
            stored = stored * np.array([sx, sy, sx, sy], np.float32)
        self.boxes[index] = stored


def _same_pixels(a: av.VideoFrame, b: av.VideoFrame) -> bool:
    """Whether two decoded frames hold the same stored samples (False when unsure)."""
    if (a.format.name, a.width, a.height) != (b.format.name, b.width, b.height):
        return False
    try:
        return bool(np.array_equal(a.to_ndarray(), b.to_ndarray()))
    except (ValueError, av.error.FFmpegError):  # a pixel format numpy cannot hold
        return False
