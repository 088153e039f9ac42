"""Which output path each input of a run holds, so that no output replaces another.

Inputs map to outputs by their path relative to their input root; two inputs can still meet
on one output path: the same name under two roots, a format change (``a.png`` written as
``a.jpg`` beside an ``a.jpg``, ``clip.avi`` written as ``clip.mkv``), or names that differ
only in case on an output filesystem that ignores case (macOS, Windows). The first input to
claim a path keeps it; a later one is a failed row naming the first, and writes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
import unicodedata
from pathlib import Path

from fastredact.formats import RAW_FORMAT, SUFFIX_OF_FORMAT, predicted_photo_format

__all__ = [
    "OutputNames",
    "expected_output",
    "folds_case",
    "output_suffix",
]


def output_suffix(name: Path, source: str | None, out_format: str | None) -> Path:
    """``name`` with its extension changed when the format changed (RAW → TIFF, ``--format``)."""
    if out_format is None or out_format == source:
        return name
    return name.with_suffix(SUFFIX_OF_FORMAT[out_format])


def expected_output(relative: Path, format_option: str) -> Path:
    """Where the output of the input at ``relative`` is expected, judged by its name:
    photos take ``--format``'s extension (RAW becomes TIFF under ``same``), an AVI video
    becomes ``.mkv``, anything else keeps its name."""
    if relative.suffix.lower() == ".avi":
        return relative.with_suffix(".mkv")
    source = predicted_photo_format(relative)
    if source is None:
        return relative
    target = (
        ("tiff" if source == RAW_FORMAT else source) if format_option == "same" else format_option
    )
    return output_suffix(relative, source, target)


_CASE_PROBE_PREFIX = ".FastRedact-Case-Probe-"


def folds_case(folder: Path) -> bool:
    """Whether the filesystem of ``folder`` (or its nearest existing parent) treats names that
    differ only in case as one. Found by creating an empty probe file there and looking it up
    in lower case; a folder that cannot be probed counts as folding (the stricter answer)."""
    probe_dir = folder
    while not probe_dir.is_dir():
        if probe_dir.parent == probe_dir:
            return True
        probe_dir = probe_dir.parent
    try:
        fd, name = tempfile.mkstemp(prefix=_CASE_PROBE_PREFIX, dir=probe_dir)
    except OSError:
        return True
    os.close(fd)
    try:
        return os.path.exists(os.path.join(probe_dir, os.path.basename(name).lower()))
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


class OutputNames:
    """The output paths (relative to the output folder) claimed so far in one run; safe to use
    from several threads.

    Each path is kept as a 16-byte digest with the index of the input root it came from,
    which rebuilds the holder's path when a later input's path is the same: a million files
    cost tens of megabytes, not a million paths. Where the holder's path cannot be rebuilt from
    the later one (case folded, or a name the format changed) it is kept whole.
    """

    def __init__(self, *, fold_case: bool = False) -> None:
        self.fold_case = fold_case
        self._lock = threading.Lock()
        self._taken: dict[bytes, int | tuple[int, bytes]] = {}
        self._roots: list[Path] = []
        self._root_index: dict[Path, int] = {}

    def claim(self, output: Path, root: Path, source: Path) -> Path | None:
        """Claim ``output`` for the input ``root / source``; ``None`` when it was free (or
        already this input's), else the path of the earlier input that holds it."""
        key = self._key(output)
        with self._lock:
            holder = self._taken.get(key)
            if holder is None:
                index = self._root_index.setdefault(root, len(self._roots))
                if index == len(self._roots):
                    self._roots.append(root)
                whole = self.fold_case or source != output
                self._taken[key] = (index, os.fsencode(source)) if whole else index
                return None
        if isinstance(holder, int):
            earlier = self._roots[holder] / output
        else:
            earlier = self._roots[holder[0]] / os.fsdecode(holder[1])
        return None if earlier == root / source else earlier

    def _key(self, output: Path) -> bytes:
        name = os.fsdecode(output)
        if self.fold_case:
            # Case-insensitive filesystems (APFS, HFS+, NTFS) also ignore Unicode
            # normalisation, or store one form: compare the composed, case-folded form.
            name = unicodedata.normalize("NFC", name).casefold()
        return hashlib.blake2b(os.fsencode(name), digest_size=16).digest()
