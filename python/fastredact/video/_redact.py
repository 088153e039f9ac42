"""Streaming video redaction with PyAV: decode → detect → cover in time → redact → encode.

:func:`redact_video` reads one video and writes its redacted copy, frame by frame, in
constant memory. The detector and the redaction kernel are injected, so this module knows
neither models nor kernels:

- ``detector.detect(rgb)`` takes an H×W×3 uint8 RGB frame (as displayed) and returns an
  object with ``boxes`` (N, 4: x0, y0, x1, y1 in pixels) and optionally ``labels`` (N,)
  and ``parents`` (N,: -1 for a detection, else the index of the detection a box is attached
  to, which the tracks then carry along; see :mod:`fastredact.video._tracking`);
- ``redact_frame(rgb, boxes, extended, labels)`` hides ``boxes`` in the H×W×3 uint8 RGB
  frame, in place; ``extended`` (N, bool) marks the boxes a track copied beyond its first or
  last detection (a guess of where the object was), which the redactor may want to check;
  ``labels`` (N) are their tracks' labels (``None`` for an attachment or a reviewer's box;
  a redactor of three arguments, as before labels were passed, is called without them).
  It is called on frames with boxes only, or on every frame with ``every_frame``.

Guarantees: the output keeps the stored resolution, the display matrix, every frame and
its timestamp and duration (variable frame rate included); audio is copied packet for
packet; everything else and all metadata are dropped (:mod:`fastredact.video._streams`).
It is written to a temporary file beside ``dst`` and renamed only when complete: any
failure — unreadable or corrupt input, a decoder error, a detector error, an interrupt —
leaves no file at ``dst`` (fail closed).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av.container
import numpy as np
from numpy.typing import NDArray

from fastredact._atomic import atomic_path, temporary_beside
from fastredact._spare_cores import SpareCores
from fastredact.errors import CorruptInput, ResidualDetection
from fastredact.formats import SNIFF_BYTES, sniff_video
from fastredact.video._check import residual_boxes
from fastredact.video._integrity import check_top_level_boxes
from fastredact.video._job import (
    FrameDetections,
    FrameDetector,
    FrameRedactor,
    FrameScreen,
    ProgressCallback,
    VideoJob,
    VideoResult,
)
from fastredact.video._options import VideoOptions
from fastredact.video._streams import StreamPlan, open_input, output_format_for, plan_streams

__all__ = ["CHECK_PASSES", "redact_video"]


def redact_video(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    detector: FrameDetector,
    redact_frame: FrameRedactor | Callable[..., None],
    options: VideoOptions | None = None,
    progress: ProgressCallback | None = None,
    check: FrameDetector | None = None,
    extra: dict[int, NDArray[np.float32]] | None = None,
    screen: FrameScreen | None = None,
    spare_cores: SpareCores | None = None,
) -> VideoResult:
    """Redact the video ``src`` into ``dst`` (see the module docstring).

    With ``check``, the written file is decoded before it is renamed onto ``dst`` and
    ``check.detect`` runs on every frame (as displayed); whatever it finds is hidden too, on
    that frame, in a re-run from the source that replays the first run's detections, until
    the check finds nothing, for at most :data:`CHECK_PASSES` runs in all.

    ``extra``: boxes (stored pixels) hidden on given frames besides what is detected (a
    reviewer's); ``screen`` drops detections of a frame before they are tracked (a
    reviewer's false positives). ``spare_cores``: a run's idle workers, whose cores detect
    more frames at once (the detector's ``detect`` is then called from several threads; the
    output is the same).

    Raises :class:`CorruptInput` (unreadable, truncated, decoder errors),
    :class:`UnsupportedFormat` (container, codec, display matrix or audio codec that
    cannot be handled), :class:`ResidualDetection` (the check still finds something after
    the last run), or whatever the detector / redactor raise; ``dst`` is then absent.
    """
    options = options or VideoOptions()
    src_path, dst_path = Path(src), Path(dst)
    output_format = output_format_for(dst_path, options.container)
    started = time.perf_counter()
    # The input is opened, its structure checked and its streams planned before anything is
    # created beside dst (an unreadable file leaves no temporary file and no folder).
    with contextlib.closing(open_input(src_path)) as inp:
        check_top_level_boxes(src_path, sniff_video(_head(src_path)) or "")
        plan = plan_streams(inp, audio=options.audio, output_format=output_format)
        with atomic_path(dst_path) as tmp:
            run = _Run(src_path, tmp, output_format, options, detector, redact_frame)
            run.screen = screen
            run.spare = spare_cores
            run.add(extra or {})
            run.opened = (inp, plan)
            run.record = check is not None  # a re-run replays the first run's detections
            result = run.once(progress) if check is None else _checked(run, check, progress)
    result.timings["total_s"] = time.perf_counter() - started
    return result


CHECK_PASSES = 6
"""Runs over a video at most when its output is checked: the first, and up to five re-runs
that also hide what the check found in the output of the run before (hiding changes the
picture around it, and the encoder the rest: a check can find new near-misses each time,
fewer each time; on egoblur's parking-lot video with one frame in five detected 34, 7, 6, 1,
then none)."""
CHECK_GROWTH = 1.5
"""What the check finds after the first re-run is hidden this much larger per re-run."""


def _grown(boxes: NDArray[np.float32], factor: float) -> NDArray[np.float32]:
    """``boxes`` (N, 4) grown ``factor`` times about their centres."""
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]) * factor / 2
    grown: NDArray[np.float32] = np.hstack([centre - half, centre + half]).astype(np.float32)
    return grown


@dataclass
class _Run:
    """What one run over the source needs; :meth:`once` writes ``tmp`` (again)."""

    src: Path
    tmp: Path
    output_format: str
    options: VideoOptions
    detector: FrameDetector
    redact_frame: FrameRedactor | Callable[..., None]
    extra: dict[int, NDArray[np.float32]] = field(default_factory=dict)
    replay: dict[int, FrameDetections] | None = None
    last: VideoJob | None = None
    opened: tuple[av.container.InputContainer, StreamPlan] | None = None
    record: bool = False
    screen: FrameScreen | None = None
    spare: SpareCores | None = None

    def add(self, boxes: dict[int, NDArray[np.float32]]) -> None:
        """Hide ``boxes`` too on their frames in the next runs."""
        for index, found in boxes.items():
            before = self.extra.get(index)
            self.extra[index] = found if before is None else np.concatenate([before, found])

    def once(self, progress: ProgressCallback | None) -> VideoResult:
        """One run: the first on the input :func:`redact_video` opened, a re-run on the
        source opened again."""
        if self.opened is not None:
            inp, plan = self.opened
            self.opened = None  # closed by redact_video
            return self._run(inp, plan, progress)
        with contextlib.closing(open_input(self.src)) as inp:
            plan = plan_streams(inp, audio=self.options.audio, output_format=self.output_format)
            return self._run(inp, plan, progress)

    def _run(
        self,
        inp: av.container.InputContainer,
        plan: StreamPlan,
        progress: ProgressCallback | None,
    ) -> VideoResult:
        job = VideoJob(
            inp,
            plan,
            self.tmp,
            self.output_format,
            self.options,
            self.detector,
            self.redact_frame,
            extra=self.extra,
            replay=self.replay,
            record=self.record and self.replay is None,
            screen=self.screen,
            spare=self.spare,
        )
        self.last = job
        return job.run(progress)


def _checked(run: _Run, check: FrameDetector, progress: ProgressCallback | None) -> VideoResult:
    """Run, check the output, re-run hiding what the check found; see :func:`redact_video`.
    A re-run's output is checked only where it differs from the run before (the earlier
    file is kept beside it until then)."""
    with temporary_beside(run.tmp) as earlier:
        first: VideoResult | None = None
        timings: dict[str, float] = {}
        residual: dict[int, NDArray[np.float32]] = {}
        checked = 0
        for attempt in range(1, CHECK_PASSES + 1):
            result = run.once(progress if attempt == 1 else None)
            first = first or result
            job = run.last
            assert job is not None and job.tags is not None
            started = time.perf_counter()
            residual, frames = residual_boxes(
                run.tmp,
                check,
                job.transform,
                job.tags,
                previous=earlier if attempt > 1 else None,
                recheck=set(residual),
                source_size=(result.width, result.height),
                spare=run.spare,
            )
            checked += frames
            result.timings["check_s"] = time.perf_counter() - started
            for stage, seconds in result.timings.items():
                timings[stage] = timings.get(stage, 0.0) + seconds
            if not residual:
                result.passes = attempt
                result.frames_checked = checked
                result.frames_detected = first.frames_detected
                result.frames_reused = first.frames_reused
                result.boxes_added_by_check = sum(len(b) for b in run.extra.values())
                result.timings = timings
                return result
            # What the check found again after it was hidden is the hidden blob itself
            # still looking like a face: each re-run hides it larger.
            run.add({i: _grown(b, CHECK_GROWTH ** (attempt - 1)) for i, b in residual.items()})
            if run.replay is None:
                assert job.recorded is not None
                run.replay = job.recorded
            os.replace(run.tmp, earlier)
    frames_left = sorted(residual)
    raise ResidualDetection(
        f"the output still shows a detection on {len(frames_left)} frame(s) (first: frame "
        f"{frames_left[0]}) after {CHECK_PASSES} runs; nothing written"
    )


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(SNIFF_BYTES)
    except OSError as exc:
        raise CorruptInput(f"cannot read: {exc.strerror or exc}") from None
