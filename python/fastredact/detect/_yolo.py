"""YOLOv8 ONNX models exported by Ultralytics (``detect`` and ``segment`` tasks).

Input: (B, 3, S, S) RGB in 0..1, letterboxed (aspect kept, centred, padded with grey 114),
fp32 or fp16 as the model declares. Output 0: (B, 4 + classes [+ mask coefficients], N) with
centre-x, centre-y, width, height in input pixels, then one score per class; a segment
export has a second output (mask prototypes), which fastredact does not need: the box
already covers the mask. Class names come from the model's ``names`` metadata.
"""

from __future__ import annotations

import ast
import logging
import os
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from fastredact.detect._base import Detections, RGBImage, check_rgb_image
from fastredact.detect._nms import nms
from fastredact.detect._runtime import create_session
from fastredact.errors import DetectorError

__all__ = ["YoloDetector", "decode_yolo", "letterbox", "normalize_label"]

log = logging.getLogger("fastredact")

_LABEL_ALIASES = {
    "plate": "plate",
    "license-plate": "plate",
    "license_plate": "plate",
    "license plate": "plate",
    "licence-plate": "plate",
    "licence plate": "plate",
    "licenseplate": "plate",
    "number plate": "plate",
    "face": "face",
    "faces": "face",
    "person": "person",
}


def normalize_label(name: str) -> str:
    """Map a model's class name onto fastredact's vocabulary (``"plate"``, ``"face"``, …)."""
    key = name.strip().lower()
    return _LABEL_ALIASES.get(key, key)


def letterbox(
    image: RGBImage, size: tuple[int, int], pad_value: int = 114
) -> tuple[NDArray[np.uint8], float, int, int]:
    """Resize ``image`` into ``size`` = (height, width) keeping its aspect ratio, centred and
    padded; returns the canvas, the scale and the left / top padding."""
    h, w = image.shape[:2]
    out_h, out_w = size
    ratio = min(out_h / h, out_w / w)
    new_w, new_h = max(1, round(w * ratio)), max(1, round(h * ratio))
    resized: NDArray[np.uint8] = image
    if (new_w, new_h) != (w, h):
        interp = cv2.INTER_AREA if ratio < 1 else cv2.INTER_LINEAR
        resized = np.asarray(cv2.resize(image, (new_w, new_h), interpolation=interp), np.uint8)
    left = (out_w - new_w) // 2
    top = (out_h - new_h) // 2
    canvas = np.full((out_h, out_w, 3), pad_value, np.uint8)
    canvas[top : top + new_h, left : left + new_w] = resized
    return canvas, ratio, left, top


def decode_yolo(
    output: NDArray[np.floating[Any]],
    *,
    num_classes: int,
    threshold: float,
    nms_iou: float = 0.45,
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.intp]]:
    """Decode one image's (4 + classes [+ extra], N) output: boxes (x0, y0, x1, y1 in input
    pixels), scores and class indices after class-aware NMS."""
    pred = np.asarray(output, dtype=np.float32)
    class_scores = pred[4 : 4 + num_classes]
    classes = class_scores.argmax(axis=0)
    scores = class_scores[classes, np.arange(pred.shape[1])]
    keep = scores > threshold
    if not keep.any():
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.intp)
    cx, cy, w, h = pred[0, keep], pred[1, keep], pred[2, keep], pred[3, keep]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    scores, classes = scores[keep], classes[keep].astype(np.intp)
    # Class-aware NMS in one call: shift each class far away from the others.
    shifted = boxes + (classes.astype(np.float32) * 1e5)[:, None]
    idx = nms(shifted, scores, nms_iou)
    return boxes[idx], scores[idx], classes[idx]


class YoloDetector:
    """An Ultralytics YOLOv8 ONNX export (detect or segment) at ``path``.

    ``threshold`` is the lowest class score returned. ``labels`` restricts the classes
    reported (after :func:`normalize_label`); by default every class is reported.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        device: str = "cpu",
        threads: int | None = None,
        threshold: float = 0.25,
        nms_iou: float = 0.45,
        labels: Sequence[str] | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.threshold = float(threshold)
        self.nms_iou = float(nms_iou)
        self.device = device
        self._session: Any = create_session(self.path, device=device, threads=threads)
        meta = self._session.get_modelmeta().custom_metadata_map
        self.license: str = meta.get("license", "")
        self.task: str = meta.get("task", "")
        inp = self._session.get_inputs()[0]
        self._input_name: str = inp.name
        shape = list(inp.shape)
        if len(shape) != 4 or shape[1] != 3:
            raise DetectorError(f"{self.path}: expected a (B, 3, H, W) input, got {shape}")
        imgsz = meta.get("imgsz")
        size = [d if isinstance(d, int) else None for d in shape[2:]]
        if (None in size) and imgsz:
            size = list(ast.literal_eval(imgsz))
        if None in size:
            size = [640, 640]
        self.input_hw: tuple[int, int] = (int(size[0]), int(size[1]))  # type: ignore[arg-type]
        self.input_size = max(self.input_hw)
        self.batchable = not isinstance(shape[0], int) or shape[0] != 1
        self._dtype = np.float16 if "float16" in inp.type else np.float32
        outputs = self._session.get_outputs()
        channels = outputs[0].shape[1]
        names: dict[int, str] = {}
        if "names" in meta:
            try:
                names = {int(k): str(v) for k, v in ast.literal_eval(meta["names"]).items()}
            except (ValueError, SyntaxError) as exc:
                raise DetectorError(f"{self.path}: unreadable 'names' metadata: {exc}") from exc
        if names:
            self.num_classes = len(names)
        elif isinstance(channels, int):
            self.num_classes = channels - 4 - (32 if len(outputs) > 1 else 0)
        else:
            raise DetectorError(f"{self.path}: no 'names' metadata and a dynamic output shape")
        if isinstance(channels, int) and channels < 4 + self.num_classes:
            raise DetectorError(
                f"{self.path}: output has {channels} channels, fewer than 4 + "
                f"{self.num_classes} classes; not a YOLOv8 export"
            )
        self.class_names = tuple(
            normalize_label(names.get(i, f"class{i}")) for i in range(self.num_classes)
        )
        wanted = None if labels is None else {normalize_label(x) for x in labels}
        self._wanted = wanted
        self.classes: tuple[str, ...] = tuple(
            dict.fromkeys(c for c in self.class_names if wanted is None or c in wanted)
        )
        if self.license:
            log.warning("model %s is licensed %s", self.path, self.license)

    def __repr__(self) -> str:
        return f"YoloDetector({self.path!r}, classes={self.classes}, device={self.device!r})"

    def detect_batch(self, images: Sequence[RGBImage]) -> list[Detections]:
        """Detect in each image (letterboxed to the model's input)."""
        out: list[Detections] = []
        step = 8 if self.batchable else 1
        for start in range(0, len(images), step):
            chunk = [check_rgb_image(im) for im in images[start : start + step]]
            boxed = [letterbox(im, self.input_hw) for im in chunk]
            blob = np.stack([b[0] for b in boxed]).transpose(0, 3, 1, 2)
            blob = (blob.astype(np.float32) / 255.0).astype(self._dtype)
            preds = self._session.run(None, {self._input_name: blob})[0]
            for (_, ratio, left, top), pred, image in zip(boxed, preds, chunk, strict=False):
                boxes, scores, classes = decode_yolo(
                    pred,
                    num_classes=self.num_classes,
                    threshold=self.threshold,
                    nms_iou=self.nms_iou,
                )
                boxes = (boxes - np.array([left, top, left, top], np.float32)) / ratio
                labels = tuple(self.class_names[c] for c in classes)
                dets = Detections(boxes, scores, labels).clipped(image.shape[1], image.shape[0])
                if self._wanted is not None:
                    dets = dets.select(
                        [i for i, lab in enumerate(dets.labels) if lab in self._wanted]
                    )
                out.append(dets)
        return out

    def detect(self, image: RGBImage) -> Detections:
        """Objects in ``image`` (one letterboxed pass, no tiling)."""
        return self.detect_batch([image])[0]
