# Hand-written stub of the Rust extension module `fastredact._core`.
# Checked against the compiled module by `python -m mypy.stubtest fastredact._core`
# (tests/test_typing.py), so it cannot drift from the bindings.

__all__ = [
    "__version__",
    "_selftest_fail",
    "sniff_format",
    "strip_files",
    "strip_metadata",
]

__version__: str

def _selftest_fail(kind: str) -> None:
    """Fail on purpose as ``kind`` names (a core error kind, ``"panic"`` or ``"ok"``)."""

def sniff_format(data: bytes) -> str | None:
    """The container format sniffed from the content, or ``None`` when unknown."""

def strip_metadata(
    data: bytes, icc: str = "keep", orientation: str = "keep"
) -> tuple[bytes, str, list[tuple[str, int, int]], int | None]:
    """Strip metadata: ``(cleaned, format, [(kind, count, bytes)], input orientation)``."""

def strip_files(
    pairs: list[tuple[str, str]],
    icc: str = "keep",
    orientation: str = "keep",
    threads: int | None = None,
) -> list[tuple[str | None, list[tuple[str, int, int]], int | None, str | None, str | None]]:
    """Strip ``(src, dst)`` files in parallel: ``(format, removed, orientation, error kind,
    error message)`` per file, in input order."""
