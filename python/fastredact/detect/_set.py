"""The detectors one run uses (faces and / or plates), loaded once, with their hiding margin.

Faces and plates are detected down to :data:`HIDE_THRESHOLD_FACTOR` of the run's threshold
for each, and all of those are hidden; the run's own thresholds stay the reporting ones
(manifest rows carry each box's score).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from numpy.typing import NDArray

from fastredact._timing import StageTimer
from fastredact.detect._base import Detections
from fastredact.detect._load import (
    DEFAULT_PLATE_MODEL,
    MultiDetector,
    default_threshold,
    load_detector,
)
from fastredact.detect._platenet import PlateNet
from fastredact.detect._registry import sha256_file
from fastredact.detect._tiling import WINDOW_CONTEXT
from fastredact.detect._vehicles import (
    IN_VEHICLE_FACTOR,
    VEHICLE_THRESHOLD,
    People,
    VehiclePlates,
)
from fastredact.detect._yolox import LONG_SIDE, PEOPLE_LONG_SIDE, YoloxCoco

if TYPE_CHECKING:
    from fastredact.options import RedactOptions

__all__ = ["HIDE_THRESHOLD_FACTOR", "PERSON_THRESHOLD", "DetectorSet", "as_rgb8"]

HIDE_THRESHOLD_FACTOR = 0.7
"""Faces and plates scoring at least this share of the run's threshold are hidden (see
DetectorSet)."""
PERSON_THRESHOLD = 0.4
"""``--bodies``: YOLOX-nano's person score reported as a person (hidden from 0.7 x it)."""


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

    detector: MultiDetector | None
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
        wanted = options.bodies or options.background is not None
        people = PERSON_THRESHOLD * HIDE_THRESHOLD_FACTOR if wanted else None
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
            if options.vehicle_plates and options.plate_model == DEFAULT_PLATE_MODEL:
                plates = _with_vehicles(plates, thresholds["plate"], options, people)
                people = None  # the same pass reports them
            parts.append(plates)
        if people is not None:
            parts.append(People(_objects(options), people))
            thresholds["person"] = PERSON_THRESHOLD
        models = [
            {"name": str(p.model), "path": str(p.model_path), "sha256": sha256_file(p.model_path)}
            for part in parts
            for p in getattr(part, "parts", (part,))
        ]
        return cls(MultiDetector(parts) if parts else None, models, thresholds)

    def detect(self, frame: NDArray[np.generic], timer: StageTimer | None = None) -> Detections:
        """Detections in ``frame`` (gray, RGB, RGBA, 8 or 16 bit), in its pixel coordinates;
        ``timer`` gets each detector's time as ``detect_face``, ``detect_plate``."""
        if self.detector is None:
            return Detections.empty()
        rgb = as_rgb8(frame)
        if timer is None:
            return self.detector.detect(rgb)
        found = []
        for part in self.detector.detectors:
            with timer(f"detect_{part.classes[0]}"):
                found.append(part.detect(rgb))
        return Detections.concat(found)

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
        """What the detectors still find around ``boxes`` after they were hidden with
        ``mask_scale``: every detector runs on one square window per hidden box, three
        times its size (more when the mask is larger), at the scale where the box is a
        third of the window (:meth:`~fastredact.detect.TiledDetector.detect_windows`:
        what is left of a face, or the hidden blob still looking like one, is right there).
        All windows of a detector go to it in one batch: the cost follows the number of
        hidden boxes, not the picture's size."""
        if self.detector is None or not len(boxes):
            return Detections.empty()
        context = max(WINDOW_CONTEXT, mask_scale + 1)
        return self.detector.detect_windows(as_rgb8(frame), np.asarray(boxes, np.float64), context)

    def describe(self) -> list[dict[str, str]]:
        return self.models


def _objects(options: RedactOptions) -> YoloxCoco:
    """YOLOX-nano, down to the lowest score a vehicle or a hidden person needs, at the size
    people need when they are wanted (vehicles alone are found as well at less)."""
    lowest = min(VEHICLE_THRESHOLD, PERSON_THRESHOLD * HIDE_THRESHOLD_FACTOR)
    people = options.bodies or options.background is not None
    side = PEOPLE_LONG_SIDE if people else LONG_SIDE
    return YoloxCoco(threads=options.threads_per_worker, threshold=lowest, long_side=side)


def _with_vehicles(
    plates: Any, reported: float, options: RedactOptions, people: float | None
) -> VehiclePlates:
    """``plates`` helped by the vehicles YOLOX-nano finds (:mod:`fastredact.detect._vehicles`);
    inside a vehicle, plates are hidden from the in-vehicle threshold's hiding margin."""
    floor = reported * IN_VEHICLE_FACTOR * HIDE_THRESHOLD_FACTOR
    crops = PlateNet(threshold=floor, intra_op_num_threads=options.threads_per_worker)
    return VehiclePlates(plates, _objects(options), crops, reported=reported, people=people)


def _with_hiding_margin(model: str, arguments: dict[str, Any]) -> tuple[Any, float]:
    """The detector for ``model`` that finds down to :data:`HIDE_THRESHOLD_FACTOR` of its
    reporting threshold, and that threshold (the run's, else the model's default)."""
    given = arguments.get("threshold")
    reported = default_threshold(model) if given is None else float(given)
    hiding = load_detector(model, **{**arguments, "threshold": reported * HIDE_THRESHOLD_FACTOR})
    return hiding, reported


def as_rgb8(frame: NDArray[np.generic]) -> NDArray[np.uint8]:
    """A decoded frame (grey, RGB or RGBA; 8 or 16 bits) as the 8-bit RGB the detectors take."""
    pixels = frame
    if pixels.dtype == np.uint16:
        pixels = (cast(NDArray[np.uint16], pixels) >> 8).astype(np.uint8)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    elif pixels.shape[2] == 4:
        pixels = pixels[:, :, :3]
    return np.ascontiguousarray(pixels, dtype=np.uint8)
