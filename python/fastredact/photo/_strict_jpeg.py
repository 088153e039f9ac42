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
pixels left to Pillow, which knows Adobe's inverted CMYK. Sampling layouts TurboJPEG cannot
decode (3x1 or 4x2 luma, mixed chroma factors; rare, valid) rely on the Rust scan check alone
and are decoded by Pillow.
"""

from __future__ import annotations

import numpy as np
import simplejpeg
from numpy.typing import NDArray

from fastredact import _core
from fastredact.errors import CorruptInput, UnsupportedFormat, one_line

__all__ = ["decode_jpeg_pixels", "strict_warnings_check"]

_DIRECT = {"RGB": "RGB", "L": "GRAY"}
"""Pillow mode of a JPEG → simplejpeg output colour space, where simplejpeg gives the pixels."""

_UNKNOWN_LAYOUT = "subsampling"
"""TurboJPEG's word for sampling layouts it cannot decode (3x1 luma, 4x2, mixed chroma)."""


def decode_jpeg_pixels(data: bytes, mode: str, size: tuple[int, int]) -> NDArray[np.uint8] | None:
    """Check the scans of a JPEG and decode its primary image strictly, or return ``None``
    where the pixels are left to Pillow: CMYK / YCCK (after the strict check at 1/8 scale)
    and sampling layouts TurboJPEG cannot decode (after the Rust scan check alone).

    ``mode`` and ``size`` are what Pillow read from the header (``RGB``/``L``, width×height);
    the result is H×W×3 for ``RGB`` and H×W for ``L``. Raises
    :class:`~fastredact.errors.CorruptInput` with the first damage found, or
    :class:`~fastredact.errors.UnsupportedFormat` for an arithmetic-coded JPEG in a layout
    TurboJPEG cannot decode (nothing could check it).
    """
    unchecked = _core.check_jpeg_scans(data)
    colorspace_in = _turbojpeg_colorspace(data)
    if colorspace_in is None:
        if unchecked is not None:
            raise UnsupportedFormat(
                f"JPEG ({unchecked}, unusual sampling layout) that no decoder here can check"
            )
        return None
    colorspace = _DIRECT.get(mode)
    if colorspace is None:
        strict_warnings_check(data, colorspace_in)
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


def strict_warnings_check(data: bytes, colorspace_in: str) -> None:
    """Decode every scan of ``data`` at 1/8 scale and raise on any libjpeg warning."""
    colorspace = "CMYK" if colorspace_in in ("CMYK", "YCCK") else "GRAY"
    _strict(data, colorspace=colorspace, min_factor=8)


def _turbojpeg_colorspace(data: bytes) -> str | None:
    """The JPEG's colour space as TurboJPEG reads it, or ``None`` for a sampling layout it
    cannot decode."""
    try:
        return str(simplejpeg.decode_jpeg_header(data)[2])
    except (ValueError, RuntimeError) as exc:
        if _UNKNOWN_LAYOUT in str(exc):
            return None
        raise CorruptInput(f"cannot read JPEG header: {one_line(exc)}") from None


def _strict(data: bytes, **options: object) -> NDArray[np.uint8]:
    try:
        return np.asarray(simplejpeg.decode_jpeg(data, strict=True, **options))
    except (ValueError, RuntimeError) as exc:
        raise CorruptInput(f"cannot decode JPEG: {one_line(exc)}") from None
