"""YuNet-n (ONNX): a small anchor-free face detector with heads at strides 8, 16 and 32.

Input: BGR float32 0..255 (no mean, no scale) as (B, 3, H, W), H and W padded on the right
and bottom to a multiple of 32. Per stride ``s`` the outputs ``cls_s``, ``obj_s`` (B, N, 1),
``bbox_s`` (B, N, 4) and ``kps_s`` (B, N, 10) cover the (H/s) x (W/s) grid in row-major
order: score = sqrt(cls x obj) (each clipped to 0..1), box centre = ((col + dx) s,
(row + dy) s), size = (exp(dw) s, exp(dh) s), landmarks = ((col + kx) s, (row + ky) s).
About 1,324 multiply-adds per input pixel (CenterFace: ~6,027). See
``detect/weights/YUNET.md`` for provenance, licence and SHA-256.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastredact.detect._base import Detections, RGBImage, same_shape_batches
from fastredact.detect._nms import nms
from fastredact.detect._runtime import create_session
from fastredact.errors import DetectorError

__all__ = ["YuNet", "decode_yunet"]

STRIDES = (8, 16, 32)
ALIGN = 32


def decode_yunet(
    outputs: dict[str, NDArray[np.float32]],
    *,
    padded: tuple[int, int],
    threshold: float,
    width: int,
    height: int,
    nms_iou: float = 0.3,
) -> Detections:
    """Decode one image's YuNet outputs (``cls_8`` … ``kps_32``, batch axis removed) for a
    ``padded`` (H, W) input into face detections clipped to ``width`` x ``height``."""
    boxes, scores, points = [], [], []
    for stride in STRIDES:
        rows, cols = padded[0] // stride, padded[1] // stride
        if outputs[f"cls_{stride}"].shape[0] != rows * cols:
            raise DetectorError(
                f"YuNet's stride-{stride} output has {outputs[f'cls_{stride}'].shape[0]} cells, "
                f"not {rows} x {cols}: not a YuNet model with dynamic input"
            )
        cls = np.clip(outputs[f"cls_{stride}"][:, 0], 0, 1)
        obj = np.clip(outputs[f"obj_{stride}"][:, 0], 0, 1)
        score = np.sqrt(cls * obj)
        keep = np.flatnonzero(score > threshold)
        if keep.size == 0:
            continue
        row, col = np.divmod(keep, cols)
        bbox = outputs[f"bbox_{stride}"][keep].astype(np.float64)
        cx = (col + bbox[:, 0]) * stride
        cy = (row + bbox[:, 1]) * stride
        w = np.exp(np.clip(bbox[:, 2], -10, 10)) * stride
        h = np.exp(np.clip(bbox[:, 3], -10, 10)) * stride
        boxes.append(np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1))
        scores.append(score[keep])
        kps = outputs[f"kps_{stride}"][keep].astype(np.float64).reshape(-1, 5, 2)
        points.append(
            np.stack(
                [(col[:, None] + kps[:, :, 0]) * stride, (row[:, None] + kps[:, :, 1]) * stride],
                axis=2,
            )
        )
    if not boxes:
        return Detections.empty(landmarks=5)
    all_boxes = np.concatenate(boxes)
    np.clip(all_boxes[:, 0::2], 0, width, out=all_boxes[:, 0::2])
    np.clip(all_boxes[:, 1::2], 0, height, out=all_boxes[:, 1::2])
    valid = (all_boxes[:, 2] > all_boxes[:, 0]) & (all_boxes[:, 3] > all_boxes[:, 1])
    boxes32 = all_boxes[valid].astype(np.float32)
    scores32 = np.concatenate(scores)[valid].astype(np.float32)
    points32 = np.concatenate(points)[valid].astype(np.float32)
    kept = nms(boxes32, scores32, nms_iou)
    return Detections(boxes32[kept], scores32[kept], ("face",) * kept.size, points32[kept])


class YuNet:
    """The YuNet face detector, run at the resolution of the image it is given.

    ``model``: a path to a YuNet ONNX file with dynamic input (the registry's ``yunet``
    by default). ``threshold`` is the lowest score returned.
    """

    classes: tuple[str, ...] = ("face",)
    max_batch_pixels: int = 4 * 1024 * 1024
    """Images of one shape are batched up to this many pixels per onnxruntime call."""

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        device: str = "cpu",
        threads: int | None = None,
        threshold: float = 0.35,
    ) -> None:
        if model is None:
            from fastredact.detect._registry import find_model

            model = find_model("yunet")
        self.path = os.fspath(model)
        self.threshold = float(threshold)
        self.device = device
        self._session: Any = create_session(self.path, device=device, threads=threads)
        self._input_name: str = self._session.get_inputs()[0].name
        self._output_names: list[str] = [o.name for o in self._session.get_outputs()]

    def __repr__(self) -> str:
        return f"YuNet({self.path!r}, device={self.device!r}, threshold={self.threshold})"

    @staticmethod
    def _blob(images: Sequence[RGBImage]) -> NDArray[np.float32]:
        h, w = images[0].shape[:2]
        ph = -(-h // ALIGN) * ALIGN
        pw = -(-w // ALIGN) * ALIGN
        blob = np.zeros((len(images), 3, ph, pw), np.float32)
        for i, image in enumerate(images):
            blob[i, :, :h, :w] = image[:, :, ::-1].transpose(2, 0, 1)  # BGR planes
        return blob

    def detect_batch(self, images: Sequence[RGBImage]) -> list[Detections]:
        """Detect faces in each image at its own resolution (same-shape images share
        onnxruntime calls)."""
        results: list[Detections | None] = [None] * len(images)
        for chunk in same_shape_batches(images, self.max_batch_pixels):
            h, w = images[chunk[0]].shape[:2]
            blob = self._blob([images[i] for i in chunk])
            raw = self._session.run(self._output_names, {self._input_name: blob})
            named = dict(zip(self._output_names, raw, strict=True))
            for j, i in enumerate(chunk):
                results[i] = decode_yunet(
                    {name: out[j] for name, out in named.items()},
                    padded=(blob.shape[2], blob.shape[3]),
                    threshold=self.threshold,
                    width=w,
                    height=h,
                )
        return [r if r is not None else Detections.empty(landmarks=5) for r in results]

    def detect(self, image: RGBImage) -> Detections:
        """Faces in ``image`` at its native resolution (one pass, no tiling)."""
        return self.detect_batch([image])[0]
