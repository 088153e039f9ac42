"""Multi-scale detection: a full-frame pass plus overlapping tiles, merged.

A detector sees objects down to some size *in its own input pixels* (CenterFace: about
24 px). To find smaller objects the image must be enlarged; to keep memory and time bounded
the enlarged image is cut into overlapping tiles of the detector's size. The schedule:

1. **full frame** resized so that its long side is ``full_size`` (never enlarged), which
   finds the large objects;
2. for each ``tile_scales`` entry ``s`` greater than the full pass's own scale: tiles of
   ``tile_size`` detector pixels covering ``tile_size / s`` image pixels each, overlapping
   by ``overlap`` detector pixels (``overlap / s`` image pixels), run in batches;
3. the passes are merged per label by :func:`~fastredact.detect.nms.merge_passes`, which
   keeps the union of overlapping boxes, so that a face cut by a tile border still gets the
   whole face's box.

Per-class ``thresholds`` apply before the merge (so a weak box never widens a strong one),
``min_size`` (pixels, on the longer box side) after it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from fastredact.detect.base import Detections, RGBImage, check_rgb_image
from fastredact.detect.nms import merge_passes

__all__ = ["PassDetector", "Tile", "TiledDetector", "plan_tiles"]


class PassDetector(Protocol):
    """A detector that runs one pass over each image at that image's resolution."""

    @property
    def classes(self) -> tuple[str, ...]: ...

    def detect_batch(self, images: Sequence[RGBImage]) -> list[Detections]: ...


@dataclass(frozen=True)
class Tile:
    """One tile: the image region ``[x, x + w) x [y, y + h)`` enlarged by ``scale_x``,
    ``scale_y`` to the detector input."""

    x: int
    y: int
    w: int
    h: int
    scale_x: float
    scale_y: float


def _starts(length: int, window: int, overlap: int) -> list[int]:
    if length <= window:
        return [0]
    step = max(1, window - overlap)
    count = math.ceil((length - window) / step) + 1
    return [round(i * (length - window) / (count - 1)) for i in range(count)]


def plan_tiles(
    width: int, height: int, *, scale: float, tile_size: int, overlap: int
) -> list[Tile]:
    """Tiles covering a ``width`` x ``height`` image at ``scale``, each at most
    ``tile_size`` detector pixels a side, overlapping by at least ``overlap`` image pixels.

    Every image pixel lies in at least one tile, and any box of at most ``overlap`` image
    pixels a side lies whole inside at least one tile.
    """
    if scale <= 0 or tile_size < 1 or overlap < 0:
        raise ValueError("scale and tile_size must be positive, overlap non-negative")
    window = max(1, int(tile_size / scale))
    if overlap >= window:
        raise ValueError(
            f"overlap {overlap} px must be smaller than a tile ({window} image px at scale {scale})"
        )
    tiles = []
    for y in _starts(height, window, overlap):
        h = min(window, height)
        for x in _starts(width, window, overlap):
            w = min(window, width)
            # A whole window maps to exactly tile_size (the scale is rounded to match).
            out_w = max(1, round(w * tile_size / window))
            out_h = max(1, round(h * tile_size / window))
            tiles.append(Tile(x, y, w, h, out_w / w, out_h / h))
    return tiles


class TiledDetector:
    """A full-frame pass plus enlarged overlapping tiles, merged (see the module doc).

    ``overlap`` is in detector pixels: tiles at scale ``s`` overlap by ``overlap / s`` image
    pixels, so any object up to that size lies whole in some tile of that pass.
    ``threshold`` applies to every class without an entry in ``thresholds``; the inner
    detector must itself return scores down to the lowest of them.
    """

    def __init__(
        self,
        inner: PassDetector,
        *,
        full_size: int | None = 1280,
        tile_scales: Sequence[float] = (),
        tile_size: int = 640,
        overlap: int = 128,
        threshold: float = 0.5,
        thresholds: Mapping[str, float] | None = None,
        min_size: float = 0.0,
        merge_iou: float = 0.4,
        batch_size: int = 8,
        model: str = "",
        model_path: str = "",
    ) -> None:
        if full_size is not None and full_size < 32:
            raise ValueError(f"full_size must be >= 32 or None, not {full_size}")
        if any(s <= 0 for s in tile_scales):
            raise ValueError(f"tile scales must be positive: {tuple(tile_scales)}")
        if not 0 <= overlap < tile_size:
            raise ValueError(f"overlap must be in [0, tile_size), not {overlap}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, not {batch_size}")
        self.inner = inner
        self.full_size = full_size
        self.tile_scales = tuple(sorted(float(s) for s in tile_scales))
        self.tile_size = int(tile_size)
        self.overlap = int(overlap)
        self.threshold = float(threshold)
        self.thresholds = dict(thresholds or {})
        self.min_size = float(min_size)
        self.merge_iou = float(merge_iou)
        self.batch_size = int(batch_size)
        self.model = model
        """The registered model name (or the path) this detector was loaded from."""
        self.model_path = model_path

    @property
    def classes(self) -> tuple[str, ...]:
        return self.inner.classes

    def __repr__(self) -> str:
        return (
            f"TiledDetector({self.inner!r}, full_size={self.full_size}, "
            f"tile_scales={self.tile_scales}, tile_size={self.tile_size}, "
            f"overlap={self.overlap}, threshold={self.threshold}, "
            f"thresholds={self.thresholds}, min_size={self.min_size})"
        )

    def full_frame_scale(self, width: int, height: int) -> float:
        """The scale of the full-frame pass (``<= 1``)."""
        if self.full_size is None:
            return 1.0
        return min(1.0, self.full_size / max(width, height))

    def plan(self, width: int, height: int) -> list[Tile]:
        """Every pass over a ``width`` x ``height`` image: the full frame first."""
        full = self.full_frame_scale(width, height)
        fw, fh = max(1, round(width * full)), max(1, round(height * full))
        passes = [Tile(0, 0, width, height, fw / width, fh / height)]
        for scale in self.tile_scales:
            if scale <= full * 1.05:
                continue  # the full-frame pass already looked at this scale
            overlap = math.ceil(self.overlap / scale)
            passes.extend(
                plan_tiles(width, height, scale=scale, tile_size=self.tile_size, overlap=overlap)
            )
        return passes

    def detect_passes(self, image: RGBImage) -> list[tuple[Tile, Detections]]:
        """The raw detections of every pass, in image coordinates, before merging and
        thresholds (useful to see which pass found what)."""
        check_rgb_image(image)
        height, width = image.shape[:2]
        tiles = self.plan(width, height)
        out: list[tuple[Tile, Detections]] = []
        for start in range(0, len(tiles), self.batch_size):
            chunk = tiles[start : start + self.batch_size]
            crops: list[RGBImage] = []
            for t in chunk:
                crop: RGBImage = image[t.y : t.y + t.h, t.x : t.x + t.w]
                size = (round(t.w * t.scale_x), round(t.h * t.scale_y))
                if size != (t.w, t.h):
                    shrink = t.scale_x < 1
                    interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
                    crop = np.asarray(cv2.resize(crop, size, interpolation=interp), np.uint8)
                crops.append(np.ascontiguousarray(crop))
            for t, found in zip(chunk, self.inner.detect_batch(crops), strict=False):
                mapped = found.transformed(1 / t.scale_x, 1 / t.scale_y, t.x, t.y)
                out.append((t, mapped.clipped(width, height)))
        return out

    def detect(self, image: RGBImage) -> Detections:
        """Objects in ``image`` from all passes, merged, thresholded and size-filtered."""
        return self.merge(self.detect_passes(image))

    def merge(self, passes: Sequence[tuple[Tile, Detections]]) -> Detections:
        """Threshold, merge and size-filter the output of :meth:`detect_passes`."""
        found = self.above_threshold(Detections.concat(d for _, d in passes))
        merged = merge_passes(found, self.merge_iou)
        if self.min_size > 0 and len(merged):
            merged = merged.select(np.maximum(merged.widths, merged.heights) >= self.min_size)
        return merged

    def above_threshold(self, dets: Detections) -> Detections:
        """The detections whose score reaches their class's threshold."""
        if not len(dets):
            return dets
        limits = np.array(
            [self.thresholds.get(label, self.threshold) for label in dets.labels], np.float32
        )
        keep = dets.scores >= limits
        return dets if bool(keep.all()) else dets.select(keep)
