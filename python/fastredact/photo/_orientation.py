"""EXIF orientation (1-8): reading the tag, and turning stored pixels into displayed ones and
back (numpy views, copied contiguous), or Pillow's transposition for the same."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from numpy.typing import NDArray
from PIL import Image

__all__ = [
    "ORIENTATION_OPS",
    "apply_orientation",
    "exif_orientation",
    "pillow_transpose",
    "undo_orientation",
]

_Pixel = TypeVar("_Pixel", bound=np.generic)


def exif_orientation(im: Image.Image) -> int:
    """The EXIF Orientation of an opened image (1 when absent, broken or out of range)."""
    try:
        value = int(im.getexif().get(0x0112, 1))
    except Exception:  # a broken EXIF block is stripped anyway; display as stored
        return 1
    return value if 1 <= value <= 8 else 1


# Each EXIF orientation as (transpose, then rotate k quarter turns counter-clockwise).
ORIENTATION_OPS: dict[int, tuple[bool, bool, int]] = {
    # orientation: (flip left-right, transpose, rot90 count) applied in that order
    1: (False, False, 0),
    2: (True, False, 0),
    3: (False, False, 2),
    4: (True, False, 2),
    5: (False, True, 0),
    6: (False, False, 3),
    7: (False, True, 2),
    8: (False, False, 1),
}


def apply_orientation(pixels: NDArray[_Pixel], orientation: int) -> NDArray[_Pixel]:
    """Turn stored pixels into display pixels for an EXIF ``orientation`` (1–8)."""
    flip, transpose, turns = ORIENTATION_OPS.get(orientation, (False, False, 0))
    out = pixels
    if flip:
        out = out[:, ::-1]
    if transpose:
        out = np.swapaxes(out, 0, 1)
    if turns:
        out = np.rot90(out, turns)
    return np.ascontiguousarray(out)


def undo_orientation(pixels: NDArray[_Pixel], orientation: int) -> NDArray[_Pixel]:
    """Inverse of :func:`apply_orientation`: display pixels back to stored pixels."""
    flip, transpose, turns = ORIENTATION_OPS.get(orientation, (False, False, 0))
    out = pixels
    if turns:
        out = np.rot90(out, -turns)
    if transpose:
        out = np.swapaxes(out, 0, 1)
    if flip:
        out = out[:, ::-1]
    return np.ascontiguousarray(out)


def pillow_transpose(orientation: int) -> Image.Transpose:
    """Pillow's transposition for an EXIF ``orientation`` 2-8 (as PIL.ImageOps.exif_transpose)."""
    t = Image.Transpose
    return {
        2: t.FLIP_LEFT_RIGHT,
        3: t.ROTATE_180,
        4: t.FLIP_TOP_BOTTOM,
        5: t.TRANSPOSE,
        6: t.ROTATE_270,
        7: t.TRANSVERSE,
        8: t.ROTATE_90,
    }[orientation]
