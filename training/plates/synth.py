"""Synthetic licence plates: rendered plate-like rectangles with random characters.

Every plate is drawn from scratch (no real plate pictures): a coloured rectangle with an
optional border, one or two rows of random letters and digits in a DejaVu font (Debian package
``fonts-dejavu-core``; PIL's built-in font when it is absent), then warped by a random
perspective and blended into a background image. Styles loosely cover European (long, white or
yellow, optional blue band), North-American (2:1, coloured text), square two-row and dark plates.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/noto"))
FONT_NAMES = (
    "DejaVuSans-Bold.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSansCondensed-Bold.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSans.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSansCondensed.ttf",
)
CHARS = string.ascii_uppercase + string.digits
RENDER_HEIGHT = 48  # plates are drawn at this height, then warped to their size in the image


@dataclass(frozen=True)
class Style:
    """One family of plate looks: aspect ratio range, colours, rows."""

    aspect: tuple[float, float]
    rows: int
    band: bool  # a coloured band at the left (EU-style)


STYLES = (
    Style(aspect=(3.8, 5.2), rows=1, band=True),
    Style(aspect=(3.8, 5.2), rows=1, band=False),
    Style(aspect=(1.8, 2.3), rows=1, band=False),
    Style(aspect=(2.5, 3.5), rows=1, band=False),
    Style(aspect=(1.2, 1.8), rows=2, band=False),
    Style(aspect=(1.8, 2.4), rows=2, band=False),
)
SQUARE_STYLES = (
    Style(aspect=(0.8, 1.1), rows=2, band=False),
    Style(aspect=(1.0, 1.3), rows=2, band=False),
)
"""Near-square two-row plates (motorcycles, some US and Asian plates); ``train.py
--square-plates`` adds them to :data:`STYLES` (the shipped model was trained without)."""
BACKGROUNDS = (
    ((235, 235, 230), (15, 15, 20)),
    ((245, 200, 20), (10, 10, 10)),
    ((250, 250, 250), (20, 40, 140)),
    ((250, 250, 250), (150, 20, 20)),
    ((20, 20, 25), (235, 235, 235)),
    ((30, 90, 50), (240, 240, 240)),
    ((40, 70, 160), (245, 245, 245)),
    ((220, 225, 235), (30, 30, 30)),
)


@lru_cache(maxsize=64)
def _font(name: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for folder in FONT_DIRS:
        path = folder / name
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def _random_text(rng: np.random.Generator, length: int) -> str:
    chars = [CHARS[i] for i in rng.integers(0, len(CHARS), length)]
    if length >= 5 and rng.random() < 0.5:
        chars.insert(int(rng.integers(2, length - 1)), rng.choice([" ", "-", "·"]))
    return "".join(chars)


def _draw_row(
    draw: ImageDraw.ImageDraw,
    text: str,
    box: tuple[int, int, int, int],
    font_name: str,
    colour: tuple[int, int, int],
) -> None:
    x0, y0, x1, y1 = box
    size = max(6, int((y1 - y0) * 0.95))
    font = _font(font_name, size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    width = max(1, right - left)
    scale = min(1.0, (x1 - x0) / width)
    if scale < 1.0:
        font = _font(font_name, max(6, int(size * scale)))
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    cx = (x0 + x1 - (right - left)) / 2 - left
    cy = (y0 + y1 - (bottom - top)) / 2 - top
    draw.text((cx, cy), text, fill=colour, font=font)


def render_plate(rng: np.random.Generator, styles: tuple[Style, ...] = STYLES) -> np.ndarray:
    """One flat plate in one of ``styles`` as an RGB uint8 image of height RENDER_HEIGHT."""
    style = styles[int(rng.integers(0, len(styles)))]
    background, ink = BACKGROUNDS[int(rng.integers(0, len(BACKGROUNDS)))]
    jitter = rng.integers(-20, 21, 3)
    background = tuple(int(np.clip(c + j, 0, 255)) for c, j in zip(background, jitter, strict=True))
    height = RENDER_HEIGHT
    width = int(height * rng.uniform(*style.aspect))
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    margin = max(2, height // 12)
    if rng.random() < 0.7:
        draw.rectangle((1, 1, width - 2, height - 2), outline=ink, width=max(1, height // 20))
    left = margin
    if style.band:
        band_w = int(height * 0.35)
        draw.rectangle((0, 0, band_w, height), fill=(30, 60, 170))
        left = band_w + margin
    font_name = FONT_NAMES[int(rng.integers(0, len(FONT_NAMES)))]
    inner = (left, margin, width - margin, height - margin)
    if style.rows == 1:
        n = int(rng.integers(5, 9)) if style.aspect[0] > 2.4 else int(rng.integers(4, 8))
        _draw_row(draw, _random_text(rng, n), inner, font_name, ink)
    else:
        mid = (inner[1] + inner[3]) // 2
        top_box = (inner[0], inner[1], inner[2], mid)
        bottom_box = (inner[0], mid, inner[2], inner[3])
        _draw_row(draw, _random_text(rng, int(rng.integers(2, 5))), top_box, font_name, ink)
        _draw_row(draw, _random_text(rng, int(rng.integers(3, 6))), bottom_box, font_name, ink)
    return np.asarray(image)


def random_quad(
    rng: np.random.Generator, centre: tuple[float, float], height: float, aspect: float
) -> np.ndarray:
    """Four corners (tl, tr, br, bl) of a plate seen under a mild random perspective."""
    width = height * aspect
    yaw = rng.uniform(-0.6, 0.6)  # horizontal foreshortening
    # mostly level; a quarter strongly tilted (fisheye edges, hand-held cameras, parked askew)
    roll = rng.normal(0.0, 0.08) if rng.random() < 0.75 else rng.uniform(-0.7, 0.7)
    width_seen = width * np.cos(yaw)
    half_w, half_h = width_seen / 2, height / 2
    near = 1.0 + abs(np.sin(yaw)) * rng.uniform(0.0, 0.3)
    left_h, right_h = (half_h * near, half_h) if yaw > 0 else (half_h, half_h * near)
    corners = np.array(
        [[-half_w, -left_h], [half_w, -right_h], [half_w, right_h], [-half_w, left_h]],
        dtype=np.float32,
    )
    shear = rng.normal(0.0, 0.06) * height
    corners[:2, 0] += shear
    rotation = np.array([[np.cos(roll), -np.sin(roll)], [np.sin(roll), np.cos(roll)]])
    corners = corners @ rotation.T.astype(np.float32)
    return corners + np.array(centre, dtype=np.float32)


def paste_plate(image: np.ndarray, plate: np.ndarray, quad: np.ndarray) -> None:
    """Warp ``plate`` onto ``quad`` (image coordinates) in place, with a soft edge."""
    ph, pw = plate.shape[:2]
    source = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], dtype=np.float32)
    x0, y0 = np.floor(quad.min(axis=0)).astype(int) - 2
    x1, y1 = np.ceil(quad.max(axis=0)).astype(int) + 2
    h, w = image.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    target = (quad - np.array([x0, y0], dtype=np.float32)).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(source, target)
    size = (int(x1 - x0), int(y1 - y0))
    warped = cv2.warpPerspective(plate, matrix, size, flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), matrix, size, flags=cv2.INTER_AREA)
    alpha = mask.astype(np.float32)[..., None] / 255.0
    region = image[y0:y1, x0:x1].astype(np.float32)
    image[y0:y1, x0:x1] = (alpha * warped + (1.0 - alpha) * region).astype(np.uint8)


def degrade_plate(rng: np.random.Generator, plate: np.ndarray) -> np.ndarray:
    """Lighting, dirt and blur on the flat plate before it is warped."""
    out = plate.astype(np.float32)
    gain = rng.uniform(0.45, 1.15)
    out = out * gain + rng.uniform(-25, 25)
    pw = plate.shape[1]
    gradient = np.linspace(rng.uniform(0.7, 1.0), rng.uniform(0.7, 1.0), pw, dtype=np.float32)
    out *= gradient[None, :, None]
    if rng.random() < 0.3:
        out += rng.normal(0, rng.uniform(3, 15), out.shape)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.4:
        k = int(rng.choice([3, 5]))
        out = cv2.GaussianBlur(out, (k, k), 0)
    return out
