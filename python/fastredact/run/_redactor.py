"""The :class:`Redactor`: one set of options and the detectors they load, applied to an
array, a file or a whole batch (see :mod:`fastredact.run._batch`)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastredact._hiding import hide_verified
from fastredact.corrections import CorrectionSet
from fastredact.detect import Detections, DetectorSet
from fastredact.options import RedactOptions
from fastredact.run._batch import run_batch
from fastredact.run._file import FrameProgress, process_file
from fastredact.run._inputs import InputFile
from fastredact.run._results import FileResult

__all__ = ["Redactor"]

PathLike = str | os.PathLike[str]


class Redactor:
    """Redact photos and videos with one set of options; see
    :class:`fastredact.options.RedactOptions` (given whole, or as keyword arguments).

    Loading the detectors happens here: a model that cannot load raises before anything is
    written (``ModelNotFound`` / ``DetectorError``).
    """

    def __init__(self, options: RedactOptions | None = None, **kwargs: Any) -> None:
        base = options or RedactOptions()
        self.options = replace(base, **kwargs) if kwargs else base
        self.detectors = DetectorSet.load(self.options)

    def redact_array(self, image: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], Detections]:
        """Detect and redact one RGB(A)/gray uint8 image; returns a redacted copy and what
        was hidden."""
        found = self.detectors.detect(image)
        out = np.array(image, copy=True)
        return out, hide_verified(out, found, self.options, self.detectors)

    def redact_file(
        self, src: PathLike, dst: PathLike, *, frame_progress: FrameProgress | None = None
    ) -> FileResult:
        """Redact the photo or video ``src`` (the format is sniffed from the content) into
        ``dst`` (atomic; its extension follows a format change). Never raises for a bad
        input: see the result's ``status``, ``error_kind`` and ``error``. ``frame_progress``
        follows a video frame by frame (see :data:`~fastredact.run.FrameProgress`)."""
        item = InputFile(path=Path(src), relative=Path(Path(src).name), root=Path(src).parent)
        return process_file(
            item, Path(dst), self.options, self.detectors, frame_progress=frame_progress
        )

    redact_video = redact_file
    """Videos go through :meth:`redact_file` too (the format is sniffed from the content)."""

    def redact_paths(
        self,
        inputs: Iterable[PathLike],
        outdir: PathLike,
        *,
        manifest: PathLike | None = None,
        mapping: PathLike | None = None,
        resume: bool = False,
        frame_progress: FrameProgress | None = None,
        corrections: CorrectionSet | PathLike | None = None,
    ) -> Iterator[FileResult]:
        """Redact every photo and video under ``inputs`` into ``outdir`` (tree mirrored),
        streaming one :class:`FileResult` per input, in input order.

        ``manifest``: append the run record and one row per input (JSON Lines);
        ``mapping``: input → output paths (mode 0600); ``resume``: skip inputs the manifest
        records as done with these settings whose output is still there. Work is spread
        over ``options.workers`` threads; ``frame_progress`` follows each video frame by
        frame, called from the worker threads. ``corrections``: a reviewer's corrections
        file (``fastredact review``) or its loaded
        :class:`~fastredact.corrections.CorrectionSet`: boxes added are hidden, false
        positives left; an input they name that changed, or that the run does not hold, is
        a failed row (``CorrectionMismatch``).
        """
        if corrections is not None and not isinstance(corrections, CorrectionSet):
            corrections = CorrectionSet.load(Path(corrections))
        return run_batch(
            self.options,
            self.detectors,
            inputs,
            outdir,
            manifest=manifest,
            mapping=mapping,
            resume=resume,
            frame_progress=frame_progress,
            corrections=corrections,
        )
