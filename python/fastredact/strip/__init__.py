"""Metadata stripping: the public API over the Rust core (``fastredact._core``).

JPEG, PNG (and APNG), WebP and GIF are rewritten losslessly by container surgery: the bytes
the decoder needs are copied unchanged, everything else (EXIF, GPS, XMP, IPTC, comments,
thumbnails, MPF secondary images, trailers, …) is dropped. HEIC/HEIF and AVIF get their
container rebuilt around the primary image (:mod:`fastredact.strip._heif`: EXIF, XMP,
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
import os
from collections.abc import Iterable
from pathlib import Path
from typing import get_args

from fastredact import _core
from fastredact._atomic import write_atomically
from fastredact.errors import FastRedactError, UnsupportedFormat
from fastredact.formats import HEIF_FORMATS, sniff_file, sniff_photo
from fastredact.options import DEFAULT_MAX_PIXELS, IccPolicy, StripOrientation
from fastredact.strip._heif import strip_heif_checked
from fastredact.strip._results import RemovedItem, StripFileResult, StripResult, removed_items

__all__ = [
    "RemovedItem",
    "StripFileResult",
    "StripResult",
    "strip_file",
    "strip_files",
    "strip_heif_checked",
    "strip_metadata",
]

OrientationPolicy = StripOrientation
PathLike = str | os.PathLike[str]


def _check_policies(icc: str, orientation: str) -> None:
    if icc not in get_args(IccPolicy):
        raise ValueError(f'icc must be "keep" or "drop", not {icc!r}')
    if orientation not in get_args(StripOrientation):
        raise ValueError(f'orientation must be "keep", "drop" or "bake", not {orientation!r}')


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
    if sniff_photo(bytes(data[:64])) in HEIF_FORMATS:
        return _strip_heif(bytes(data), icc)
    core_orientation = "drop" if orientation == "bake" else orientation
    clean, fmt, removed, found = _core.strip_metadata(bytes(data), icc, core_orientation)
    reencoded = False
    if orientation == "bake" and found is not None and found != 1:
        from fastredact.strip._bake import bake_orientation  # it decodes: photo uses strip

        baked = bake_orientation(clean, fmt, found, icc)
        # The encoder may add its own segments (JFIF, …): strip once more.
        clean, _, _, _ = _core.strip_metadata(baked, icc, "drop")
        reencoded = True
    return StripResult(clean, fmt, removed_items(removed), found, reencoded)


def _strip_heif(data: bytes, icc: str) -> StripResult:
    """The checked HEIF / AVIF strip (:func:`fastredact.strip._heif.strip_heif_checked`);
    :class:`UnsupportedFormat` when it cannot be trusted for this file."""
    from fastredact.photo import decode_image  # photo decodes; it also uses this module

    decoded = decode_image(data)  # CorruptInput / LimitExceeded when it cannot
    outcome = strip_heif_checked(data, decoded, icc=icc, max_pixels=DEFAULT_MAX_PIXELS)
    if isinstance(outcome, str):
        raise UnsupportedFormat(f"{decoded.format.upper()} not stripped: {outcome}")
    return outcome


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


def _strip_one_in_python(src: Path, dst: Path, icc: IccPolicy) -> StripFileResult:
    """One file of a batch that the Rust batch leaves to Python (HEIF / AVIF, checked by
    decoding); never raises."""
    try:
        result = strip_file(src, dst, icc=icc)
    except (FastRedactError, OSError, ValueError) as exc:
        return StripFileResult(src, dst, None, (), None, False, exc)
    return StripFileResult(src, dst, result.format, result.removed, None, False, None)


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
    for (src, dst), (fmt, removed, found, error) in zip(pair_list, outcomes, strict=True):
        if isinstance(error, UnsupportedFormat) and sniff_file(src) in HEIF_FORMATS:
            results.append(_strip_one_in_python(src, dst, icc))
            continue
        if error is not None:
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
        results.append(StripFileResult(src, dst, fmt, removed_items(removed), found, False, None))
    return results
