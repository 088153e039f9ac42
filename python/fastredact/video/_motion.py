"""Motion-based pre-detection: decide whether a frame changed enough to run the detector.

A frame is summarised as a coarse grid of block means (grey levels); it is "still" when no
block moved by more than ``threshold`` grey levels since the last frame the detector saw.
Comparing with the last *detected* frame (not the previous one) bounds slow drift, and a
face entering a corner changes that corner's block even when the frame average stays put.
After ``max_skip`` still frames in a row the detector runs anyway. Pure numpy.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["GRID", "MAX_SKIP", "MotionGate", "block_means"]

GRID = 24
"""Blocks per side of the summary grid."""

MAX_SKIP = 30
"""Still frames in a row after which the detector runs anyway."""


def block_means(rgb: NDArray[np.uint8], grid: int = GRID) -> NDArray[np.float32]:
    """Mean grey level of each cell of a ``grid`` × ``grid`` partition of the frame."""
    h, w = rgb.shape[:2]
    gh, gw = min(grid, h), min(grid, w)
    step_y, step_x = max(1, h // (gh * 4)), max(1, w // (gw * 4))
    grey = rgb[::step_y, ::step_x].mean(axis=2, dtype=np.float32)
    ys = np.linspace(0, grey.shape[0], gh + 1).astype(int)
    xs = np.linspace(0, grey.shape[1], gw + 1).astype(int)
    rows = np.add.reduceat(grey, ys[:-1], axis=0) / np.diff(ys)[:, None]
    return (np.add.reduceat(rows, xs[:-1], axis=1) / np.diff(xs)[None, :]).astype(np.float32)


class MotionGate:
    """Says, frame by frame, whether the detector must run (see the module docstring)."""

    def __init__(self, threshold: float, *, max_skip: int = MAX_SKIP) -> None:
        if threshold < 0:
            raise ValueError(f"motion threshold must be >= 0, got {threshold}")
        self.threshold = threshold
        self.max_skip = max_skip
        self._reference: NDArray[np.float32] | None = None
        self._skipped = 0

    def needs_detection(self, rgb: NDArray[np.uint8]) -> bool:
        summary = block_means(rgb)
        ref = self._reference
        if (
            ref is None
            or ref.shape != summary.shape
            or self._skipped >= self.max_skip
            or float(np.abs(summary - ref).max()) > self.threshold
        ):
            self._reference = summary
            self._skipped = 0
            return True
        self._skipped += 1
        return False
