"""Region validation and mask semantics (coverage, scaling, clipping, mode priority)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import fastredact
from fastredact import Region, redact
from fastredact.kernels import normalize_regions

BACKENDS = ["rust", "numpy"]


def covered(dims: tuple[int, ...], regions: object, backend: str, **kw: object) -> np.ndarray:
    """The pixels a call covers: fill black over white."""
    img = np.full(dims, 255, dtype=np.uint8)
    redact(img, regions, mode="fill", backend=backend, **kw)  # type: ignore[arg-type]
    return img[..., 0] == 0 if img.ndim == 3 else img == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_box_covers_the_pixels_whose_centres_are_inside(backend: str) -> None:
    m = covered((10, 10, 3), [[2, 3, 5, 4]], backend, shape="box", scale=1.0)
    want = np.zeros((10, 10), bool)
    want[3:4, 2:5] = True
    assert (m == want).all()
    # Fractional edges: centres 2.5 and 5.5 fall outside [2.6, 5.4).
    m = covered((10, 10, 3), [[2.6, 0, 5.4, 1]], backend, shape="box", scale=1.0)
    assert np.flatnonzero(m[0]).tolist() == [3, 4]


@pytest.mark.parametrize("backend", BACKENDS)
def test_box_mask_matches_a_per_pixel_rule(backend: str) -> None:
    rng = np.random.default_rng(0)
    for _ in range(30):
        h, w = rng.integers(1, 30, size=2)
        n = int(rng.integers(1, 6))
        # Coordinates on a 1/8 grid keep every comparison below exact.
        boxes = np.sort(rng.integers(-80, 300, size=(n, 2, 2)) / 8.0, axis=1).reshape(n, 4)
        boxes = boxes[:, [0, 2, 1, 3]]
        boxes = np.column_stack([boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]])
        boxes[:, [0, 2]] = np.sort(boxes[:, [0, 2]], axis=1)
        boxes[:, [1, 3]] = np.sort(boxes[:, [1, 3]], axis=1)
        m = covered((int(h), int(w)), boxes, backend, shape="box", scale=1.0)
        ys, xs = np.mgrid[0:h, 0:w] + 0.5
        want = np.zeros((h, w), bool)
        for x0, y0, x1, y1 in boxes:
            want |= (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
        assert (m == want).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_ellipse_is_inscribed_and_symmetric(backend: str) -> None:
    m = covered((30, 50), [[5, 5, 45, 25]], backend, shape="ellipse", scale=1.0)
    assert m[15, 5:45].all()  # the widest row spans the box
    assert not m[5, 5] and not m[24, 44]  # corners are outside
    assert (m == m[:, ::-1]).all() and (m[5:25] == m[5:25][::-1]).all()
    area = m.sum()
    assert abs(area - math.pi * 20 * 10) < 0.05 * math.pi * 200


@pytest.mark.parametrize("backend", BACKENDS)
def test_scale_grows_about_the_centre(backend: str) -> None:
    m = covered((40, 40), [[10, 10, 20, 20]], backend, shape="box", scale=2.0)
    ys, xs = np.nonzero(m)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (5, 24, 5, 24)


@pytest.mark.parametrize("backend", BACKENDS)
def test_clipping_one_pixel_and_oversized_regions(backend: str) -> None:
    m = covered((8, 9), [[-50, -50, 3, 2]], backend, shape="box", scale=1.0)
    assert m.sum() == 6 and m[:2, :3].all()
    assert not covered((8, 9), [[20, 20, 30, 30]], backend).any()
    for shape in ("box", "ellipse"):
        m = covered((8, 9), [[4, 5, 5, 6]], backend, shape=shape, scale=1.0)
        assert np.flatnonzero(m).tolist() == [5 * 9 + 4]
    assert covered((8, 9), [[-1e6, -1e6, 1e6, 1e6]], backend, shape="box").all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_strongest_mode_wins_where_regions_overlap(backend: str) -> None:
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, size=(40, 40, 3), dtype=np.uint8)
    regions = [
        Region(0, 0, 40, 40, shape="box", mode="blur"),
        Region(10, 10, 20, 20, shape="box", mode="fill"),
        Region(15, 15, 30, 30, shape="box", mode="pixelate"),
    ]
    redact(img, regions, fill=(1, 2, 3), scale=1.0, backend=backend)
    assert (img[10:20, 10:20] == [1, 2, 3]).all()
    # Where pixelate and blur overlap, pixelate: blocks of equal values on its grid.
    block = img[24:28, 24:28]  # one 4x4 block of the grid (block size 4 for a 15 px box)
    assert (block == block[0, 0]).all()


def test_region_objects_carry_their_own_shape_and_mode() -> None:
    arr = normalize_regions(
        [Region(0, 0, 1, 1), Region(0, 0, 2, 2, shape="box", mode="fill")],
        shape="ellipse",
        mode="pixelate",
    )
    assert arr.shapes.tolist() == [1, 0]
    assert arr.modes.tolist() == [1, 3]
    assert arr.boxes.dtype == np.float64 and arr.boxes.shape == (2, 4)


@pytest.mark.parametrize(
    ("regions", "message"),
    [
        ([[0, 0, 1, 1], [0, float("nan"), 1, 1]], "region 1"),
        ([[0, 0, 1, float("inf")]], "region 0"),
        ([[0, 0, 1, 1], [0, 0, 1, 1], [5, 0, 1, 1]], "region 2"),
        ([[0, 5, 1, 1]], "region 0"),
        ([Region(0, 0, 1, 1), Region(0, 0, 1, 1, mode="smudge")], "region 1"),  # type: ignore[arg-type]
        ([[0, 0, 1]], r"\(N, 4\)"),
    ],
)
def test_bad_regions_raise_value_error_naming_the_row(regions: object, message: str) -> None:
    for backend in BACKENDS:
        with pytest.raises(ValueError, match=message):
            redact(np.zeros((4, 4, 3), np.uint8), regions, backend=backend)  # type: ignore[arg-type]


def test_huge_finite_boxes_that_overflow_when_scaled_are_rejected() -> None:
    for backend in BACKENDS:
        with pytest.raises(ValueError, match="region 0"):
            redact(np.zeros((4, 4), np.uint8), [[-1.7e308, 0, 1.7e308, 1]], backend=backend)


def test_empty_regions_are_a_no_op() -> None:
    img = np.arange(48, dtype=np.uint8).reshape(4, 4, 3)
    before = img.copy()
    for regions in ([], np.zeros((0, 4)), ()):
        redact(img, regions)
    assert (img == before).all()
    assert fastredact.redact is redact
