"""Is a PNG's image data whole? Inflate the IDAT stream to its end and check its size.

Chunk CRCs (checked by the Rust walker) only prove that each chunk holds what its writer
put there. A PNG rewritten with damaged deflate data and fresh CRCs — or written that way by a
broken tool — decodes in Pillow into rows of garbage: Pillow stops inflating once it has the
rows it needs and never checks the stream's Adler-32. Here the whole zlib stream is inflated
(zlib verifies the Adler-32 at its end; the GIL is released while it inflates), and refused
when it is cut, carries data after its end, or inflates to more or fewer bytes than the
header's width, height, colour type, bit depth and interlacing require.

APNG animation frames (``fdAT``) are not checked here; their chunk CRCs still are.
"""

from __future__ import annotations

import struct
import zlib

from fastredact.errors import CorruptInput

__all__ = ["check_png_stream", "expected_inflated_size"]

_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = (  # (x start, y start, x step, y step) of the seven interlacing passes
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)
_PIECE = 1 << 20


def expected_inflated_size(
    width: int, height: int, bit_depth: int, color_type: int, interlaced: bool
) -> int:
    """Bytes of filtered scanlines (one filter byte per row) the header calls for."""
    channels = _CHANNELS.get(color_type)
    if channels is None or bit_depth not in (1, 2, 4, 8, 16):
        raise CorruptInput(f"PNG header: colour type {color_type}, bit depth {bit_depth}")
    bits_per_pixel = channels * bit_depth

    def rows(w: int, h: int) -> int:
        return 0 if w == 0 or h == 0 else h * (1 + (w * bits_per_pixel + 7) // 8)

    if not interlaced:
        return rows(width, height)
    total = 0
    for x0, y0, dx, dy in _ADAM7:
        total += rows((width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy)
    return total


def check_png_stream(data: bytes) -> None:
    """Raise ``CorruptInput`` unless the IDAT stream inflates whole to the expected size.

    The chunk layout is assumed valid (the Rust walker has checked it and every CRC).
    """
    header, idat = _read_chunks(data)
    width, height, bit_depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    expected = expected_inflated_size(width, height, bit_depth, color_type, interlace == 1)
    inflater = zlib.decompressobj()
    produced = 0
    try:
        for piece in idat:
            if inflater.eof:
                if len(piece):
                    raise CorruptInput("corrupt PNG image data: data after the end of the stream")
                continue
            pending: bytes | memoryview = piece
            while pending and produced <= expected:
                produced += len(inflater.decompress(pending, _PIECE))
                pending = inflater.unconsumed_tail
            if inflater.unused_data:
                raise CorruptInput("corrupt PNG image data: data after the end of the stream")
            if produced > expected:
                break
        while not inflater.eof and produced <= expected:
            out = inflater.decompress(b"", _PIECE)
            if not out:
                break
            produced += len(out)
    except zlib.error as exc:
        raise CorruptInput(f"corrupt PNG image data: {exc}") from None
    if produced > expected:
        raise CorruptInput(f"corrupt PNG image data: inflates past the {expected} bytes needed")
    if not inflater.eof:
        raise CorruptInput("corrupt PNG image data: the compressed stream is cut short")
    if produced != expected:
        raise CorruptInput(
            f"corrupt PNG image data: {produced} bytes of rows, the header needs {expected}"
        )


def _read_chunks(data: bytes) -> tuple[bytes, list[memoryview]]:
    view = memoryview(data)
    pos = 8
    header = b""
    idat: list[memoryview] = []
    while pos + 8 <= len(view):
        (length,) = struct.unpack(">I", view[pos : pos + 4])
        kind = bytes(view[pos + 4 : pos + 8])
        body = view[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = bytes(body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if len(header) != 13 or not idat:
        raise CorruptInput("corrupt PNG: no IHDR or no IDAT chunk")
    return header, idat
