"""Corrections applied by ``redact --corrections``: which boxes each input gets added, which
detections it loses.

- an ``add`` box is always hidden, exactly as drawn (a rectangle, no mask growth), before
  the detections are hidden, and its region is looked at again like theirs;
- a ``remove`` drops the detections of its label that overlap its box (IoU at least
  :data:`REMOVE_IOU`) scoring no more than the run gave it: found again with a higher score
  (another model, a lower threshold, a changed picture), the box is hidden after all.

A correction names its input by path and SHA-256: an input whose content changed since the
review fails (:class:`~fastredact.errors.CorrectionMismatch`), and the inputs a run never
met are listed by :meth:`CorrectionSet.unmatched` for their failed rows.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from fastredact.corrections._file import Correction, read_corrections, standing
from fastredact.detect import Detections
from fastredact.detect._nms import iou_matrix
from fastredact.errors import CorrectionMismatch, CorrectionsError

__all__ = ["REMOVE_IOU", "SCORE_TOLERANCE", "CorrectionSet", "InputCorrections"]

REMOVE_IOU = 0.5
"""A detection is the box a reviewer removed when their IoU is at least this."""
SCORE_TOLERANCE = 0.0005
"""Manifest scores are rounded to 3 decimals: a detection scoring up to this much more than
the removed box's recorded score is the same detection."""


@dataclass
class InputCorrections:
    """The standing ``add`` and ``remove`` rows of one input."""

    input: str
    input_sha256: str
    rows: list[Correction] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.rows]

    def check(self, sha256: str) -> None:
        """Raise :class:`CorrectionMismatch` when the input's content is not the one the
        corrections were made on."""
        if sha256 != self.input_sha256:
            raise CorrectionMismatch(
                f"it changed since the review: {len(self.rows)} correction(s) were made on "
                f"SHA-256 {self.input_sha256[:12]}…, the file is now {sha256[:12]}…; "
                "nothing written"
            )

    def added(self, frame: int = 0) -> Detections:
        """The boxes to hide on ``frame`` (score 1: a reviewer saw them)."""
        rows = [r for r in self._on(frame) if r.action == "add"]
        boxes = np.array([r.box for r in rows], np.float32).reshape(-1, 4)
        labels = tuple(str(r.label) for r in rows)
        return Detections(boxes, np.ones(len(rows), np.float32), labels)

    def keep(self, found: Detections, frame: int = 0) -> NDArray[np.bool_]:
        """Which of ``found`` on ``frame`` stay: those no ``remove`` row of the frame names."""
        keep = np.ones(len(found), np.bool_)
        for r in self._on(frame):
            if r.action != "remove" or not len(found):
                continue
            same = np.array([label == r.label for label in found.labels], np.bool_)
            weaker = np.asarray(found.scores, np.float64) <= float(r.score or 0) + SCORE_TOLERANCE
            iou = iou_matrix(np.asarray(found.boxes, np.float64), np.array([r.box], np.float64))
            keep &= ~(same & weaker & (iou[:, 0] >= REMOVE_IOU))
        return keep

    def screen(self, found: Detections, frame: int = 0) -> Detections:
        """``found`` without the detections a ``remove`` row of ``frame`` names."""
        if not any(r.action == "remove" for r in self.rows):
            return found
        return found.select(self.keep(found, frame))

    def frames(self) -> dict[int, Detections]:
        """Every frame an ``add`` box applies to (its span included), with its boxes."""
        indices = {
            f
            for r in self.rows
            if r.action == "add"
            for f in range(max(0, r.frame - r.span), r.frame + r.span + 1)
        }
        return {f: self.added(f) for f in sorted(indices)}

    @property
    def removes(self) -> bool:
        return any(r.action == "remove" for r in self.rows)

    def _on(self, frame: int) -> Iterable[Correction]:
        return (r for r in self.rows if abs(r.frame - frame) <= r.span)


class CorrectionSet:
    """The standing corrections of one file, by input path; safe to use from several
    threads (each input takes its own once, :meth:`take`)."""

    def __init__(self, rows: Iterable[Correction], sha256: str = "", source: str = "") -> None:
        self.sha256 = sha256
        """The corrections file's SHA-256 (part of the run's settings fingerprint)."""
        self.source = source
        self._by_input: dict[str, InputCorrections] = {}
        for r in standing(rows):
            if r.action not in ("add", "remove"):
                continue
            entry = self._by_input.setdefault(r.input, InputCorrections(r.input, r.input_sha256))
            if r.input_sha256 != entry.input_sha256:
                raise CorrectionsError(
                    f"{source or 'corrections'}: {r.input} is named with two SHA-256 "
                    f"({entry.input_sha256[:12]}… and {r.input_sha256[:12]}…)"
                )
            entry.rows.append(r)
        self._taken: set[str] = set()
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: Path) -> CorrectionSet:
        """The corrections file at ``path`` (raises :class:`CorrectionsError`)."""
        rows = read_corrections(path)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return cls(rows, digest, str(path))

    def __len__(self) -> int:
        return sum(len(c.rows) for c in self._by_input.values())

    def take(self, path: str) -> InputCorrections | None:
        """The corrections of the input at ``path`` (relative, as the manifest writes it),
        marked as met by the run."""
        with self._lock:
            found = self._by_input.get(path)
            if found is not None:
                self._taken.add(path)
            return found

    def unmatched(self) -> list[InputCorrections]:
        """The inputs named by corrections that the run has not met (so far)."""
        with self._lock:
            return [c for p, c in sorted(self._by_input.items()) if p not in self._taken]
