# Hand-written stub of the Rust extension module `fastredact._core`.
# Checked against the compiled module by `python -m mypy.stubtest fastredact._core`
# (tests/test_typing.py), so it cannot drift from the bindings.

import numpy as np
import numpy.typing as npt

__all__ = [
    "__version__",
    "_selftest_fail",
    "check_jpeg_scans",
    "is_camera_raw_tiff",
    "lossless_formats",
    "redact",
    "simd_levels",
    "sniff_format",
    "strip_files",
    "strip_heif",
    "strip_metadata",
]

__version__: str

def _selftest_fail(kind: str) -> None:
    """Fail on purpose as ``kind`` names (a core error kind, ``"panic"`` or ``"ok"``)."""

def redact(
    image: npt.NDArray[np.uint8],
    boxes: npt.NDArray[np.float64],
    shapes: npt.NDArray[np.uint8],
    modes: npt.NDArray[np.uint8],
    scale: float,
    feather: int,
    strength: float | None,
    fill: tuple[int, int, int],
    seed: int,
    threads: int | None,
) -> None:
    """Redact ``image`` in place (use :func:`fastredact.redact`, which validates)."""

def simd_levels() -> tuple[str, list[str]]:
    """The instruction set in use and those this CPU supports."""

def check_jpeg_scans(data: bytes) -> str | None:
    """Huffman-decode every scan of a JPEG (GIL released) and check that each restart
    interval and scan ends exactly where its data ends. ``None`` when every scan is whole, or
    the kind of JPEG left unchecked (``"arithmetic"``, ``"lossless/hierarchical"``, …);
    raises ``CorruptInput`` naming the first damage."""

def is_camera_raw_tiff(data: bytes) -> bool:
    """Whether a TIFF structure is a camera RAW (CR2 signature, DNGVersion, a CFA or
    LinearRaw directory, or a maker's raw compression), read from its directories alone."""

def lossless_formats() -> list[str]:
    """The formats ``strip_metadata`` rewrites losslessly (the core's ``Format::is_lossless``)."""

def sniff_format(data: bytes) -> str | None:
    """The container format sniffed from the content (``jpeg png webp gif tiff bmp heif avif
    jxl raw``), or ``None`` when unknown. The project's only sniffer (``fastredact.formats``
    is its only caller)."""

def strip_metadata(
    data: bytes, icc: str = "keep", orientation: str = "keep"
) -> tuple[bytes, str, list[tuple[str, int, int]], int | None]:
    """Strip metadata: ``(cleaned, format, [(kind, count, bytes)], input orientation)``."""

def strip_heif(data: bytes, icc: str = "keep") -> tuple[bytes, str, list[tuple[str, int, int]]]:
    """Rebuild a HEIF / AVIF container around its primary image: ``(cleaned, format,
    [(kind, count, bytes)])``. The caller checks that the output decodes to the same picture."""

def strip_files(
    pairs: list[tuple[str, str]],
    icc: str = "keep",
    orientation: str = "keep",
    threads: int | None = None,
    durable: bool = False,
) -> list[tuple[str | None, list[tuple[str, int, int]], int | None, Exception | None]]:
    """Strip ``(src, dst)`` files in parallel: ``(format, removed, orientation, error)`` per
    file, in input order; ``error`` is the exception (a ``fastredact.errors`` class, or
    ``OSError`` for reading and writing). ``durable``: sync outputs and their folders."""
