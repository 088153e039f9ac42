"""Camera RAW: developed by LibRaw (rawpy) to 16-bit RGB with the camera's white balance,
oriented; a file too short for its sensor is refused (LibRaw would fill it with noise)."""

from __future__ import annotations

import io

import numpy as np
from numpy.typing import NDArray

from fastredact.errors import CorruptInput, UnsupportedFormat, one_line

__all__ = ["develop_raw", "open_raw"]


def open_raw(data: bytes):  # type: ignore[no-untyped-def]
    import rawpy

    try:
        return rawpy.imread(io.BytesIO(data))
    except rawpy.LibRawFileUnsupportedError:
        raise UnsupportedFormat("camera RAW variant not supported by LibRaw") from None
    except Exception as exc:
        raise CorruptInput(f"cannot read camera RAW: {one_line(exc)}") from None


# Even lossless-compressed RAW data needs more than this many bytes per sensor pixel; a file
# smaller than that is truncated, and LibRaw would silently develop the missing part as noise.
_MIN_RAW_BYTES_PER_PIXEL = 1 / 16


def develop_raw(data: bytes) -> NDArray[np.uint16]:
    """Develop a camera RAW to 16-bit RGB, camera white balance, oriented (LibRaw flips)."""
    with open_raw(data) as raw:
        sensor_pixels = int(raw.sizes.raw_width) * int(raw.sizes.raw_height)
        if len(data) < sensor_pixels * _MIN_RAW_BYTES_PER_PIXEL:
            raise CorruptInput(
                f"camera RAW is truncated: {len(data)} bytes for a "
                f"{raw.sizes.raw_width}x{raw.sizes.raw_height} sensor"
            )
        try:
            rgb = raw.postprocess(output_bps=16, use_camera_wb=True, no_auto_bright=False)
        except Exception as exc:
            raise CorruptInput(f"cannot develop camera RAW: {one_line(exc)}") from None
    return np.array(rgb, dtype=np.uint16)
