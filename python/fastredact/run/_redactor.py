"""The photo pipeline: per file sniff → decode (oriented) → detect → redact → encode → strip
metadata → atomic write, over many files on all cores, failing closed.

A file with no detection keeps its pixels byte for byte: it only gets the lossless metadata
strip (unless ``reencode``). Any failure on a file means no output for it and a ``failed``
result with a one-line reason; the batch goes on.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastredact import imageio
from fastredact.errors import (
    FastRedactError,
    OutputCollision,
    OutputUnwritable,
    UnsupportedFormat,
)
from fastredact.heif_strip import HEIF_FORMATS, strip_heif_checked
from fastredact.inputs import InputFile, display, iter_inputs, output_path_for
from fastredact.manifest import DoneInputs, ManifestWriter, MappingWriter, read_done, sha256_bytes
from fastredact.options import RedactOptions
from fastredact.output_names import (
    MEDIA_SUFFIXES,
    OutputNames,
    expected_output,
    folds_case,
    output_suffix,
)
from fastredact.redaction_steps import (
    DetectorSet,
    FrameDetections,
    attachment_parents,
    detection_rows,
    redact_frame,
    redact_verified,
    strip_bytes,
)
from fastredact.safe_write import remove_stale_temp_files, write_atomically
from fastredact.strip import OrientationPolicy
from fastredact.video import redact_video
from fastredact.video_streams import sniff_video

__all__ = ["FileResult", "FrameProgress", "Redactor"]

FrameProgress = Callable[[str, int, "int | None"], None]
"""Called from the worker as a video is encoded: the input's display path, frames written so
far, and the frame count its container declares (``None`` when it declares none)."""

LOSSLESS_STRIP_FORMATS = ("jpeg", "png", "webp", "gif")


@dataclass(frozen=True)
class _Jobs:
    """What every file of one :meth:`Redactor.redact_paths` run shares."""

    out_root: Path
    names: OutputNames
    done: DoneInputs
    frame_progress: FrameProgress | None


@dataclass
class FileResult:
    """What happened to one input: one manifest row."""

    path: str
    status: str  # "ok" | "failed" | "skipped"
    output: str | None = None
    error: str | None = None
    input_sha256: str | None = None
    output_sha256: str | None = None
    format: str | None = None
    output_format: str | None = None
    width: int | None = None
    height: int | None = None
    orientation: int | None = None
    frames: int | None = None
    reencoded: bool = False
    lossless_refused: str | None = None
    """Why a photo with nothing to hide was re-encoded rather than stripped losslessly
    (HEIF / AVIF whose container the lossless strip does not handle)."""
    detections: list[dict[str, Any]] = field(default_factory=list)
    metadata_removed: list[dict[str, Any]] = field(default_factory=list)
    video: dict[str, Any] | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class Redactor:
    """Redact photos with one set of options; see :class:`fastredact.options.RedactOptions`.

    Loading the detectors happens here: a model that cannot load raises before anything is
    written (``ModelNotFound`` / ``DetectorError``).
    """

    def __init__(self, options: RedactOptions | None = None, **kwargs: Any) -> None:
        base = options or RedactOptions()
        self.options = replace(base, **kwargs) if kwargs else base
        self.detectors = DetectorSet.load(self.options)

    # -- arrays ---------------------------------------------------------------------------
    def redact_array(self, image: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], FrameDetections]:
        """Detect and redact one RGB(A)/gray uint8 image; returns a redacted copy."""
        found = self.detectors.detect(image)
        out = np.array(image, copy=True)
        return out, redact_verified(out, found, self.options, self.detectors)

    # -- one file -------------------------------------------------------------------------
    def redact_bytes(self, data: bytes, result: FileResult) -> bytes:
        """Redacted, stripped bytes for the input ``data``; fills ``result`` as it goes."""
        opts = self.options
        clock = _Clock(result.timings_ms)
        result.input_sha256 = sha256_bytes(data)
        with clock("decode"):
            decoded = imageio.decode_image(data, max_pixels=opts.max_pixels)
        result.format = decoded.format
        result.width, result.height = decoded.width, decoded.height
        result.orientation = decoded.orientation
        result.frames = len(decoded.frames)
        with clock("detect"):
            found = [self.detectors.detect(frame) for frame in decoded.frames]
        result.detections = [
            dict(det, frame=index)
            for index, frame in enumerate(found)
            for det in detection_rows(frame)
        ]
        out_format = self._output_format(decoded.format)
        result.output_format = out_format
        untouched = not (
            bool(result.detections)
            or opts.reencode
            or out_format != decoded.format
            or (opts.orientation == "bake" and decoded.orientation != 1)
        )
        if untouched and decoded.format in LOSSLESS_STRIP_FORMATS:
            with clock("strip"):
                cleaned, removed = strip_bytes(data, opts, orientation="keep")
            result.metadata_removed = removed
            return cleaned
        if untouched and decoded.format in HEIF_FORMATS:
            with clock("strip"):
                heif = strip_heif_checked(data, decoded, icc=opts.icc, max_pixels=opts.max_pixels)
            if not isinstance(heif, str):
                result.metadata_removed = heif[1]
                return heif[0]
            result.lossless_refused = heif
        result.reencoded = True
        with clock("redact"):
            hidden = [
                redact_verified(frame, frame_found, opts, self.detectors)
                for frame, frame_found in zip(decoded.frames, found, strict=True)
            ]
        result.detections = [
            dict(det, frame=index)
            for index, frame in enumerate(hidden)
            for det in detection_rows(frame)
        ]
        with clock("encode"):
            encoded = self._encode(decoded, out_format)
        with clock("strip"):
            keep: OrientationPolicy = "keep" if opts.orientation == "keep" else "drop"
            if out_format in LOSSLESS_STRIP_FORMATS:
                cleaned, removed = strip_bytes(encoded, opts, orientation=keep)
            else:  # TIFF / HEIF / AVIF / BMP: our encoder wrote them; verify, don't rewrite
                imageio.check_encoded_clean(encoded, out_format)
                cleaned, removed = encoded, []
        result.metadata_removed = [{"kind": "all (re-encoded)", "bytes": len(data)}, *removed]
        return cleaned

    def redact_file(
        self,
        src: str | os.PathLike[str],
        dst: str | os.PathLike[str],
        *,
        frame_progress: FrameProgress | None = None,
    ) -> FileResult:
        """Redact the photo or video ``src`` into ``dst`` (atomic). Never raises for a bad
        input: see the result's ``status`` and ``error``. ``frame_progress`` follows a video
        frame by frame (see :data:`FrameProgress`)."""
        item = InputFile(path=Path(src), relative=Path(Path(src).name), root=Path(src).parent)
        return self._process(item, Path(dst), frame_progress)

    redact_video = redact_file
    """Videos go through :meth:`redact_file` too (the format is sniffed from the content)."""

    def _process(
        self,
        item: InputFile,
        dst: Path,
        frame_progress: FrameProgress | None = None,
        names: OutputNames | None = None,
    ) -> FileResult:
        result = FileResult(path=item.display_relative, status="failed")
        started = time.perf_counter()
        try:
            container = sniff_video(item.read_head(64))
            if container is not None:
                self._process_video(item, dst, container, result, frame_progress, names)
            else:
                self._process_photo(item, dst, result, names)
            result.status = "ok"
        except UnsupportedFormat as exc:
            result.error = f"UnsupportedFormat: {exc}"
            if result.format is None and item.path.suffix.lower() not in MEDIA_SUFFIXES:
                # A README or .DS_Store in a photo folder: not media at all, nothing to hide.
                result.status = "skipped"
        except FastRedactError as exc:
            result.error = f"{type(exc).__name__}: {exc}"
        except MemoryError:
            result.error = "LimitExceeded: out of memory while processing the file"
        except OSError as exc:  # the machine's, not fastredact's: a full disk, a lost mount
            result.error = f"{type(exc).__name__}: {_one_line(exc)}"
        except Exception as exc:  # fail closed on anything unexpected, and say what it was
            result.error = f"InternalError: {type(exc).__name__}: {_one_line(exc)}"
        result.timings_ms["total"] = round((time.perf_counter() - started) * 1000, 2)
        return result

    def _process_photo(
        self, item: InputFile, dst: Path, result: FileResult, names: OutputNames | None
    ) -> None:
        data = item.read()
        cleaned = self.redact_bytes(data, result)
        dst = output_suffix(dst, result.format, result.output_format)
        _claim_output(names, item, dst)
        try:
            write_atomically(dst, cleaned)
        except OSError as exc:
            raise OutputUnwritable(f"cannot write its output: {exc.strerror or exc}") from None
        result.output = str(dst)
        result.output_sha256 = sha256_bytes(cleaned)

    def _process_video(
        self,
        item: InputFile,
        dst: Path,
        container: str,
        result: FileResult,
        frame_progress: FrameProgress | None,
        names: OutputNames | None,
    ) -> None:
        result.format = container
        out_container = "matroska" if container == "avi" else container
        dst = dst.with_suffix(".mkv") if container == "avi" else dst
        result.input_sha256 = item.sha256()
        _claim_output(names, item, dst)
        boxes_per_label: Counter[str] = Counter()

        def detect(rgb: NDArray[np.uint8]) -> SimpleNamespace:
            # Verified on a redacted copy here, where the frame is detected: what the
            # verification still finds (grown) joins the frame's detections as attachments
            # of the face it overlaps, so tracks carry it, moving with that face, to the
            # frames between detections too; the emitted frames are then only hidden
            # (_hide_video_boxes), never detected again.
            primary = self.detectors.detect(rgb)
            found = redact_verified(rgb.copy(), primary, opts, self.detectors)
            boxes_per_label.update(found.labels)
            parents = attachment_parents(found.boxes, len(primary))
            return SimpleNamespace(boxes=found.boxes, labels=found.labels, parents=parents)

        opts = self.options

        video = redact_video(
            item.path,
            dst,
            detector=SimpleNamespace(detect=detect),
            redact_frame=self._hide_video_boxes,
            options=self.options.video_options(),
            progress=_for_item(frame_progress, item.display_path),
            check=SimpleNamespace(detect=self.detectors.detect_reported)
            if opts.verify_video
            else None,
        )
        result.output_format = out_container
        result.width, result.height, result.frames = video.width, video.height, video.frames
        result.reencoded = True
        result.video = video.manifest_fields()
        # One row per label (boxes summed over frames), not one per box: a long video would
        # otherwise make a manifest line of millions of boxes.
        result.detections = [
            {"label": label, "boxes": n} for label, n in sorted(boxes_per_label.items())
        ]
        result.output = str(dst)
        result.output_sha256 = InputFile(dst, Path(dst.name), dst.parent).sha256()

    def _hide_video_boxes(
        self, rgb: NDArray[np.uint8], boxes: NDArray[np.float32], extended: NDArray[np.bool_]
    ) -> None:
        """Hide the ``boxes`` of one frame. Detections were verified on the frame where they
        were found, and what the verification added travels with the tracks, so a frame of
        detected and interpolated boxes is only hidden. A box copied beyond its track's first
        or last detection is a guess (the object may have moved or be leaving): the frame is
        then verified around every box (the copied blob changes the others' surroundings)."""
        found = FrameDetections(boxes, np.ones(len(boxes), np.float32), ("face",) * len(boxes))
        if extended.any():
            redact_verified(rgb, found, self.options, self.detectors)
        else:
            redact_frame(rgb, found, self.options)

    # -- many files -----------------------------------------------------------------------
    def redact_paths(
        self,
        inputs: Iterable[str | os.PathLike[str]],
        outdir: str | os.PathLike[str],
        *,
        manifest: str | os.PathLike[str] | None = None,
        mapping: str | os.PathLike[str] | None = None,
        resume: bool = False,
        frame_progress: FrameProgress | None = None,
    ) -> Iterator[FileResult]:
        """Redact every photo and video under ``inputs`` into ``outdir`` (tree mirrored),
        streaming results.

        Work is spread over ``options.workers`` threads (decoding, ONNX inference and the
        Rust kernels release the GIL); at most twice that many files are in flight.
        ``frame_progress`` follows each video frame by frame, called from the worker threads.
        """
        out_root = Path(outdir)
        _make_output_folder(out_root)
        names = self.output_names(out_root)
        fingerprint = self.options.fingerprint()
        done = read_done(Path(manifest), fingerprint) if (resume and manifest) else DoneInputs()
        if resume:
            remove_stale_temp_files(out_root)
        manifest_writer = ManifestWriter(Path(manifest)) if manifest else None
        try:
            mapping_writer = MappingWriter(Path(mapping)) if mapping else None
        except OutputUnwritable:
            if manifest_writer:
                manifest_writer.close()
            raise
        for written in (manifest_writer, mapping_writer):
            if written is not None:  # no input's output may replace the run's own files
                _reserve(names, out_root, written.path)
        base_row = {
            "settings_fingerprint": fingerprint,
            "settings": self.options.output_settings(),
            "models": self.detectors.describe(),
        }
        try:
            listed = self.iter_inputs(inputs, out_root, names)
            jobs = _Jobs(out_root, names, done, frame_progress)
            for item, result in self._run_pool(listed, jobs):
                row = {**base_row, **_row_of(result)}
                if manifest_writer:
                    manifest_writer.write(row)
                if mapping_writer and result.output:
                    mapping_writer.write({"input": item.display_path, "output": result.output})
                yield result
        finally:
            if manifest_writer:
                manifest_writer.close()
            if mapping_writer:
                mapping_writer.close()

    def output_names(self, out_root: Path) -> OutputNames:
        """A fresh record of the output paths a run into ``out_root`` has handed out, folding
        case where that folder's filesystem does."""
        return OutputNames(fold_case=folds_case(out_root))

    def iter_inputs(
        self, inputs: Iterable[str | os.PathLike[str]], out_root: Path, names: OutputNames
    ) -> Iterator[InputFile]:
        """The run's inputs, each having claimed the output path its name leads to under
        these options (an input whose path an earlier one holds comes as a failed item)."""
        fmt = self.options.format
        return iter_inputs(
            inputs, out_root, names=names, output_name=lambda rel: expected_output(rel, fmt)
        )

    def _run_pool(
        self, items: Iterator[InputFile], jobs: _Jobs
    ) -> Iterator[tuple[InputFile, FileResult]]:
        window = 2 * self.options.workers
        pending: list[tuple[InputFile, Future[FileResult]]] = []
        with ThreadPoolExecutor(max_workers=self.options.workers) as pool:
            for item in items:
                pending.append((item, pool.submit(self._process_or_skip, item, jobs)))
                if len(pending) >= window:
                    first = pending.pop(0)
                    yield first[0], first[1].result()
            for item, future in pending:
                yield item, future.result()

    def _process_or_skip(self, item: InputFile, jobs: _Jobs) -> FileResult:
        if item.error:
            return FileResult(path=item.display_relative, status="failed", error=item.error)
        done = jobs.done
        if done:
            try:
                digest = item.sha256()  # in chunks: a video is never read whole
            except FastRedactError as exc:
                return FileResult(
                    path=item.display_relative,
                    status="failed",
                    error=f"{type(exc).__name__}: {exc}",
                )
            if (item.display_relative, digest) in done and self._output_exists(item, jobs):
                return FileResult(
                    path=item.display_relative,
                    status="skipped",
                    input_sha256=digest,
                    error="already done (--resume)",
                )
        dst = output_path_for(item, jobs.out_root)
        return self._process(item, dst, jobs.frame_progress, jobs.names)

    # -- helpers --------------------------------------------------------------------------
    def _output_exists(self, item: InputFile, jobs: _Jobs) -> bool:
        """Whether the output a resumed input's ``ok`` row stands for is still there (a
        deleted output, or a run resumed into another folder, is redone, not skipped)."""
        expected = expected_output(item.relative, self.options.format)
        return (jobs.out_root / expected).is_file()

    def _output_format(self, source: str) -> str:
        if self.options.format != "same":
            return self.options.format
        if source == imageio.RAW_FORMAT:
            return "tiff"
        return source

    def _encode(self, decoded: imageio.DecodedImage, out_format: str) -> bytes:
        opts = self.options
        frames: list[Any] = list(decoded.frames)
        if opts.orientation == "keep" and decoded.orientation != 1:
            frames = [imageio.undo_orientation(f, decoded.orientation) for f in frames]
        quality = opts.quality or (decoded.jpeg_quality if out_format == "jpeg" else None)
        icc = decoded.icc_profile if opts.icc == "keep" else None
        encoded = imageio.encode_image(
            frames,
            out_format,
            quality=quality,
            subsampling=decoded.jpeg_subsampling if out_format == decoded.format else None,
            icc_profile=icc,
            durations=decoded.durations,
            loop=decoded.loop,
            orientation=decoded.orientation if opts.orientation == "keep" else 1,
        )
        if not encoded:
            raise UnsupportedFormat(f"encoding {out_format} produced nothing")
        return encoded


def _make_output_folder(out_root: Path) -> None:
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


def _claim_output(names: OutputNames | None, item: InputFile, dst: Path) -> None:
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


def _for_item(
    frame_progress: FrameProgress | None, path: str
) -> Callable[[int, int | None], None] | None:
    """The video module's per-video progress callback, reporting ``path`` as well."""
    if frame_progress is None:
        return None
    report = frame_progress
    return lambda done, total: report(path, done, total)


def _row_of(result: FileResult) -> dict[str, Any]:
    row = {k: v for k, v in result.__dict__.items() if v is not None}
    row.pop("output", None)  # output paths live in the mapping file only
    return row


class _Clock:
    def __init__(self, sink: dict[str, float]) -> None:
        self.sink = sink

    def __call__(self, name: str) -> _Clock:
        self._name = name
        return self

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        elapsed = (time.perf_counter() - self._start) * 1000
        self.sink[self._name] = round(self.sink.get(self._name, 0.0) + elapsed, 2)


def _one_line(exc: BaseException) -> str:
    return " ".join((str(exc) or type(exc).__name__).split())
