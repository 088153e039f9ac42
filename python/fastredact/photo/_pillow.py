"""Pillow, set up once for fastredact: it must never guess (truncated data is an error), our
own pixel limit replaces its bomb check, and HEIF / AVIF are read through pillow-heif."""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageFile, UnidentifiedImageError

from fastredact.errors import CorruptInput, one_line
from fastredact.formats import PILLOW_FORMATS

__all__ = ["open_pillow", "register_heif"]

# Pillow must never guess: truncated data is an error, and our own pixel limit replaces
# Pillow's bomb check (which only warns below twice its limit).
ImageFile.LOAD_TRUNCATED_IMAGES = False
Image.MAX_IMAGE_PIXELS = None


def open_pillow(data: bytes, fmt: str) -> Image.Image:
    if fmt in ("heif", "avif"):
        register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return Image.open(io.BytesIO(data), formats=[PILLOW_FORMATS[fmt]])
    except UnidentifiedImageError:
        raise CorruptInput(
            f"cannot read {fmt.upper()} header (corrupt, or a variant Pillow cannot decode)"
        ) from None
    except (OSError, SyntaxError, ValueError, TypeError, Warning) as exc:
        raise CorruptInput(f"cannot read {fmt.upper()} header: {one_line(exc)}") from None


_heif_registered = False


def register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _heif_registered = True
