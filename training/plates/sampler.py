"""One training sample: a square crop with plate boxes and boxes to ignore.

Half the samples are real train-split photos (rescaled, un-stretched by a random horizontal
factor since the split was squashed to 416×416, flipped), with synthetic plates added on
vehicles without a labelled plate; the rest are scikit-image or procedural backgrounds with
synthetic plates and non-plate text. Crops are centred on a plate, on a mined false positive
(hard negative) or anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import synth
from data import Photo, draw_distractors, procedural_background


@dataclass
class Sample:
    image: np.ndarray  # crop × crop × 3 uint8 RGB
    boxes: np.ndarray  # (N, 4) plates to find
    ignore: np.ndarray  # (M, 4) regions where neither plate nor background is taught


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def plate_crops(photos: list[Photo], min_height: int = 8) -> list[np.ndarray]:
    """The labelled plates of the train photos, cut out (for pasting elsewhere)."""
    crops = []
    for photo in photos:
        for x0, y0, x1, y1 in np.round(photo.plates).astype(int):
            if y1 - y0 >= min_height and x1 - x0 >= min_height:
                crops.append(photo.image[max(0, y0) : y1, max(0, x0) : x1].copy())
    return crops


def _real_plate(
    rng: np.random.Generator, bank: list[np.ndarray], width: float
) -> tuple[np.ndarray, float] | None:
    """A real plate from ``bank`` to be shown ``width`` px wide, with its aspect un-squashed
    (the train split was resized to 416×416); None when it would be upscaled over 1.5×."""
    plate = bank[int(rng.integers(0, len(bank)))]
    aspect = plate.shape[1] / plate.shape[0] * rng.uniform(1.0, 1.7)
    if width / aspect > 1.5 * plate.shape[0]:
        return None
    return synth.degrade_plate(rng, plate), aspect


def _add_plate(
    rng: np.random.Generator,
    image: np.ndarray,
    centre: tuple[float, float],
    width: float,
    squash: float,
    real: tuple[list[np.ndarray], float] = ([], 0.0),
    styles: tuple[synth.Style, ...] = synth.STYLES,
) -> np.ndarray:
    """Paste one plate (a real one from ``real = (bank, share)`` with probability ``share``
    when one fits, else a rendered one), degraded; returns its axis-aligned box."""
    bank, share = real
    chosen = None
    if bank and rng.random() < share:
        chosen = _real_plate(rng, bank, width)
    if chosen is None:
        plate = synth.degrade_plate(rng, synth.render_plate(rng, styles))
        aspect = plate.shape[1] / plate.shape[0]
    else:
        plate, aspect = chosen
    quad = synth.random_quad(rng, centre, width / aspect, aspect)
    quad[:, 0] = centre[0] + (quad[:, 0] - centre[0]) * squash
    synth.paste_plate(image, plate, quad)
    return np.array([*quad.min(axis=0), *quad.max(axis=0)], dtype=np.float32)


def _overlaps(box: np.ndarray, boxes: np.ndarray) -> bool:
    if not len(boxes):
        return False
    ix = np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0])
    iy = np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1])
    return bool(np.any((ix > -2) & (iy > -2)))


def _photometric(rng: np.random.Generator, image: np.ndarray) -> np.ndarray:
    out = image.astype(np.float32)
    out = out * rng.uniform(0.75, 1.25, 3) * rng.uniform(0.5, 1.3) + rng.uniform(-30, 30)
    if rng.random() < 0.1:
        out = np.repeat(out.mean(axis=2, keepdims=True), 3, axis=2)
    if rng.random() < 0.25:
        out += rng.normal(0, rng.uniform(2, 12), out.shape)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.25:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 1.4))
    if rng.random() < 0.5:
        quality = int(rng.integers(25, 95))
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return out


def _split_visible(
    boxes: np.ndarray, crop: int, min_side: float = 3.0
) -> tuple[np.ndarray, np.ndarray]:
    """Clip boxes to the crop; mostly-outside or tiny ones become ignore regions."""
    if not len(boxes):
        empty = np.zeros((0, 4), np.float32)
        return empty, empty
    clipped = np.clip(boxes, 0, crop)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    seen = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
    visible = seen > 0
    keep = (seen >= 0.6 * np.maximum(area, 1e-6)) & (boxes[:, 3] - boxes[:, 1] >= min_side)
    keep &= boxes[:, 2] - boxes[:, 0] >= min_side
    return clipped[keep], clipped[visible & ~keep]


class Sampler:
    def __init__(
        self,
        photos: list[Photo],
        backgrounds: list[np.ndarray],
        crop: int = 256,
        real_plate_share: float = 0.0,
        styles: tuple[synth.Style, ...] = synth.STYLES,
    ):
        self.photos = photos
        self.backgrounds = backgrounds
        self.crop = crop
        self.real_fraction = 0.55
        # Share of pasted plates that are real train-split plates rather than rendered ones.
        self.real_plates = (plate_crops(photos) if real_plate_share > 0 else [], real_plate_share)
        self.styles = styles  # of the rendered plates

    def __call__(self, rng: np.random.Generator) -> Sample:
        if rng.random() < self.real_fraction:
            image, boxes, ignore = self._real(rng)
        else:
            image, boxes, ignore = self._synthetic(rng)
        if rng.random() < 0.5:
            image = image[:, ::-1].copy()
            for b in (boxes, ignore):
                b[:, [0, 2]] = self.crop - b[:, [2, 0]]
        return Sample(_photometric(rng, image), boxes, ignore)

    def _real(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        photo = self.photos[int(rng.integers(0, len(self.photos)))]
        scale = _log_uniform(rng, 0.5, 2.2)
        sx, sy = scale * rng.uniform(*photo.stretch), scale
        centre = self._crop_centre(rng, photo)
        jitter = rng.uniform(-0.4, 0.4, 2) * self.crop
        tx = self.crop / 2 - centre[0] * sx + jitter[0]
        ty = self.crop / 2 - centre[1] * sy + jitter[1]
        matrix = np.array([[sx, 0, tx], [0, sy, ty]], dtype=np.float32)
        image = cv2.warpAffine(
            photo.image,
            matrix,
            (self.crop, self.crop),
            flags=cv2.INTER_AREA,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(114, 114, 114),
        )
        factor = np.array([sx, sy, sx, sy], np.float32)
        shift = np.array([tx, ty, tx, ty], np.float32)
        plates = photo.plates * factor + shift
        vehicles = photo.vehicles * factor + shift
        plates, too_big = self._plates_on_vehicles(rng, image, plates, vehicles)
        boxes, ignore = _split_visible(plates, self.crop)
        return image, boxes, np.concatenate([ignore, too_big])

    def _crop_centre(self, rng: np.random.Generator, photo: Photo) -> tuple[float, float]:
        roll = rng.random()
        if roll < 0.5 and len(photo.plates):
            box = photo.plates[int(rng.integers(0, len(photo.plates)))]
            return float(box[0] + box[2]) / 2, float(box[1] + box[3]) / 2
        if roll < 0.75 and photo.hard_points:
            x, y = photo.hard_points[int(rng.integers(0, len(photo.hard_points)))]
            return x, y
        h, w = photo.image.shape[:2]
        return float(rng.uniform(0, w)), float(rng.uniform(0, h))

    def _plates_on_vehicles(
        self,
        rng: np.random.Generator,
        image: np.ndarray,
        plates: np.ndarray,
        vehicles: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        out, too_big = list(plates), []
        for vehicle in vehicles[rng.permutation(len(vehicles))][:2]:
            if rng.random() < 0.5:
                continue
            vx0, vy0, vx1, vy1 = vehicle
            vw, vh = vx1 - vx0, vy1 - vy0
            if _overlaps(vehicle, plates) or vw < 30:
                continue
            cx = (vx0 + vx1) / 2 + rng.uniform(-0.2, 0.2) * vw
            cy = vy0 + rng.uniform(0.55, 0.9) * vh
            width = vw * rng.uniform(0.15, 0.35)
            box = _add_plate(rng, image, (cx, cy), width, 1.0, self.real_plates, self.styles)
            (out if box[3] - box[1] <= 110 else too_big).append(box)
        as_array = [np.array(b, np.float32).reshape(-1, 4) for b in (out, too_big)]
        return as_array[0], as_array[1]

    def _synthetic(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if rng.random() < 0.3 or not self.backgrounds:
            image = procedural_background(rng, self.crop)
        else:
            image = self._background_crop(rng)
        image = draw_distractors(rng, image, int(rng.integers(0, 5)))
        placed: list[np.ndarray] = []
        clashing: list[np.ndarray] = []
        for _ in range(int(rng.integers(0, 5))):
            height = _log_uniform(rng, 6, 90)
            aspect = rng.uniform(1.2, 5.0)
            centre = (rng.uniform(0, self.crop), rng.uniform(0, self.crop))
            squash = rng.uniform(0.55, 1.1)
            box = _add_plate(
                rng, image, centre, height * aspect, squash, self.real_plates, self.styles
            )
            if _overlaps(box, np.array(placed, np.float32).reshape(-1, 4)):
                clashing.append(box)
            else:
                placed.append(box)
        boxes, ignore = _split_visible(np.array(placed, np.float32).reshape(-1, 4), self.crop)
        clashes = np.clip(np.array(clashing, np.float32).reshape(-1, 4), 0, self.crop)
        return image, boxes, np.concatenate([ignore, clashes])

    def _background_crop(self, rng: np.random.Generator) -> np.ndarray:
        source = self.backgrounds[int(rng.integers(0, len(self.backgrounds)))]
        h, w = source.shape[:2]
        scale = _log_uniform(rng, 0.4, 2.0) * self.crop / min(h, w) * 1.5
        tx = -rng.uniform(0, max(1.0, w * scale - self.crop))
        ty = -rng.uniform(0, max(1.0, h * scale - self.crop))
        matrix = np.array([[scale, 0, tx], [0, scale, ty]], dtype=np.float32)
        return cv2.warpAffine(
            source,
            matrix,
            (self.crop, self.crop),
            flags=cv2.INTER_AREA,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(114, 114, 114),
        )
