"""The driver's plan: every input listed and given its output name exactly as ``fastredact
redact`` would (the same walk, the same claims, the format sniffed from the content), so
the actors never decide a name and no output can replace another.

Inputs are local paths, or any ``pyarrow.fs`` URI (``file://``, ``s3://``, ``gs://``, …):
those are listed with ``pyarrow.fs`` and each task carries its URI; the actor copies the
file to a local temporary file before redacting it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from fastredact.errors import FastRedactError, InputUnreadable, OutputCollision, one_line
from fastredact.formats import MEDIA_SUFFIXES, SNIFF_BYTES, sniff_photo, sniff_video
from fastredact.photo import output_format_for
from fastredact.run._batch import listed_inputs
from fastredact.run._inputs import InputFile, display
from fastredact.run._output_names import (
    OutputNames,
    expected_output,
    folds_case,
    output_suffix,
)
from fastredact.run._results import FileResult
from fastredact.video import video_output_path

__all__ = ["Plan", "Task", "plan_inputs"]


@dataclass(frozen=True)
class Task:
    """One input for an actor (plain strings: it crosses process boundaries)."""

    source: str
    """A local path, or a ``pyarrow.fs`` URI."""
    relative: str
    root: str
    output: str
    """Where its output goes, relative to the output folder ("" when the content is no
    photo or video the plan could recognise: the actor then writes nothing)."""

    def as_row(self) -> dict[str, str]:
        return {"source": self.source, "relative": self.relative, "root": self.root,
                "output": self.output}  # fmt: skip


@dataclass
class Plan:
    tasks: list[Task]
    failed: list[FileResult]
    """Inputs that fail while listing (unreadable, an output path another input holds)."""


def plan_inputs(inputs: Iterable[str], out_root: Path, options: Any) -> Plan:
    """Every input of ``inputs`` (paths or URIs), in the order ``redact`` would take them."""
    names = OutputNames(fold_case=folds_case(out_root))
    plan = Plan([], [])
    local = [i for i in inputs if "://" not in str(i)]
    remote = [i for i in inputs if "://" in str(i)]
    for item in listed_inputs(local, out_root, options.format, names):
        _add(plan, item, _local_head, names, options, str(item.path))
    for uri in remote:
        for item, source in _remote_items(uri):
            expected = expected_output(item.relative, options.format)
            if item.error is None and item.path.suffix.lower() in MEDIA_SUFFIXES:
                earlier = names.claim(expected, item.root, item.relative)
                if earlier is not None:
                    item = InputFile(item.path, item.relative, item.root, error=OutputCollision(
                        f"its output path {display(expected)} is already taken by "
                        f"{display(earlier)}"))  # fmt: skip
            _add(plan, item, lambda _item, s=source: _remote_head(s), names, options, source)
    return plan


def _add(plan: Plan, item: InputFile, head_of: Any, names: OutputNames, options: Any,
         source: str) -> None:  # fmt: skip
    if item.error is not None:
        plan.failed.append(_failed(item, item.error))
        return
    try:
        head = head_of(item)
    except (OSError, FastRedactError) as exc:
        error = exc if isinstance(exc, FastRedactError) else InputUnreadable(one_line(exc))
        plan.failed.append(_failed(item, error))
        return
    final = _final_output(item.relative, head, options)
    if final is not None:
        earlier = names.claim(final, item.root, item.relative)
        if earlier is not None:
            plan.failed.append(
                _failed(
                    item,
                    OutputCollision(
                        f"its output path {display(final)} is already taken by {display(earlier)}"
                    ),
                )
            )
            return  # fmt: skip
    plan.tasks.append(
        Task(source, item.relative.as_posix(), str(item.root), final.as_posix() if final else "")
    )


def _final_output(relative: Path, head: bytes, options: Any) -> Path | None:
    """The output name ``redact`` ends up writing (the content's format decides it)."""
    container = sniff_video(head)
    if container is not None:
        return video_output_path(relative, container)
    photo = sniff_photo(head)
    if photo is None:
        return None
    return output_suffix(relative, photo, output_format_for(photo, options))


def _failed(item: InputFile, error: FastRedactError) -> FileResult:
    result = FileResult(path=item.display_relative, status="failed")
    result.fail(error)
    return result


def _local_head(item: InputFile) -> bytes:
    return item.read_head(SNIFF_BYTES)


def _remote_head(uri: str) -> bytes:
    filesystem, path = _filesystem(uri)
    with filesystem.open_input_stream(path) as f:
        return bytes(f.read(SNIFF_BYTES))


def _filesystem(uri: str) -> tuple[Any, str]:
    import pyarrow.fs

    try:
        filesystem, path = pyarrow.fs.FileSystem.from_uri(uri)
    except (pyarrow.ArrowInvalid, OSError) as exc:
        raise InputUnreadable(f"{uri}: {one_line(exc)}") from None
    return filesystem, str(path)


def _remote_items(uri: str) -> Iterator[tuple[InputFile, str]]:
    """The files at ``uri`` (a file or, recursively, a folder), each with its own URI."""
    import pyarrow.fs

    base = uri.rstrip("/")
    try:
        filesystem, path = _filesystem(base)
        info = filesystem.get_file_info(path)
        if info.type == pyarrow.fs.FileType.NotFound:
            raise InputUnreadable("no such file or folder")
        if info.type == pyarrow.fs.FileType.File:
            found = [info]
            root = str(PurePosixPath(path).parent)
        else:
            found = filesystem.get_file_info(pyarrow.fs.FileSelector(path, recursive=True))
            root = path
    except (OSError, FastRedactError) as exc:
        error = exc if isinstance(exc, FastRedactError) else InputUnreadable(one_line(exc))
        yield InputFile(Path(base), Path(PurePosixPath(base).name), Path(base), error=error), base
        return
    prefix = base[: len(base) - len(path)] if base.endswith(path) else ""
    for entry in sorted((f for f in found if f.type == pyarrow.fs.FileType.File),
                        key=lambda f: f.path):  # fmt: skip
        relative = PurePosixPath(os.path.relpath(entry.path, root))
        yield InputFile(Path(entry.path), Path(relative), Path(root)), prefix + entry.path
