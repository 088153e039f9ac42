"""Display matrices: detection sees the displayed picture; boxes land on stored pixels."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from fastredact.errors import UnsupportedFormat
from fastredact.video._display import DisplayTransform

ONE = 1 << 16


def matrix(a: int, b: int, c: int, d: int) -> tuple[int, ...]:
    return (a * ONE, b * ONE, 0, c * ONE, d * ONE, 0, 0, 0, 1 << 30)


EIGHT = [
    matrix(1, 0, 0, 1),
    matrix(-1, 0, 0, 1),
    matrix(1, 0, 0, -1),
    matrix(-1, 0, 0, -1),
    matrix(0, 1, 1, 0),
    matrix(0, -1, 1, 0),
    matrix(0, 1, -1, 0),
    matrix(0, -1, -1, 0),
]


@pytest.mark.parametrize("m", EIGHT)
def test_box_found_on_display_maps_back_onto_the_stored_marker(m: tuple[int, ...]) -> None:
    stored = np.zeros((30, 50, 3), np.uint8)
    stored[3:9, 40:47] = 255  # marker near the top-right corner
    t = DisplayTransform(m)
    shown = t.to_display(stored)
    assert shown.shape[:2] == ((50, 30) if t.swaps_axes else (30, 50))
    ys, xs = np.nonzero(shown[:, :, 0])
    box = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32)
    np.testing.assert_array_equal(t.boxes_to_stored(box, 50, 30), [[40, 3, 47, 9]])


def test_iphone_portrait_matrix_rotates_clockwise() -> None:
    """The matrix of portrait phone video (a=0, b=1, c=-1, d=0) shows the stored top-left
    pixel at the top-right, as FFmpeg's autorotate (transpose=clock) does."""
    stored = np.zeros((4, 6, 3), np.uint8)
    stored[0, 0] = 255
    shown = DisplayTransform(matrix(0, 1, -1, 0)).to_display(stored)
    assert shown.shape[:2] == (6, 4)
    assert shown[0, -1, 0] == 255
    np.testing.assert_array_equal(shown, np.rot90(stored, k=-1))


def test_side_data_bytes() -> None:
    raw = struct.pack("<9i", *matrix(0, -1, 1, 0))
    assert DisplayTransform.from_side_data(raw).swaps_axes
    assert DisplayTransform.from_side_data(None).is_identity


def test_non_axis_aligned_matrix_is_refused() -> None:
    half = int(0.7071 * ONE)
    with pytest.raises(UnsupportedFormat, match="multiple of 90"):
        DisplayTransform((half, half, 0, -half, half, 0, 0, 0, 1 << 30))
