"""Metadata stripping: the public API over the Rust core (``fastredact._core``).

JPEG, PNG (and APNG), WebP and GIF are rewritten losslessly by container surgery: the bytes
the decoder needs are copied unchanged, everything else (EXIF, GPS, XMP, IPTC, comments,
thumbnails, MPF secondary images, trailers, …) is dropped. HEIC/HEIF and AVIF get their
container rebuilt around the primary image (:mod:`fastredact.heif_strip`: EXIF, XMP,
thumbnails, depth maps and gain maps go), which is used only when it decodes to exactly the
input's pixels; their rotation and mirroring are item properties, kept whatever the
orientation policy. TIFF (and the TIFF-based camera RAWs such as DNG), other camera RAWs, BMP
and JPEG XL are refused with :class:`~fastredact.errors.UnsupportedFormat`: there is no
lossless surgery for them yet, and they are never passed through unstripped.

Policies:

* ``icc="keep"`` keeps the colour profile, ``"drop"`` removes it.
* ``orientation="keep"`` keeps a minimal EXIF holding only the Orientation tag (so the
  picture still displays upright), ``"drop"`` removes it, ``"bake"`` rotates the pixels and
  re-encodes (lossless for PNG, WebP and GIF; for JPEG, re-encoded with the original
  quantisation tables and subsampling — this is the only lossy path, and the result says
  ``reencoded=True``).
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from fastredact import _core
from fastredact.errors import (
    CorruptInput,
    FastRedactError,
    LimitExceeded,
    UnsupportedFormat,
)
from fastredact.heif_strip import HEIF_FORMATS, strip_heif_checked
from fastredact.safe_write import write_atomically

__all__ = [
    "RemovedItem",
    "StripFileResult",
    "StripResult",
    "strip_file",
    "strip_files",
    "strip_metadata",
]

IccPolicy = Literal["keep", "drop"]
OrientationPolicy = Literal["keep", "drop", "bake"]
PathLike = str | os.PathLike[str]

_ICC_POLICIES = ("keep", "drop")
_ORIENTATION_POLICIES = ("keep", "drop", "bake")


@dataclass(frozen=True)
class RemovedItem:
    """One kind of removed content (``"exif"``, ``"xmp"``, ``"trailer"``, …)."""

    kind: str
    count: int
    """How many segments / chunks / blocks of this kind were removed."""
    bytes: int
    """How many bytes of the input they took."""


@dataclass(frozen=True)
class StripResult:
    """The cleaned file and what was removed from it."""

    data: bytes
    format: str
    """The format sniffed from the content: ``"jpeg"``, ``"png"``, ``"webp"``, ``"gif"``,
    ``"heif"`` or ``"avif"``."""
    removed: tuple[RemovedItem, ...]
    orientation: int | None
    """The EXIF Orientation (1-8) of the input, whatever the policy; ``None`` when absent."""
    reencoded: bool
    """True when the pixels were re-encoded (only with ``orientation="bake"``)."""

    @property
    def removed_bytes(self) -> int:
        """Bytes removed, all kinds together."""
        return sum(item.bytes for item in self.removed)

    @property
    def removed_kinds(self) -> tuple[str, ...]:
        return tuple(item.kind for item in self.removed)


@dataclass(frozen=True)
class StripFileResult:
    """The outcome of stripping one file of a batch: a result or an error, never both."""

    src: Path
    dst: Path
    format: str | None
    removed: tuple[RemovedItem, ...]
    orientation: int | None
    reencoded: bool
    error: Exception | None
    """A :class:`~fastredact.errors.FastRedactError`, an ``OSError`` or a ``ValueError``."""

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def removed_bytes(self) -> int:
        return sum(item.bytes for item in self.removed)


def _check_policies(icc: str, orientation: str) -> None:
    if icc not in _ICC_POLICIES:
        raise ValueError(f'icc must be "keep" or "drop", not {icc!r}')
    if orientation not in _ORIENTATION_POLICIES:
        raise ValueError(f'orientation must be "keep", "drop" or "bake", not {orientation!r}')


def _removed(items: Iterable[tuple[str, int, int]]) -> tuple[RemovedItem, ...]:
    return tuple(RemovedItem(kind, count, size) for kind, count, size in items)


# Pillow's transposition for each EXIF orientation (as in PIL.ImageOps.exif_transpose).
def _transpose_for(orientation: int) -> int:
    from PIL import Image

    t = Image.Transpose
    return {
        2: t.FLIP_LEFT_RIGHT,
        3: t.ROTATE_180,
        4: t.FLIP_TOP_BOTTOM,
        5: t.TRANSPOSE,
        6: t.ROTATE_270,
        7: t.TRANSVERSE,
        8: t.ROTATE_90,
    }[orientation]


def _bake(clean: bytes, fmt: str, orientation: int, icc: str) -> bytes:
    """Rotate the pixels of an already stripped image upright and re-encode it."""
    from PIL import Image, JpegImagePlugin

    from fastredact.wide_pixels import is_wide_rgb_png

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
            rotated = im.transpose(_transpose_for(orientation))  # type: ignore[arg-type]
    except FastRedactError:
        raise
    except Exception as exc:  # Pillow raises many kinds of errors on bad input
        raise CorruptInput(f"cannot decode the image to bake its orientation: {exc}") from exc
    out = io.BytesIO()
    rotated.save(out, format=fmt.upper(), **options)
    return out.getvalue()


def _bake_wide_png(clean: bytes, orientation: int, icc: str) -> bytes:
    """Bake the orientation of a 16-bit RGB(A) PNG with all 16 bits (lossless)."""
    from fastredact import imageio

    decoded = imageio.decode_image(clean)  # the tag was already dropped: pixels as stored
    if len(decoded.frames) != 1:
        raise UnsupportedFormat('orientation="bake" is not supported for animated images')
    upright = imageio.apply_orientation(decoded.frames[0], orientation)
    profile = decoded.icc_profile if icc == "keep" else None
    return imageio.encode_image([cast("Any", upright)], "png", icc_profile=profile)


def strip_metadata(
    data: bytes,
    *,
    icc: IccPolicy = "keep",
    orientation: OrientationPolicy = "keep",
) -> StripResult:
    """Strip identifying metadata from an encoded image (format sniffed from the content).

    Raises :class:`~fastredact.errors.UnsupportedFormat` for unknown formats and for TIFF,
    DNG and other camera RAWs, BMP and JPEG XL, and for the HEIC/HEIF or AVIF files whose
    container the lossless strip does not take (an alpha plane, image sequences, …);
    :class:`~fastredact.errors.CorruptInput` for malformed or truncated input; ``ValueError``
    for an unknown policy.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data must be bytes, not {type(data).__name__}")
    _check_policies(icc, orientation)
    if _core.sniff_format(bytes(data[:64])) in HEIF_FORMATS:
        return _strip_heif(bytes(data), icc)
    core_orientation = "drop" if orientation == "bake" else orientation
    clean, fmt, removed, found = _core.strip_metadata(bytes(data), icc, core_orientation)
    reencoded = False
    if orientation == "bake" and found is not None and found != 1:
        baked = _bake(clean, fmt, found, icc)
        # The encoder may add its own segments (JFIF, …): strip once more.
        clean, _, _, _ = _core.strip_metadata(baked, icc, "drop")
        reencoded = True
    return StripResult(clean, fmt, _removed(removed), found, reencoded)


def _strip_heif(data: bytes, icc: str) -> StripResult:
    """The checked HEIF / AVIF strip (:func:`fastredact.heif_strip.strip_heif_checked`);
    :class:`UnsupportedFormat` when it cannot be trusted for this file."""
    from fastredact import imageio

    decoded = imageio.decode_image(data)  # CorruptInput / LimitExceeded when it cannot
    outcome = strip_heif_checked(data, decoded, icc=icc, max_pixels=imageio.DEFAULT_MAX_PIXELS)
    if isinstance(outcome, str):
        raise UnsupportedFormat(f"{decoded.format.upper()} not stripped: {outcome}")
    clean, rows = outcome
    removed = tuple(RemovedItem(r["kind"], r["count"], r["bytes"]) for r in rows)
    return StripResult(clean, decoded.format, removed, None, False)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def strip_file(
    src: PathLike,
    dst: PathLike,
    *,
    icc: IccPolicy = "keep",
    orientation: OrientationPolicy = "keep",
) -> StripResult:
    """Strip ``src`` into ``dst`` (created atomically; folders created as needed).

    The input is never modified (``dst`` may not be ``src``); on any error nothing is
    written. Raises like :func:`strip_metadata`, and ``OSError`` for I/O failures.
    """
    src_path, dst_path = Path(src), Path(dst)
    _check_policies(icc, orientation)
    if _same_file(src_path, dst_path):
        raise ValueError(f"refusing to overwrite the input {src_path}: choose another destination")
    result = strip_metadata(src_path.read_bytes(), icc=icc, orientation=orientation)
    write_atomically(dst_path, result.data)
    return result


def _sniff_file(path: Path) -> str | None:
    try:
        with open(path, "rb") as f:
            return _core.sniff_format(f.read(64))
    except OSError:
        return None


def _strip_one_in_python(src: Path, dst: Path, icc: IccPolicy) -> StripFileResult:
    """One file of a batch that the Rust batch leaves to Python (HEIF / AVIF, checked by
    decoding); never raises."""
    try:
        result = strip_file(src, dst, icc=icc)
    except (FastRedactError, OSError, ValueError) as exc:
        return StripFileResult(src, dst, None, (), None, False, exc)
    return StripFileResult(src, dst, result.format, result.removed, None, False, None)


_ERROR_CLASSES: dict[str, type[Exception]] = {
    "unsupported_format": UnsupportedFormat,
    "corrupt_input": CorruptInput,
    "limit_exceeded": LimitExceeded,
    "invalid_argument": ValueError,
    "io_error": OSError,
}


def strip_files(
    pairs: Iterable[tuple[PathLike, PathLike]],
    *,
    icc: IccPolicy = "keep",
    orientation: OrientationPolicy = "keep",
    threads: int | None = None,
    durable: bool = False,
) -> list[StripFileResult]:
    """Strip many ``(src, dst)`` files in parallel; the whole batch runs in Rust with the GIL
    released (``threads=None``: one thread per CPU).

    Each output is written to a temporary file beside it and renamed into place, so readers
    and a killed run never see a partial file. ``durable=False`` (default, like ``cp`` and
    ExifTool) leaves flushing to the operating system: after a power loss an output may be
    missing or empty. ``durable=True`` also syncs each output to the device before its rename
    and each destination folder once at the end (much slower on most disks), so the outputs
    survive a power loss once the call returns.

    Never raises for a single file: each :class:`StripFileResult` holds either the result or the
    error, in input order. With ``orientation="bake"``, the files that need rotating are
    re-encoded afterwards in Python.
    """
    _check_policies(icc, orientation)
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive integer or None, not {threads!r}")
    pair_list = [(Path(s), Path(d)) for s, d in pairs]
    core_orientation = "drop" if orientation == "bake" else orientation
    outcomes = _core.strip_files(
        [(str(s), str(d)) for s, d in pair_list], icc, core_orientation, threads, durable
    )
    results: list[StripFileResult] = []
    for (src, dst), (fmt, removed, found, kind, message) in zip(pair_list, outcomes, strict=True):
        if kind == "unsupported_format" and _sniff_file(src) in HEIF_FORMATS:
            results.append(_strip_one_in_python(src, dst, icc))
            continue
        if kind is not None:
            error = _ERROR_CLASSES.get(kind, FastRedactError)(f"{message}")
            results.append(StripFileResult(src, dst, None, (), None, False, error))
            continue
        if orientation == "bake" and found is not None and found != 1:
            try:
                baked = strip_file(src, dst, icc=icc, orientation="bake")
            except (FastRedactError, OSError, ValueError) as exc:
                with contextlib.suppress(FileNotFoundError):
                    dst.unlink()  # the unrotated copy written by the batch
                results.append(StripFileResult(src, dst, None, (), None, False, exc))
                continue
            results.append(
                StripFileResult(src, dst, baked.format, baked.removed, found, True, None)
            )
            continue
        results.append(StripFileResult(src, dst, fmt, _removed(removed), found, False, None))
    return results
