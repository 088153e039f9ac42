"""The audit trail: a JSON Lines manifest (one row per input, append-only, flushed per row),
the optional path mapping file (mode 0600), and the settings fingerprint used by ``--resume``.

A run killed mid-write leaves at worst a torn last line; :func:`read_done` ignores it, so
that input is simply redone.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from fastredact.errors import FastRedactError, OutputUnwritable

__all__ = [
    "DoneInputs",
    "ManifestWriter",
    "MappingWriter",
    "iter_rows",
    "read_done",
    "settings_fingerprint",
    "sha256_bytes",
]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def settings_fingerprint(settings: Mapping[str, Any]) -> str:
    """A stable hash of everything that changes the output (canonical JSON, sorted keys)."""
    canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class _JsonLinesAppender:
    """Append-only JSON Lines file; each row goes to the file in one ``write`` call, unbuffered
    (nothing is left in a buffer when the disk fills up or the run is killed). A file that
    cannot be opened or written raises :class:`OutputUnwritable` naming it: the run stops,
    since an output without its audit row is not what a manifest promises."""

    what = "file"

    def __init__(self, path: Path, *, mode: int = 0o666) -> None:  # less the umask
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, mode)
        except OSError as exc:
            raise self._unwritable("cannot open", exc) from None
        try:
            self._repair_torn_tail()
        except OutputUnwritable:
            self.close()
            raise

    def _unwritable(self, action: str, exc: OSError) -> OutputUnwritable:
        return OutputUnwritable(f"{action} the {self.what} {self.path}: {exc.strerror or exc}")

    def _repair_torn_tail(self) -> None:
        # A previous run killed mid-row leaves a line without its newline: end it, so the
        # next row starts on a fresh line (the torn line is then ignored by readers).
        if self.path.stat().st_size == 0:
            return
        with open(self.path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                self._append(b"\n")

    def _append(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            raise self._unwritable("cannot write to", exc) from None

    def write(self, row: Mapping[str, Any]) -> None:
        line = json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=str)
        self._append((line + "\n").encode("utf-8", "backslashreplace"))

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> _JsonLinesAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ManifestWriter(_JsonLinesAppender):
    """The manifest: one row per input (ok, failed or skipped)."""

    what = "manifest"


class MappingWriter(_JsonLinesAppender):
    """Original path → output path, kept apart from the manifest and readable by the owner only."""

    what = "mapping file"

    def __init__(self, path: Path) -> None:
        super().__init__(path, mode=0o600)
        os.chmod(path, 0o600)


def iter_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a manifest, skipping lines that do not parse (a torn last line)."""
    if not path.is_file():
        return
    try:
        f = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise FastRedactError(f"cannot read the manifest {path}: {exc.strerror or exc}") from None
    with f:
        for line in f:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(row, dict):
                yield row


class DoneInputs:
    """The inputs a manifest records as ``ok`` under one settings fingerprint, as (relative
    path, input SHA-256) pairs. Each pair is kept as a 16-byte digest: a resumed run of a
    million files holds tens of megabytes here, not the rows' strings.

    The path is part of the key: two inputs with the same content each need their output.
    """

    def __init__(self) -> None:
        self._keys: set[bytes] = set()

    def add(self, path: str, input_sha256: str) -> None:
        self._keys.add(_done_key(path, input_sha256))

    def __contains__(self, pair: object) -> bool:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            return False
        return _done_key(*pair) in self._keys

    def __len__(self) -> int:
        return len(self._keys)


def _done_key(path: str, input_sha256: str) -> bytes:
    name = path.encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(len(name).to_bytes(8, "little"), digest_size=16)
    digest.update(name)
    digest.update(input_sha256.encode("ascii", "replace"))
    return digest.digest()


def read_done(path: Path, fingerprint: str) -> DoneInputs:
    """Every input the manifest at ``path`` records as ``ok`` with the settings
    ``fingerprint`` (rows of other settings, failed rows and torn lines do not count)."""
    done = DoneInputs()
    for row in iter_rows(path):
        fields = (row.get("path"), row.get("input_sha256"))
        if row.get("status") != "ok" or row.get("settings_fingerprint") != fingerprint:
            continue
        if isinstance(fields[0], str) and isinstance(fields[1], str):
            done.add(fields[0], fields[1])
    return done
