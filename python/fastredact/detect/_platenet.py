"""PlateNet: fastredact's own licence-plate detector (MIT weights, shipped in the wheel).

A small CenterNet-style network trained by ``training/plates/train.py`` (see its
``MODEL_CARD.md``) and quantized to int8 by ``training/plates/quantize.py`` (the same plates
on ``valid``, 1.6x faster on one core). The ONNX files ``fastredact/detect/weights/
plates_int8.onnx`` (the default) and ``plates.onnx`` (float) are verified against their
pinned SHA-256 before a session is created; a missing or altered file raises
:class:`fastredact.errors.ModelNotFound`.

The network is fully convolutional (symbolic H and W): :meth:`PlateNet.detect` runs one pass
over the whole image at ``scale`` (1.0 = native pixels), padded to a multiple of 32. It finds
plates roughly 8 to 120 pixels high at the scale it runs; tiling and multi-scale passes for
large images belong to the caller.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
import numpy.typing as npt

from fastredact.detect._base import Detections
from fastredact.detect._nms import nms
from fastredact.errors import DetectorError, ModelNotFound

__all__ = [
    "PLATES_FP32_SHA256",
    "PLATES_SHA256",
    "PlateBoxes",
    "PlateNet",
    "decode",
    "default_model_path",
]

PLATES_SHA256 = "601109f61b3d81f6d9e5e746f9f9b7906690eb8e668a1cb2365bc7ebccae1775"
"""``plates_int8.onnx``: the trained network quantized to int8 (the default)."""
PLATES_FP32_SHA256 = "bc581801a1fdaaa0b17cb05ca9de1bcf73c3664ac5eb61d0d4d0f659263c660a"
"""``plates.onnx``: the trained network as exported (float)."""
STRIDE = 4
ALIGN = 32
LABEL = "plate"

FloatArray = npt.NDArray[np.float32]


class PlateBoxes(NamedTuple):
    """Detections in image coordinates: ``boxes`` (N, 4) x0 y0 x1 y1, ``scores`` (N,)."""

    boxes: FloatArray
    scores: FloatArray


def default_model_path(*, fp32: bool = False) -> Path:
    """Where the shipped ``plates_int8.onnx`` (``plates.onnx`` with ``fp32``) lives inside
    the installed package."""
    name = "plates.onnx" if fp32 else "plates_int8.onnx"
    return Path(str(resources.files("fastredact.detect.weights").joinpath(name)))


def _verified_bytes(path: Path, sha256: str | None) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ModelNotFound(
            f"plate model {path} cannot be read ({error}); reinstall fastredact "
            "(pip install --force-reinstall fastredact)"
        ) from error
    if sha256 is not None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256.lower():
            raise ModelNotFound(
                f"plate model {path} has SHA-256 {actual}, expected {sha256}; the file is "
                "corrupt or was replaced: reinstall fastredact "
                "(pip install --force-reinstall fastredact)"
            )
    return data


def decode(
    peaks: FloatArray,
    size: FloatArray,
    offset: FloatArray,
    threshold: float,
    max_detections: int = 200,
) -> PlateBoxes:
    """Boxes from one image's network outputs (``peaks`` 1×h×w, ``size``/``offset`` 2×h×w)."""
    ys, xs = np.nonzero(peaks[0] >= threshold)
    scores = peaks[0, ys, xs].astype(np.float32)
    if scores.size > max_detections:
        top = np.argsort(-scores, kind="stable")[:max_detections]
        ys, xs, scores = ys[top], xs[top], scores[top]
    cx = (xs + offset[0, ys, xs]) * STRIDE
    cy = (ys + offset[1, ys, xs]) * STRIDE
    w = np.exp(np.clip(size[0, ys, xs], -4.0, 6.0)) * STRIDE
    h = np.exp(np.clip(size[1, ys, xs], -4.0, 6.0)) * STRIDE
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    return PlateBoxes(boxes.astype(np.float32).reshape(-1, 4), scores)


def _prepare(image: npt.NDArray[np.uint8], scale: float) -> tuple[FloatArray, float, float]:
    """Resize by ``scale``, pad to a multiple of 32, NCHW float 0..1; returns the x/y factors."""
    height, width = image.shape[:2]
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    resized: npt.NDArray[np.uint8] = image
    if (new_w, new_h) != (width, height):
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        resized = np.asarray(cv2.resize(image, (new_w, new_h), interpolation=interpolation))
    pad_h, pad_w = -new_h % ALIGN, -new_w % ALIGN
    if pad_h or pad_w:
        resized = np.asarray(
            cv2.copyMakeBorder(resized, 0, pad_h, 0, pad_w, cv2.BORDER_CONSTANT, value=0)
        )
    tensor = np.empty((1, 3, *resized.shape[:2]), np.float32)
    np.multiply(resized.transpose(2, 0, 1), np.float32(1 / 255), out=tensor[0])  # one pass
    return tensor, new_w / width, new_h / height


class PlateNet:
    """Licence-plate detector over the shipped ``plates.onnx`` (or another PlateNet export).

    ``threshold``: minimum centre score (0..1). ``nms_iou``: overlap above which the weaker of
    two boxes is dropped. ``intra_op_num_threads``: onnxruntime threads for one image.
    ``sha256``: expected digest of ``model_path``; ``None`` skips the check (own exports only).
    """

    label = LABEL

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        sha256: str | None = PLATES_SHA256,
        threshold: float = 0.45,
        nms_iou: float = 0.4,
        intra_op_num_threads: int = 1,
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self.path = Path(model_path) if model_path is not None else default_model_path()
        self.threshold = threshold
        self.nms_iou = nms_iou
        data = _verified_bytes(self.path, sha256)
        import onnxruntime as ort  # here, not at the top: `import fastredact` stays fast

        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_num_threads
        options.inter_op_num_threads = 1
        if intra_op_num_threads > 1:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime raises its own untyped errors
            raise DetectorError(f"cannot load plate model {self.path}: {error}") from error

    def detect(self, image: npt.NDArray[np.uint8], scale: float = 1.0) -> PlateBoxes:
        """Plates in an RGB uint8 H×W×3 image, boxes in that image's pixel coordinates."""
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected an RGB uint8 H×W×3 array, got {image.dtype} {image.shape}")
        if scale <= 0:
            raise ValueError(f"scale must be positive, got {scale}")
        tensor, fx, fy = _prepare(image, scale)
        _, peaks, size, offset = self.session.run(None, {"image": tensor})
        found = decode(peaks[0], size[0], offset[0], self.threshold)
        if found.scores.size:
            keep = nms(found.boxes, found.scores, self.nms_iou)
            found = PlateBoxes(found.boxes[keep], found.scores[keep])
        boxes = found.boxes / np.array([fx, fy, fx, fy], dtype=np.float32)
        height, width = image.shape[:2]
        np.clip(boxes[:, 0::2], 0, width, out=boxes[:, 0::2])
        np.clip(boxes[:, 1::2], 0, height, out=boxes[:, 1::2])
        return PlateBoxes(boxes.astype(np.float32), found.scores.astype(np.float32))


class PlateNetPass:
    """:class:`PlateNet` as a one-pass detector for :class:`~fastredact.detect.TiledDetector`
    (which adds the full-frame and tile passes, merging and thresholds)."""

    classes: tuple[str, ...] = (LABEL,)

    def __init__(self, net: PlateNet) -> None:
        self.net = net

    def __repr__(self) -> str:
        return f"PlateNetPass({self.net.path})"

    def detect_batch(self, images: Sequence[npt.NDArray[np.uint8]]) -> list[Detections]:
        out = []
        for image in images:
            found = self.net.detect(image)
            out.append(Detections(found.boxes, found.scores, (LABEL,) * len(found.scores)))
        return out
