"""Atomic output: write to a temporary file beside the destination, then rename over it.

A reader (or a run killed with ``kill -9``) sees either no file or the complete file, never a
partial one; a leftover temporary file carries the ``.fastredact-tmp`` marker.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["TEMP_MARKER", "remove_stale_temp_files", "write_atomically"]

TEMP_MARKER = ".fastredact-tmp"


def write_atomically(dst: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``dst`` atomically (same-directory temp file + ``os.replace``)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=TEMP_MARKER, dir=dst.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, dst)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def remove_stale_temp_files(root: Path) -> int:
    """Delete temporary files a killed run left under ``root``; returns how many."""
    removed = 0
    if not root.is_dir():
        return 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.startswith(".") and name.endswith(TEMP_MARKER):
                os.unlink(os.path.join(folder, name))
                removed += 1
    return removed
