"""``orientation="bake"``: rotate the pixels of an already stripped photo upright and
re-encode them (lossless for PNG, WebP and GIF; JPEG keeps its quantisation tables and
chroma subsampling)."""

from __future__ import annotations

import io
from typing import Any, cast

from PIL import Image, JpegImagePlugin

from fastredact.errors import CorruptInput, FastRedactError, UnsupportedFormat
from fastredact.photo._orientation import apply_orientation, pillow_transpose
from fastredact.photo._wide import is_wide_rgb_png

__all__ = ["bake_orientation"]


def bake_orientation(clean: bytes, fmt: str, orientation: int, icc: str) -> bytes:
    """Rotate the pixels of an already stripped image upright and re-encode it."""
    if fmt == "png" and is_wide_rgb_png(clean):
        return _bake_wide_png(clean, orientation, icc)
    try:
        with Image.open(io.BytesIO(clean)) as im:
            if getattr(im, "n_frames", 1) > 1:
                raise UnsupportedFormat(
                    'orientation="bake" is not supported for animated images; use "keep" or "drop"'
                )
            im.load()
            icc_profile = im.info.get("icc_profile") if icc == "keep" else None
            options: dict[str, object] = {}
            if icc_profile:
                options["icc_profile"] = icc_profile
            if fmt == "jpeg":
                options["qtables"] = getattr(im, "quantization", None) or "web_high"
                sampling = JpegImagePlugin.get_sampling(im)
                if sampling != -1:
                    options["subsampling"] = sampling
            elif fmt == "webp":
                options["lossless"] = True
                options["exact"] = True
            if fmt == "gif" and "transparency" in im.info:
                options["transparency"] = im.info["transparency"]
            rotated = im.transpose(pillow_transpose(orientation))
    except FastRedactError:
        raise
    except Exception as exc:  # Pillow raises many kinds of errors on bad input
        raise CorruptInput(f"cannot decode the image to bake its orientation: {exc}") from exc
    out = io.BytesIO()
    rotated.save(out, format=fmt.upper(), **options)
    return out.getvalue()


def _bake_wide_png(clean: bytes, orientation: int, icc: str) -> bytes:
    """Bake the orientation of a 16-bit RGB(A) PNG with all 16 bits (lossless)."""
    from fastredact.photo._decode import decode_image
    from fastredact.photo._encode import encode_image

    decoded = decode_image(clean)  # the tag was already dropped: pixels as stored
    if len(decoded.frames) != 1:
        raise UnsupportedFormat('orientation="bake" is not supported for animated images')
    upright = apply_orientation(decoded.frames[0], orientation)
    profile = decoded.icc_profile if icc == "keep" else None
    return encode_image([cast("Any", upright)], "png", icc_profile=profile)
