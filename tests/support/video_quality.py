"""Residual-detection measurement for video redaction (shared by the test and the bench).

The checker is the default detection (CenterFace faces, PlateNet plates with the vehicle
pass, default thresholds and tiling), run on every decoded frame of a video; a frame counts
once per label when it has at least one detection of that label.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from fastredact.detect import Detections, DetectorSet, MultiDetector, load_detector
from fastredact.options import RedactOptions
from fastredact.run import Redactor

__all__ = ["QualityRow", "frames_with_detections", "measure", "trim_clip"]


@dataclass(frozen=True)
class QualityRow:
    """One video redacted in one mode, checked frame by frame."""

    video: str
    verified: bool
    detect_every: int
    frames: int
    output_frames: int
    input_frames_with: dict[str, int]
    output_frames_with: dict[str, int]
    redact_seconds: float


def checker(plates: bool) -> MultiDetector:
    """The default detectors at their default thresholds and tiling, as the pipeline runs
    them (not the pipeline's own lower hiding threshold): what a user checking the output
    with fastredact's detectors would find."""
    options = RedactOptions(plates=plates, workers=1)
    parts: list[object] = [load_detector(options.face_model, tile_scales=options.face_tile_scales)]
    if plates:
        parts.append(_ReportedPlates())
    return MultiDetector(parts)  # type: ignore[arg-type]


class _ReportedPlates:
    """The run's plate detection (the whole-picture pass, the search inside vehicles and the
    second look outside them: DetectorSet), what scores at the plate threshold."""

    classes = ("plate",)

    def __init__(self) -> None:
        self.plates = DetectorSet.load(RedactOptions(faces=False, workers=1))

    def detect(self, image: np.ndarray) -> Detections:
        return self.plates.detect_reported(image)


def frames_with_detections(path: Path, detectors: MultiDetector) -> tuple[int, dict[str, int]]:
    """(frames, {label: frames with at least one detection of that label})."""
    counts: Counter[str] = Counter()
    frames = 0
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            frames += 1
            found = detectors.detect(frame.to_ndarray(format="rgb24"))
            counts.update(set(found.labels))
    return frames, dict(counts)


def redact_with(
    src: Path, dst: Path, *, detect_every: int, plates: bool, verify: bool = False
) -> Path:
    """Redact ``src`` with the default pipeline (one worker; ``verify``: with
    ``--verify-video``); raises on a failed row."""
    options = RedactOptions(
        plates=plates, workers=1, detect_every=detect_every, verify_video=verify
    )
    redactor = Redactor(options)
    result = redactor.redact_file(src, dst)
    if not result.ok:
        raise RuntimeError(f"{src}: {result.error}")
    return dst


def trim_clip(src: Path, dst: Path, frames: int) -> Path:
    """The first ``frames`` frames of ``src`` re-encoded near-losslessly (H.264 CRF 12)."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = inp.streams.video[0]
        v = out.add_stream("libx264", rate=stream.average_rate, options={"crf": "12"})
        v.width, v.height = stream.width, stream.height
        for i, frame in enumerate(inp.decode(video=0)):
            if i == frames:
                break
            frame.pict_type = 0
            out.mux(v.encode(frame.reformat(format="yuv420p")))
        out.mux(v.encode(None))
    return dst


def measure(
    src: Path,
    workdir: Path,
    *,
    detect_every: tuple[int, ...],
    plates: bool,
    verify: bool = False,
) -> list[QualityRow]:
    """Frames with detections in ``src``, then residual ones in its redacted copy per mode."""
    detectors = checker(plates)
    frames, found_in = frames_with_detections(src, detectors)
    rows = []
    for every in detect_every:
        dst = workdir / f"{src.stem}.every{every}{src.suffix}"
        started = time.perf_counter()
        redact_with(src, dst, detect_every=every, plates=plates, verify=verify)
        seconds = time.perf_counter() - started
        out_frames, residual = frames_with_detections(dst, detectors)
        rows.append(
            QualityRow(src.name, verify, every, frames, out_frames, found_in, residual, seconds)
        )
    return rows
