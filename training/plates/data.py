"""Training samples: real train-split photos and licence-clean backgrounds with synthetic plates.

Sources (all licence-clean, see MODEL_CARD.md):
- ``../shared/data/openimages-plates/train`` (CC BY 2.0 images / CC BY 4.0 labels). The
  ``valid`` split is never read here.
- ``../shared/data/plates-ro/train`` (MIT dashcam frames, with ``--plates-ro``); its ``valid``
  split is never read here.
- scikit-image's bundled sample images (minus astronaut, coffee and rocket, which the evaluation
  uses as plate-free photos), including its text and page scans as hard negatives.
- procedural backgrounds: noise, gradients, stripes and grilles, random text without a plate.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import synth
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("FASTREDACT_SHARED_DATA", REPO.parent / "shared" / "data"))
PLATES = SHARED / "openimages-plates"
EVAL_ONLY_SKIMAGE = {"astronaut.png", "coffee.png", "rocket.jpg"}


@dataclass
class Photo:
    """One real photo with axis-aligned plate and vehicle boxes (pixels, x0 y0 x1 y1)."""

    image: np.ndarray
    plates: np.ndarray
    vehicles: np.ndarray
    hard_points: list[tuple[float, float]] = field(default_factory=list)
    stretch: tuple[float, float] = (0.9, 1.8)
    """Random horizontal stretch when sampled: the Open Images split was squashed to 416x416
    from mostly landscape photos; plates-ro frames keep their aspect (0.9-1.1)."""


def read_labels(path: Path, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Oriented YOLO labels → axis-aligned plate and vehicle boxes in pixels."""
    plates, vehicles = [], []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) != 9:
            continue
        xy = np.array(parts[1:], dtype=np.float64).reshape(4, 2) * (width, height)
        box = [xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max()]
        (plates if parts[0] == "0" else vehicles).append(box)
    return (
        np.array(plates, dtype=np.float32).reshape(-1, 4),
        np.array(vehicles, dtype=np.float32).reshape(-1, 4),
    )


def load_split(split: str) -> list[tuple[Path, np.ndarray, np.ndarray]]:
    """(image path, plates, vehicles) for every image of a split, sorted by name."""
    out = []
    for image_path in sorted((PLATES / split / "images").glob("*.jpg")):
        label = PLATES / split / "labels" / (image_path.stem + ".txt")
        with Image.open(image_path) as im:
            width, height = im.size
        plates, vehicles = read_labels(label, width, height)
        out.append((image_path, plates, vehicles))
    return out


def load_train_photos() -> list[Photo]:
    photos = []
    for path, plates, vehicles in load_split("train"):
        image = np.asarray(Image.open(path).convert("RGB"))
        photos.append(Photo(image, plates, vehicles))
    return photos


PLATES_RO = SHARED / "plates-ro"


def load_plates_ro(split: str = "train") -> list[Photo]:
    """plates-ro dashcam frames (MIT; 640x360 crops, labels ``0 x0 y0 x1 y1`` in pixels, no
    vehicle boxes). Only ``train`` is ever trained on; ``valid`` is for evaluation."""
    photos = []
    for path in sorted((PLATES_RO / split / "images").glob("*.jpg")):
        label = PLATES_RO / split / "labels" / (path.stem + ".txt")
        rows = [
            [float(v) for v in line.split()[1:5]]
            for line in label.read_text().splitlines()
            if line.split() and line.split()[0] == "0"
        ]
        image = np.asarray(Image.open(path).convert("RGB"))
        pad_h, pad_w = -image.shape[0] % 32, -image.shape[1] % 32  # the net's stride
        image = np.pad(image, ((0, pad_h), (0, pad_w), (0, 0)), constant_values=114)
        plates = np.array(rows, dtype=np.float32).reshape(-1, 4)
        photos.append(Photo(image, plates, np.zeros((0, 4), np.float32), stretch=(0.9, 1.1)))
    return photos


def load_backgrounds() -> list[np.ndarray]:
    """scikit-image sample photos (RGB), minus the ones kept for evaluation."""
    import skimage

    folder = Path(skimage.__file__).parent / "data"
    images = []
    for path in sorted(folder.iterdir()):
        if path.suffix not in {".png", ".jpg"} or path.name in EVAL_ONLY_SKIMAGE:
            continue
        image = np.asarray(Image.open(path).convert("RGB"))
        if min(image.shape[:2]) >= 128:
            images.append(image)
    return images


def procedural_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Noise, gradients, stripes, grilles and random text: no plate in any of them."""
    base = rng.uniform(0, 255, 3)
    ramp = np.linspace(0, 1, size, dtype=np.float32)
    image = base + rng.uniform(-80, 80, 3) * ramp[:, None, None]
    image = np.broadcast_to(image, (size, size, 3)).astype(np.float32).copy()
    kind = rng.integers(0, 3)
    if kind == 0:  # stripes / grille
        period = int(rng.integers(3, 14))
        lines = (np.arange(size) % period) < period // 2
        colour = rng.uniform(0, 255, 3)
        if rng.random() < 0.5:
            image[lines] = colour
        else:
            image[:, lines] = colour
    elif kind == 1:  # blobs
        noise = cv2.resize(rng.uniform(0, 255, (8, 8, 3)).astype(np.float32), (size, size))
        image = 0.5 * image + 0.5 * noise
    image += rng.normal(0, rng.uniform(2, 20), image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def draw_distractors(rng: np.random.Generator, image: np.ndarray, count: int) -> np.ndarray:
    """Things that are not plates: words, signs with several lines, grilles, tail-light pairs,
    small high-contrast badges and tie-like diagonal stripes."""
    pil = Image.fromarray(image)
    draw = ImageDraw.Draw(pil)
    h, w = image.shape[:2]
    for _ in range(count):
        size = int(rng.integers(6, 40))
        font = synth._font(synth.FONT_NAMES[int(rng.integers(0, len(synth.FONT_NAMES)))], size)
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        kind = rng.integers(0, 6)
        if kind == 0:  # free text, lower case words
            words = " ".join(
                "".join(chr(97 + int(c)) for c in rng.integers(0, 26, int(rng.integers(3, 9))))
                for _ in range(int(rng.integers(1, 4)))
            )
            draw.text((x, y), words, fill=colour, font=font)
        elif kind == 1:  # sign: filled rectangle with several lines of text
            lines = int(rng.integers(3, 5))
            bw, bh = int(size * rng.uniform(3, 8)), int(size * lines * 1.2)
            fill = tuple(int(c) for c in rng.integers(0, 256, 3))
            draw.rectangle((x, y, x + bw, y + bh), fill=fill)
            for i in range(lines):
                text = synth._random_text(rng, int(rng.integers(3, 10))).lower()
                draw.text((x + 2, y + i * size * 1.2), text, fill=colour, font=font)
        elif kind == 3:
            _tail_lights(rng, draw, x, y)
        elif kind == 4:
            _badge(rng, draw, x, y)
        elif kind == 5:
            _diagonal_stripes(rng, draw, x, y)
        else:  # grille: parallel bars
            bw, bh = int(rng.integers(20, 120)), int(rng.integers(8, 40))
            step = int(rng.integers(2, 6))
            for i in range(0, bh, step):
                draw.line((x, y + i, x + bw, y + i), fill=colour, width=max(1, step // 2))
    return np.asarray(pil).copy()


def _colour(rng: np.random.Generator, low: int = 0, high: int = 256) -> tuple[int, ...]:
    return tuple(int(c) for c in rng.integers(low, high, 3))


def _tail_lights(rng: np.random.Generator, draw: ImageDraw.ImageDraw, x: int, y: int) -> None:
    """Two red/orange rounded lamps some way apart, as on the back of a car."""
    lw, lh = int(rng.integers(6, 50)), int(rng.integers(4, 25))
    gap = int(lw * rng.uniform(1.5, 6))
    red = (int(rng.integers(150, 256)), int(rng.integers(0, 120)), int(rng.integers(0, 60)))
    for dx in (0, gap):
        box = (x + dx, y, x + dx + lw, y + lh)
        draw.rounded_rectangle(box, radius=max(1, min(lw, lh) // 3), fill=red)
        if rng.random() < 0.5:
            inner = (x + dx + lw // 4, y + lh // 4, x + dx + 3 * lw // 4, y + 3 * lh // 4)
            draw.rectangle(inner, fill=_colour(rng, 180))


def _badge(rng: np.random.Generator, draw: ImageDraw.ImageDraw, x: int, y: int) -> None:
    """A small flag-like badge: bands of contrasting colour inside a frame."""
    bw, bh = int(rng.integers(6, 40)), int(rng.integers(4, 24))
    draw.rectangle((x, y, x + bw, y + bh), fill=_colour(rng))
    bands = int(rng.integers(2, 7))
    for i in range(0, bands, 2):
        top = y + i * bh // bands
        draw.rectangle((x, top, x + bw, top + bh // bands), fill=_colour(rng))
    if rng.random() < 0.5:
        draw.rectangle((x, y, x + bw // 2, y + bh // 2), fill=_colour(rng))


def _diagonal_stripes(rng: np.random.Generator, draw: ImageDraw.ImageDraw, x: int, y: int) -> None:
    """Tie- or awning-like diagonal stripes in two colours."""
    bw, bh = int(rng.integers(15, 90)), int(rng.integers(10, 60))
    width = int(rng.integers(2, 8))
    colours = (_colour(rng), _colour(rng))
    for i, offset in enumerate(range(-bh, bw, width * 2)):
        draw.line((x + offset, y + bh, x + offset + bh, y), fill=colours[i % 2], width=width)
