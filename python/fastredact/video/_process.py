"""One video through a run's detectors and hiding step: :func:`redact_video_file` wires the
run's :class:`~fastredact.detect.DetectorSet` and options into :func:`redact_video`.

Each frame the job detects is verified on a redacted copy here: what the verification still
finds (grown) joins the frame's detections as attachments of the face it overlaps, so tracks
carry it, moving with that face, to the frames between detections too. The emitted frames
are then only hidden, never detected again, except a frame holding a box that a track copied
beyond its first or last detection (a guess: the object may have moved), which is verified
around every box.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from fastredact._hiding import attachment_parents, hide_background, hide_boxes, hide_verified
from fastredact._spare_cores import SpareCores
from fastredact.detect import Detections
from fastredact.video._job import FrameDetections, FrameScreen, ProgressCallback, VideoResult
from fastredact.video._redact import redact_video

if TYPE_CHECKING:
    from fastredact.corrections import InputCorrections
    from fastredact.detect import DetectorSet
    from fastredact.options import RedactOptions

__all__ = ["VideoOutcome", "output_container_for", "redact_video_file", "video_output_path"]


def output_container_for(container: str) -> str:
    """The container a video in ``container`` is written in: AVI becomes Matroska (AVI keeps
    no presentation timestamps), the others stay."""
    return "matroska" if container == "avi" else container


def video_output_path(dst: Path, container: str) -> Path:
    """Where the redacted copy of a ``container`` video meant for ``dst`` is written."""
    return dst.with_suffix(".mkv") if container == "avi" else dst


@dataclass
class VideoOutcome:
    """A redacted video, written, and what was done to it."""

    result: VideoResult
    boxes_per_label: Counter[str] = field(default_factory=Counter)
    """Boxes hidden per label, summed over the detected frames."""


def redact_video_file(
    src: Path,
    dst: Path,
    options: RedactOptions,
    detectors: DetectorSet,
    *,
    progress: ProgressCallback | None = None,
    corrections: InputCorrections | None = None,
    spare_cores: SpareCores | None = None,
) -> VideoOutcome:
    """Redact the video ``src`` into ``dst`` (atomically) with the run's detectors and
    options, and a reviewer's ``corrections`` (boxes in stored pixels, each on its frame and
    ``span`` frames either side), on the run's idle workers too (``spare_cores``); raises
    like :func:`redact_video`."""
    hider = _FrameHider(options, detectors)
    added = corrections.frames() if corrections is not None else {}
    extra = {i: found.boxes for i, found in added.items()}
    screen = _screen(corrections) if corrections is not None and corrections.removes else None
    result = redact_video(
        src,
        dst,
        detector=hider,
        redact_frame=hider.hide,
        options=options.video_options(),
        progress=progress,
        check=_Reported(detectors, people=options.bodies) if options.verify_video else None,
        extra=extra,
        screen=screen,
        spare_cores=spare_cores,
    )
    outcome = VideoOutcome(result, hider.boxes_per_label)
    for found in added.values():  # the reviewer's boxes, counted like detections
        outcome.boxes_per_label.update(found.labels)
    return outcome


def _screen(corrections: InputCorrections) -> FrameScreen:
    """The job's screen: a frame's detections without the reviewer's false positives (and
    without what verification attached to them)."""

    def screen(index: int, found: FrameDetections) -> FrameDetections:
        n = len(found.boxes)
        if not n:
            return found
        labels = tuple(found.labels) if found.labels is not None else ("face",) * n
        scores = np.asarray(found.scores if found.scores is not None else np.ones(n), np.float32)
        keep = corrections.keep(Detections(found.boxes, scores, labels), index)
        parents = None
        if found.parents is not None:
            old = np.asarray(found.parents, np.int64)
            keep &= (old < 0) | keep[np.clip(old, 0, None)]
            new_index = np.cumsum(keep) - 1
            parents = np.where(old < 0, -1, new_index[np.clip(old, 0, None)])[keep]
        return FrameDetections(
            found.boxes[keep],
            None if found.labels is None else [labels[i] for i in np.flatnonzero(keep)],
            parents,
            None if found.scores is None else scores[keep],
        )

    return screen


class _FrameHider:
    """The job's detector (detect, then verify on a redacted copy) and hiding step.
    :meth:`detect` runs on the job's lanes, several frames at once."""

    def __init__(self, options: RedactOptions, detectors: DetectorSet) -> None:
        self.options = options
        self.detectors = detectors
        self.boxes_per_label: Counter[str] = Counter()
        self._counting = threading.Lock()
        self.scale = options.mask_scale
        """What verification finds is hidden at the run's mask scale: tracks carry it to
        the frames between detections, where the face has moved."""

    def detect(self, rgb: NDArray[np.uint8]) -> FrameDetections:
        primary = self.detectors.detect(rgb)
        kept = self._kept_people(primary)
        hidden = primary.select(~kept)
        found = hide_verified(
            rgb.copy(), hidden, self.options, self.detectors, found_mask_scale=self.scale
        )
        parents = attachment_parents(found.boxes, len(hidden))
        if kept.any():  # --background's people: tracked, never hidden nor verified around
            people = primary.select(kept)
            found = Detections.concat([found, people])
            parents = np.concatenate([parents, np.full(len(people), -1, np.int64)])
        with self._counting:
            self.boxes_per_label.update(found.labels)
        return FrameDetections(found.boxes, found.labels, parents, found.scores)

    def _kept_people(self, found: Detections) -> NDArray[np.bool_]:
        """Which of ``found`` are people ``--background`` keeps (all of them, without
        ``--bodies``)."""
        if self.options.background is None or self.options.bodies:
            return np.zeros(len(found), np.bool_)
        return np.array([label == "person" for label in found.labels], np.bool_).reshape(-1)

    def hide(
        self,
        rgb: NDArray[np.uint8],
        boxes: NDArray[np.float32],
        extended: NDArray[np.bool_],
        labels: list[object],
    ) -> None:
        """Hide the ``boxes`` of one frame; a frame holding a box copied beyond its track's
        detections (``extended``) is verified around every box (the copied blob changes the
        others' surroundings). With ``--background`` the frame is hidden first but its
        people (see :func:`_background`)."""
        if self.options.background is not None:
            boxes, extended = _background(rgb, boxes, extended, labels, self.options)
            if not len(boxes):
                return
        if extended.any():
            found = Detections(boxes, np.ones(len(boxes), np.float32), ("face",) * len(boxes))
            hide_verified(rgb, found, self.options, self.detectors, found_mask_scale=self.scale)
        else:
            hide_boxes(rgb, boxes, self.options)


def _background(
    rgb: NDArray[np.uint8],
    boxes: NDArray[np.float32],
    extended: NDArray[np.bool_],
    labels: list[object],
    options: RedactOptions,
) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """``--background`` on one frame: hide it all but its people, and return what is left to
    hide (everything but the people; the people too with ``--bodies``). Only a person seen
    on this frame, or between two frames it was seen on, is kept: a box a track copied past
    its ends (a guess) would leave the place visible where the person no longer is."""
    assert options.background is not None
    person = np.array([label == "person" for label in labels], np.bool_).reshape(-1)
    seen = person & ~extended
    count = int(seen.sum())
    people = Detections(boxes[seen], np.ones(count, np.float32), ("person",) * count)
    hide_background(rgb, people, options, options.background)
    rest = np.ones(len(boxes), np.bool_) if options.bodies else ~person
    return boxes[rest], extended[rest]


class _Reported:
    """The output check's detector: what the run's detectors report at its reporting
    thresholds (not down to the hiding margin); people only with ``--bodies`` (with
    ``--background`` alone they are left as they are)."""

    def __init__(self, detectors: DetectorSet, people: bool = True) -> None:
        self.detectors = detectors
        self.people = people

    def detect(self, rgb: NDArray[np.uint8]) -> Detections:
        found = self.detectors.detect_reported(rgb)
        if self.people or not len(found):
            return found
        return found.select(np.array([label != "person" for label in found.labels], np.bool_))
