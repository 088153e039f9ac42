"""PlateNet, the shipped licence-plate detector: integrity check, contract, real photos.

Plate boxes below were annotated by hand (x0, y0, x1, y1 in pixels of the file as stored).
Images are run at one scale chosen so that their longer side is at most 1024 px (the
full-frame protocol of training/plates/evaluate.py).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fastredact.detect._platenet import (
    PLATES_FP32_SHA256,
    PLATES_SHA256,
    PlateNet,
    default_model_path,
)
from fastredact.errors import ModelNotFound
from tests.support import shared_file
from tests.support.plates import HAND_ANNOTATED

MAX_SIDE = 1024  # the same full-frame protocol as training/plates/evaluate.py

PLATE_FREE = {
    "scikit-image/coffee.png": False,
    "egoblur/gen1/test_image.jpg": False,
    # The flag lapel pin and tie stripe that the previous model took for plates now score 0.33.
    "redact-client/obama.jpeg": False,
}


@pytest.fixture(scope="module")
def net() -> PlateNet:
    return PlateNet()


def _load(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _iou(a: np.ndarray, b: tuple[int, int, int, int]) -> np.ndarray:
    ix = np.clip(np.minimum(a[:, 2], b[2]) - np.maximum(a[:, 0], b[0]), 0, None)
    iy = np.clip(np.minimum(a[:, 3], b[3]) - np.maximum(a[:, 1], b[1]), 0, None)
    inter = ix * iy
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    return inter / (area_a + area_b - inter)


def test_shipped_model_matches_pinned_hash() -> None:
    digest = hashlib.sha256(default_model_path().read_bytes()).hexdigest()
    assert digest == PLATES_SHA256
    fp32 = hashlib.sha256(default_model_path(fp32=True).read_bytes()).hexdigest()
    assert fp32 == PLATES_FP32_SHA256


def test_int8_model_finds_what_the_trained_model_finds(shared_data: Path) -> None:
    """The quantized network (the default) against the float one it was made from: the same
    plates over the threshold on the hand-annotated photos, scores within 0.1."""
    int8 = PlateNet()
    fp32 = PlateNet(default_model_path(fp32=True), sha256=PLATES_FP32_SHA256)
    for relative in HAND_ANNOTATED:
        image = _load(shared_file(shared_data, relative))
        a, b = int8.detect(image), fp32.detect(image)
        assert len(a.scores) == len(b.scores), relative
        for box, score in zip(b.boxes, b.scores, strict=True):
            overlap = _iou(a.boxes, tuple(box))
            assert overlap.max() >= 0.7, relative
            assert abs(float(a.scores[overlap.argmax()]) - float(score)) < 0.1, relative


def test_altered_model_is_refused(tmp_path: Path) -> None:
    altered = tmp_path / "plates.onnx"
    shutil.copyfile(default_model_path(), altered)
    data = bytearray(altered.read_bytes())
    data[-1] ^= 0xFF
    altered.write_bytes(bytes(data))
    with pytest.raises(ModelNotFound, match="SHA-256"):
        PlateNet(altered)


def test_wrong_pinned_hash_is_refused() -> None:
    with pytest.raises(ModelNotFound, match="reinstall"):
        PlateNet(sha256="0" * 64)


def test_missing_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="cannot be read"):
        PlateNet(tmp_path / "absent.onnx")


def test_output_contract(net: PlateNet) -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (150, 203, 3), dtype=np.uint8)
    boxes, scores = net.detect(image)
    assert boxes.dtype == np.float32 and scores.dtype == np.float32
    assert boxes.ndim == 2 and boxes.shape[1] == 4 and scores.shape == (boxes.shape[0],)
    assert np.all(boxes[:, [0, 2]] <= 203) and np.all(boxes[:, [1, 3]] <= 150)
    assert net.label == "plate"


def test_blank_image_has_no_plate(net: PlateNet) -> None:
    found = net.detect(np.full((96, 128, 3), 127, np.uint8))
    assert found.boxes.shape == (0, 4) and found.scores.shape == (0,)


def test_rejects_wrong_input(net: PlateNet) -> None:
    with pytest.raises(ValueError, match="RGB uint8"):
        net.detect(np.zeros((32, 32), np.uint8))
    with pytest.raises(ValueError, match="RGB uint8"):
        net.detect(np.zeros((32, 32, 3), np.float32))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="threshold"):
        PlateNet(threshold=0.0)


KNOWN_MISSES = {
    # Faded plate tilted ~40° at the edge of a fisheye frame: the model puts a box there and
    # scores it 0.449, just under the 0.45 threshold (see training/plates/MODEL_CARD.md).
    "egoblur/gen2/test_lp_image.png",
}


@pytest.mark.parametrize(
    "relative",
    [
        pytest.param(
            name,
            marks=pytest.mark.xfail(
                name in KNOWN_MISSES, reason="known miss, see MODEL_CARD.md", strict=True
            ),
        )
        for name in sorted(HAND_ANNOTATED)
    ],
)
def test_finds_hand_annotated_plates(net: PlateNet, shared_data: Path, relative: str) -> None:
    image = _load(shared_file(shared_data, relative))
    scale = min(1.0, MAX_SIDE / max(image.shape[:2]))
    found = net.detect(image, scale=scale)
    for plate in HAND_ANNOTATED[relative]:
        best = float(_iou(found.boxes, plate).max()) if len(found.boxes) else 0.0
        assert best >= 0.3, f"plate {plate} in {relative} not found (best IoU {best:.2f})"


@pytest.mark.parametrize(
    "relative",
    [
        pytest.param(
            name,
            marks=pytest.mark.xfail(known, reason="known false positives", strict=True),
        )
        for name, known in PLATE_FREE.items()
    ],
)
def test_no_plate_in_plate_free_photos(net: PlateNet, shared_data: Path, relative: str) -> None:
    image = _load(shared_file(shared_data, relative))
    scale = min(1.0, MAX_SIDE / max(image.shape[:2]))
    found = net.detect(image, scale=scale)
    assert len(found.boxes) == 0, f"false plates in {relative}: {found.boxes.tolist()}"
