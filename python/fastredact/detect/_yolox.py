"""YOLOX-nano (COCO, ONNX): vehicles and people, for plate search inside vehicles and for
``--bodies``.

Input: BGR float32 0..255 (no normalisation) as (1, 3, H, W), the picture scaled so its longer
side is :data:`LONG_SIDE` and placed top-left on a canvas of grey 114 whose sides are
multiples of 32 (the shipped graph is fixed at 416 x 416; its reshapes are ``[1, 85, -1]``, so
the input's H and W are made symbolic in memory). Output ``[1, N, 85]``: for each cell of the
stride-8, 16 and 32 grids in row-major order, ``(dx, dy, log w, log h)``, objectness and 80
class probabilities (both sigmoided): centre = ((col + dx) s, (row + dy) s), size =
(exp(log w) s, exp(log h) s), score = objectness x class probability, NMS per class.

Only these COCO classes are reported: person as ``"person"``; car, motorcycle, bus and truck as
``"vehicle"`` (the ones that carry plates). See ``detect/weights/YOLOX.md`` for provenance,
licence and SHA-256.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from fastredact.detect._base import Detections, RGBImage, check_rgb_image
from fastredact.detect._nms import nms
from fastredact.detect._runtime import create_session
from fastredact.errors import DetectorError, ModelNotFound

__all__ = [
    "COCO_LABELS",
    "LONG_SIDE",
    "PEOPLE_LONG_SIDE",
    "YOLOX_SHA256",
    "YoloxCoco",
    "decode_yolox",
]

YOLOX_SHA256 = "695e750a5d5754bb5a8d5325643b59282191a7e7a564e435a415fd3c578eab14"
STRIDES = (8, 16, 32)
ALIGN = 32
PAD = 114
LONG_SIDE = 512
"""The picture's longer side at the network's input: on openimages-plates/valid it finds the
vehicles of as many plates as at 640 (76 of 84 plates hidden either way; 74 at 416) for 0.64x
the time, ~15 ms a picture on one core; a car 20 px long there is 150 px in a 4000-px photo."""
PEOPLE_LONG_SIDE = 640
"""The longer side when people are wanted (``--bodies``, ``--background``): at 512 px only 3
of coco8's 7 labelled persons >= 32 px were covered, at 640 px 5 (benches/eval_people.py)."""
COCO_LABELS = {0: "person", 2: "vehicle", 3: "vehicle", 5: "vehicle", 7: "vehicle"}
"""COCO class index -> fastredact's label (person; car, motorcycle, bus, truck)."""
NMS_IOU = 0.45


def default_model_path() -> Path:
    return Path(str(resources.files("fastredact.detect.weights").joinpath("yolox_nano.onnx")))


@lru_cache(maxsize=2)
def _symbolic_model(path: str, size: int, mtime_ns: int) -> bytes:
    """The model at ``path`` (SHA-256 checked) with symbolic input height and width."""
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != YOLOX_SHA256:
        raise ModelNotFound(
            f"vehicle and person model {path} has SHA-256 {digest}, expected {YOLOX_SHA256}: "
            "reinstall fastredact (pip install --force-reinstall fastredact)"
        )
    import onnx

    model = onnx.load_from_string(data)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "height", "width"
    model.graph.output[0].type.tensor_type.shape.dim[1].dim_param = "cells"
    return bytes(model.SerializeToString())


def decode_yolox(
    output: NDArray[np.float32],
    *,
    padded: tuple[int, int],
    scale: tuple[float, float],
    threshold: float,
    width: int,
    height: int,
) -> Detections:
    """Detections of one image from its ``[N, 85]`` output for a ``padded`` (H, W) input of
    the picture scaled by ``scale`` (x, y), clipped to ``width`` x ``height``."""
    cells = sum((padded[0] // s) * (padded[1] // s) for s in STRIDES)
    if output.shape != (cells, 85):
        raise DetectorError(f"YOLOX output has shape {output.shape}, expected ({cells}, 85)")
    grids, strides = [], []
    for s in STRIDES:
        rows, cols = padded[0] // s, padded[1] // s
        row, col = np.divmod(np.arange(rows * cols), cols)
        grids.append(np.stack([col, row], axis=1))
        strides.append(np.full(rows * cols, s))
    wanted = np.array(sorted(COCO_LABELS))
    scores = output[:, 4:5] * output[:, 5 + wanted]
    best = scores.argmax(axis=1)
    score = scores[np.arange(len(best)), best]
    keep = np.flatnonzero(score >= threshold)
    if keep.size == 0:
        return Detections.empty()
    grid = np.concatenate(grids)[keep].astype(np.float64)
    stride = np.concatenate(strides)[keep].astype(np.float64)[:, None]
    raw = output[keep].astype(np.float64)
    centre = (raw[:, :2] + grid) * stride
    size = np.exp(np.clip(raw[:, 2:4], -10, 10)) * stride
    boxes = np.hstack([centre - size / 2, centre + size / 2]) / np.array([*scale, *scale])
    np.clip(boxes[:, 0::2], 0, width, out=boxes[:, 0::2])
    np.clip(boxes[:, 1::2], 0, height, out=boxes[:, 1::2])
    labels = np.array([COCO_LABELS[int(c)] for c in wanted[best[keep]]])
    boxes32, scores32 = boxes.astype(np.float32), score[keep].astype(np.float32)
    kept: list[int] = []
    for label in ("person", "vehicle"):  # NMS per label
        index = np.flatnonzero(labels == label)
        if index.size:
            kept.extend(index[nms(boxes32[index], scores32[index], NMS_IOU)].tolist())
    kept.sort(key=lambda i: -scores32[i])
    return Detections(boxes32[kept], scores32[kept], tuple(str(labels[i]) for i in kept))


def _thinned(rgb: RGBImage, scale: float) -> RGBImage:
    """``rgb`` with every k-th row and column only, k as large as leaves the area resize to
    ``scale`` at least 2x to do: an 8 MP photo shrinks to 512 px in 5 ms instead of 11 on
    one core, and the same vehicles are found (tests/detect/test_vehicles.py)."""
    step = int(0.5 / scale) if scale > 0 else 1
    return rgb if step < 2 else np.ascontiguousarray(rgb[::step, ::step])


class YoloxCoco:
    """People and plate-carrying vehicles in one pass of YOLOX-nano (see the module doc).

    ``threshold`` is the lowest score returned; ``model``: ``None`` for the shipped file
    (SHA-256 checked; :class:`ModelNotFound` when it is missing or altered).
    """

    classes: tuple[str, ...] = ("person", "vehicle")
    model = "yolox-nano"

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        threads: int | None = None,
        threshold: float = 0.3,
        long_side: int = LONG_SIDE,
    ) -> None:
        self.model_path = str(default_model_path() if model is None else Path(model))
        try:
            st = os.stat(self.model_path)
        except OSError as exc:
            raise ModelNotFound(
                f"vehicle and person model {self.model_path} cannot be read ({exc.strerror}): "
                "reinstall fastredact (pip install --force-reinstall fastredact)"
            ) from None
        data = _symbolic_model(self.model_path, st.st_size, st.st_mtime_ns)
        self.threshold = float(threshold)
        self.long_side = int(long_side)
        self._session: Any = create_session(data, threads=threads)
        self._input: str = self._session.get_inputs()[0].name

    def __repr__(self) -> str:
        return f"YoloxCoco({self.model_path!r}, threshold={self.threshold})"

    def detect(self, image: RGBImage) -> Detections:
        """People and vehicles in the RGB uint8 ``image``, in its pixels."""
        rgb = check_rgb_image(image)
        height, width = rgb.shape[:2]
        scale = self.long_side / max(height, width)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        padded = (-(-new_h // ALIGN) * ALIGN, -(-new_w // ALIGN) * ALIGN)
        canvas = np.full((*padded, 3), PAD, np.uint8)
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        canvas[:new_h, :new_w] = cv2.resize(
            _thinned(rgb, scale), (new_w, new_h), interpolation=interpolation
        )
        blob = canvas[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32)
        output = self._session.run(None, {self._input: np.ascontiguousarray(blob)})[0][0]
        return decode_yolox(
            output,
            padded=padded,
            scale=(new_w / width, new_h / height),
            threshold=self.threshold,
            width=width,
            height=height,
        )
