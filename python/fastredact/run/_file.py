"""One input of a run, whatever it is: sniffed, sent to the photo or the video step, written
atomically under a claimed output path, its :class:`FileResult` filled. Never raises for a
bad input: every failure becomes a ``failed`` row with its error kind and a one-line cause
(fail closed: nothing is written then)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from fastredact._atomic import write_atomically
from fastredact._spare_cores import SpareCores
from fastredact.errors import (
    FastRedactError,
    InternalError,
    LimitExceeded,
    OutputCollision,
    OutputUnwritable,
    UnsupportedFormat,
)
from fastredact.formats import MEDIA_SUFFIXES, SNIFF_BYTES, sniff_photo, sniff_video
from fastredact.photo import redact_photo
from fastredact.run._inputs import InputFile, display
from fastredact.run._manifest import sha256_bytes
from fastredact.run._output_names import OutputNames, output_suffix
from fastredact.run._results import FileResult
from fastredact.video import output_container_for, redact_video_file, video_output_path

if TYPE_CHECKING:
    from fastredact.corrections import CorrectionSet, InputCorrections
    from fastredact.detect import DetectorSet
    from fastredact.options import RedactOptions

__all__ = ["FrameProgress", "process_file"]

FrameProgress = Callable[[str, int, "int | None"], None]
"""Called from the worker as a video is encoded: the input's display path, frames written so
far, and the frame count its container declares (``None`` when it declares none)."""


def process_file(
    item: InputFile,
    dst: Path,
    options: RedactOptions,
    detectors: DetectorSet,
    *,
    frame_progress: FrameProgress | None = None,
    names: OutputNames | None = None,
    corrections: CorrectionSet | None = None,
    spare_cores: SpareCores | None = None,
) -> FileResult:
    """Redact the photo or video ``item`` into ``dst`` (its extension follows the output
    format), with the reviewer's ``corrections`` of this input applied, a video on the run's
    idle workers too (``spare_cores``); see the module doc."""
    result = FileResult(path=item.display_relative, status="failed")
    started = time.perf_counter()
    head = b""
    try:
        head = item.read_head(SNIFF_BYTES)
        container = sniff_video(head)
        mine = corrections.take(result.path) if corrections is not None else None
        if container is not None:
            _video(
                item,
                dst,
                container,
                options,
                detectors,
                result,
                frame_progress,
                names,
                mine,
                spare_cores,
            )
        else:
            _photo(item, dst, options, detectors, result, names, mine)
        result.status = "ok"
    except UnsupportedFormat as exc:
        result.fail(exc)
        if not _recognised(head) and item.path.suffix.lower() not in MEDIA_SUFFIXES:
            # A README or .DS_Store in a photo folder: not media at all, nothing to hide.
            result.status = "skipped"
    except FastRedactError as exc:
        result.fail(exc)
    except MemoryError:
        result.fail(LimitExceeded("out of memory while processing the file"))
    except OSError as exc:  # the machine's, not fastredact's: a full disk, a lost mount
        result.fail(exc)
    except Exception as exc:  # fail closed on anything unexpected, and say what it was
        result.fail(InternalError(f"{type(exc).__name__}: {exc}"))
    result.timings_ms["total"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def _recognised(head: bytes) -> bool:
    return sniff_photo(head) is not None or sniff_video(head) is not None


def _photo(
    item: InputFile,
    dst: Path,
    options: RedactOptions,
    detectors: DetectorSet,
    result: FileResult,
    names: OutputNames | None,
    corrections: InputCorrections | None,
) -> None:
    data = item.read()
    result.input_sha256 = sha256_bytes(data)
    _check_corrections(corrections, result)
    outcome = redact_photo(data, options, detectors, corrections)
    result.add_photo(outcome)
    dst = output_suffix(dst, outcome.format, outcome.output_format)
    _claim(names, item, dst)
    try:
        write_atomically(dst, outcome.data)
    except OSError as exc:
        raise OutputUnwritable(f"cannot write its output: {exc.strerror or exc}") from None
    result.output = str(dst)
    result.output_sha256 = sha256_bytes(outcome.data)


def _video(
    item: InputFile,
    dst: Path,
    container: str,
    options: RedactOptions,
    detectors: DetectorSet,
    result: FileResult,
    frame_progress: FrameProgress | None,
    names: OutputNames | None,
    corrections: InputCorrections | None,
    spare_cores: SpareCores | None,
) -> None:
    result.format = container
    dst = video_output_path(dst, container)
    result.input_sha256 = item.sha256()
    _check_corrections(corrections, result)
    _claim(names, item, dst)
    progress = None
    if frame_progress is not None:
        report, path = frame_progress, item.display_path
        progress = lambda done, total: report(path, done, total)  # noqa: E731
    outcome = redact_video_file(
        item.path,
        dst,
        options,
        detectors,
        progress=progress,
        corrections=corrections,
        spare_cores=spare_cores,
    )
    result.add_video(outcome, output_container_for(container))
    result.output = str(dst)
    result.output_sha256 = InputFile(dst, Path(dst.name), dst.parent).sha256()


def _check_corrections(corrections: InputCorrections | None, result: FileResult) -> None:
    """Fail the input (:class:`~fastredact.errors.CorrectionMismatch`) when its corrections
    were made on other content; else record which are applied."""
    if corrections is None:
        return
    assert result.input_sha256 is not None
    corrections.check(result.input_sha256)
    result.corrections = corrections.ids


def _claim(names: OutputNames | None, item: InputFile, dst: Path) -> None:
    """Claim the output path ``item`` is about to be written at (its name may differ from the
    one claimed as the inputs were listed: the format is sniffed from the content);
    :class:`OutputCollision` when another input of the run holds it."""
    if names is None:
        return
    output = item.relative.with_name(dst.name)
    earlier = names.claim(output, item.root, item.relative)
    if earlier is not None:
        raise OutputCollision(
            f"its output path {display(output)} is already taken by {display(earlier)}"
        )
