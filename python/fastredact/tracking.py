"""Temporal coverage for video: turn per-frame detections into per-frame boxes with no gaps.

A detector misses a face now and then (a turned head, motion blur); a one-frame miss is a
one-frame flash of a face. :class:`TemporalCoverage` links detections across frames into
tracks (greedy IoU association with each track's box predicted at constant velocity,
same label only), then covers, for every track:

- every frame between two of its detections (linear interpolation; gaps of up to
  ``max_gap`` frames are bridged, a longer gap ends the track and starts a new one),
- ``extend`` frames before its first detection and after its last one.

It is streaming: frames go in in order (:meth:`TemporalCoverage.push`) and come out, with
their final boxes, ``lookahead`` frames later; :meth:`TemporalCoverage.finish` drains the
rest. What it keeps is bounded by ``lookahead`` and by the number of live tracks, never by
the length of the video. Pure numpy; knows nothing about video files.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "CoverageSettings",
    "FrameBoxes",
    "TemporalCoverage",
    "iou_matrix",
]

Boxes = NDArray[np.float32]


def _empty_boxes() -> Boxes:
    return np.zeros((0, 4), dtype=np.float32)


@dataclass(frozen=True)
class CoverageSettings:
    """How detections become coverage.

    ``extend``: frames covered before a track's first and after its last detection.
    ``max_gap``: the longest run of frames without a detection that still links two
    detections into one track (the frames between are interpolated).
    ``iou_threshold``: the overlap a detection needs with a track's predicted box (its last
    box moved at its last velocity) to join it.
    """

    extend: int = 5
    max_gap: int = 15
    iou_threshold: float = 0.2

    def __post_init__(self) -> None:
        if self.extend < 0:
            raise ValueError(f"extend must be >= 0, got {self.extend}")
        if self.max_gap < 1:
            raise ValueError(f"max_gap must be >= 1, got {self.max_gap}")
        if not 0.0 <= self.iou_threshold < 1.0:
            raise ValueError(f"iou_threshold must be in [0, 1), got {self.iou_threshold}")

    @property
    def lookahead(self) -> int:
        """Frames that must follow a frame before its boxes are final."""
        return max(self.extend, self.max_gap)


@dataclass(frozen=True)
class FrameBoxes:
    """The final boxes of one frame (x0, y0, x1, y1 in pixels) and how they arose."""

    index: int
    boxes: Boxes
    detected: int
    """How many of the boxes are this frame's own detections (the rest are coverage)."""
    extended: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, np.bool_))
    """Per box: True when its track has no detection on both sides of this frame, so the box
    is the track's first or last box copied here (a guess of where the object was), False
    when it is this frame's own detection or interpolated between two of them."""


def iou_matrix(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    """Intersection over union of every box in ``a`` (N, 4) with every box in ``b`` (M, 4)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0, inter / union, 0.0)
    return iou


def greedy_match(iou: NDArray[np.float64], threshold: float) -> list[tuple[int, int]]:
    """Pairs (row, column) taken best-IoU first, each row and column at most once."""
    pairs: list[tuple[int, int]] = []
    if iou.size == 0:
        return pairs
    work = iou.copy()
    while True:
        r, c = np.unravel_index(int(np.argmax(work)), work.shape)
        if work[r, c] < threshold or work[r, c] <= 0:
            return pairs
        pairs.append((int(r), int(c)))
        work[r, :] = -1.0
        work[:, c] = -1.0


@dataclass
class _Track:
    """One object over time: its detections (frame index → box), oldest pruned."""

    track_id: int
    label: object
    first: int
    first_box: Boxes
    frames: list[int] = field(default_factory=list)
    boxes: list[Boxes] = field(default_factory=list)

    @property
    def last(self) -> int:
        return self.frames[-1]

    def add(self, index: int, box: Boxes) -> None:
        self.frames.append(index)
        self.boxes.append(box)

    def predict(self, index: int) -> Boxes:
        """Where the track's box should be on frame ``index`` (constant velocity)."""
        if len(self.frames) < 2:
            return self.boxes[-1]
        velocity = (self.boxes[-1] - self.boxes[-2]) / (self.frames[-1] - self.frames[-2])
        return (self.boxes[-1] + velocity * (index - self.last)).astype(np.float32)

    def box_at(self, index: int, extend: int) -> Boxes | None:
        """This track's box on frame ``index`` (detected, interpolated or extended)."""
        if index < self.first:
            return self.first_box if self.first - index <= extend else None
        if index > self.last:
            return self.boxes[-1] if index - self.last <= extend else None
        pos = int(np.searchsorted(self.frames, index))
        if self.frames[pos] == index:
            return self.boxes[pos]
        t0, t1 = self.frames[pos - 1], self.frames[pos]
        w = (index - t0) / (t1 - t0)
        return ((1.0 - w) * self.boxes[pos - 1] + w * self.boxes[pos]).astype(np.float32)

    def prune_before(self, index: int) -> None:
        """Forget detections no longer needed for frames ``>= index`` (keeps one before)."""
        pos = int(np.searchsorted(self.frames, index))
        drop = max(0, pos - 1)
        if drop:
            del self.frames[:drop]
            del self.boxes[:drop]


class TemporalCoverage:
    """Streaming track-based coverage; see the module docstring."""

    def __init__(self, settings: CoverageSettings | None = None) -> None:
        self.settings = settings or CoverageSettings()
        self._tracks: list[_Track] = []
        self._pending: deque[tuple[int, int]] = deque()  # (frame index, own detections)
        self._next_index = 0
        self._next_id = 0

    @property
    def lookahead(self) -> int:
        return self.settings.lookahead

    @property
    def tracks_started(self) -> int:
        """Tracks created so far (the manifest's ``tracks``)."""
        return self._next_id

    @property
    def live_tracks(self) -> int:
        return len(self._tracks)

    @property
    def pending_frames(self) -> int:
        return len(self._pending)

    def push(
        self,
        index: int,
        boxes: ArrayLike | None,
        labels: Sequence[object] | NDArray[np.generic] | None = None,
    ) -> list[FrameBoxes]:
        """Add frame ``index`` (frames come in order, none skipped) and return the frames
        whose boxes are now final.

        ``boxes`` (N, 4) are the frame's detections, or ``None`` when detection did not run
        on this frame (tracks simply continue through it). ``labels`` (N,) keep a face
        from joining a plate's track; ``None`` means one class.
        """
        if index != self._next_index:
            raise ValueError(f"frames must be pushed in order: expected {self._next_index}")
        self._next_index += 1
        own = 0
        if boxes is not None:
            dets = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
            own = len(dets)
            self._associate(index, dets, _labels(labels, len(dets)))
        self._pending.append((index, own))
        return self._release(index - self.lookahead)

    def finish(self) -> list[FrameBoxes]:
        """All frames still held, with their final boxes (the video has ended)."""
        return self._release(self._next_index)

    def _associate(self, index: int, dets: Boxes, labels: list[object]) -> None:
        live = [t for t in self._tracks if index - t.last <= self.settings.max_gap]
        matched_dets: set[int] = set()
        for label in dict.fromkeys(labels):
            det_idx = [i for i, lab in enumerate(labels) if lab == label]
            cands = [t for t in live if t.label == label]
            if cands:
                predicted = np.stack([t.predict(index) for t in cands])
                iou = iou_matrix(predicted, dets[det_idx])
                for r, c in greedy_match(iou, self.settings.iou_threshold):
                    cands[r].add(index, dets[det_idx[c]])
                    matched_dets.add(det_idx[c])
        for i, box in enumerate(dets):
            if i not in matched_dets:
                self._start_track(index, box, labels[i])

    def _start_track(self, index: int, box: Boxes, label: object) -> None:
        track = _Track(self._next_id, label, index, box)
        track.add(index, box)
        self._tracks.append(track)
        self._next_id += 1

    def _release(self, upto: int) -> list[FrameBoxes]:
        """Finalize pending frames with index <= ``upto``, then drop what is no longer needed."""
        out: list[FrameBoxes] = []
        while self._pending and self._pending[0][0] <= upto:
            index, own = self._pending.popleft()
            boxes, extended = self._boxes_at(index)
            out.append(FrameBoxes(index, boxes, own, extended))
        self._forget(self._pending[0][0] if self._pending else self._next_index)
        return out

    def _boxes_at(self, index: int) -> tuple[Boxes, NDArray[np.bool_]]:
        extend = self.settings.extend
        found: list[Boxes] = []
        extended: list[bool] = []
        for track in self._tracks:
            box = track.box_at(index, extend)
            if box is not None:
                found.append(box)
                extended.append(not track.first <= index <= track.last)
        if not found:
            return _empty_boxes(), np.zeros(0, np.bool_)
        return np.stack(found).astype(np.float32), np.array(extended, np.bool_)

    def _forget(self, oldest_pending: int) -> None:
        extend = self.settings.extend
        # A track is over once it can neither gain a detection nor cover a pending frame.
        self._tracks = [
            t
            for t in self._tracks
            if self._next_index - t.last <= self.settings.max_gap
            or t.last + extend >= oldest_pending
        ]
        for t in self._tracks:
            t.prune_before(oldest_pending)


def _labels(labels: Sequence[object] | NDArray[np.generic] | None, n: int) -> list[object]:
    if labels is None:
        return [0] * n
    out = [x.item() if isinstance(x, np.generic) else x for x in labels]
    if len(out) != n:
        raise ValueError(f"{len(out)} labels for {n} boxes")
    return out
