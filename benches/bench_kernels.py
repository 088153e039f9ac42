"""Kernel benchmarks on a 3840x2160 RGB frame: fastredact (Rust, one thread and all
threads) against the numpy reference backend and OpenCV.

Run (after ``maturin develop --release``)::

    python -m pytest benches/bench_kernels.py --benchmark-only \
        --benchmark-columns=min,median,rounds --benchmark-sort=name

Groups: ``roi-*`` (20 boxes of 80x80 plus 3 of 400x400, default blur: ellipse, scale 1.3,
sigma = width / 4), ``frame-blur-*`` (one region covering the frame, sigma 15),
``frame-pixelate-*`` (one region covering the frame, 16 px blocks). The ``-1t`` groups pin
OpenCV and fastredact to one thread; ``-nt`` use every core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import cv2
import numpy as np
import pytest

from fastredact import redact
from fastredact.kernels import _numpy_ref as numpy_ref

W, H = 3840, 2160
SCALE = 1.3
FRAME_SIGMA = 15.0
FRAME_BLOCK = 16


def _radius(sigma: float) -> int:
    return numpy_ref._radius(sigma)


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    """A smooth-ish random frame (noise on gradients), fixed seed."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:H, 0:W]
    base = np.stack([xx * 255 // W, yy * 255 // H, (xx + yy) * 255 // (W + H)], axis=-1)
    noise = rng.integers(0, 64, size=(H, W, 3))
    return np.clip(base + noise - 32, 0, 255).astype(np.uint8)


def roi_boxes() -> np.ndarray:
    small = [[200 + 180 * (i % 10), 200 + 1400 * (i // 10), 0, 0] for i in range(20)]
    large = [[600 + 1100 * i, 600, 0, 0] for i in range(3)]
    boxes = np.array(small + large, dtype=np.float64)
    sizes = np.array([80] * 20 + [400] * 3, dtype=np.float64)
    boxes[:, 2] = boxes[:, 0] + sizes
    boxes[:, 3] = boxes[:, 1] + sizes
    return boxes


def scaled_crops(boxes: np.ndarray) -> list[tuple[slice, slice, float]]:
    """Each box grown by SCALE about its centre, with fastredact's default sigma."""
    out = []
    for x0, y0, x1, y1 in boxes:
        cx, cy, hw = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2 * SCALE
        ys = slice(int(cy - hw), int(cy + hw))
        xs = slice(int(cx - hw), int(cx + hw))
        out.append((ys, xs, hw / 2))
    return out


@pytest.fixture(params=["1t", "nt"])
def threads(request: pytest.FixtureRequest) -> Iterator[int | None]:
    n = 1 if request.param == "1t" else None
    before = cv2.getNumThreads()
    cv2.setNumThreads(1 if n == 1 else -1)
    yield n
    cv2.setNumThreads(before)


def _group(benchmark: object, name: str, threads: int | None) -> None:
    benchmark.group = f"{name}-{'1t' if threads == 1 else 'nt'}"  # type: ignore[attr-defined]


def _run(benchmark: object, fn: Callable[[], None], rounds: int = 5) -> None:
    benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=1)  # type: ignore[attr-defined]


# ROI set ---------------------------------------------------------------------------------


def test_roi_rust(benchmark: object, frame: np.ndarray, threads: int | None) -> None:
    _group(benchmark, "roi", threads)
    img, boxes = frame.copy(), roi_boxes()
    _run(benchmark, lambda: redact(img, boxes, threads=threads), rounds=10)


def test_roi_numpy(benchmark: object, frame: np.ndarray, threads: int | None) -> None:
    _group(benchmark, "roi", threads)
    img, boxes = frame.copy(), roi_boxes()
    _run(benchmark, lambda: redact(img, boxes, backend="numpy"), rounds=2)


def test_roi_cv2_gaussian(benchmark: object, frame: np.ndarray, threads: int | None) -> None:
    _group(benchmark, "roi", threads)
    img, crops = frame.copy(), scaled_crops(roi_boxes())

    def go() -> None:
        for ys, xs, sigma in crops:
            img[ys, xs] = cv2.GaussianBlur(img[ys, xs], (0, 0), sigma)

    _run(benchmark, go, rounds=2)


def test_roi_cv2_blur_once(benchmark: object, frame: np.ndarray, threads: int | None) -> None:
    _group(benchmark, "roi", threads)
    img, crops = frame.copy(), scaled_crops(roi_boxes())

    def go() -> None:
        for ys, xs, sigma in crops:
            k = 2 * _radius(sigma) + 1
            img[ys, xs] = cv2.blur(img[ys, xs], (k, k))

    _run(benchmark, go, rounds=10)


# Full-frame blur -------------------------------------------------------------------------

FULL = np.array([[0, 0, W, H]], dtype=np.float64)


def test_frame_blur_rust(benchmark: object, frame: np.ndarray, threads: int | None) -> None:
    _group(benchmark, "frame-blur", threads)
    img = frame.copy()
    _run(
        benchmark,
        lambda: redact(img, FULL, shape="box", scale=1.0, strength=FRAME_SIGMA, threads=threads),
    )


def test_frame_blur_numpy(benchmark: object, frame: np.ndarray, threads: int | None) -> None:
    _group(benchmark, "frame-blur", threads)
    img = frame.copy()
    _run(
        benchmark,
        lambda: redact(img, FULL, shape="box", scale=1.0, strength=FRAME_SIGMA, backend="numpy"),
        rounds=1,
    )


def test_frame_blur_cv2_gaussian(benchmark: object, frame: np.ndarray, threads: int | None) -> None:
    _group(benchmark, "frame-blur", threads)
    img = frame.copy()
    _run(benchmark, lambda: cv2.GaussianBlur(img, (0, 0), FRAME_SIGMA, dst=img))


def test_frame_blur_cv2_blur3(benchmark: object, frame: np.ndarray, threads: int | None) -> None:
    _group(benchmark, "frame-blur", threads)
    img = frame.copy()
    k = 2 * _radius(FRAME_SIGMA) + 1

    def go() -> None:
        for _ in range(3):
            cv2.blur(img, (k, k), dst=img)

    _run(benchmark, go)


# Full-frame pixelate ---------------------------------------------------------------------


def test_frame_pixelate_rust(benchmark: object, frame: np.ndarray, threads: int | None) -> None:
    _group(benchmark, "frame-pixelate", threads)
    img = frame.copy()
    _run(
        benchmark,
        lambda: redact(
            img,
            FULL,
            mode="pixelate",
            shape="box",
            scale=1.0,
            strength=FRAME_BLOCK,
            threads=threads,
        ),
    )


def test_frame_pixelate_numpy(benchmark: object, frame: np.ndarray, threads: int | None) -> None:
    _group(benchmark, "frame-pixelate", threads)
    img = frame.copy()
    _run(
        benchmark,
        lambda: redact(
            img,
            FULL,
            mode="pixelate",
            shape="box",
            scale=1.0,
            strength=FRAME_BLOCK,
            backend="numpy",
        ),
        rounds=1,
    )


def test_frame_pixelate_cv2(benchmark: object, frame: np.ndarray, threads: int | None) -> None:
    _group(benchmark, "frame-pixelate", threads)
    img = frame.copy()
    small = (W // FRAME_BLOCK, H // FRAME_BLOCK)

    def go() -> None:
        down = cv2.resize(img, small, interpolation=cv2.INTER_AREA)
        cv2.resize(down, (W, H), dst=img, interpolation=cv2.INTER_NEAREST)

    _run(benchmark, go)
