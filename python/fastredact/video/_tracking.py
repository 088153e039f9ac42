"""Temporal coverage for video: turn per-frame detections into per-frame boxes with no gaps.

A detector misses a face now and then (a turned head, motion blur); a one-frame miss is a
one-frame flash of a face. :class:`TemporalCoverage` links detections across frames into
tracks (greedy IoU association with each track's box predicted at constant velocity,
same label only), then covers, for every track:

- every frame between two of its detections (linear interpolation; gaps of up to
  ``max_gap`` frames are bridged, a longer gap ends the track and starts a new one),
- ``extend`` frames before its first detection and after its last one.

A detection can carry *attachments*: boxes that belong to it (what verification still found
around a face just hidden: a chin below the mask, the blurred oval itself). They never start
tracks of their own; each is kept relative to its detection's box and moves with the track,
so on a frame between two detections the track's box carries the attachments of both.

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

from fastredact.detect._nms import iou_matrix as box_iou

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
    labels: tuple[object, ...] = ()
    """Per box: its track's label, or ``None`` for an attachment (a box that belongs to a
    detection without being one: what verification found around it)."""


def iou_matrix(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64]:
    """Intersection over union of every box in ``a`` (N, 4) with every box in ``b`` (M, 4)
    (any array-like; :func:`fastredact.detect._nms.iou_matrix` on float64 arrays)."""
    return box_iou(
        np.asarray(a, dtype=np.float64).reshape(-1, 4),
        np.asarray(b, dtype=np.float64).reshape(-1, 4),
    )


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
    first_attached: Boxes = field(default_factory=_empty_boxes)
    frames: list[int] = field(default_factory=list)
    boxes: list[Boxes] = field(default_factory=list)
    attached: list[Boxes] = field(default_factory=list)
    """Per detection: its attachments (K, 4), relative to its box (0..1 spans the box)."""

    @property
    def last(self) -> int:
        return self.frames[-1]

    def add(self, index: int, box: Boxes, attached: Boxes | None = None) -> None:
        self.frames.append(index)
        self.boxes.append(box)
        self.attached.append(_relative(attached, box))

    def predict(self, index: int) -> Boxes:
        """Where the track's box should be on frame ``index`` (constant velocity)."""
        if len(self.frames) < 2:
            return self.boxes[-1]
        velocity = (self.boxes[-1] - self.boxes[-2]) / (self.frames[-1] - self.frames[-2])
        return (self.boxes[-1] + velocity * (index - self.last)).astype(np.float32)

    def boxes_at(self, index: int, extend: int) -> Boxes | None:
        """This track's box on frame ``index`` followed by the attachments that apply there
        (of the detection on that frame, of the two detections around it, or of the first or
        last one when extended), each placed relative to the box; ``None`` if not covered."""
        span = self._span(index, extend)
        if span is None:
            return None
        box, rel = span
        parts = [_absolute(r, box) for r in rel if len(r)]
        return np.vstack([box[None, :], *parts]).astype(np.float32)

    def _span(self, index: int, extend: int) -> tuple[Boxes, list[Boxes]] | None:
        """The box on frame ``index`` and the relative attachments of the detections it
        comes from."""
        if index < self.first:
            near = self.first - index <= extend
            return (self.first_box, [self.first_attached]) if near else None
        if index > self.last:
            near = index - self.last <= extend
            return (self.boxes[-1], [self.attached[-1]]) if near else None
        pos = int(np.searchsorted(self.frames, index))
        if self.frames[pos] == index:
            return self.boxes[pos], [self.attached[pos]]
        t0, t1 = self.frames[pos - 1], self.frames[pos]
        w = (index - t0) / (t1 - t0)
        box = ((1.0 - w) * self.boxes[pos - 1] + w * self.boxes[pos]).astype(np.float32)
        return box, [self.attached[pos - 1], self.attached[pos]]

    def prune_before(self, index: int) -> None:
        """Forget detections no longer needed for frames ``>= index`` (keeps one before)."""
        pos = int(np.searchsorted(self.frames, index))
        drop = max(0, pos - 1)
        if drop:
            del self.frames[:drop]
            del self.boxes[:drop]
            del self.attached[:drop]


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
        parents: ArrayLike | None = None,
    ) -> list[FrameBoxes]:
        """Add frame ``index`` (frames come in order, none skipped) and return the frames
        whose boxes are now final.

        ``boxes`` (N, 4) are the frame's detections, or ``None`` when detection did not run
        on this frame (tracks simply continue through it). ``labels`` (N,) keep a face
        from joining a plate's track; ``None`` means one class. ``parents`` (N,) makes box
        ``i`` an attachment of box ``parents[i]`` (a box whose own parent is -1), or a
        detection of its own where it is -1; ``None``: every box is a detection.
        """
        if index != self._next_index:
            raise ValueError(f"frames must be pushed in order: expected {self._next_index}")
        self._next_index += 1
        own = 0
        if boxes is not None:
            dets = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
            own = len(dets)
            owner = _parents(parents, len(dets))
            names = _labels(labels, len(dets))
            keep = np.flatnonzero(owner < 0)
            self._associate(
                index,
                dets[keep],
                [names[i] for i in keep],
                [dets[owner == i] for i in keep],
            )
        self._pending.append((index, own))
        return self._release(index - self.lookahead)

    def finish(self) -> list[FrameBoxes]:
        """All frames still held, with their final boxes (the video has ended)."""
        return self._release(self._next_index)

    def _associate(
        self, index: int, dets: Boxes, labels: list[object], attached: list[Boxes]
    ) -> None:
        live = [t for t in self._tracks if index - t.last <= self.settings.max_gap]
        matched_dets: set[int] = set()
        for label in dict.fromkeys(labels):
            det_idx = [i for i, lab in enumerate(labels) if lab == label]
            cands = [t for t in live if t.label == label]
            if cands:
                predicted = np.stack([t.predict(index) for t in cands])
                iou = iou_matrix(predicted, dets[det_idx])
                for r, c in greedy_match(iou, self.settings.iou_threshold):
                    cands[r].add(index, dets[det_idx[c]], attached[det_idx[c]])
                    matched_dets.add(det_idx[c])
        for i, box in enumerate(dets):
            if i not in matched_dets:
                self._start_track(index, box, labels[i], attached[i])

    def _start_track(self, index: int, box: Boxes, label: object, attached: Boxes) -> None:
        track = _Track(self._next_id, label, index, box, _relative(attached, box))
        track.add(index, box, attached)
        self._tracks.append(track)
        self._next_id += 1

    def _release(self, upto: int) -> list[FrameBoxes]:
        """Finalize pending frames with index <= ``upto``, then drop what is no longer needed."""
        out: list[FrameBoxes] = []
        while self._pending and self._pending[0][0] <= upto:
            index, own = self._pending.popleft()
            boxes, extended, labels = self._boxes_at(index)
            out.append(FrameBoxes(index, boxes, own, extended, labels))
        self._forget(self._pending[0][0] if self._pending else self._next_index)
        return out

    def _boxes_at(self, index: int) -> tuple[Boxes, NDArray[np.bool_], tuple[object, ...]]:
        extend = self.settings.extend
        found: list[Boxes] = []
        extended: list[bool] = []
        labels: list[object] = []
        for track in self._tracks:
            boxes = track.boxes_at(index, extend)
            if boxes is not None:
                found.append(boxes)
                extended += [not track.first <= index <= track.last] * len(boxes)
                labels += [track.label] + [None] * (len(boxes) - 1)
        if not found:
            return _empty_boxes(), np.zeros(0, np.bool_), ()
        return np.vstack(found).astype(np.float32), np.array(extended, np.bool_), tuple(labels)

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


def _parents(parents: ArrayLike | None, n: int) -> NDArray[np.int64]:
    """Validated attachment owners: -1 (a detection) or the index of a detection."""
    if parents is None:
        return np.full(n, -1, np.int64)
    owner = np.asarray(parents, dtype=np.int64).reshape(-1)
    if len(owner) != n:
        raise ValueError(f"{len(owner)} parents for {n} boxes")
    bad = (owner < -1) | (owner >= n)
    if not bad.any():
        attached = owner >= 0
        bad = attached & (owner[np.where(attached, owner, 0)] != -1)
    if bad.any():
        raise ValueError(f"box {int(np.argmax(bad))}: a parent must be -1 or a detection's index")
    return owner


def _frame_of(box: Boxes) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Origin and size (x, y, x, y) of the frame a box spans (sizes at least 1e-3 px)."""
    origin = np.array([box[0], box[1], box[0], box[1]], np.float32)
    w, h = max(float(box[2] - box[0]), 1e-3), max(float(box[3] - box[1]), 1e-3)
    return origin, np.array([w, h, w, h], np.float32)


def _relative(attached: Boxes | None, box: Boxes) -> Boxes:
    """``attached`` (K, 4) in the coordinates of ``box`` (its corners at 0 and 1)."""
    if attached is None or not len(attached):
        return _empty_boxes()
    origin, size = _frame_of(box)
    return ((np.asarray(attached, np.float32).reshape(-1, 4) - origin) / size).astype(np.float32)


def _absolute(rel: Boxes, box: Boxes) -> Boxes:
    """Inverse of :func:`_relative`: boxes relative to ``box`` back in pixels."""
    origin, size = _frame_of(box)
    return (rel * size + origin).astype(np.float32)
