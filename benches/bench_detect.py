"""Face detector time per image at 640x480, 1920x1080 and 3840x2160 (one worker process).

Run: ``python -m pytest benches/bench_detect.py --benchmark-only``
(``-s`` also prints the faces each detector found).

Compared, on the same synthetic frames (a photo background with pasted faces of 10 to 96 px):

- ``fastredact-small-faces``: ``load_detector("centerface")``, the detection module's default
  (the native image and its shrunk levels, plus 3x-enlarged tiles: ``redact --small-faces``);
- ``fastredact``: ``load_detector("centerface", tile_scales=(1.0,))``, what ``fastredact
  redact`` runs by default (the native image in tiles and its shrunk levels);
- ``deface``: deface 1.5.0's own ``deface.centerface.CenterFace`` called as its CLI does by
  default (native resolution, one call per frame), at the same threshold (0.35; deface's
  CLI default is 0.2). Like deface's CLI, it is given RGB frames (imageio's order), the
  order the network expects (fastredact feeds RGB too). It prints "Running on ..." once.

Both use onnxruntime's default thread count (all cores). Scores are not compared, only the
number of boxes and the time.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from fastredact.detect import DEFAULTS, load_detector

SHARED = Path(
    os.environ.get("FASTREDACT_SHARED_DATA", Path(__file__).parents[2] / "shared" / "data")
)
THRESHOLD = DEFAULTS["centerface"].threshold
SIZES = {"640x480": (640, 480), "1920x1080": (1920, 1080), "3840x2160": (3840, 2160)}
FACE_PX = (10, 14, 24, 48, 96)


def _rgb(relative: str) -> NDArray[np.uint8]:
    path = SHARED / relative
    if not path.is_file():
        pytest.skip(f"shared test data not found at {SHARED}")
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def frame(size: tuple[int, int]) -> NDArray[np.uint8]:
    """A background photo with the astronaut's head pasted at several sizes (as a
    fraction of the frame height for the larger faces, so every size keeps five faces)."""
    w, h = size
    out = np.ascontiguousarray(
        cv2.resize(_rgb("scikit-image/coffee.png"), (w, h), interpolation=cv2.INTER_CUBIC)
    )
    head = _rgb("scikit-image/astronaut.png")[0:250, 108:342]  # face 175-275 x 50-185
    for i, px in enumerate(FACE_PX):
        face_px = px * h / 2160 if px > 24 else px
        s = face_px / 135
        small = cv2.resize(head, (max(1, round(234 * s)), max(1, round(250 * s))), cv2.INTER_AREA)
        x, y = int(w * (0.1 + 0.17 * i)), int(h * 0.4)
        out[y : y + small.shape[0], x : x + small.shape[1]] = small
    return out


def _fastredact(small_faces: bool) -> Callable[[NDArray[np.uint8]], int]:
    if small_faces:
        det = load_detector("centerface")
    else:
        det = load_detector("centerface", tile_scales=(1.0,))
    return lambda image: len(det.detect(image))


def _deface() -> Callable[[NDArray[np.uint8]], int]:
    try:
        from deface.centerface import CenterFace
    except ImportError as exc:  # deface's own module needs only numpy, cv2, onnx(runtime)
        pytest.skip(f"deface is not importable: {exc}")
    net: Any = CenterFace(in_shape=None, backend="onnxrt")

    def run(image: NDArray[np.uint8]) -> int:
        # deface's CLI reads frames with imageio (RGB) and passes them on unchanged.
        dets, _ = net(image, threshold=THRESHOLD)
        return len(dets)

    return run


RUNNERS = {
    "fastredact-small-faces": lambda: _fastredact(True),
    "fastredact": lambda: _fastredact(False),
    "deface": _deface,
}
_cache: dict[str, Callable[[NDArray[np.uint8]], int]] = {}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("detector", list(RUNNERS))
def test_detect_time(benchmark: Any, detector: str, size: str) -> None:
    if detector not in _cache:
        _cache[detector] = RUNNERS[detector]()
    run = _cache[detector]
    image = frame(SIZES[size])
    rounds = 1 if (detector == "fastredact-small-faces" and size == "3840x2160") else 3
    faces = benchmark.pedantic(run, args=(image,), rounds=rounds, iterations=1, warmup_rounds=0)
    benchmark.extra_info["faces"] = faces
    benchmark.extra_info["faces_pasted"] = len(FACE_PX)
    print(f"\n{detector} {size}: {faces} faces (of {len(FACE_PX)} pasted)")
