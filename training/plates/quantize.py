"""Quantize PlateNet to int8 (onnxruntime static QDQ, per-channel weights) for the wheel.

    python training/plates/quantize.py [--model python/fastredact/detect/weights/plates.onnx]
                                       [--out python/fastredact/detect/weights/plates_int8.onnx]

Calibration reads the first 40 photos of the ``train`` split (sorted by name; ``valid`` is
never read), resized to the network's 416x416 training size, as 0..1 RGB planes, the input
``fastredact.detect._platenet`` gives the network. On ``valid`` the int8 model finds the same
67 of 84 plates at 0.19 false boxes per image (float: 0.20) and runs 1.6x faster on one core
with AVX-512 VNNI (``python training/plates/evaluate.py --model ...``); see MODEL_CARD.md.
Prints the SHA-256 to pin in ``fastredact/detect/_platenet.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from data import PLATES, REPO
from onnxruntime.quantization import (
    CalibrationDataReader,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process
from PIL import Image

CALIBRATION_PHOTOS = 40
SIZE = 416


class TrainPhotos(CalibrationDataReader):
    """The first :data:`CALIBRATION_PHOTOS` train photos as PlateNet inputs."""

    def __init__(self) -> None:
        paths = sorted((PLATES / "train" / "images").glob("*.jpg"))[:CALIBRATION_PHOTOS]
        self._inputs: Iterator[Path] = iter(paths)

    def get_next(self) -> dict[str, np.ndarray] | None:
        path = next(self._inputs, None)
        if path is None:
            return None
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB").resize((SIZE, SIZE)), np.float32) / 255
        return {"image": np.ascontiguousarray(rgb.transpose(2, 0, 1)[None])}


def main() -> None:
    weights = REPO / "python/fastredact/detect/weights"
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=weights / "plates.onnx")
    parser.add_argument("--out", type=Path, default=weights / "plates_int8.onnx")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(args.model), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(args.out),
            TrainPhotos(),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
        )
    print(f"{args.out}: sha256 {hashlib.sha256(args.out.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main()
