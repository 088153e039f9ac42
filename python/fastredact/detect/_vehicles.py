"""Plates where plates are, and people: the plate detector helped by YOLOX-nano's vehicles.

:class:`VehiclePlates` runs the plate detector over the whole picture as before, and
PlateNet again inside each vehicle YOLOX-nano finds (the box grown by :data:`CROP_MARGIN`,
enlarged until its short side is :data:`CROP_SHORT_SIDE` px, at most :data:`CROP_MAX_UPSCALE`
times), where a plate is accepted from a lower score (:data:`IN_VEHICLE_FACTOR` of the plate
threshold): a plate on a car is likely, a plate-like patch in a kitchen is not. The same pass
reports people when ``--bodies`` asks for them.

Outside every vehicle (any YOLOX-nano vehicle from :data:`VEHICLE_THRESHOLD`, grown by
:data:`CONTEXT_MARGIN`) a plate of the whole-picture pass must be sure (from
:data:`OUTSIDE_SURE_FACTOR` of the plate threshold) or confirmed by a second look
(:func:`second_look`: PlateNet again on a window around it, at the scale where it is
:data:`SECOND_LOOK_HEIGHT` px high, scoring from :data:`CONFIRM_FACTOR` of the threshold):
cabinet knobs, tiles and signs score once, at one scale and context; plates score again.

Chosen on ``openimages-plates/valid`` (``python benches/eval_plates.py --vehicles``): plates
hidden 70 -> 76 of 84 at 0.45 outside and 0.35 inside vehicles (docs/detection.md); the
second look on valid, plates-ro valid, the plate-free photos and faces-eval's crowds
(docs/detection.md, "Plates outside vehicles").
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
    "CONFIRM_FACTOR",
    "CONTEXT_MARGIN",
    "CROP_MARGIN",
    "CROP_MAX_UPSCALE",
    "CROP_SHORT_SIDE",
    "IN_VEHICLE_FACTOR",
    "MAX_SECOND_LOOKS",
    "OUTSIDE_SURE_FACTOR",
    "SECOND_LOOK_HEIGHT",
    "VEHICLE_THRESHOLD",
    "People",
    "VehiclePlates",
]

VEHICLE_THRESHOLD = 0.1
"""YOLOX-nano score from which a box is a vehicle: searched for plates, and context for the
plates around it (at 0.3, 77 of valid's 84 plates lie in one and the run hid 75; at 0.1 it hid
76, for 0.4 more false boxes hidden per photo; dashcam frames cut cars off: a third of
plates-ro's validation frames have no vehicle at 0.3)."""
IN_VEHICLE_FACTOR = 0.35 / 0.45
"""Inside a vehicle a plate is reported from this share of the plate threshold (0.35 at the
default 0.45)."""
CROP_MARGIN = 0.1
CROP_SHORT_SIDE = 256
CROP_MAX_UPSCALE = 4.0
CONTEXT_MARGIN = 0.25
OUTSIDE_SURE_FACTOR = 0.6 / 0.45
"""Outside vehicles a plate from this share of the plate threshold (0.6) needs no second look."""
CONFIRM_FACTOR = 0.5 / 0.45
"""The second look confirms a plate outside vehicles from this share of the threshold (0.5)."""
SECOND_LOOK_HEIGHT = 40.0
MAX_SECOND_LOOKS = 256
"""Past this many candidates outside vehicles in one picture the rest are hidden unconfirmed
(hiding too much is the safe side; it bounds the cost on plate-like textures)."""
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
        reported: float,
        people: float | None = None,
    ) -> None:
        self.plates = plates
        self.reported = reported
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
        found = self._plausible(image, found, vehicles)
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

    def _plausible(
        self, image: RGBImage, found: Detections, vehicles: NDArray[np.float32]
    ) -> Detections:
        """``found`` less the plates outside ``vehicles`` that are neither sure nor confirmed
        by a second look (the first :data:`MAX_SECOND_LOOKS` of them, best first)."""
        if not len(found):
            return found
        height, width = image.shape[:2]
        regions = np.asarray(_grown(vehicles, CONTEXT_MARGIN, width, height), np.float32)
        keep = _centre_inside(found.boxes, regions.reshape(-1, 4))
        keep |= found.scores >= self.reported * OUTSIDE_SURE_FACTOR
        doubtful = np.flatnonzero(~keep)
        doubtful = doubtful[np.argsort(-found.scores[doubtful], kind="stable")]
        confirm = self.reported * CONFIRM_FACTOR
        for index in doubtful[:MAX_SECOND_LOOKS]:
            keep[index] = second_look(self.crops, image, found.boxes[index]) >= confirm
        keep[doubtful[MAX_SECOND_LOOKS:]] = True
        return found.select(keep)

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


def second_look(net: PlateNet, image: RGBImage, box: NDArray[np.float32]) -> float:
    """PlateNet's best score for a plate holding ``box``'s centre in a window around it (2.5
    times its width, 4 times its height or 1.25 times its width if more), at the scale where
    the box is :data:`SECOND_LOOK_HEIGHT` px high (1/4 to 4 times); 0 if none."""
    height, width = image.shape[:2]
    x0, y0, x1, y1 = (float(v) for v in box)
    cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    half_w, half_h = 1.25 * w, max(2.0 * h, 0.625 * w)
    left, top = int(max(0, cx - half_w)), int(max(0, cy - half_h))
    right, bottom = int(min(width, np.ceil(cx + half_w))), int(min(height, np.ceil(cy + half_h)))
    if right - left < 2 or bottom - top < 2:
        return 0.0
    window = np.ascontiguousarray(image[top:bottom, left:right])
    scale = min(4.0, max(0.25, SECOND_LOOK_HEIGHT / h))
    plates = net.detect(window, scale=scale)
    boxes = plates.boxes
    hit = (boxes[:, 0] <= cx - left) & (cx - left <= boxes[:, 2])
    hit &= (boxes[:, 1] <= cy - top) & (cy - top <= boxes[:, 3])
    return float(plates.scores[hit].max()) if hit.any() else 0.0


def _centre_inside(boxes: NDArray[np.float32], regions: NDArray[np.float32]) -> NDArray[np.bool_]:
    """For each box, whether its centre lies in one of ``regions``."""
    if not len(boxes) or not len(regions):
        return np.zeros(len(boxes), np.bool_)
    cx = (boxes[:, 0] + boxes[:, 2])[:, None] / 2
    cy = (boxes[:, 1] + boxes[:, 3])[:, None] / 2
    within = (regions[None, :, 0] <= cx) & (cx <= regions[None, :, 2])
    within &= (regions[None, :, 1] <= cy) & (cy <= regions[None, :, 3])
    return np.asarray(within.any(axis=1), np.bool_)


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
