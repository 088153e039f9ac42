"""Helpers shared by the detection tests (image loading without fastredact.imageio)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps


def load_rgb(path: Path) -> NDArray[np.uint8]:
    """Decode with Pillow, apply EXIF orientation, return RGB uint8 (H, W, 3)."""
    with Image.open(path) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


def centres_matched(boxes: NDArray[np.float32], centres: list[tuple[float, float]]) -> bool:
    """True when every expected centre lies in its own detected box (one-to-one)."""
    used: set[int] = set()
    for cx, cy in centres:
        hit = next(
            (
                i
                for i, b in enumerate(boxes)
                if i not in used and b[0] <= cx <= b[2] and b[1] <= cy <= b[3]
            ),
            None,
        )
        if hit is None:
            return False
        used.add(hit)
    return True
