"""Encoding photos back to their format with no metadata (quality and chroma subsampling
matched to the source by the caller), and the audit of what our own encoder wrote."""

from __future__ import annotations

import io
from typing import cast

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from fastredact.errors import InternalError, UnsupportedFormat, one_line
from fastredact.formats import PILLOW_FORMATS
from fastredact.photo._pillow import open_pillow, register_heif
from fastredact.photo._wide import encode_wide_rgb

__all__ = ["PNG_COMPRESS_LEVEL", "check_encoded_clean", "encode_image"]

PNG_COMPRESS_LEVEL = 3
"""zlib level for re-encoded PNGs: a 5-megapixel photo takes ~0.47 s at 3 against ~1.0 s at
Pillow's default 6, for a file ~3 % larger (egoblur gen2 test_face_image.png, one core)."""


def encode_image(
    frames: list[NDArray[np.uint8] | NDArray[np.uint16]],
    fmt: str,
    *,
    quality: int | None = None,
    subsampling: int | None = None,
    icc_profile: bytes | None = None,
    durations: list[int] | None = None,
    loop: int | None = None,
    orientation: int = 1,
) -> bytes:
    """Encode frames to ``fmt`` (``jpeg png webp gif tiff bmp heif avif``) with no metadata.

    ``quality`` applies to lossy formats (JPEG, WebP and AVIF default 95 when unknown, HEIF
    90 with x265's fastest preset); 16-bit frames (gray,
    RGB, RGBA) are written with 16 bits to PNG and TIFF and scaled to 8 bits for other
    formats. The ICC profile is written only when given (policy decided by the caller).
    """
    if fmt not in PILLOW_FORMATS or (fmt == "avif" and not _has_avif()):
        raise UnsupportedFormat(f"cannot write {fmt.upper()}")
    if fmt in ("png", "tiff") and frames[0].dtype == np.uint16 and frames[0].ndim == 3:
        if len(frames) > 1:
            raise UnsupportedFormat(f"cannot write a multi-frame 16-bit RGB {fmt.upper()}")
        return encode_wide_rgb(
            cast(NDArray[np.uint16], frames[0]),
            fmt,
            icc_profile=icc_profile,
            orientation=orientation,
            png_compress_level=PNG_COMPRESS_LEVEL,
        )
    images = [_pillow_image(frame, fmt) for frame in frames]
    if fmt in ("heif", "avif"):
        register_heif()
    options: dict[str, object] = {}
    if icc_profile and fmt not in ("gif", "bmp"):
        options["icc_profile"] = icc_profile
    if orientation != 1 and fmt not in ("gif", "bmp"):
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    if fmt == "jpeg":
        options.update(quality=quality or 95, optimize=True)
        if subsampling is not None:
            options["subsampling"] = subsampling
        images = [im.convert("RGB") if im.mode == "RGBA" else im for im in images]
    elif fmt == "heif":
        # x265's fastest preset at quality 90: 3.0 s for a 12-megapixel iPhone photo where
        # libheif's default (preset "slow", here at quality 95) took 17 s, for the same
        # fidelity (PSNR 53.3 against 53.6 dB) and size (3.0x the phone's file, both).
        options["quality"] = quality or 90
        options["enc_params"] = {"preset": "ultrafast"}
    elif fmt in ("webp", "avif"):
        options["quality"] = quality or 95
    elif fmt == "tiff":
        options["compression"] = "tiff_adobe_deflate"
    elif fmt == "png":
        options["compress_level"] = PNG_COMPRESS_LEVEL
    if len(images) > 1:
        options.update(save_all=True, append_images=images[1:])
        if durations:
            options["duration"] = durations
        if loop is not None:
            options["loop"] = loop
    out = io.BytesIO()
    try:
        images[0].save(out, format=PILLOW_FORMATS[fmt], **options)
    except (OSError, ValueError, KeyError) as exc:
        raise UnsupportedFormat(f"cannot write {fmt.upper()}: {one_line(exc)}") from None
    return out.getvalue()


# Baseline TIFF tags that describe pixels only (no camera, time, place or software).
_STRUCTURAL_TIFF_TAGS = frozenset(
    {256, 257, 258, 259, 262, 273, 274, 277, 278, 279, 282, 283, 284, 296, 317, 338, 339, 34675}
)


def check_encoded_clean(data: bytes, fmt: str) -> None:
    """Verify that our own encoder wrote no metadata beyond pixels, ICC and orientation.

    Used for formats the Rust stripper does not rewrite (TIFF, HEIF, AVIF, BMP); raises
    :class:`InternalError` (never writes a file that might carry more).
    """
    with open_pillow(data, fmt) as im:
        extra: set[int | str]
        if fmt == "tiff":
            extra = set(im.tag_v2.keys()) - _STRUCTURAL_TIFF_TAGS  # type: ignore[attr-defined]
        else:
            extra = {tag for tag in im.getexif() if tag != 0x0112}
            extra |= {k for k in ("xmp", "XML:com.adobe.xmp", "comment") if im.info.get(k)}
    if extra:
        raise InternalError(f"encoded {fmt.upper()} carries metadata {sorted(map(str, extra))}")


def _pillow_image(frame: NDArray[np.uint8] | NDArray[np.uint16], fmt: str) -> Image.Image:
    """A frame as a Pillow image: 16-bit gray stays 16-bit where the format holds it (PNG,
    TIFF), everything else is written with 8 bits per sample."""
    if frame.dtype == np.uint16 and frame.ndim == 2 and fmt in ("png", "tiff"):
        return Image.fromarray(np.ascontiguousarray(frame))
    return Image.fromarray(_to_uint8(frame))


def _to_uint8(frame: NDArray[np.uint8] | NDArray[np.uint16]) -> NDArray[np.uint8]:
    if frame.dtype == np.uint16:
        return (frame >> 8).astype(np.uint8)
    return np.asarray(frame, dtype=np.uint8)


def _has_avif() -> bool:
    from PIL import features

    return bool(features.check("avif"))
