"""Decoding photos: the format from the content, decompression bombs refused before any
pixel is decoded, the container walked whole (which is also its lossless strip), every frame
decoded with the EXIF orientation applied.

Everything here works on bytes and arrays (no paths), so the batch owns file handling.
Errors are :class:`~fastredact.errors.CorruptInput`, :class:`~fastredact.errors.UnsupportedFormat`
or :class:`~fastredact.errors.LimitExceeded` with a one-line cause (the caller adds the file name).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from PIL import Image, JpegImagePlugin

from fastredact.errors import CorruptInput, LimitExceeded, UnsupportedFormat, one_line
from fastredact.formats import LOSSLESS_STRIP_FORMATS, RAW_FORMAT, photo_format
from fastredact.options import DEFAULT_MAX_PIXELS, IccPolicy
from fastredact.photo._jpeg_quality import estimate_jpeg_quality
from fastredact.photo._orientation import apply_orientation, exif_orientation, undo_orientation
from fastredact.photo._pillow import open_pillow
from fastredact.photo._raw import develop_raw, open_raw
from fastredact.photo._strict_jpeg import decode_jpeg_pixels
from fastredact.photo._strict_png import check_png_stream
from fastredact.photo._wide import decode_wide_rgb, is_wide_rgb
from fastredact.strip import StripResult, strip_metadata

__all__ = [
    "DecodedImage",
    "Dimensions",
    "check_container",
    "decode_image",
    "read_dimensions",
]


@dataclass
class DecodedImage:
    """A decoded photo, oriented for display (EXIF orientation already applied).

    ``frames`` holds one array per frame (one for still images): uint8 H×W, H×W×3 or
    H×W×4 (alpha kept); uint16 H×W, H×W×3 or H×W×4 for 16-bit gray, RGB or RGBA PNG / TIFF
    (single-image), and uint16 H×W×3 for RAW development.
    """

    format: str
    frames: list[NDArray[np.uint8] | NDArray[np.uint16]]
    orientation: int = 1
    icc_profile: bytes | None = None
    jpeg_quality: int | None = None
    jpeg_subsampling: int | None = None
    durations: list[int] = field(default_factory=list)
    loop: int | None = None
    stripped: StripResult | None = None
    """The lossless metadata strip of the input (JPEG, PNG, WebP, GIF), made by the container
    walk that checked it before decoding (:func:`check_container`): the photo's output when
    nothing in it needs hiding."""

    @property
    def width(self) -> int:
        return int(self.frames[0].shape[1])

    @property
    def height(self) -> int:
        return int(self.frames[0].shape[0])


@dataclass(frozen=True)
class Dimensions:
    """What the headers promise: the first frame's size, the number of frames and the
    pixels that decoding all of them takes."""

    width: int
    height: int
    frames: int
    pixels: int


def read_dimensions(data: bytes, fmt: str) -> Dimensions:
    """Sizes from the headers alone (no pixel decoding), for the bomb check. Pillow walks the
    frame headers of GIF, APNG, WebP and TIFF; every frame of an animation is decoded to the
    full canvas, and every TIFF page at its own size, so they all count (a JPEG's MPF
    secondary images are not decoded: one frame)."""
    if fmt == RAW_FORMAT:
        raw = open_raw(data)
        with raw:
            width, height = int(raw.sizes.width), int(raw.sizes.height)
            return Dimensions(width, height, 1, width * height)
    with open_pillow(data, fmt) as im:
        width, height = int(im.size[0]), int(im.size[1])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                frames = 1 if fmt == "jpeg" else max(1, int(getattr(im, "n_frames", 1)))
                pixels = _tiff_page_pixels(im, frames) if fmt == "tiff" else width * height * frames
        except (OSError, SyntaxError, ValueError, TypeError, EOFError, Warning) as exc:
            raise CorruptInput(f"cannot count {fmt.upper()} frames: {one_line(exc)}") from None
        return Dimensions(width, height, frames, pixels)


def _tiff_page_pixels(im: Image.Image, pages: int) -> int:
    """The pixels of every page together (pages have sizes of their own); seeking reads a
    page's directory, not its pixels."""
    total = 0
    for index in range(pages):
        im.seek(index)
        total += int(im.size[0]) * int(im.size[1])
    im.seek(0)
    return total


def decode_image(
    data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, icc: IccPolicy = "keep"
) -> DecodedImage:
    """Decode ``data`` fully, refusing images over ``max_pixels`` (all frames together)
    before any pixel is decoded. ``icc`` is the colour-profile policy of the lossless strip
    the container check keeps (:attr:`DecodedImage.stripped`)."""
    fmt = photo_format(data)
    size = read_dimensions(data, fmt)
    if size.width <= 0 or size.height <= 0:
        raise CorruptInput(f"image has no pixels ({size.width}x{size.height})")
    if size.pixels > max_pixels:
        shape = f"{size.width}x{size.height}" + (
            f" x {size.frames} frames" if size.frames > 1 else ""
        )
        raise LimitExceeded(
            f"image is {shape} = {size.pixels} pixels, over the limit of {max_pixels} "
            "(--max-pixels)"
        )
    if fmt == RAW_FORMAT:
        return DecodedImage(format=RAW_FORMAT, frames=[develop_raw(data)])
    stripped = check_container(data, fmt, icc=icc)
    decoded = _decode_pillow(data, fmt)
    decoded.stripped = stripped
    return decoded


def check_container(data: bytes, fmt: str, *, icc: IccPolicy = "keep") -> StripResult | None:
    """Walk every segment / chunk / block of a JPEG, PNG, WebP or GIF with the Rust core's
    container walker (the lossless strip, whose result is returned, orientation tag kept)
    and raise ``CorruptInput`` on damage: PNG chunk CRCs, chunk and RIFF sizes, GIF block
    structure, JPEG markers. Pillow checks none of the CRCs and decodes a PNG with damaged
    IDAT data into garbage rows. A PNG's image data is then inflated whole
    (:func:`~fastredact.photo._strict_png.check_png_stream`). ``None`` for other formats."""
    stripped = strip_metadata(data, icc=icc) if fmt in LOSSLESS_STRIP_FORMATS else None
    if fmt == "png":
        check_png_stream(data)
    return stripped


def _decode_pillow(data: bytes, fmt: str) -> DecodedImage:
    with open_pillow(data, fmt) as im:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                return _read_frames(im, fmt, data)
        except (OSError, SyntaxError, ValueError, TypeError, EOFError, Warning) as exc:
            raise CorruptInput(f"cannot decode {fmt.upper()}: {one_line(exc)}") from None


def _read_frames(im: Image.Image, fmt: str, data: bytes) -> DecodedImage:
    orientation = exif_orientation(im)
    decoded = DecodedImage(
        format=fmt,
        frames=[],
        orientation=orientation,
        icc_profile=im.info.get("icc_profile") or None,
        loop=im.info.get("loop"),
    )
    if fmt == "jpeg":
        decoded.jpeg_quality = estimate_jpeg_quality(getattr(im, "quantization", {}))
        sampling = JpegImagePlugin.get_sampling(im)
        decoded.jpeg_subsampling = sampling if sampling >= 0 else None
        decoded.frames.append(_read_jpeg_primary(im, data, orientation))
        decoded.durations.append(0)
        return decoded
    wide = is_wide_rgb(data, fmt, im)
    for index in range(int(getattr(im, "n_frames", 1))):
        im.seek(index)
        im.load()
        frame: NDArray[np.uint8] | NDArray[np.uint16] = _to_array(im)
        if not _oriented_by_pillow(im, orientation):
            frame = cast(
                "NDArray[np.uint8] | NDArray[np.uint16]", apply_orientation(frame, orientation)
            )
        if wide:  # 16-bit RGB(A): OpenCV's 16 bits, checked against Pillow's 8
            narrow = cast(NDArray[np.uint8], frame)
            frame = decode_wide_rgb(data, fmt, narrow, _orientation_variants(orientation))
        decoded.frames.append(frame)
        decoded.durations.append(int(im.info.get("duration", 0) or 0))
    return decoded


def _oriented_by_pillow(im: Image.Image, orientation: int) -> bool:
    """Whether Pillow already turned the loaded frame upright: its TIFF reader applies the
    orientation tag while loading and then deletes the tag (other formats leave both alone)."""
    return orientation != 1 and im.format == "TIFF" and exif_orientation(im) == 1


def _orientation_variants(orientation: int) -> list[Callable[[NDArray[np.uint16]], Any]]:
    """The ways a second decoder may have handled the orientation: left the pixels as stored,
    or applied it (OpenCV's TIFF reader does, whatever its flags say)."""
    return [
        lambda pixels: pixels,
        partial(apply_orientation, orientation=orientation),
        partial(undo_orientation, orientation=orientation),
    ]


def _read_jpeg_primary(im: Image.Image, data: bytes, orientation: int) -> NDArray[np.uint8]:
    """The primary image only: MPF secondary images are metadata, dropped with the rest."""
    _check_mpf_extent(im, len(data))
    pixels = decode_jpeg_pixels(data, im.mode, im.size)
    if pixels is None:  # CMYK / YCCK: scans checked, pixels from Pillow
        im.load()
        pixels = cast(NDArray[np.uint8], _to_array(im))  # CMYK: always 8-bit
    return apply_orientation(pixels, orientation)


def _check_mpf_extent(im: Image.Image, length: int) -> None:
    """Refuse a JPEG whose MPF index lists an image running past the end of the file: the
    file was cut (the images' offsets are relative to the MPF segment, so an entry whose
    offset plus size alone exceeds the length certainly does)."""
    entries = (getattr(im, "mpinfo", None) or {}).get(0xB002) or []
    for entry in entries:
        try:
            end = int(entry["DataOffset"]) + int(entry["Size"])
        except (KeyError, TypeError, ValueError):
            raise CorruptInput("malformed MPF index (multi-picture JPEG)") from None
        if end > length:
            raise CorruptInput(
                f"truncated: the MPF index lists an image ending at byte {end}, "
                f"the file has {length}"
            )


def _to_array(im: Image.Image) -> NDArray[np.uint8] | NDArray[np.uint16]:
    """Pixels as uint8 (uint16 for 16-bit gray): gray stays gray, alpha is kept, everything
    else becomes RGB."""
    if im.mode == "L":
        rgb = im
    elif im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgb = im.convert("RGBA")
    elif im.mode in ("I;16", "I;16B", "I;16L"):
        # 16-bit gray stays 16-bit (PNG and TIFF write it back; other formats get 8 bits).
        return np.array(im, dtype=np.uint16)
    elif im.mode == "I":
        wide = np.asarray(im)  # int32
        if wide.size and (int(wide.min()) < 0 or int(wide.max()) > 0xFFFF):
            raise UnsupportedFormat("32-bit integer pixels are not supported")
        return wide.astype(np.uint16)
    elif im.mode == "F":
        # Converting would clip floats to 0..255 (a 0..1 image turns black): refuse instead.
        raise UnsupportedFormat("floating-point pixels are not supported")
    else:
        rgb = im.convert("RGB")
    return np.array(rgb, dtype=np.uint8)  # a writable copy: frames are redacted in place
