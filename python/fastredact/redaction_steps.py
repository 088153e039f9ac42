"""The per-frame steps the photo and video pipelines share, each bound to one set of options:
detect (faces and plates, with the run's threshold and minimum size), hide what was found
(Rust kernels), and strip metadata (Rust container surgery).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastredact.detect import Detections, Detector, MultiDetector, load_detector
from fastredact.detect.models import sha256_file
from fastredact.options import RedactOptions
from fastredact.redact import redact
from fastredact.strip import strip_metadata

__all__ = [
    "DetectorSet",
    "FrameDetections",
    "detection_rows",
    "redact_boxes",
    "redact_frame",
    "redact_verified",
    "strip_bytes",
]

FrameDetections = Detections


@dataclass
class DetectorSet:
    """The detectors a run uses (faces and/or plates), loaded once and shared by workers.

    onnxruntime sessions are safe to call from several threads at once.
    """

    detector: Detector | None
    models: list[dict[str, str]]
    verifier: Detector | None = None
    """Faces only, at :data:`VERIFY_THRESHOLD_FACTOR` of the run's threshold: what re-checks a
    redacted frame, with margin for the re-encoding that follows."""

    @classmethod
    def load(cls, options: RedactOptions) -> DetectorSet:
        """Load every detector the options ask for; raises ModelNotFound / DetectorError."""
        parts: list[Any] = []
        common: dict[str, Any] = {
            "device": options.device,
            "threads": options.threads_per_worker,
            "threshold": options.threshold,
            "min_size": float(options.min_size or 0),
        }
        verifier = None
        if options.faces:
            face = load_detector(options.face_model, tile_scales=options.face_tile_scales, **common)
            parts.append(face)
            verifier = load_detector(
                options.face_model,
                tile_scales=options.face_tile_scales,
                **{**common, "threshold": face.threshold * VERIFY_THRESHOLD_FACTOR},
            )
        if options.plates:
            plate_device = options.device if options.plate_model.endswith(".onnx") else "cpu"
            plate_device = "cpu" if options.plate_model == "platenet" else plate_device
            parts.append(
                load_detector(
                    options.plate_model, **{**common, "device": plate_device}, labels=["plate"]
                )
            )
        models = [
            {"name": str(p.model), "path": str(p.model_path), "sha256": sha256_file(p.model_path)}
            for p in parts
        ]
        return cls(MultiDetector(parts) if parts else None, models, verifier)

    def detect(self, frame: NDArray[np.generic]) -> Detections:
        """Detections in ``frame`` (gray, RGB, RGBA, 8 or 16 bit), in its pixel coordinates."""
        if self.detector is None:
            return Detections.empty()
        return self.detector.detect(_as_rgb8(frame))

    def verify(self, frame: NDArray[np.generic]) -> Detections:
        """Faces still findable in an already redacted frame (lower threshold)."""
        if self.verifier is None:
            return Detections.empty()
        return self.verifier.detect(_as_rgb8(frame))

    def describe(self) -> list[dict[str, str]]:
        return self.models


def detection_rows(found: Detections) -> list[dict[str, Any]]:
    """Manifest rows: label, box (x0, y0, x1, y1 rounded to 0.1 px) and score."""
    return [
        {"label": label, "box": [round(float(v), 1) for v in box], "score": round(float(s), 3)}
        for box, s, label in zip(found.boxes, found.scores, found.labels, strict=True)
    ]


def redact_frame(frame: NDArray[np.generic], found: Detections, options: RedactOptions) -> None:
    """Hide every detection in ``frame`` in place with the run's mode, shape and mask scale."""
    redact_boxes(frame, found.boxes, options)


VERIFY_THRESHOLD_FACTOR = 0.7
VERIFY_ROUNDS = 2
"""After hiding what was found, the detectors run again on the redacted frame up to this many
times and whatever they still find is hidden too (a blurred face whose chin stuck out of the
mask can still score as a face)."""


def redact_verified(
    frame: NDArray[np.generic],
    found: Detections,
    options: RedactOptions,
    detectors: DetectorSet,
) -> Detections:
    """Hide ``found``, then re-detect and hide leftovers; returns everything hidden."""
    if not len(found):
        return found
    hidden = [found]
    redact_frame(frame, found, options)
    for _ in range(VERIFY_ROUNDS):
        again = detectors.verify(frame)
        if not len(again):
            break
        redact_frame(frame, again, options)
        hidden.append(again)
    return Detections.concat(hidden)


def redact_boxes(frame: NDArray[np.generic], boxes_in: Any, options: RedactOptions) -> None:
    """Hide the (N, 4) ``x0, y0, x1, y1`` boxes in ``frame`` in place (the run's settings)."""
    boxes = np.asarray(boxes_in, dtype=np.float64).reshape(-1, 4)
    if not len(boxes):
        return
    kwargs: dict[str, Any] = {
        "mode": options.mode,
        "shape": options.shape,
        "scale": options.mask_scale,
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
    wide = frame.view(np.uint16) if frame.dtype == np.uint16 else frame
    high = (wide >> 8).astype(np.uint8)
    low = (wide & 0xFF).astype(np.uint8)
    redact(high, boxes, **kwargs)
    redact(low, boxes, **{**kwargs, "mode": "fill"}, fill=(0, 0, 0))
    wide[...] = (high.astype(np.uint16) << 8) | low


def strip_bytes(
    data: bytes, options: RedactOptions, *, orientation: str
) -> tuple[bytes, list[dict[str, Any]]]:
    """Lossless metadata strip; returns the cleaned bytes and what was removed."""
    result = strip_metadata(data, icc=options.icc, orientation=orientation)
    removed = [{"kind": r.kind, "count": r.count, "bytes": r.bytes} for r in result.removed]
    return result.data, removed


def _as_rgb8(frame: NDArray[np.generic]) -> NDArray[np.uint8]:
    pixels = frame
    if pixels.dtype == np.uint16:
        pixels = (pixels >> 8).astype(np.uint8)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    elif pixels.shape[2] == 4:
        pixels = pixels[:, :, :3]
    return np.ascontiguousarray(pixels, dtype=np.uint8)
