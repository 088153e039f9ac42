"""Hiding what was found in one frame, the step photos and videos share: the boxes go to the
kernels with the run's mode, shape and mask scale (16-bit frames keep every bit outside
them), and :func:`hide_verified` detects again where pixels changed and hides what is still
found, so the output passes the same detectors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import NDArray

from fastredact._timing import StageTimer
from fastredact.detect import Detections
from fastredact.detect._nms import intersection_areas
from fastredact.kernels import redact

if TYPE_CHECKING:
    from fastredact.detect import DetectorSet
    from fastredact.options import RedactOptions

__all__ = [
    "VERIFY_MARGIN",
    "VERIFY_MIN_SIZE",
    "VERIFY_ROUNDS",
    "attachment_parents",
    "hide_background",
    "hide_boxes",
    "hide_verified",
]

VERIFY_ROUNDS = 2
"""After hiding what was found, the detectors look again around what was hidden up to this
many times and whatever they still find is hidden too (a blurred face whose chin stuck out of
the mask, or the blurred oval itself, can still score as a face)."""

VERIFY_MIN_SIZE = 16.0
"""Hidden boxes shorter than this (pixels, longer side) are not looked at again: what could
be left of them is a few pixels, and their blurred blob (a dot) identifies nobody."""

VERIFY_MARGIN = 16.0
"""What verification finds is hidden with its box grown by this many pixels on each side
(at most :data:`VERIFY_MARGIN_SHARE` of its size): a blob that still scores as a face loses
its edge, while a large face's mask grows by little."""


VERIFY_MASK_SCALE = 1.0
"""What verification finds is hidden with this mask scale (the box itself, grown by the
margin): it is a leftover of a face whose mask already covers hair and ears, or that mask's
blob; a larger mask hid more of the picture for no face more."""


def hide_verified(
    frame: NDArray[np.generic],
    found: Detections,
    options: RedactOptions,
    detectors: DetectorSet,
    timer: StageTimer | None = None,
    *,
    found_mask_scale: float = VERIFY_MASK_SCALE,
    added: Detections | None = None,
    keep: Callable[[Detections], NDArray[np.bool_]] | None = None,
) -> Detections:
    """Hide ``found``, then look again around what was hidden and hide what is still found
    (grown by :data:`VERIFY_MARGIN`), for up to :data:`VERIFY_ROUNDS` rounds; returns
    everything hidden. See :meth:`DetectorSet.verify`. ``timer`` gets the time spent
    hiding (``hide``) and looking again (``verify``); ``found_mask_scale`` is the mask
    scale of what verification finds (video, whose frames between detections carry these
    boxes along, hides them larger).

    ``added``: boxes a reviewer drew (``redact --corrections``), hidden first exactly as
    drawn (a box, mask scale 1) and looked at again like the detections; they follow
    ``found`` in what is returned. ``keep``: which of what verification finds may be hidden
    (a reviewer's ``remove`` rows: a false positive found again is left)."""
    added = added if added is not None else Detections.empty()
    if not len(found) and not len(added):
        return found
    timer = timer or StageTimer()
    hidden = [found, added] if len(added) else [found]
    with timer("hide"):
        hide_boxes(frame, added.boxes, options, shape="box", mask_scale=1.0)
        hide_boxes(frame, found.boxes, options)
    boxes = np.concatenate([found.boxes, added.boxes]).astype(np.float32)
    for _ in range(VERIFY_ROUNDS):
        sizes = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        with timer("verify"):
            again = detectors.verify(frame, boxes[sizes >= VERIFY_MIN_SIZE], options.mask_scale)
        again = again.select(_touching(again.boxes, boxes, options.mask_scale))
        scale = found_mask_scale
        if keep is not None and len(again):
            reported = _scaled(_grown_by(again, VERIFY_MARGIN), scale / options.mask_scale)
            again = again.select(keep(again) & keep(reported))
        if not len(again):
            break
        grown = _grown_by(again, VERIFY_MARGIN)
        with timer("hide"):
            hide_boxes(frame, grown.boxes, options, mask_scale=scale)
        # Reported so that hiding them at the run's mask scale covers what was hidden here
        # (video frames between detections hide the reported boxes).
        hidden.append(_scaled(grown, scale / options.mask_scale))
        boxes = again.boxes
    return Detections.concat(hidden)


def hide_background(
    frame: NDArray[np.generic], people: Detections, options: RedactOptions, mode: str
) -> NDArray[np.float64]:
    """``--background``: hide all of ``frame`` with ``mode`` but the boxes of ``people``
    (rounded outwards), in place; returns the boxes kept (whole pixels)."""
    height, width = frame.shape[:2]
    b = np.asarray(people.boxes, np.float64).reshape(-1, 4)
    kept = np.stack(
        [
            np.clip(np.floor(b[:, 0]), 0, width),
            np.clip(np.floor(b[:, 1]), 0, height),
            np.clip(np.ceil(b[:, 2]), 0, width),
            np.clip(np.ceil(b[:, 3]), 0, height),
        ],
        axis=1,
    )
    keep = np.zeros((height, width), np.bool_)
    for x0, y0, x1, y1 in kept.astype(np.int64):
        keep[y0:y1, x0:x1] = True
    saved = frame[keep].copy()
    hide_boxes(frame, [[0, 0, width, height]], options, mask_scale=1.0, shape="box", mode=mode)
    frame[keep] = saved
    return kept


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


VERIFY_MARGIN_SHARE = 0.5
"""The margin is at most this share of a box's width (height) on each side."""

VERIFY_TOUCH = 0.2
"""What verification finds is hidden only when this share of its box lies on a mask it looks
around: a leftover of what was hidden, or the hidden blob itself. Anything else in a window
is a detection the first pass already judged (and left)."""


def _touching(
    found: NDArray[np.floating], hidden: NDArray[np.floating], mask_scale: float
) -> NDArray[np.bool_]:
    """Which ``found`` boxes have :data:`VERIFY_TOUCH` of their area on the masks of
    ``hidden`` (each box grown ``mask_scale`` times about its centre)."""
    if not len(found) or not len(hidden):
        return np.zeros(len(found), np.bool_)
    h = np.asarray(hidden, np.float64)
    c = (h[:, :2] + h[:, 2:]) / 2
    half = (h[:, 2:] - h[:, :2]) * mask_scale / 2
    masks = np.hstack([c - half, c + half])
    f = np.asarray(found, np.float64)
    area = np.maximum((f[:, 2] - f[:, 0]) * (f[:, 3] - f[:, 1]), 1e-9)
    share: NDArray[np.float64] = intersection_areas(f, masks).max(axis=1) / area
    return share >= VERIFY_TOUCH


def _scaled(found: Detections, factor: float) -> Detections:
    """``found`` with every box scaled ``factor`` times about its centre."""
    b = found.boxes.astype(np.float64)
    c = (b[:, :2] + b[:, 2:]) / 2
    half = (b[:, 2:] - b[:, :2]) * factor / 2
    return Detections(np.hstack([c - half, c + half]), found.scores, found.labels, found.landmarks)


def _grown_by(found: Detections, margin: float) -> Detections:
    """``found`` with every box grown by ``margin`` pixels on each side, at most half its
    width and height."""
    b = found.boxes.astype(np.float64)
    pad_x = np.minimum(margin, (b[:, 2] - b[:, 0]) * VERIFY_MARGIN_SHARE)
    pad_y = np.minimum(margin, (b[:, 3] - b[:, 1]) * VERIFY_MARGIN_SHARE)
    pad = np.stack([-pad_x, -pad_y, pad_x, pad_y], axis=1)
    return Detections(b + pad, found.scores, found.labels, found.landmarks)


def hide_boxes(
    frame: NDArray[np.generic],
    boxes_in: Any,
    options: RedactOptions,
    *,
    mask_scale: float | None = None,
    shape: str | None = None,
    mode: str | None = None,
) -> None:
    """Hide the (N, 4) ``x0, y0, x1, y1`` boxes in ``frame`` in place (the run's settings;
    ``mask_scale``, ``shape`` and ``mode`` override the run's)."""
    boxes = np.asarray(boxes_in, dtype=np.float64).reshape(-1, 4)
    if not len(boxes):
        return
    kwargs: dict[str, Any] = {
        "mode": options.mode if mode is None else mode,
        "shape": options.shape if shape is None else shape,
        "scale": options.mask_scale if mask_scale is None else mask_scale,
        "threads": options.threads_per_worker,
    }
    if options.strength is not None:
        kwargs["strength"] = options.strength
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
