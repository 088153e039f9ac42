"""PNGs whose image data is damaged are refused, even with valid chunk CRCs (Pillow decodes
them into rows of garbage)."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from fastredact import photo
from fastredact.errors import CorruptInput
from fastredact.photo._strict_png import check_png_stream, expected_inflated_size
from tests.support import SHARED_DATA

ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(rgb: np.ndarray, *, interlaced: bool = False, deflated: bytes | None = None) -> bytes:
    """A PNG written here: 8-bit RGB, filter 0 rows, Adam7 when ``interlaced``; ``deflated``
    replaces the IDAT payload (CRCs stay valid)."""
    height, width, _ = rgb.shape
    passes = ADAM7 if interlaced else ((0, 0, 1, 1),)
    raw = bytearray()
    for x0, y0, dx, dy in passes:
        sub = rgb[y0::dy, x0::dx]
        if sub.size:
            for row in sub:
                raw += b"\0" + row.tobytes()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 1 if interlaced else 0)
    payload = zlib.compress(bytes(raw)) if deflated is None else deflated
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", payload)
        + _chunk(b"IEND", b"")
    )


def _pixels(height: int = 37, width: int = 53) -> np.ndarray:
    rng = np.random.default_rng(height * 1000 + width)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def _pillow_accepts(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
    except (OSError, SyntaxError, ValueError):
        return False
    return True


@pytest.mark.parametrize("interlaced", [False, True])
def test_png_written_here_decodes_whole_and_matches_pillow(interlaced: bool) -> None:
    rgb = _pixels()
    data = _png(rgb, interlaced=interlaced)
    check_png_stream(data)
    assert np.array_equal(photo.decode_image(data).frames[0], rgb)
    with Image.open(io.BytesIO(data)) as im:
        assert np.array_equal(np.asarray(im.convert("RGB")), rgb)


@given(
    st.integers(1, 70),
    st.integers(1, 70),
    st.sampled_from(["1", "L", "P", "RGB", "RGBA", "LA", "I;16"]),
)
@settings(max_examples=40, deadline=None)
def test_expected_size_is_what_pillow_writes(width: int, height: int, mode: str) -> None:
    rgb = _pixels(height, width)
    im = Image.fromarray(rgb)
    im = im.convert("I").convert("I;16") if mode == "I;16" else im.convert(mode)
    out = io.BytesIO()
    im.save(out, format="PNG")
    data = out.getvalue()
    check_png_stream(data)
    header = data[16:29]
    w, h, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    chunks = _idat(data)
    assert len(zlib.decompress(chunks)) == expected_inflated_size(
        w, h, depth, color, interlace == 1
    )


def _idat(data: bytes) -> bytes:
    pos, out = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IDAT":
            out += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return out


def _raw_rows(rgb: np.ndarray) -> bytes:
    return b"".join(b"\0" + row.tobytes() for row in rgb)


def _damaged_streams(rgb: np.ndarray) -> dict[str, bytes]:
    good = zlib.compress(_raw_rows(rgb), 6)
    flipped = bytearray(good)
    flipped[len(good) // 2] ^= 0x08
    return {
        "bit flipped, CRC recomputed": bytes(flipped),
        "stream cut short": good[: len(good) - 9],
        "rows missing": zlib.compress(_raw_rows(rgb[:-3])),
        "rows extra": zlib.compress(_raw_rows(np.concatenate([rgb, rgb[:2]]))),
        "data after the stream": good + b"tail bytes",
        "Adler-32 wrong": good[:-4] + bytes(4),
    }


@pytest.mark.parametrize("how", list(_damaged_streams(_pixels())))
def test_damaged_image_data_is_corrupt_input(how: str) -> None:
    rgb = _pixels()
    data = _png(rgb, deflated=_damaged_streams(rgb)[how])
    with pytest.raises(CorruptInput, match="PNG"):
        photo.decode_image(data)


def test_pillow_alone_would_have_accepted_the_damage() -> None:
    rgb = _pixels()
    accepted = [
        how
        for how, stream in _damaged_streams(rgb).items()
        if _pillow_accepts(_png(rgb, deflated=stream))
    ]
    # Pillow 12 accepts a stream that ends rows early (the picture's bottom left black).
    assert {"rows missing", "rows extra", "data after the stream"} <= set(accepted), accepted


def test_a_changed_byte_fails_its_chunk_crc() -> None:
    data = bytearray(_png(_pixels()))
    data[60] ^= 0x01  # inside IDAT
    with pytest.raises(CorruptInput, match="CRC"):
        photo.decode_image(bytes(data))


def test_every_shared_png_that_decodes_is_whole(shared_data: Path) -> None:
    checked = 0
    for path in sorted(SHARED_DATA.rglob("*")):
        if not path.is_file() or path.stat().st_size > 8_000_000:
            continue
        data = path.read_bytes()
        if not data.startswith(b"\x89PNG\r\n\x1a\n") or not _pillow_accepts(data):
            continue
        check_png_stream(data)
        checked += 1
    assert checked >= 5
