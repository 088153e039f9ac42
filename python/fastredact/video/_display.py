"""A video's display matrix (rotation / mirroring side data) as a pixel transform.

Phones store portrait video as landscape pixels plus a display matrix that players apply.
Detectors must see the picture the way it is displayed (an upside-down face is often
missed), so detection runs on the displayed picture and its boxes are mapped back to the
stored pixels, which are redacted and re-encoded as stored; the output carries the same
matrix, so it displays exactly like the input and keeps its stored resolution.

FFmpeg's matrix (``AV_FRAME_DATA_DISPLAYMATRIX``, nine int32, 16.16 fixed point) maps a
stored pixel (x, y) to the displayed one by ``(x', y') = (a·x + c·y, b·x + d·y)`` (then
shifted into view), with ``a, b, c, d = m[0], m[1], m[3], m[4]``. Only the eight
axis-aligned transforms (rotations by multiples of 90°, with or without a mirror) are
supported; anything else is refused rather than guessed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray

from fastredact.errors import UnsupportedFormat

__all__ = ["IDENTITY_MATRIX", "DisplayTransform"]

IDENTITY_MATRIX: tuple[int, ...] = (1 << 16, 0, 0, 0, 1 << 16, 0, 0, 0, 1 << 30)


@dataclass(frozen=True)
class DisplayTransform:
    """Stored pixels → displayed pixels for one of the eight axis-aligned matrices."""

    matrix: tuple[int, ...] = IDENTITY_MATRIX

    def __post_init__(self) -> None:
        if len(self.matrix) != 9:
            raise ValueError("a display matrix has 9 entries")
        a, b, c, d = self._abcd
        axis_aligned = (b == 0 and c == 0 and a != 0 and d != 0) or (
            a == 0 and d == 0 and b != 0 and c != 0
        )
        if not axis_aligned:
            raise UnsupportedFormat(
                f"display matrix {list(self.matrix)} is not a rotation by a multiple of 90°"
            )

    @classmethod
    def from_side_data(cls, data: bytes | None) -> DisplayTransform:
        """From the raw side data bytes (``None`` or empty: identity)."""
        if not data:
            return cls()
        if len(data) != 36:
            raise UnsupportedFormat(f"display matrix side data of {len(data)} bytes")
        return cls(tuple(struct.unpack("<9i", data)))

    @property
    def _abcd(self) -> tuple[int, int, int, int]:
        m = self.matrix
        return int(np.sign(m[0])), int(np.sign(m[1])), int(np.sign(m[3])), int(np.sign(m[4]))

    @property
    def is_identity(self) -> bool:
        return self._abcd == (1, 0, 0, 1)

    @property
    def swaps_axes(self) -> bool:
        return self._abcd[0] == 0

    def to_display(self, stored: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """The displayed picture (a view of ``stored`` when possible, H×W×C)."""
        a, b, c, d = self._abcd
        if self.swaps_axes:
            out = stored.swapaxes(0, 1)
            if b < 0:
                out = out[::-1]
            if c < 0:
                out = out[:, ::-1]
            return cast("NDArray[np.uint8]", out)
        if a < 0:
            stored = stored[:, ::-1]
        if d < 0:
            stored = stored[::-1]
        return stored

    def boxes_to_stored(
        self, boxes: NDArray[np.float32], stored_width: int, stored_height: int
    ) -> NDArray[np.float32]:
        """Boxes (N, 4) found on the displayed picture, in stored pixel coordinates."""
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        a, b, c, d = self._abcd
        w, h = float(stored_width), float(stored_height)
        dx0, dy0, dx1, dy1 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
        if self.swaps_axes:
            # displayed x runs along stored y (sign c); displayed y along stored x (sign b)
            xs = (dy0, dy1) if b > 0 else (w - dy1, w - dy0)
            ys = (dx0, dx1) if c > 0 else (h - dx1, h - dx0)
        else:
            xs = (dx0, dx1) if a > 0 else (w - dx1, w - dx0)
            ys = (dy0, dy1) if d > 0 else (h - dy1, h - dy0)
        return np.stack([xs[0], ys[0], xs[1], ys[1]], axis=1).astype(np.float32)
