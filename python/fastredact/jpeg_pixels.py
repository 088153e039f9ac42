"""Strict JPEG pixel decoding: damaged entropy-coded data is an error, never a guess.

Pillow hides libjpeg's recoverable warnings ("Corrupt JPEG data: premature end of data
segment", "N extraneous bytes before marker", bad Huffman codes): a JPEG with bytes cut from,
spliced into or zeroed in the middle of its scans decodes without complaint into a picture
with smeared or grey blocks, which would then be redacted and published as if whole. Two
checks run before any pixel is used:

1. the Rust core Huffman-decodes every scan (``_core.check_jpeg_scans``) and refuses a JPEG
   whose intervals or scans do not end exactly where their data ends, whose codes are not in
   its tables, or whose restart markers are out of sequence — damage libjpeg itself misses
   in most cut sequential files, because it never looks past the last block;
2. simplejpeg drives libjpeg-turbo with ``strict=True``, which turns each of libjpeg's
   warnings into an error, and releases the GIL while it decodes.

Damage that leaves a valid bit stream behind (most single flipped bits; a cut after which the
decoder falls back in step) cannot be seen by any decoder and still gets through.

YCbCr, RGB and grayscale JPEGs are decoded here directly (the same islow IDCT and fancy
upsampling as Pillow: identical pixels, about twice as fast). CMYK / YCCK JPEGs are decoded
here at 1/8 scale for the warnings only (every entropy-coded byte is still read) and their
pixels left to Pillow, which knows Adobe's inverted CMYK.
"""

from __future__ import annotations

import numpy as np
import simplejpeg
from numpy.typing import NDArray

from fastredact import _core
from fastredact.errors import CorruptInput

__all__ = ["check_jpeg_scans", "decode_jpeg_pixels"]

_DIRECT = {"RGB": "RGB", "L": "GRAY"}
"""Pillow mode of a JPEG → simplejpeg output colour space, where simplejpeg gives the pixels."""


def decode_jpeg_pixels(data: bytes, mode: str, size: tuple[int, int]) -> NDArray[np.uint8] | None:
    """Decode the primary image of a JPEG strictly, or return ``None`` for colour spaces left
    to Pillow (after checking their scans with :func:`check_jpeg_scans`).

    ``mode`` and ``size`` are what Pillow read from the header (``RGB``/``L``, width×height);
    the result is H×W×3 for ``RGB`` and H×W for ``L``. Raises
    :class:`~fastredact.errors.CorruptInput` with libjpeg's one-line reason.
    """
    _core.check_jpeg_scans(data)
    colorspace = _DIRECT.get(mode)
    if colorspace is None:
        check_jpeg_scans(data)
        return None
    pixels = _strict(data, colorspace=colorspace)
    if mode == "L":
        pixels = pixels.reshape(pixels.shape[0], pixels.shape[1])
    width, height = size
    if pixels.shape[0] != height or pixels.shape[1] != width:
        raise CorruptInput(
            f"JPEG decodes to {pixels.shape[1]}x{pixels.shape[0]}, its header says {width}x{height}"
        )
    return pixels


def check_jpeg_scans(data: bytes) -> None:
    """Decode every scan of ``data`` at 1/8 scale and raise on any libjpeg warning."""
    header = _header(data)
    colorspace = "CMYK" if header in ("CMYK", "YCCK") else "GRAY"
    _strict(data, colorspace=colorspace, min_factor=8)


def _header(data: bytes) -> str:
    try:
        return str(simplejpeg.decode_jpeg_header(data)[2])
    except (ValueError, RuntimeError) as exc:
        raise CorruptInput(f"cannot read JPEG header: {_one_line(exc)}") from None


def _strict(data: bytes, **options: object) -> NDArray[np.uint8]:
    try:
        return np.asarray(simplejpeg.decode_jpeg(data, strict=True, **options))
    except (ValueError, RuntimeError) as exc:
        raise CorruptInput(f"cannot decode JPEG: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
