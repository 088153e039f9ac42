"""Where a label's points go when its picture is re-oriented or scaled, and how much of a
labelled box the run hid.

Points are continuous pixel coordinates: pixel ``(c, r)`` covers ``[c, c+1) x [r, r+1)``,
so a box's corners map exactly under flips, transposes and quarter turns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fastredact.photo._orientation import ORIENTATION_OPS

__all__ = ["HIDDEN_SAMPLES", "PointMap", "hidden_fraction", "orientation_map"]

_OPS = ORIENTATION_OPS
"""Each EXIF orientation as (flip left-right, transpose, quarter turns counter-clockwise):
the table the photo decoder turns pixels with."""

HIDDEN_SAMPLES = 48
"""A labelled box's hidden fraction is measured on at most this many points per side."""


@dataclass(frozen=True)
class PointMap:
    """A map of label points: an EXIF orientation's stored -> displayed turn (``orientation``
    1 for none) on a ``width`` x ``height`` picture, then a scale by ``sx``, ``sy``."""

    orientation: int
    width: float
    height: float
    sx: float = 1.0
    sy: float = 1.0

    @property
    def identity(self) -> bool:
        return self.orientation == 1 and self.sx == 1.0 and self.sy == 1.0

    def points(self, xs: NDArray[np.float64], ys: NDArray[np.float64]) -> tuple[
        NDArray[np.float64], NDArray[np.float64]
    ]:  # fmt: skip
        x, y = _oriented(xs, ys, self.orientation, self.width, self.height)
        return x * self.sx, y * self.sy

    def box(self, box: Sequence[float]) -> tuple[float, float, float, float]:
        """An axis-aligned box ``x0, y0, x1, y1`` mapped (its corners, then their bounds)."""
        x0, y0, x1, y1 = box
        xs, ys = self.points(np.array([x0, x1, x0, x1], np.float64), np.array([y0, y0, y1, y1]))
        return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())


def orientation_map(orientation: int, stored_width: int, stored_height: int) -> PointMap:
    """The map from stored to displayed pixels for an EXIF ``orientation``."""
    return PointMap(orientation if orientation in _OPS else 1, stored_width, stored_height)


def _oriented(
    xs: NDArray[np.float64], ys: NDArray[np.float64], orientation: int, w: float, h: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    flip, transpose, turns = _OPS.get(orientation, (False, False, 0))
    x, y = np.asarray(xs, np.float64), np.asarray(ys, np.float64)
    if flip:
        x = w - x
    if transpose:
        x, y, w, h = y, x, h, w
    for _ in range(turns):  # numpy's rot90: row r' = w - x, column c' = y
        x, y, w, h = y, w - x, h, w
    return x, y


def hidden_fraction(
    box: Sequence[float], hidden: NDArray[np.float64], *, ellipse: bool, mask_scale: float
) -> float:
    """The share of ``box`` (``x0, y0, x1, y1``) inside any hidden region: each row of
    ``hidden`` a box the run hid, grown ``mask_scale`` times about its centre, an ellipse
    inscribed in it (or the box itself with ``ellipse=False``). Measured on a grid of at most
    :data:`HIDDEN_SAMPLES` x :data:`HIDDEN_SAMPLES` points (cell centres)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    if x1 <= x0 or y1 <= y0 or not len(hidden):
        return 0.0
    nx = int(min(HIDDEN_SAMPLES, max(1, np.ceil(x1 - x0))))
    ny = int(min(HIDDEN_SAMPLES, max(1, np.ceil(y1 - y0))))
    gx = x0 + (np.arange(nx) + 0.5) * (x1 - x0) / nx
    gy = y0 + (np.arange(ny) + 0.5) * (y1 - y0) / ny
    px, py = np.meshgrid(gx, gy)
    px, py = px.ravel()[:, None], py.ravel()[:, None]
    regions = np.asarray(hidden, np.float64).reshape(-1, 4)
    cx = (regions[:, 0] + regions[:, 2]) / 2
    cy = (regions[:, 1] + regions[:, 3]) / 2
    rx = np.maximum((regions[:, 2] - regions[:, 0]) * mask_scale / 2, 1e-9)
    ry = np.maximum((regions[:, 3] - regions[:, 1]) * mask_scale / 2, 1e-9)
    dx, dy = (px - cx) / rx, (py - cy) / ry
    inside = (dx * dx + dy * dy <= 1.0) if ellipse else ((np.abs(dx) <= 1) & (np.abs(dy) <= 1))
    return float(inside.any(axis=1).mean())
