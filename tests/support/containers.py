"""Helpers shared by the metadata tests: building containers by hand, finding canaries."""

from __future__ import annotations

import contextlib
import io
import struct
import zlib

import cv2
import numpy as np
from PIL import Image


def segment(marker: int, payload: bytes) -> bytes:
    """One JPEG marker segment."""
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def riff_chunk(fourcc: bytes, payload: bytes) -> bytes:
    pad = b"\0" if len(payload) % 2 else b""
    return fourcc + struct.pack("<I", len(payload)) + payload + pad


def riff(chunks: list[bytes]) -> bytes:
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The top-level (fourcc, payload) chunks of a WebP file."""
    out = []
    pos = 12
    while pos + 8 <= len(data):
        fourcc = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        out.append((fourcc, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return out


def tiff_with(entries: list[tuple[int, int, bytes]], orientation: int | None = None) -> bytes:
    """A little big-endian TIFF/EXIF block with ASCII/UNDEFINED entries (values stored after
    the IFD) and optionally an Orientation tag."""
    items = list(entries)
    if orientation is not None:
        items.append((0x0112, 3, struct.pack(">HH", orientation, 0)))
    items.sort()
    n = len(items)
    data_offset = 8 + 2 + 12 * n + 4
    ifd = struct.pack(">H", n)
    blob = b""
    for tag, typ, value in items:
        if typ == 3:
            ifd += struct.pack(">HHI", tag, typ, 1) + value[:4]
        else:
            ifd += struct.pack(">HHII", tag, typ, len(value), data_offset + len(blob))
            blob += value
            if len(blob) % 2:
                blob += b"\0"
    return b"MM\0*" + struct.pack(">I", 8) + ifd + struct.pack(">I", 0) + blob


def noise_image(width: int = 64, height: int = 48, mode: str = "RGB", seed: int = 1) -> Image.Image:
    rng = np.random.default_rng(seed)
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    arr = rng.integers(0, 256, size=(height, width, channels), dtype=np.uint8)
    # Smooth it a little so JPEG has some structure.
    arr = cv2.GaussianBlur(arr, (5, 5), 0).reshape(height, width, channels)
    if channels == 1:
        return Image.fromarray(arr[:, :, 0], "L")
    return Image.fromarray(arr, mode)


def encode(im: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    im.save(out, format=fmt, **options)
    return out.getvalue()


def inflated_streams(data: bytes) -> list[bytes]:
    """Everything that inflates from any offset that looks like a zlib header, plus the
    concatenated PNG IDAT stream: canaries may hide inside compressed text."""
    found = []
    for i in range(len(data) - 2):
        if data[i] == 0x78 and (data[i] * 256 + data[i + 1]) % 31 == 0:
            with contextlib.suppress(zlib.error):
                found.append(zlib.decompressobj().decompress(data[i:], 1 << 24))
    return found


def canary_free(data: bytes, canary: bytes = b"CANARY") -> bool:
    """No canary in the raw bytes nor in anything that inflates out of them."""
    if canary in data or canary.lower() in data:
        return False
    return all(canary not in s for s in inflated_streams(data))


def decode_pillow(data: bytes) -> np.ndarray:
    """Every frame, as an array, with Pillow (no orientation applied)."""
    frames = []
    with Image.open(io.BytesIO(data)) as im:
        for index in range(getattr(im, "n_frames", 1)):
            im.seek(index)
            frames.append(np.asarray(im.convert("RGBA")))
    return np.stack(frames)


def decode_opencv(data: bytes) -> np.ndarray:
    """The first frame with OpenCV, unchanged (no orientation, no colour conversion)."""
    arr = cv2.imdecode(
        np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION
    )
    assert arr is not None, "OpenCV cannot decode the output"
    return arr
