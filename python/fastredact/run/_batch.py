"""The batch: every input of a run through a pool of worker threads, with output-name
claims, ``--resume``, the manifest (run record, then one row per input) and the mapping
file. Results stream out in input order; at most twice as many files as workers are in
flight (decoding, ONNX inference and the Rust kernels release the GIL)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastredact._atomic import remove_stale_temp_files
from fastredact._spare_cores import SpareCores
from fastredact.errors import CorrectionMismatch, FastRedactError, OutputUnwritable
from fastredact.run._file import FrameProgress, process_file
from fastredact.run._inputs import InputFile, display, iter_inputs, output_path_for
from fastredact.run._manifest import (
    DoneInputs,
    ManifestWriter,
    MappingWriter,
    read_done,
    run_policy,
    run_record,
)
from fastredact.run._output_names import OutputNames, expected_output, folds_case
from fastredact.run._results import FileResult

if TYPE_CHECKING:
    from fastredact.corrections import CorrectionSet
    from fastredact.detect import DetectorSet
    from fastredact.options import RedactOptions

__all__ = ["listed_inputs", "make_output_folder", "profile_record", "run_batch"]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class _Run:
    """What every file of one run shares."""

    options: RedactOptions
    detectors: DetectorSet
    out_root: Path
    names: OutputNames
    done: DoneInputs
    frame_progress: FrameProgress | None
    corrections: CorrectionSet | None = None
    spare_cores: SpareCores | None = None
    """The workers without a file, whose cores a video borrows frame by frame."""


def listed_inputs(
    inputs: Iterable[PathLike], out_root: Path, format_option: str, names: OutputNames | None = None
) -> Iterator[InputFile]:
    """The run's inputs, each having claimed the output path its name leads to under
    ``--format`` (an input whose path an earlier one holds comes as a failed item). Without
    ``names``, a fresh record of the output folder's names (folding case where its
    filesystem does)."""
    names = names if names is not None else OutputNames(fold_case=folds_case(out_root))
    return iter_inputs(
        inputs, out_root, names=names, output_name=lambda rel: expected_output(rel, format_option)
    )


def run_batch(
    options: RedactOptions,
    detectors: DetectorSet,
    inputs: Iterable[PathLike],
    outdir: PathLike,
    *,
    manifest: PathLike | None = None,
    mapping: PathLike | None = None,
    resume: bool = False,
    frame_progress: FrameProgress | None = None,
    corrections: CorrectionSet | None = None,
) -> Iterator[FileResult]:
    """Redact every photo and video under ``inputs`` into ``outdir`` (tree mirrored),
    streaming results; see :meth:`fastredact.Redactor.redact_paths`."""
    if corrections is not None:  # part of the settings: a resumed run redoes what they change
        options = replace(options, corrections_sha256=corrections.sha256)
    if mapping is not None and not options.allow_mapping:
        raise ValueError(
            f"profile {options.profile} refuses a mapping file: a table of original paths "
            "beside published copies can re-identify them by file name"
        )
    out_root = Path(outdir)
    make_output_folder(out_root)
    names = OutputNames(fold_case=folds_case(out_root))
    fingerprint = options.fingerprint()
    done = read_done(Path(manifest), fingerprint) if (resume and manifest) else DoneInputs()
    if resume:
        remove_stale_temp_files(out_root)
    with ExitStack() as files:
        manifest_writer = files.enter_context(ManifestWriter(Path(manifest))) if manifest else None
        mapping_writer = files.enter_context(MappingWriter(Path(mapping))) if mapping else None
        for written in (manifest_writer, mapping_writer):
            if written is not None:  # no input's output may replace the run's own files
                _reserve(names, out_root, written.path)
        if manifest_writer:
            settings = options.output_settings()
            record = run_record(
                fingerprint,
                settings,
                detectors.describe(),
                detectors.thresholds,
                run_policy(profile_record(options), options.retention_days),
            )
            manifest_writer.write(record)
        spare = SpareCores(options.workers)
        run = _Run(options, detectors, out_root, names, done, frame_progress, corrections, spare)
        listed = listed_inputs(inputs, out_root, options.format, names)
        for item, result in _pool(listed, run):
            if manifest_writer:
                manifest_writer.write(
                    {"settings_fingerprint": fingerprint, **result.manifest_row()}
                )
            if mapping_writer and result.output:
                mapping_writer.write({"input": item.display_path, "output": result.output})
            yield result
        for result in _unmatched(corrections):
            if manifest_writer:
                manifest_writer.write(
                    {"settings_fingerprint": fingerprint, **result.manifest_row()}
                )
            yield result


def _unmatched(corrections: CorrectionSet | None) -> Iterator[FileResult]:
    """A failed row for each input the corrections name that the run did not meet: a
    correction is never dropped silently."""
    for missing in corrections.unmatched() if corrections is not None else ():
        result = FileResult(path=missing.input, status="failed")
        result.input_sha256 = missing.input_sha256
        result.corrections = missing.ids
        result.fail(
            CorrectionMismatch(
                f"{len(missing.rows)} correction(s) name this input, which is not among "
                "the run's inputs (another input folder, or a renamed file?)"
            )
        )
        yield result


def _pool(items: Iterator[InputFile], run: _Run) -> Iterator[tuple[InputFile, FileResult]]:
    workers = run.options.workers
    pending: list[tuple[InputFile, Future[FileResult]]] = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for item in items:
            pending.append((item, pool.submit(_process_or_skip, item, run)))
            if len(pending) >= 2 * workers:
                first = pending.pop(0)
                yield first[0], first[1].result()
        for item, future in pending:
            yield item, future.result()


def _process_or_skip(item: InputFile, run: _Run) -> FileResult:
    if run.spare_cores is None:
        return _process_or_skip_busy(item, run)
    with run.spare_cores.working():
        return _process_or_skip_busy(item, run)


def _process_or_skip_busy(item: InputFile, run: _Run) -> FileResult:
    if item.error:
        result = FileResult(path=item.display_relative, status="failed")
        result.fail(item.error)
        return result
    if run.done:
        try:
            digest = item.sha256()  # in chunks: a video is never read whole
        except FastRedactError as exc:
            result = FileResult(path=item.display_relative, status="failed")
            result.fail(exc)
            return result
        if (item.display_relative, digest) in run.done and _output_exists(item, run):
            if run.corrections is not None:  # applied by the run that did it
                run.corrections.take(item.display_relative)
            return FileResult(
                path=item.display_relative,
                status="skipped",
                input_sha256=digest,
                error="already done (--resume)",
            )
    return process_file(
        item,
        output_path_for(item, run.out_root),
        run.options,
        run.detectors,
        frame_progress=run.frame_progress,
        names=run.names,
        corrections=run.corrections,
        spare_cores=run.spare_cores,
    )


def _output_exists(item: InputFile, run: _Run) -> bool:
    """Whether the output a resumed input's ``ok`` row stands for is still there (a deleted
    output, or a run resumed into another folder, is redone, not skipped)."""
    return (run.out_root / expected_output(item.relative, run.options.format)).is_file()


def make_output_folder(out_root: Path) -> None:
    try:
        out_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputUnwritable(
            f"cannot create the output folder {display(out_root)}: {exc.strerror or exc}"
        ) from None


def _reserve(names: OutputNames, out_root: Path, path: Path) -> None:
    """Claim ``path`` (the manifest or the mapping file) in ``names`` when it lies inside
    ``out_root``: an input whose output would land there fails instead of replacing it."""
    try:
        relative = path.resolve().relative_to(out_root.resolve())
    except ValueError:
        return
    names.claim(relative, out_root, relative)


def profile_record(options: RedactOptions) -> dict[str, Any] | None:
    """The profile the options came from, as the run record names it (its file re-read:
    name, source, SHA-256, mapping rule and retention)."""
    if options.profile is None:
        return None
    from fastredact.profiles import load_profile

    return load_profile(options.profile).record()
