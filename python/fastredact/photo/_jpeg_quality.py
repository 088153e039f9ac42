"""The quality a JPEG was saved at, estimated from its luminance quantisation table (so a
re-encoded JPEG keeps the source's quality)."""

from __future__ import annotations

import numpy as np

__all__ = ["estimate_jpeg_quality"]


# The IJG luminance quantisation table at quality 50 (ITU-T T.81 Annex K), natural order.
_IJG_LUMA = np.array(
    [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
     14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
     18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
     49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99],
    dtype=np.float64,
)  # fmt: skip


def estimate_jpeg_quality(qtables: dict[int, list[int]] | None) -> int | None:
    """The IJG quality (1–100) whose luminance table best matches the file's.

    Both Pillow's tables and the reference are compared as a mean ratio, which is what the
    IJG scaling formula multiplies; the order of the 64 entries cancels out of the mean.
    """
    if not qtables or 0 not in qtables:
        return None
    table = np.asarray(list(qtables[0])[:64], dtype=np.float64)
    if table.size != 64 or not np.all(table > 0):
        return None
    best, best_err = 75, float("inf")
    for quality in range(1, 101):
        scale = 5000 / quality if quality < 50 else 200 - 2 * quality
        ref = np.clip(np.floor((_IJG_LUMA * scale + 50) / 100), 1, 255)
        err = float(np.abs(np.sort(ref) - np.sort(table)).sum())
        if err < best_err:
            best, best_err = quality, err
    return best
