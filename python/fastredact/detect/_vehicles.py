"""Plates where plates are, and people: the plate detector helped by YOLOX-nano's vehicles.

:class:`VehiclePlates` runs the plate detector over the whole picture as before, and
PlateNet again inside each vehicle YOLOX-nano finds (the box grown by :data:`CROP_MARGIN`,
enlarged until its short side is :data:`CROP_SHORT_SIDE` px, at most :data:`CROP_MAX_UPSCALE`
times), where a plate is accepted from a lower score (:data:`IN_VEHICLE_FACTOR` of the plate
threshold): a plate on a car is likely, a plate-like patch in a kitchen is not. The same pass
reports people when ``--bodies`` asks for them.

Chosen on ``openimages-plates/valid`` (``python benches/eval_plates.py --vehicles``): plates
hidden 70 -> 76 of 84 at 0.45 outside and 0.35 inside vehicles (docs/detection.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastredact.detect._base import Detections, RGBImage
from fastredact.detect._nms import nms
from fastredact.detect._platenet import PlateNet
from fastredact.detect._yolox import YoloxCoco

__all__ = [
    "CROP_MARGIN",
    "CROP_MAX_UPSCALE",
    "CROP_SHORT_SIDE",
    "IN_VEHICLE_FACTOR",
    "VEHICLE_THRESHOLD",
    "People",
    "VehiclePlates",
]

VEHICLE_THRESHOLD = 0.3
"""YOLOX-nano score from which a box is a vehicle to search (77 of valid's 84 plates lie in
one at 0.3)."""
IN_VEHICLE_FACTOR = 0.35 / 0.45
"""Inside a vehicle a plate is reported from this share of the plate threshold (0.35 at the
default 0.45)."""
CROP_MARGIN = 0.1
CROP_SHORT_SIDE = 256
CROP_MAX_UPSCALE = 4.0
MERGE_IOU = 0.4
"""Plates found twice (whole picture and vehicle crop) are merged above this overlap."""


class VehiclePlates:
    """The plate detector ``plates`` (a tiled PlateNet) plus PlateNet inside each vehicle
    ``objects`` finds; with ``people`` (a score), the people of the same pass too."""

    def __init__(
        self,
        plates: Any,
        objects: YoloxCoco,
        crops: PlateNet,
        *,
        people: float | None = None,
    ) -> None:
        self.plates = plates
        self.objects = objects
        self.crops = crops
        self.people = people
        self.classes: tuple[str, ...] = ("plate", "person") if people is not None else ("plate",)
        self.parts = (*getattr(plates, "parts", (plates,)), objects)

    @property
    def threshold(self) -> float:
        """The whole-picture plate detector's lowest score (inside vehicles: the crops')."""
        return float(self.plates.threshold)

    def __repr__(self) -> str:
        return f"VehiclePlates({self.plates!r}, {self.objects!r}, people={self.people})"

    def detect(self, image: RGBImage) -> Detections:
        found = self.plates.detect(image)
        objects = self.objects.detect(image)
        labels = np.array(objects.labels)
        vehicles = objects.boxes[(labels == "vehicle") & (objects.scores >= VEHICLE_THRESHOLD)]
        inside = self._inside(image, vehicles)
        plates = Detections.concat([found, inside])
        if len(inside):
            plates = plates.select(nms(plates.boxes, plates.scores, MERGE_IOU))
        if self.people is None:
            return plates
        people = objects.select((labels == "person") & (objects.scores >= self.people))
        return Detections.concat([plates, people])

    def detect_windows(self, image: RGBImage, boxes: Any, context: float) -> Detections:
        """Verification windows: the plate detector's (see TiledDetector.detect_windows)."""
        found: Detections = self.plates.detect_windows(image, boxes, context)
        return found

    def _inside(self, image: RGBImage, vehicles: NDArray[np.float32]) -> Detections:
        """PlateNet on each vehicle's crop, enlarged to plate-readable scale."""
        height, width = image.shape[:2]
        found = []
        for x0, y0, x1, y1 in _grown(vehicles, CROP_MARGIN, width, height):
            if x1 - x0 < 8 or y1 - y0 < 8:
                continue
            crop = np.ascontiguousarray(image[y0:y1, x0:x1])
            scale = min(CROP_MAX_UPSCALE, max(1.0, CROP_SHORT_SIDE / min(crop.shape[:2])))
            plates = self.crops.detect(crop, scale=scale)
            if len(plates.scores):
                boxes = plates.boxes + np.array([x0, y0, x0, y0], np.float32)
                found.append(Detections(boxes, plates.scores, ("plate",) * len(plates.scores)))
        return Detections.concat(found) if found else Detections.empty()


class People:
    """People alone (``--bodies`` without plates): YOLOX-nano's persons from ``threshold``."""

    classes: tuple[str, ...] = ("person",)

    def __init__(self, objects: YoloxCoco, threshold: float) -> None:
        self.objects = objects
        self.threshold = threshold
        self.parts = (objects,)

    def detect(self, image: RGBImage) -> Detections:
        found = self.objects.detect(image)
        wanted = np.array([label == "person" for label in found.labels], np.bool_)
        return found.select(wanted & (found.scores >= self.threshold))

    def detect_windows(self, image: RGBImage, boxes: Any, context: float) -> Detections:
        """People are not looked for again around what was hidden (they are whole already)."""
        return Detections.empty()


def _grown(
    boxes: NDArray[np.float32], margin: float, width: int, height: int
) -> Sequence[tuple[int, int, int, int]]:
    out = []
    for x0, y0, x1, y1 in np.asarray(boxes, np.float64).reshape(-1, 4):
        mx, my = (x1 - x0) * margin, (y1 - y0) * margin
        out.append(
            (
                int(max(0, x0 - mx)),
                int(max(0, y0 - my)),
                int(min(width, np.ceil(x1 + mx))),
                int(min(height, np.ceil(y1 + my))),
            )
        )
    return out
