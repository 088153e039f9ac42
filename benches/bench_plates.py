"""Plate detector time per 416×416 image on one core: PlateNet against OpenCV's Haar cascade.

Run: ``python -m pytest benches/bench_plates.py --benchmark-only``

Both detectors see the same ten 416×416 photos of ``openimages-plates/valid`` (from
``../shared/data``) in the same process, one image per benchmark round (cycled):

- ``platenet``: ``fastredact.detect._platenet.PlateNet`` with onnxruntime
  ``intra_op_num_threads=1`` (pre-processing, network, decoding and NMS), one pass at 1×;
- ``haar-plate``: ``cv2.CascadeClassifier`` with ``haarcascade_russian_plate_number.xml``
  (``scaleFactor=1.1``, ``minNeighbors=3``, grey conversion included), ``cv2.setNumThreads(1)``.

Compare the rows of one run (ratios); absolute times depend on the machine's load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import cycle
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from fastredact.detect._platenet import PlateNet

IMAGES = 10
SIDE = 416


@pytest.fixture(scope="module")
def photos(shared_data: Path) -> list[NDArray[np.uint8]]:
    folder = shared_data / "openimages-plates" / "valid" / "images"
    paths = sorted(folder.glob("*.jpg"))[:IMAGES]
    if len(paths) < IMAGES:
        raise FileNotFoundError(f"expected {IMAGES} photos in {folder}")
    out = []
    for path in paths:
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
        if rgb.shape[:2] != (SIDE, SIDE):
            rgb = cv2.resize(rgb, (SIDE, SIDE), interpolation=cv2.INTER_AREA)
        out.append(np.ascontiguousarray(rgb))
    return out


def platenet() -> Callable[[NDArray[np.uint8]], int]:
    net = PlateNet(intra_op_num_threads=1)
    return lambda image: len(net.detect(image).scores)


def haar_plate() -> Callable[[NDArray[np.uint8]], int]:
    cascade = cv2.CascadeClassifier(
        str(Path(cv2.data.haarcascades) / "haarcascade_russian_plate_number.xml")
    )

    def detect(image: NDArray[np.uint8]) -> int:
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        return len(cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=3))

    return detect


@pytest.mark.parametrize("make", [platenet, haar_plate], ids=["platenet", "haar-plate"])
def test_plate_detector_416(
    benchmark: Any, photos: list[NDArray[np.uint8]], make: Callable[[], Callable]
) -> None:
    cv2.setNumThreads(1)
    detect = make()
    for image in photos:  # warm-up: first-run allocations out of the timing
        detect(image)
    images: Iterator[NDArray[np.uint8]] = cycle(photos)
    benchmark.pedantic(lambda: detect(next(images)), rounds=60, iterations=1, warmup_rounds=3)
