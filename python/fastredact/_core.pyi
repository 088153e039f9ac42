# Hand-written stub of the Rust extension module `fastredact._core`.
# Checked against the compiled module by `python -m mypy.stubtest fastredact._core`
# (tests/test_typing.py), so it cannot drift from the bindings.

__all__ = [
    "__version__",
    "_selftest_fail",
]

__version__: str

def _selftest_fail(kind: str) -> None:
    """Fail on purpose as ``kind`` names (a core error kind, ``"panic"`` or ``"ok"``)."""
