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
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np
from numpy.typing import NDArray

from fastredact.errors import FastRedactError
from fastredact.video_display import DisplayTransform
from fastredact.video_frames import ColourTags, to_rgb

__all__ = ["residual_boxes"]


def residual_boxes(
    path: Path, check: Any, transform: DisplayTransform, tags: ColourTags
) -> dict[int, NDArray[np.float32]]:
    """``{frame index: boxes (N, 4) in stored pixels}`` of every frame of the video at
    ``path`` where ``check.detect`` (on the frame as displayed, converted to RGB as the
    redaction read it) finds anything."""
    found: dict[int, NDArray[np.float32]] = {}
    try:
        with contextlib.closing(av.open(str(path))) as container:
            for index, frame in enumerate(container.decode(video=0)):
                display = np.ascontiguousarray(transform.to_display(to_rgb(frame, tags)))
                boxes = np.asarray(check.detect(display).boxes, np.float32).reshape(-1, 4)
                if len(boxes):
                    found[index] = transform.boxes_to_stored(boxes, frame.width, frame.height)
    except av.error.FFmpegError as exc:
        raise FastRedactError(f"cannot read back the written video: {exc}") from None
    return found
