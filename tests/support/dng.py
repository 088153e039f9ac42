"""A minimal, valid DNG written here (tests only): an RGGB Bayer mosaic of an RGB picture,
16-bit, uncompressed, with camera Make/Model tags to check that nothing of them survives.

Real camera RAW files are large and the shared corpus only has truncated ones; this gives the
RAW path (LibRaw development → detection → redaction → 16-bit TIFF) a whole file to decode.
"""

from __future__ import annotations

import struct

import numpy as np
from numpy.typing import NDArray

__all__ = ["bayer_dng"]

_SHORT, _LONG, _ASCII, _RATIONAL, _SRATIONAL, _BYTE = 3, 4, 2, 5, 10, 1


def _mosaic(rgb: NDArray[np.uint8]) -> NDArray[np.uint16]:
    """RGGB: red on even rows and columns, blue on odd ones, green elsewhere (16-bit)."""
    h, w = rgb.shape[0] // 2 * 2, rgb.shape[1] // 2 * 2
    wide = rgb[:h, :w].astype(np.uint16) * 257
    out = np.empty((h, w), np.uint16)
    out[0::2, 0::2] = wide[0::2, 0::2, 0]
    out[0::2, 1::2] = wide[0::2, 1::2, 1]
    out[1::2, 0::2] = wide[1::2, 0::2, 1]
    out[1::2, 1::2] = wide[1::2, 1::2, 2]
    return out


def bayer_dng(rgb: NDArray[np.uint8], *, make: str, model: str) -> bytes:
    """The DNG bytes of ``rgb`` (H×W×3 uint8) seen through an RGGB sensor."""
    raw = _mosaic(rgb)
    h, w = raw.shape
    pixels = raw.astype("<u2").tobytes()
    entries: list[tuple[int, int, int, bytes]] = []  # tag, type, count, value bytes

    def add(tag: int, kind: int, values: list[int] | bytes) -> None:
        if kind == _ASCII:
            data = bytes(values) + b"\0"  # type: ignore[arg-type]
            entries.append((tag, kind, len(data), data))
            return
        fmt = {_BYTE: "B", _SHORT: "H", _LONG: "I", _RATIONAL: "II", _SRATIONAL: "ii"}[kind]
        per = 2 if kind in (_RATIONAL, _SRATIONAL) else 1
        data = struct.pack("<" + fmt[0] * len(values), *values)  # type: ignore[arg-type]
        entries.append((tag, kind, len(values) // per, data))

    identity = [1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1]
    add(254, _LONG, [0])
    add(256, _LONG, [w])
    add(257, _LONG, [h])
    add(258, _SHORT, [16])
    add(259, _SHORT, [1])
    add(262, _SHORT, [32803])  # colour filter array
    add(271, _ASCII, make.encode())
    add(272, _ASCII, model.encode())
    add(273, _LONG, [0])  # strip offset, patched below
    add(274, _SHORT, [1])
    add(277, _SHORT, [1])
    add(278, _LONG, [h])
    add(279, _LONG, [len(pixels)])
    add(284, _SHORT, [1])
    add(33421, _SHORT, [2, 2])
    add(33422, _BYTE, [0, 1, 1, 2])
    add(50706, _BYTE, [1, 4, 0, 0])
    add(50708, _ASCII, model.encode())
    add(50714, _LONG, [0])
    add(50717, _LONG, [65535])
    add(50721, _SRATIONAL, identity)
    add(50728, _RATIONAL, [1, 1, 1, 1, 1, 1])
    add(50778, _SHORT, [21])
    entries.sort()
    ifd_at = 8
    data_at = ifd_at + 2 + 12 * len(entries) + 4
    blobs = b""
    table = b""
    offset_field = 0
    for tag, kind, count, value in entries:
        if tag == 273:
            offset_field = ifd_at + 2 + 12 * entries.index((tag, kind, count, value)) + 8
        if len(value) <= 4:
            table += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\0")
        else:
            table += struct.pack("<HHII", tag, kind, count, data_at + len(blobs))
            blobs += value + (b"\0" if len(value) % 2 else b"")
    strip_at = data_at + len(blobs)
    head = b"II*\0" + struct.pack("<I", ifd_at)
    ifd = struct.pack("<H", len(entries)) + table + struct.pack("<I", 0)
    out = bytearray(head + ifd + blobs + pixels)
    struct.pack_into("<I", out, offset_field, strip_at)
    return bytes(out)
