"""The per-frame steps the photo and video pipelines share, each bound to one set of options:
detect (faces and plates, with the run's threshold and minimum size), hide what was found
(Rust kernels), and strip metadata (Rust container surgery).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from fastredact.detect import (
    Detections,
    Detector,
    MultiDetector,
    default_threshold,
    load_detector,
)
from fastredact.detect.models import sha256_file
from fastredact.detect.nms import intersection_areas
from fastredact.options import RedactOptions
from fastredact.redact import redact
from fastredact.strip import IccPolicy, OrientationPolicy, strip_metadata

__all__ = [
    "DetectorSet",
    "FrameDetections",
    "detection_rows",
    "mask_bounds",
    "redact_boxes",
    "redact_frame",
    "redact_verified",
    "strip_bytes",
]

FrameDetections = Detections


@dataclass
class DetectorSet:
    """The detectors a run uses (faces and/or plates), loaded once and shared by workers.

    Faces and plates are detected down to :data:`HIDE_THRESHOLD_FACTOR` of the run's
    threshold for each, and all of those are hidden: a face or plate scoring just under the
    threshold in the source must not score over it once its neighbourhood was redacted and the
    frame re-encoded, so the output passes the same detector at the run's own threshold (the
    margin is a hysteresis; a real plate of egoblur's gen2 test_lp_video scored 0.446 in the
    source and 0.451 in the output before plates had it).
    onnxruntime sessions are safe to call from several threads at once.
    """

    detector: Detector | None
    models: list[dict[str, str]]
    thresholds: dict[str, float] = field(default_factory=dict)
    """The run's reporting threshold per label (manifest rows carry ``score``; detections
    below these were hidden by the margin)."""

    @classmethod
    def load(cls, options: RedactOptions) -> DetectorSet:
        """Load every detector the options ask for; raises ModelNotFound / DetectorError."""
        parts: list[Any] = []
        common: dict[str, Any] = {
            "device": options.device,
            "threads": options.threads_per_worker,
            "min_size": float(options.min_size or 0),
        }
        thresholds: dict[str, float] = {}
        if options.faces:
            face, thresholds["face"] = _with_hiding_margin(
                options.face_model,
                {
                    **common,
                    "threshold": options.threshold_for("face"),
                    "tile_scales": options.face_tile_scales,
                },
            )
            parts.append(face)
        if options.plates:
            plate_device = options.device if options.plate_model.endswith(".onnx") else "cpu"
            plate_device = "cpu" if options.plate_model == "platenet" else plate_device
            plates, thresholds["plate"] = _with_hiding_margin(
                options.plate_model,
                {
                    **common,
                    "threshold": options.threshold_for("plate"),
                    "device": plate_device,
                    "labels": ["plate"],
                },
            )
            parts.append(plates)
        models = [
            {"name": str(p.model), "path": str(p.model_path), "sha256": sha256_file(p.model_path)}
            for p in parts
        ]
        return cls(MultiDetector(parts) if parts else None, models, thresholds)

    def detect(self, frame: NDArray[np.generic]) -> Detections:
        """Detections in ``frame`` (gray, RGB, RGBA, 8 or 16 bit), in its pixel coordinates."""
        if self.detector is None:
            return Detections.empty()
        return self.detector.detect(_as_rgb8(frame))

    def detect_reported(self, frame: NDArray[np.generic]) -> Detections:
        """The detections in ``frame`` scoring at least the run's reporting threshold of their
        label (what a user checking the output with the same detectors would find; ``detect``
        also returns those down to the hiding margin)."""
        found = self.detect(frame)
        if not len(found):
            return found
        floor = np.array([self.thresholds.get(label, 0.0) for label in found.labels])
        return found.select(np.asarray(found.scores) >= floor)

    def verify(
        self, frame: NDArray[np.generic], boxes: NDArray[np.floating], mask_scale: float
    ) -> Detections:
        """What the detectors still find after ``boxes`` were hidden with ``mask_scale``:
        every detector runs again on exactly the tiles of its schedule that hold a hidden
        pixel (:func:`mask_bounds`), so the answer is what a whole second detection pass
        over the redacted frame would give, at the cost of the tiles that changed."""
        if self.detector is None or not len(boxes):
            return Detections.empty()
        height, width = frame.shape[:2]
        rects = mask_bounds(boxes, mask_scale, width, height)
        if not len(rects):
            return Detections.empty()
        return self.detector.detect(_as_rgb8(frame), near=rects)  # type: ignore[call-arg]

    def describe(self) -> list[dict[str, str]]:
        return self.models


def _with_hiding_margin(model: str, arguments: dict[str, Any]) -> tuple[Any, float]:
    """The detector for ``model`` that finds down to :data:`HIDE_THRESHOLD_FACTOR` of its
    reporting threshold, and that threshold (the run's, else the model's default)."""
    given = arguments.get("threshold")
    reported = default_threshold(model) if given is None else float(given)
    hiding = load_detector(model, **{**arguments, "threshold": reported * HIDE_THRESHOLD_FACTOR})
    return hiding, reported


def detection_rows(found: Detections) -> list[dict[str, Any]]:
    """Manifest rows: label, box (x0, y0, x1, y1 rounded to 0.1 px) and score."""
    return [
        {"label": label, "box": [round(float(v), 1) for v in box], "score": round(float(s), 3)}
        for box, s, label in zip(found.boxes, found.scores, found.labels, strict=True)
    ]


def redact_frame(frame: NDArray[np.generic], found: Detections, options: RedactOptions) -> None:
    """Hide every detection in ``frame`` in place with the run's mode, shape and mask scale."""
    redact_boxes(frame, found.boxes, options)


HIDE_THRESHOLD_FACTOR = 0.7
"""Faces and plates scoring at least this share of the run's threshold are hidden (see
DetectorSet)."""
VERIFY_ROUNDS = 2
"""After hiding what was found, the detectors run again on the redacted frame up to this many
times and whatever they still find is hidden too (a blurred face whose chin stuck out of the
mask, or the blurred oval itself, can still score as a face)."""


VERIFY_GROWTH = 1.5
"""Each verification round hides what it found with a mask this many times larger."""


def mask_bounds(
    boxes: NDArray[np.floating], mask_scale: float, width: int, height: int
) -> NDArray[np.float64]:
    """The integer ``x0, y0, x1, y1`` bounds of the pixels that hiding ``boxes`` with
    ``mask_scale`` may change in a ``width`` x ``height`` frame (each box grown about its
    centre, rounded outwards, clipped; empty ones dropped)."""
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    hw, hh = (b[:, 2] - b[:, 0]) * mask_scale / 2, (b[:, 3] - b[:, 1]) * mask_scale / 2
    rects = np.stack(
        [
            np.clip(np.floor(cx - hw) - 1, 0, width),
            np.clip(np.floor(cy - hh) - 1, 0, height),
            np.clip(np.ceil(cx + hw) + 1, 0, width),
            np.clip(np.ceil(cy + hh) + 1, 0, height),
        ],
        axis=1,
    )
    return rects[(rects[:, 2] > rects[:, 0]) & (rects[:, 3] > rects[:, 1])]


def redact_verified(
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
    redact_frame(frame, found, options)
    boxes = found.boxes
    scale = options.mask_scale
    for _ in range(VERIFY_ROUNDS):
        again = detectors.verify(frame, boxes, scale)
        if not len(again):
            break
        scale *= VERIFY_GROWTH
        redact_boxes(frame, again.boxes, options, mask_scale=scale)
        # Reported grown, so that hiding the returned boxes at the run's mask scale (video
        # frames between detections) covers what this round covered.
        hidden.append(_grown(again, scale / options.mask_scale))
        boxes = again.boxes
    return Detections.concat(hidden)


def attachment_parents(boxes: NDArray[np.floating], primaries: int) -> NDArray[np.int64]:
    """For the boxes :func:`redact_verified` returns (its input's ``primaries`` detections
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


def redact_boxes(
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


def strip_bytes(
    data: bytes, options: RedactOptions, *, orientation: OrientationPolicy
) -> tuple[bytes, list[dict[str, Any]]]:
    """Lossless metadata strip; returns the cleaned bytes and what was removed."""
    icc: IccPolicy = "drop" if options.icc == "drop" else "keep"  # validated in RedactOptions
    result = strip_metadata(data, icc=icc, orientation=orientation)
    removed = [{"kind": r.kind, "count": r.count, "bytes": r.bytes} for r in result.removed]
    return result.data, removed


def _as_rgb8(frame: NDArray[np.generic]) -> NDArray[np.uint8]:
    pixels = frame
    if pixels.dtype == np.uint16:
        pixels = (cast(NDArray[np.uint16], pixels) >> 8).astype(np.uint8)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    elif pixels.shape[2] == 4:
        pixels = pixels[:, :, :3]
    return np.ascontiguousarray(pixels, dtype=np.uint8)
