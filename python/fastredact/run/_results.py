"""What happened to one input: a :class:`FileResult`, which is one manifest row."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastredact.errors import error_kind, one_line
from fastredact.run._manifest import COLUMNS, REENCODED_KIND, ROW_DEFAULTS

if TYPE_CHECKING:
    from fastredact.detect import Detections
    from fastredact.photo import PhotoOutcome
    from fastredact.video import VideoOutcome
    from fastredact.video._job import FrameDetections

__all__ = ["FileResult", "compact_detections", "detection_rows"]

_NO_DEFAULT = object()


@dataclass
class FileResult:
    """What happened to one input: one manifest row."""

    path: str
    status: str  # "ok" | "failed" | "skipped"
    output: str | None = None
    error_kind: str | None = None
    """The exception class behind ``error`` (``"CorruptInput"``, ``"OutputCollision"``, …)."""
    error: str | None = None
    """Why the input failed or was skipped, in one line."""
    input_sha256: str | None = None
    output_sha256: str | None = None
    format: str | None = None
    output_format: str | None = None
    width: int | None = None
    height: int | None = None
    output_width: int | None = None
    output_height: int | None = None
    """The written picture's size when ``max_size`` / ``max_megapixels`` scaled it down
    (``width`` / ``height`` and the detections stay those of the input)."""
    orientation: int | None = None
    frames: int | None = None
    reencoded: bool = False
    lossless_refused: str | None = None
    """Why a photo with nothing to hide was re-encoded rather than stripped losslessly
    (HEIF / AVIF whose container the lossless strip does not handle)."""
    detections: list[dict[str, Any]] = field(default_factory=list)
    metadata_removed: list[dict[str, Any]] = field(default_factory=list)
    video: dict[str, Any] | None = None
    video_detections: list[dict[str, Any]] = field(default_factory=list)
    """A video's detections frame by frame, in stored pixels (only with
    ``list_video_boxes``; :attr:`detections` counts them per label)."""
    timings_ms: dict[str, float] = field(default_factory=dict)
    background_kept: list[list[int]] | None = None
    """``--background``: the people's boxes left unhidden (whole pixels)."""
    corrections: list[str] | None = None
    """The ids of the reviewer's corrections applied to this input (``--corrections``)."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def fail(self, exc: BaseException, *, kind: str | None = None) -> None:
        """Record ``exc`` as this input's failure (``kind`` overrides its class name)."""
        self.status = "failed"
        self.error_kind = kind or error_kind(exc)
        self.error = one_line(exc)

    def add_photo(self, outcome: PhotoOutcome) -> None:
        """The fields a redacted photo fills (the output is not written yet)."""
        self.format = outcome.format
        self.output_format = outcome.output_format
        self.width, self.height = outcome.width, outcome.height
        if outcome.output_size is not None:
            self.output_width, self.output_height = outcome.output_size
        self.orientation = outcome.orientation
        self.frames = outcome.frames
        self.detections = [
            dict(row, frame=index)
            for index, found in enumerate(outcome.hidden)
            for row in detection_rows(found)
        ]
        self.metadata_removed = outcome.metadata_removed
        self.reencoded = outcome.reencoded
        self.lossless_refused = outcome.lossless_refused
        self.background_kept = outcome.background_kept
        self.timings_ms.update(outcome.timings.milliseconds())

    def add_video(self, outcome: VideoOutcome, output_container: str) -> None:
        """The fields a redacted video fills. Its detections are counted per label (boxes
        summed over frames), not listed one per box: a long video would otherwise make a
        manifest line of millions of boxes."""
        video = outcome.result
        self.output_format = output_container
        self.width, self.height, self.frames = video.width, video.height, video.frames
        self.output_width, self.output_height = video.output_width, video.output_height
        self.reencoded = True
        self.video = video.manifest_fields()
        self.detections = [
            {"label": label, "boxes": n} for label, n in sorted(outcome.boxes_per_label.items())
        ]
        self.video_detections = video_detection_rows(video.detected)

    def manifest_row(self) -> dict[str, Any]:
        """The manifest row, compact (see :mod:`fastredact.run._manifest`): fields at their
        default left out, detections grouped by label, timings as an array of whole
        milliseconds, and
        never the output path (output paths go to the mapping file only)."""
        row: dict[str, Any] = {}
        for name, value in self.__dict__.items():
            if name in _WRITTEN_APART or value is None:
                continue
            if value == ROW_DEFAULTS.get(name, _NO_DEFAULT):
                continue
            row[name] = value
        if self.output_format == self.format:
            row.pop("output_format", None)
        if self.video is not None:
            counts = {d["label"]: d["boxes"] for d in self.detections}
            row["video"] = {**self.video, "boxes": counts} if counts else self.video
            if self.video_detections:
                row["detections"] = compact_detections(self.video_detections)
        elif self.detections:
            row["detections"] = compact_detections(self.detections)
        removed = [
            [d.get(c) for c in COLUMNS["metadata_removed"]]
            for d in self.metadata_removed
            if d["kind"] != REENCODED_KIND
        ]
        if removed:
            row["metadata_removed"] = removed
        if self.timings_ms:
            row["timings_ms"] = [
                None if ms is None else round(ms)
                for ms in (self.timings_ms.get(stage) for stage in COLUMNS["timings_ms"])
            ]
        return row


_WRITTEN_APART = frozenset(
    ("output", "detections", "video_detections", "metadata_removed", "timings_ms")
)
"""Fields :meth:`FileResult.manifest_row` writes in a form of their own, or not at all."""


def compact_detections(rows: list[dict[str, Any]]) -> dict[str, list[list[float]]]:
    """Detection rows as the manifest holds them: per label, ``[x0, y0, x1, y1, score]``
    with the box rounded outwards to whole pixels (``frame`` appended when it is not 0)."""
    grouped: dict[str, list[list[float]]] = {}
    for d in rows:
        x0, y0, x1, y1 = d["box"]
        item: list[float] = [math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1)]
        item.append(d["score"])
        if d.get("frame"):
            item.append(d["frame"])
        grouped.setdefault(d["label"], []).append(item)
    return grouped


def video_detection_rows(detected: Mapping[int, FrameDetections]) -> list[dict[str, Any]]:
    """Manifest rows of a video's detected frames, in frame order (a frame's boxes without
    a label are faces, the job's one class)."""
    rows = []
    for index in sorted(detected):
        found = detected[index]
        n = len(found.boxes)
        labels = found.labels if found.labels is not None else ("face",) * n
        scores = found.scores if found.scores is not None else (None,) * n
        for box, score, label in zip(found.boxes, scores, labels, strict=True):
            rows.append(
                {
                    "label": str(label),
                    "box": [round(float(v), 1) for v in box],
                    "score": None if score is None else round(float(score), 3),
                    "frame": index,
                }
            )
    return rows


def detection_rows(found: Detections) -> list[dict[str, Any]]:
    """Manifest rows: label, box (x0, y0, x1, y1 rounded to 0.1 px) and score."""
    return [
        {"label": label, "box": [round(float(v), 1) for v in box], "score": round(float(s), 3)}
        for box, s, label in zip(found.boxes, found.scores, found.labels, strict=True)
    ]
