"""16-bit RGB and RGBA photos (PNG, TIFF): decoded and encoded with all 16 bits.

Pillow reads a 16-bit RGB(A) PNG or TIFF as 8 bits per sample and cannot write one. OpenCV
(libpng, libtiff) can, so these files take OpenCV's decoder, and the result is cross-checked
against Pillow's 8-bit decode of the same bytes (Pillow keeps the high byte): two decoders that
disagree mean a damaged file, which is refused rather than guessed at. The encoders add back
what OpenCV cannot write itself: the ICC profile and the orientation tag when the caller keeps
them (PNG ``iCCP`` / ``eXIf`` chunks; TIFF tags 34675 / 274 in a rewritten first directory).
"""

from __future__ import annotations

import contextlib
import struct
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import cast

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from fastredact.errors import CorruptInput, UnsupportedFormat

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_RGB, _PNG_RGBA = 2, 6
_TIFF_BITS_PER_SAMPLE, _TIFF_PHOTOMETRIC, _TIFF_RGB = 258, 262, 2
_TIFF_ORIENTATION, _TIFF_EXTRA_SAMPLES, _TIFF_ICC = 274, 338, 34675


def is_wide_rgb_png(data: bytes) -> bool:
    """A PNG whose IHDR says 16-bit RGB or RGBA (bit depth 16, colour type 2 or 6)."""
    return (
        len(data) > 25
        and data[:8] == _PNG_SIGNATURE
        and data[24] == 16
        and data[25] in (_PNG_RGB, _PNG_RGBA)
    )


def is_wide_rgb(data: bytes, fmt: str, im: Image.Image) -> bool:
    """Whether ``data`` (already opened by Pillow as ``im``) is a single-image 16-bit RGB or
    RGBA PNG / TIFF, whose pixels Pillow would truncate to 8 bits."""
    if im.mode not in ("RGB", "RGBA") or int(getattr(im, "n_frames", 1)) != 1:
        return False
    if fmt == "png":
        return is_wide_rgb_png(data)
    if fmt == "tiff":
        tags = im.tag_v2  # type: ignore[attr-defined]
        bits = tags.get(_TIFF_BITS_PER_SAMPLE)
        bits = tuple(bits) if isinstance(bits, tuple | list) else (bits,)
        return tags.get(_TIFF_PHOTOMETRIC) == _TIFF_RGB and len(bits) >= 3 and set(bits) == {16}
    return False


def decode_wide_rgb(
    data: bytes,
    fmt: str,
    narrow: NDArray[np.uint8],
    variants: Sequence[Callable[[NDArray[np.uint16]], NDArray[np.uint16]]],
) -> NDArray[np.uint16]:
    """The 16-bit RGB(A) pixels of ``data``, checked against Pillow's 8-bit decode ``narrow``
    of the same bytes (display-oriented): the first of ``variants`` (orientation handlings of
    OpenCV's result) whose high bytes equal ``narrow`` is returned."""
    import cv2

    buffer = np.frombuffer(data, dtype=np.uint8)
    with _opencv_quiet():  # libtiff's notes on private tags; failures become CorruptInput
        bgr = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION)
    if bgr is None or bgr.dtype != np.uint16 or bgr.ndim != 3 or bgr.shape[2] not in (3, 4):
        raise CorruptInput(f"cannot decode the 16-bit {fmt.upper()} pixels")
    order = [2, 1, 0, 3][: bgr.shape[2]]
    decoded = np.ascontiguousarray(bgr[:, :, order])
    for variant in variants:
        wide = variant(cast(NDArray[np.uint16], decoded))
        if wide.shape == narrow.shape and np.array_equal((wide >> 8).astype(np.uint8), narrow):
            return np.ascontiguousarray(wide)
    raise CorruptInput(
        f"two decoders disagree on the 16-bit {fmt.upper()} pixels (damaged image data)"
    )


@contextlib.contextmanager
def _opencv_quiet() -> Iterator[None]:
    """OpenCV's own log silenced for one call: it would print to stderr, once per file."""
    import cv2

    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(level)


def encode_wide_rgb(
    frame: NDArray[np.uint16],
    fmt: str,
    *,
    icc_profile: bytes | None,
    orientation: int,
    png_compress_level: int,
) -> bytes:
    """A 16-bit RGB(A) frame as a 16-bit PNG or TIFF (deflate), with the ICC profile and
    orientation when given and nothing else."""
    import cv2

    order = [2, 1, 0, 3][: frame.shape[2]]
    bgr = np.ascontiguousarray(frame[:, :, order])
    if fmt == "png":
        params = [cv2.IMWRITE_PNG_COMPRESSION, png_compress_level]
    elif fmt == "tiff":
        params = [cv2.IMWRITE_TIFF_COMPRESSION, 8]  # Adobe deflate
    else:
        raise UnsupportedFormat(f"cannot write 16-bit {fmt.upper()}")
    ok, buf = cv2.imencode(f".{fmt}", bgr, params)
    if not ok:
        raise UnsupportedFormat(f"cannot write 16-bit {fmt.upper()}")
    encoded = bytes(buf.tobytes())
    if fmt == "png":
        return _png_with_chunks(encoded, _png_chunks(icc_profile, orientation))
    tags: dict[int, tuple[int, bytes]] = {}
    if frame.shape[2] == 4:
        tags[_TIFF_EXTRA_SAMPLES] = (3, struct.pack("<H", 2))  # unassociated alpha
    if icc_profile:
        tags[_TIFF_ICC] = (7, icc_profile)  # UNDEFINED bytes
    if orientation != 1:
        tags[_TIFF_ORIENTATION] = (3, struct.pack("<H", orientation))  # SHORT
    return _tiff_with_tags(encoded, tags) if tags else encoded


def _png_chunks(icc_profile: bytes | None, orientation: int) -> list[bytes]:
    chunks = []
    if icc_profile:
        chunks.append(_png_chunk(b"iCCP", b"ICC profile\x00\x00" + zlib.compress(icc_profile)))
    if orientation != 1:
        exif = Image.Exif()
        exif[_TIFF_ORIENTATION] = orientation
        tiff = exif.tobytes()
        chunks.append(_png_chunk(b"eXIf", tiff[6:] if tiff.startswith(b"Exif\x00\x00") else tiff))
    return chunks


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _png_with_chunks(png: bytes, chunks: list[bytes]) -> bytes:
    """``png`` with ``chunks`` inserted right after IHDR (before any image data, as the PNG
    specification requires for iCCP and eXIf)."""
    ihdr_end = 8 + 8 + struct.unpack(">I", png[8:12])[0] + 4
    if png[12:16] != b"IHDR":
        raise UnsupportedFormat("OpenCV wrote a PNG without IHDR first")
    return png[:ihdr_end] + b"".join(chunks) + png[ihdr_end:]


def _tiff_with_tags(tiff: bytes, extra: dict[int, tuple[int, bytes]]) -> bytes:
    """``tiff`` (little-endian, one directory, as OpenCV writes it) with a copy of its first
    directory appended that also holds the ``extra`` tags (type, little-endian value bytes);
    the header then points at the copy. Pixel data and the old entries' values stay in place."""
    if tiff[:4] != b"II*\x00":
        raise UnsupportedFormat("OpenCV wrote a TIFF that is not little-endian")
    (first,) = struct.unpack_from("<I", tiff, 4)
    (count,) = struct.unpack_from("<H", tiff, first)
    entries = {
        struct.unpack_from("<H", tiff, first + 2 + 12 * i)[0]: tiff[
            first + 2 + 12 * i : first + 14 + 12 * i
        ]
        for i in range(count)
    }
    (next_ifd,) = struct.unpack_from("<I", tiff, first + 2 + 12 * count)
    if next_ifd != 0:
        raise UnsupportedFormat("OpenCV wrote a multi-directory TIFF")
    out = bytearray(tiff)
    if len(out) % 2:
        out.append(0)  # values and directories start on a word boundary
    for tag, (kind, value) in extra.items():
        size = {3: 2, 7: 1}[kind]
        entry = struct.pack("<HHI", tag, kind, len(value) // size)
        if len(value) <= 4:
            entry += value.ljust(4, b"\x00")
        else:
            entry += struct.pack("<I", len(out))
            out += value + (b"\x00" if len(value) % 2 else b"")
        entries[tag] = entry
    directory = len(out)
    out += struct.pack("<H", len(entries))
    for tag in sorted(entries):
        out += entries[tag]
    out += struct.pack("<I", 0)
    struct.pack_into("<I", out, 4, directory)
    return bytes(out)
