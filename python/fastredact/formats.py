"""Formats: the one sniffer (photos and videos, from content, never from a name) and every
set of formats the package uses, each defined once.

Photos are told apart by the Rust core (``_core.sniff_format``; this module is its only
caller). Videos are told apart here from their first bytes (ISO-BMFF movies, QuickTime,
Matroska / WebM, AVI), after the core has had its say on ISO-BMFF stills (HEIF, AVIF, CR3).
File-name suffixes only *predict* a format (for output names and for telling a README from
a damaged photo); the content decides.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastredact import _core
from fastredact.errors import UnsupportedFormat

__all__ = [
    "DECODABLE_FORMATS",
    "HEIF_FORMATS",
    "LOSSLESS_STRIP_FORMATS",
    "MEDIA_SUFFIXES",
    "PHOTO_FORMAT_OF_SUFFIX",
    "PILLOW_FORMATS",
    "RAW_FORMAT",
    "RAW_SUFFIXES",
    "SNIFF_BYTES",
    "SUFFIX_OF_FORMAT",
    "VIDEO_DEMUXERS",
    "VIDEO_MUXER_OF_SUFFIX",
    "VIDEO_SUFFIXES",
    "photo_format",
    "sniff_file",
    "sniff_photo",
    "sniff_video",
]

SNIFF_BYTES = 64
"""How many leading bytes the sniffers look at."""

RAW_FORMAT = "raw"
"""Camera RAW (TIFF-based ones included), developed by LibRaw."""

LOSSLESS_STRIP_FORMATS: frozenset[str] = frozenset(_core.lossless_formats())
"""Formats whose metadata the Rust core strips by container surgery, copying the coded
picture byte for byte (JPEG, PNG, WebP, GIF): the core's ``Format::is_lossless``. The core
walks every segment / chunk / block of these formats, so stripping one also checks it."""

HEIF_FORMATS: frozenset[str] = frozenset(("heif", "avif"))
"""ISO-BMFF stills, stripped by rebuilding the container around the primary image."""

PILLOW_FORMATS: dict[str, str] = {
    "jpeg": "JPEG",
    "png": "PNG",
    "webp": "WEBP",
    "gif": "GIF",
    "tiff": "TIFF",
    "bmp": "BMP",
    "heif": "HEIF",
    "avif": "AVIF",
}
"""Photo formats decoded and encoded through Pillow, and Pillow's name for each."""

DECODABLE_FORMATS: frozenset[str] = frozenset(PILLOW_FORMATS) | {RAW_FORMAT}
"""Every photo format fastredact decodes (JPEG XL is sniffed, and refused)."""

PHOTO_FORMAT_OF_SUFFIX: dict[str, str] = {
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".jpe": "jpeg",
    ".jfif": "jpeg",
    ".png": "png",
    ".apng": "png",
    ".webp": "webp",
    ".gif": "gif",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".bmp": "bmp",
    ".dib": "bmp",
    ".heic": "heif",
    ".heif": "heif",
    ".avif": "avif",
    ".jxl": "jxl",
}
"""The photo format a file name suggests (a prediction; the content decides)."""

RAW_SUFFIXES: frozenset[str] = frozenset(
    (
        ".dng",
        ".cr2",
        ".cr3",
        ".crw",
        ".nef",
        ".nrw",
        ".arw",
        ".srf",
        ".sr2",
        ".raf",
        ".rw2",
        ".orf",
        ".pef",
        ".srw",
        ".x3f",
        ".iiq",
        ".mrw",
        ".3fr",
        ".erf",
        ".kdc",
        ".mos",
        ".rwl",
    )
)
"""Camera RAW file name suffixes."""

VIDEO_SUFFIXES: frozenset[str] = frozenset(
    (
        ".mp4",
        ".m4v",
        ".mov",
        ".mkv",
        ".webm",
        ".avi",
        ".mts",
        ".m2ts",
        ".ts",
        ".3gp",
        ".wmv",
        ".flv",
    )
)
"""Video file name suffixes."""

MEDIA_SUFFIXES: frozenset[str] = frozenset(PHOTO_FORMAT_OF_SUFFIX) | RAW_SUFFIXES | VIDEO_SUFFIXES
"""File name suffixes of photos and videos: an unrecognised file named like one is a failure;
any other unrecognised file (README, .DS_Store) is skipped."""

SUFFIX_OF_FORMAT: dict[str, str] = {
    "jpeg": ".jpg",
    "png": ".png",
    "webp": ".webp",
    "tiff": ".tiff",
    "gif": ".gif",
    "bmp": ".bmp",
    "heif": ".heic",
    "avif": ".avif",
}
"""The file name suffix an output written in a format gets when its format changed."""

VIDEO_DEMUXERS: dict[str, str] = {
    "mov,mp4,m4a,3gp,3g2,mj2": "mp4",
    "matroska,webm": "matroska",
    "avi": "avi",
}
"""FFmpeg demuxers accepted (MP4 / MOV, MKV / WebM, AVI); anything else is refused."""

VIDEO_MUXER_OF_SUFFIX: dict[str, str] = {
    ".mp4": "mp4",
    ".m4v": "mp4",
    ".mov": "mov",
    ".mkv": "matroska",
    ".webm": "webm",
}
"""Output suffix → FFmpeg muxer. AVI is read but never written: it stores no presentation
timestamps, and FFmpeg reads H.264 back from it one frame late (the redacted copy of an
``.avi`` is written as ``.mkv``)."""

_QUICKTIME_ATOMS = (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")


def sniff_photo(head: bytes) -> str | None:
    """The photo format of a file from its first bytes (``jpeg png webp gif tiff bmp heif
    avif jxl raw``), or ``None`` when the core's sniffer does not know it."""
    return _core.sniff_format(bytes(head[:SNIFF_BYTES]))


def sniff_video(head: bytes) -> str | None:
    """The container of a video from its first bytes (``mp4``, ``mov``, ``matroska``,
    ``webm``, ``avi``), or ``None`` when it is not one of those."""
    if head[4:8] == b"ftyp":
        if sniff_photo(head) is not None:
            return None  # an ISO-BMFF still image (HEIF, AVIF, CR3): the core sniffer knows them
        return "mov" if head[8:12] == b"qt  " else "mp4"
    if head[4:8] in _QUICKTIME_ATOMS:
        return "mov"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm" if b"webm" in head[:SNIFF_BYTES] else "matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    return None


def sniff_file(path: str | os.PathLike[str]) -> str | None:
    """:func:`sniff_photo` on a file's first bytes (``None`` when it cannot be read)."""
    try:
        with open(path, "rb") as f:
            return sniff_photo(f.read(SNIFF_BYTES))
    except OSError:
        return None


def photo_format(data: bytes) -> str:
    """The decodable format of the photo ``data`` (one of :data:`DECODABLE_FORMATS`): a
    TIFF whose directories say camera RAW (DNG, NEF, ARW, …) is :data:`RAW_FORMAT`, told by
    the core from its directories, never by LibRaw, which also opens plain TIFFs.

    :class:`UnsupportedFormat` for JPEG XL, an empty file and anything unrecognised.
    """
    fmt = sniff_photo(data)
    if fmt == "tiff" and _core.is_camera_raw_tiff(data):
        return RAW_FORMAT
    if fmt is not None and fmt in DECODABLE_FORMATS:
        return fmt
    if fmt == "jxl":
        raise UnsupportedFormat("JPEG XL images are not supported")
    if not data:
        raise UnsupportedFormat("empty file")
    raise UnsupportedFormat("unrecognised file format (not a supported image)")


def predicted_photo_format(name: Path) -> str | None:
    """The photo format the name of ``name`` suggests (:data:`RAW_FORMAT` for RAW suffixes),
    or ``None`` when it is not named like a photo."""
    suffix = name.suffix.lower()
    if suffix in RAW_SUFFIXES:
        return RAW_FORMAT
    return PHOTO_FORMAT_OF_SUFFIX.get(suffix)
