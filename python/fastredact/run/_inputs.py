"""Which files a run processes and where each output goes.

Inputs are files, folders (walked recursively, symlinked folders not followed, so symlink
loops cannot recurse) and ``-`` for a list of paths on standard input. Problems with an input
(missing, unreadable, a symlink loop) become a failed row, never an exception.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from fastredact.errors import (
    CorruptInput,
    FastRedactError,
    InputUnreadable,
    LimitExceeded,
    OutputCollision,
)
from fastredact.formats import MEDIA_SUFFIXES
from fastredact.run._output_names import OutputNames

__all__ = [
    "MAX_INPUT_BYTES",
    "InputFile",
    "check_file_outside_inputs",
    "check_outdir_outside_inputs",
    "display",
    "iter_inputs",
    "output_overlap",
    "output_path_for",
    "printable",
]

MAX_INPUT_BYTES = 4 * 1024**3
"""Files larger than this are refused without being read (4 GiB)."""


def display(path: Path) -> str:
    """A printable form of any path, including file names that are not valid UTF-8."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


_CONTROL_ESCAPES = {code: repr(chr(code))[1:-1] for code in [*range(0x20), *range(0x7F, 0xA0)]}


def printable(text: str) -> str:
    """``text`` with control characters escaped as Python writes them (``\\n``,
    ``\\x1b``, …), so a file name holding a newline or a terminal escape still prints as
    one harmless line."""
    return text.translate(_CONTROL_ESCAPES)


@dataclass(frozen=True)
class InputFile:
    """One input file: where it is, and its path relative to the input root it came from."""

    path: Path
    relative: Path
    root: Path
    error: FastRedactError | None = None
    """Why this input cannot be processed, found while listing (it is then a failed row)."""

    @property
    def display_relative(self) -> str:
        return display(self.relative)

    @property
    def display_path(self) -> str:
        return display(self.path)

    def read_head(self, size: int) -> bytes:
        """The first ``size`` bytes (for sniffing), with the same checks as :meth:`read`."""
        with self._open() as f:
            return f.read(size)

    def sha256(self) -> str:
        """SHA-256 of the file, read in chunks (for videos, never read whole)."""
        digest = hashlib.sha256()
        with self._open() as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()

    def _open(self) -> BinaryIO:
        try:
            info = os.stat(self.path)
            if not stat.S_ISREG(info.st_mode):
                raise CorruptInput("not a regular file")
            return open(self.path, "rb")
        except OSError as exc:
            raise InputUnreadable(f"cannot read file: {exc.strerror or exc}") from None

    def read(self) -> bytes:
        """The file's bytes; a one-line :class:`FastRedactError` when it cannot be read
        (:class:`InputUnreadable`, or :class:`CorruptInput` / :class:`LimitExceeded` for
        what it is)."""
        try:
            info = os.stat(self.path)  # follows symlinks; a loop raises ELOOP here
            if not stat.S_ISREG(info.st_mode):
                raise CorruptInput("not a regular file")
            if info.st_size > MAX_INPUT_BYTES:
                raise LimitExceeded(f"file is {info.st_size} bytes, over {MAX_INPUT_BYTES}")
            with open(self.path, "rb") as f:
                return f.read()
        except OSError as exc:
            raise InputUnreadable(f"cannot read file: {exc.strerror or exc}") from None


def output_path_for(item: InputFile, out_root: Path) -> Path:
    return out_root / item.relative


def _resolved(path: Path) -> Path | None:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: the walk reports the input itself
        return None


def output_overlap(raw: Path, outdir: Path, *, out: Path | None = None) -> str | None:
    """Why the input ``raw`` cannot be redacted into ``outdir``, or ``None`` when it can
    (``out``: ``outdir`` already resolved, for callers that check many inputs).

    They overlap when the output folder is, or lies inside, the input (a folder), is the input
    (a file), or holds the input: outputs would be written among the inputs, or over them (an
    input ``out/sub/x.jpg`` is where ``out/sub/sub/x.jpg`` would go from ``out/sub``).
    """
    out, src = out or _resolved(outdir), _resolved(raw)
    if out is None or src is None:
        return None
    if out == src or (src.is_dir() and out.is_relative_to(src)):
        return (
            f"the output folder {display(outdir)} is inside the input folder {display(raw)}; "
            "choose an output folder outside every input"
        )
    if src.is_relative_to(out):
        return (
            f"the input {display(raw)} lies inside the output folder {display(outdir)}, where "
            "an output could replace it; choose an output folder outside every input"
        )
    return None


def check_outdir_outside_inputs(inputs: Iterable[Path], outdir: Path) -> None:
    """Refuse (``ValueError``) an output folder that overlaps an input (:func:`output_overlap`)."""
    for raw in inputs:
        problem = output_overlap(raw, outdir)
        if problem:
            raise ValueError(problem)


def check_file_outside_inputs(inputs: Iterable[Path], path: Path, what: str) -> None:
    """Refuse (``ValueError``) a file the run writes (``what``: the manifest, the mapping
    file) that is an input or lies inside an input folder: inputs are never modified."""
    target = _resolved(path)
    for raw in inputs:
        src = _resolved(raw)
        if target is None or src is None:
            continue
        if target == src or (src.is_dir() and target.is_relative_to(src)):
            raise ValueError(
                f"the {what} {display(path)} is inside the input {display(raw)}; inputs are "
                "never modified: write it outside every input"
            )


def iter_inputs(
    inputs: Iterable[str | os.PathLike[str]],
    out_root: Path,
    *,
    names: OutputNames | None = None,
    output_name: Callable[[Path], Path] | None = None,
) -> Iterator[InputFile]:
    """Every input file, lazily, each once. Each claims its output path in ``names`` (a fresh
    :class:`OutputNames` when not given): ``output_name(relative)``, the path relative to
    ``out_root`` its output is expected at (``relative`` itself by default). An input whose
    path an earlier one holds becomes a failed item naming that input (files not named like a
    photo or video claim nothing here); an input that overlaps
    ``out_root`` (:func:`output_overlap`) becomes one failed item, and is not walked."""
    names = names if names is not None else OutputNames()
    out = _resolved(out_root)
    for raw in _expand_stdin(inputs):
        overlap = output_overlap(Path(raw), out_root, out=out)
        if overlap:  # paths read from stdin are checked here, one by one
            yield InputFile(
                Path(raw), Path(Path(raw).name), Path(raw).parent, error=OutputCollision(overlap)
            )
            continue
        for item in _walk(Path(raw)):
            if item.error is not None or item.path.suffix.lower() not in MEDIA_SUFFIXES:
                # Not named like media (a README, .DS_Store): nearly always skipped, so it
                # claims nothing now; one that is a photo by content claims its path when it is
                # written (the pipeline's _claim_output).
                yield item
                continue
            expected = output_name(item.relative) if output_name else item.relative
            earlier = names.claim(expected, item.root, item.relative)
            if earlier is not None:
                item = InputFile(
                    item.path,
                    item.relative,
                    item.root,
                    error=OutputCollision(
                        f"its output path {display(expected)} is already taken by "
                        f"{display(earlier)}"
                    ),
                )
            yield item


def _expand_stdin(inputs: Iterable[str | os.PathLike[str]]) -> Iterator[str | os.PathLike[str]]:
    for raw in inputs:
        if str(raw) == "-":
            for line in sys.stdin:
                line = line.rstrip("\n")
                if line:
                    yield line
        else:
            yield raw


def _walk(path: Path) -> Iterator[InputFile]:
    try:
        is_dir = path.is_dir()
        exists = is_dir or path.exists() or path.is_symlink()
    except OSError as exc:
        yield InputFile(
            path,
            Path(path.name),
            path.parent,
            error=InputUnreadable(f"cannot access: {exc.strerror}"),
        )
        return
    if not exists:
        yield InputFile(
            path, Path(path.name), path.parent, error=InputUnreadable("no such file or folder")
        )
        return
    if not is_dir:
        yield InputFile(path, Path(path.name), path.parent)
        return
    errors: list[OSError] = []
    for folder, dirs, files in os.walk(path, followlinks=False, onerror=errors.append):
        dirs.sort()
        for name in sorted(files):
            full = Path(folder) / name
            yield InputFile(full, full.relative_to(path), path)
        # Symlinked folders are listed in `dirs` but not entered: report them.
        for name in dirs:
            full = Path(folder) / name
            if full.is_symlink():
                yield InputFile(
                    full,
                    full.relative_to(path),
                    path,
                    error=InputUnreadable("symlinked folder not followed"),
                )
    for failure in errors:
        bad = Path(failure.filename) if failure.filename else path
        yield InputFile(
            bad,
            Path(bad.name),
            path,
            error=InputUnreadable(f"cannot list folder: {failure.strerror}"),
        )
