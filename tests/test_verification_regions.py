"""The crops the verification pass searches again: every hidden mask with its margin is
inside one crop, crops stay inside the frame and never overlap (checked against a brute-force
pixel cover, not the implementation's own arithmetic)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fastredact.redaction_steps import VERIFY_MARGIN, verification_regions

WIDTH, HEIGHT = 300, 200


@st.composite
def boxes(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.integers(0, 6))
    rows = []
    for _ in range(n):
        x0 = draw(st.floats(0, WIDTH - 2))
        y0 = draw(st.floats(0, HEIGHT - 2))
        x1 = draw(st.floats(x0 + 1, WIDTH))
        y1 = draw(st.floats(y0 + 1, HEIGHT))
        rows.append((x0, y0, x1, y1))
    return np.array(rows, np.float32).reshape(-1, 4)


@settings(max_examples=200, deadline=None)
@given(boxes(), st.floats(0.5, 2.0))
def test_regions_cover_every_grown_box_once(found: np.ndarray, mask_scale: float) -> None:
    regions = verification_regions(found, mask_scale, WIDTH, HEIGHT)
    cover = np.zeros((HEIGHT, WIDTH), np.int32)
    for x0, y0, x1, y1 in regions:
        assert 0 <= x0 < x1 <= WIDTH and 0 <= y0 < y1 <= HEIGHT
        cover[y0:y1, x0:x1] += 1
    assert cover.max(initial=0) <= 1  # merged: no pixel searched twice
    grow = mask_scale / 2 + VERIFY_MARGIN
    for x0, y0, x1, y1 in found.astype(np.float64):
        cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
        gx0, gx1 = max(0, int(np.floor(cx - w * grow))), min(WIDTH, int(np.ceil(cx + w * grow)))
        gy0, gy1 = max(0, int(np.floor(cy - h * grow))), min(HEIGHT, int(np.ceil(cy + h * grow)))
        # the grown box lies whole inside a single region
        inside = [
            r
            for r in regions
            if r[0] <= gx0 + 1 and r[1] <= gy0 + 1 and gx1 - 1 <= r[2] and gy1 - 1 <= r[3]
        ]
        assert inside, (x0, y0, x1, y1, regions)


def test_no_boxes_no_regions() -> None:
    assert verification_regions(np.zeros((0, 4), np.float32), 1.3, WIDTH, HEIGHT) == []
