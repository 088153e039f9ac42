"""Publishing copies: a redacted picture scaled down to ``--max-size`` / ``--max-megapixels``.

Detection and hiding always run on the full picture; only the hidden result is scaled, with
an area filter (each output pixel the mean of the input pixels it covers), so what was
hidden stays hidden and no detail is invented.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

__all__ = ["scale_down"]


def scale_down(frame: Any, size: tuple[int, int]) -> Any:
    """``frame`` (H x W or H x W x C, uint8 or uint16) scaled to ``size`` = (width, height)
    with an area filter."""
    width, height = size
    if (frame.shape[1], frame.shape[0]) == (width, height):
        return frame
    scaled = cv2.resize(np.ascontiguousarray(frame), (width, height), interpolation=cv2.INTER_AREA)
    if scaled.ndim < frame.ndim:  # cv2 drops a trailing channel axis of 1
        scaled = scaled[..., np.newaxis]
    return scaled
