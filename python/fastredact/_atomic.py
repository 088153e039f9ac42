"""Atomic output, the one writer of every file fastredact produces (photos, videos, stripped
copies): write to a temporary file beside the destination, sync it, then rename it over the
destination.

A reader (or a run killed with ``kill -9``) sees either no file or the complete file, never a
partial one; a leftover temporary file carries the ``.fastredact-tmp`` marker.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "FILE_MODE",
    "TEMP_MARKER",
    "atomic_path",
    "remove_stale_temp_files",
    "temp_prefix",
    "temporary_beside",
    "write_atomically",
]

TEMP_MARKER = ".fastredact-tmp"


def _file_mode() -> int:
    # The process umask, read once at import (before any worker thread exists: os.umask
    # can only be read by setting it, which would briefly change it for every thread).
    umask = os.umask(0o077)
    os.umask(umask)
    return 0o666 & ~umask


FILE_MODE = _file_mode()
"""Permissions of the files a run writes: ``0o666`` less the umask, as ``cp`` and the Rust
core's writer give (a user whose umask is 077 gets outputs only they can read)."""


_TEMP_NAME_BYTES = 100
"""At most this many bytes of the destination's name go into its temporary file's name,
which must fit the filesystem's limit (255 bytes) with the marker and a random part added."""


def temp_prefix(name: str) -> str:
    """The prefix of the temporary file for an output named ``name``: a dot and the start of
    the name, cut to :data:`_TEMP_NAME_BYTES` bytes on a character boundary."""
    raw = os.fsencode(name)[:_TEMP_NAME_BYTES]
    return "." + raw.decode("utf-8", "ignore") + "."


@contextlib.contextmanager
def atomic_path(dst: Path, *, mode: int = FILE_MODE) -> Iterator[Path]:
    """A temporary file beside ``dst`` (created empty, folders made as needed) for the block
    to write; when the block succeeds it is synced to the device, given ``mode`` and renamed
    onto ``dst``; when the block fails it is removed and ``dst`` is left as it was."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=temp_prefix(dst.name), suffix=TEMP_MARKER, dir=dst.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, dst)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_atomically(dst: Path, data: bytes, *, mode: int = FILE_MODE) -> None:
    """Write ``data`` to ``dst`` atomically (:func:`atomic_path`)."""
    with atomic_path(dst, mode=mode) as tmp, open(tmp, "wb") as f:
        f.write(data)


@contextlib.contextmanager
def temporary_beside(path: Path) -> Iterator[Path]:
    """An empty temporary file's path beside ``path`` (same marker, so ``--resume`` cleans it
    up after a kill), removed when the block ends."""
    fd, name = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=TEMP_MARKER, dir=path.parent)
    os.close(fd)
    try:
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


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
