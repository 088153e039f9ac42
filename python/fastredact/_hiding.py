"""Hiding what was found in one frame, the step photos and videos share: the boxes go to the
kernels with the run's mode, shape and mask scale (16-bit frames keep every bit outside
them), and :func:`hide_verified` detects again where pixels changed and hides what is still
found, so the output passes the same detectors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import NDArray

from fastredact.detect import Detections
from fastredact.detect._nms import intersection_areas
from fastredact.kernels import redact

if TYPE_CHECKING:
    from fastredact.detect import DetectorSet
    from fastredact.options import RedactOptions

__all__ = [
    "VERIFY_GROWTH",
    "VERIFY_ROUNDS",
    "attachment_parents",
    "hide_boxes",
    "hide_verified",
]

VERIFY_ROUNDS = 2
"""After hiding what was found, the detectors run again on the redacted frame up to this many
times and whatever they still find is hidden too (a blurred face whose chin stuck out of the
mask, or the blurred oval itself, can still score as a face)."""


VERIFY_GROWTH = 1.5
"""Each verification round hides what it found with a mask this many times larger."""


def hide_verified(
    frame: NDArray[np.generic],
    found: Detections,
    options: RedactOptions,
    detectors: DetectorSet,
) -> Detections:
    """Hide ``found``, then detect again where pixels changed and hide what is still found;
    returns everything hidden. A leftover is part of a face that was just hidden, or the
    hidden blob itself still looking like a head (or a plate) to a detector, so each round
    hides what it found with a mask :data:`VERIFY_GROWTH` times larger than the round before.
    See :meth:`DetectorSet.verify`."""
    if not len(found):
        return found
    hidden = [found]
    hide_boxes(frame, found.boxes, options)
    boxes = found.boxes
    scale = options.mask_scale
    for _ in range(VERIFY_ROUNDS):
        again = detectors.verify(frame, boxes, scale)
        if not len(again):
            break
        scale *= VERIFY_GROWTH
        hide_boxes(frame, again.boxes, options, mask_scale=scale)
        # Reported grown, so that hiding the returned boxes at the run's mask scale (video
        # frames between detections) covers what this round covered.
        hidden.append(_grown(again, scale / options.mask_scale))
        boxes = again.boxes
    return Detections.concat(hidden)


def attachment_parents(boxes: NDArray[np.floating], primaries: int) -> NDArray[np.int64]:
    """For the boxes :func:`hide_verified` returns (its input's ``primaries`` detections
    first, then what verification added): -1 for a detection, and for each added box the
    index of the detection it overlaps most (a leftover of that face), or -1 where it
    overlaps none. Video tracks carry an added box along with its detection."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    parents = np.full(len(b), -1, np.int64)
    if primaries == 0 or len(b) <= primaries:
        return parents
    overlap = intersection_areas(b[primaries:], b[:primaries])
    best = np.argmax(overlap, axis=1)
    parents[primaries:] = np.where(overlap.max(axis=1) > 0, best, -1)
    return parents


def _grown(found: Detections, factor: float) -> Detections:
    """``found`` with every box grown ``factor`` times about its centre."""
    b = found.boxes.astype(np.float64)
    c = (b[:, :2] + b[:, 2:]) / 2
    half = (b[:, 2:] - b[:, :2]) * factor / 2
    return Detections(np.hstack([c - half, c + half]), found.scores, found.labels, found.landmarks)


def hide_boxes(
    frame: NDArray[np.generic],
    boxes_in: Any,
    options: RedactOptions,
    *,
    mask_scale: float | None = None,
) -> None:
    """Hide the (N, 4) ``x0, y0, x1, y1`` boxes in ``frame`` in place (the run's settings;
    ``mask_scale`` overrides the run's)."""
    boxes = np.asarray(boxes_in, dtype=np.float64).reshape(-1, 4)
    if not len(boxes):
        return
    kwargs: dict[str, Any] = {
        "mode": options.mode,
        "shape": options.shape,
        "scale": options.mask_scale if mask_scale is None else mask_scale,
        "threads": options.threads_per_worker,
    }
    if frame.dtype == np.uint8:
        redact(frame, boxes, **kwargs)  # type: ignore[arg-type]
        return
    _redact_uint16(frame, boxes, kwargs)


def _redact_uint16(
    frame: NDArray[np.generic], boxes: NDArray[np.float64], kwargs: dict[str, Any]
) -> None:
    """16-bit frames (RAW development): redact the high byte with the kernels and zero the low
    byte under the same mask, so pixels outside the regions keep all 16 bits exactly."""
    wide = cast(NDArray[np.uint16], frame)  # the caller sends uint16 frames only
    high = (wide >> 8).astype(np.uint8)
    low = (wide & 0xFF).astype(np.uint8)
    redact(high, boxes, **kwargs)
    redact(low, boxes, **{**kwargs, "mode": "fill"}, fill=(0, 0, 0))
    wide[...] = (high.astype(np.uint16) << 8) | low
