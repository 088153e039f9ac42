"""Multi-scale detection: a pyramid of whole-frame passes plus enlarged tiles, merged.

A detector sees objects in a band of sizes *in its own input pixels* (CenterFace: from about
24 px to about 450 px; a face larger than that is cut into fragments or missed). To find
smaller objects the image must be enlarged; larger ones need a shrunk copy. To keep memory
bounded every pass is cut into overlapping tiles of at most ``tile_size`` detector pixels.
The schedule (:meth:`TiledDetector.plan`):

1. **levels**: the whole frame at scale ``s0 = min(1, full_size / long side)`` (``1`` when
   ``full_size`` is None: the native image), then, when ``level_factor`` is set, at
   ``s0 / level_factor``, ``s0 / level_factor**2``, … until a level's *short* side is at most
   ``level_stop`` detector pixels (an object is at most about as large as the frame's short
   side, so every object size falls inside the detector's band at some level). No level is
   shrunk below ``level_stop / 2`` on its short side: in a tiny picture of the whole frame
   any skin-coloured blob scores as a face, a hidden (blurred, pixelated) one included, and a
   frame-filling face is still inside the band there. With a factor of 4 this costs 6-20 %
   more than the native pass alone;
2. for each ``tile_scales`` entry ``s`` greater than ``s0``: the frame enlarged ``s`` times
   (small objects);
3. each pass is cut by :func:`plan_tiles` into tiles of at most ``tile_size`` detector pixels
   that overlap by ``overlap`` detector pixels, sized to fit the frame (no tile sticks out, and
   the tiles of a pass share one shape, so they batch), and the passes are merged per label by
   :func:`~fastredact.detect._nms.merge_passes`, which keeps the union of overlapping boxes, so
   an object cut by a tile border still gets the whole object's box.

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
from numpy.typing import NDArray

from fastredact.detect._base import Detections, RGBImage, check_rgb_image
from fastredact.detect._nms import merge_passes

__all__ = [
    "WINDOW_CONTEXT",
    "WINDOW_SIZE",
    "PassDetector",
    "Tile",
    "TiledDetector",
    "plan_tiles",
    "window_crops",
]


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


def _spans(length: int, window: int, overlap: int) -> tuple[list[int], int]:
    """Start positions and the common length of the fewest windows of at most ``window``
    pixels that cover ``length`` pixels with at least ``overlap`` pixels shared by neighbours."""
    if length <= window:
        return [0], length
    count = math.ceil((length - overlap) / (window - overlap))
    size = min(window, math.ceil((length + (count - 1) * overlap) / count))
    return [round(i * (length - size) / (count - 1)) for i in range(count)], size


def plan_tiles(
    width: int, height: int, *, scale: float, tile_size: int, overlap: int
) -> list[Tile]:
    """Tiles covering a ``width`` x ``height`` image at ``scale``, each at most
    ``tile_size`` detector pixels a side, overlapping by at least ``overlap`` image pixels.

    Every image pixel lies in at least one tile, and any box of at most ``overlap`` image
    pixels a side lies whole inside at least one tile. The tiles are as few as that allows
    and all of one size (shrunk from ``tile_size`` to fit the image evenly).
    """
    if scale <= 0 or tile_size < 1 or overlap < 0:
        raise ValueError("scale and tile_size must be positive, overlap non-negative")
    window = max(1, int(tile_size / scale))
    if overlap >= window:
        raise ValueError(
            f"overlap {overlap} px must be smaller than a tile ({window} image px at scale {scale})"
        )
    xs, w = _spans(width, window, overlap)
    ys, h = _spans(height, window, overlap)
    out_w = max(1, round(w * scale))
    out_h = max(1, round(h * scale))
    return [Tile(x, y, w, h, out_w / w, out_h / h) for y in ys for x in xs]


WINDOW_SIZE = 64
"""The smallest side, in detector pixels, of the square windows
:meth:`TiledDetector.detect_windows` runs on by default; windows come in this size, twice
and four times it (a window is shrunk or enlarged to the smallest of these at least as
large as it is, the largest at most), one batch per size. A detector's ``window_size``
overrides it (plates need more: a plate is a third of a window wide, a quarter of that
high)."""
WINDOW_SIZES = 3
"""How many window sizes (doubling from the smallest)."""
WINDOW_CONTEXT = 3.0
"""A window is this many times the longer side of the box it is built around, so the box
fills a third of it: a face at a size the face detectors see well (21 detector pixels in a
default window), with its surroundings."""
WINDOW_TILE = Tile(0, 0, 0, 0, 1.0, 1.0)
"""The tile :meth:`TiledDetector.detect_windows` reports its passes under."""


def window_crops(
    image: RGBImage,
    boxes: NDArray[np.floating],
    context: float = WINDOW_CONTEXT,
    size: int = WINDOW_SIZE,
    sizes: int = WINDOW_SIZES,
) -> tuple[list[RGBImage], list[tuple[int, int, float]]]:
    """Square crops of ``image`` around each of ``boxes``, ``context`` times the box's
    longer side (at least one pixel), resized to one of ``sizes`` sizes doubling from
    ``size`` (the smallest at least as large as the window, the largest at most: a small
    window is enlarged, a large one keeps a leftover smaller than the box it was built
    around in sight); with each, the image position of its top-left corner and its scale
    (detector pixels per image pixel). A window reaching past the image is padded with
    black."""
    height, width = image.shape[:2]
    buckets = [size << i for i in range(sizes)]
    crops: list[RGBImage] = []
    places: list[tuple[int, int, float]] = []
    for x0, y0, x1, y1 in np.asarray(boxes, np.float64).reshape(-1, 4):
        side = max(1, math.ceil(max(x1 - x0, y1 - y0) * context))
        left = math.floor((x0 + x1) / 2 - side / 2)
        top = math.floor((y0 + y1) / 2 - side / 2)
        crop = np.zeros((side, side, 3), np.uint8)
        ya, yb = max(0, top), min(height, top + side)
        xa, xb = max(0, left), min(width, left + side)
        if ya >= yb or xa >= xb:
            continue
        crop[ya - top : yb - top, xa - left : xb - left] = image[ya:yb, xa:xb]
        target = next((b for b in buckets if b >= side), buckets[-1])
        interp = cv2.INTER_AREA if side > target else cv2.INTER_LINEAR
        resized = cv2.resize(crop, (target, target), interpolation=interp)
        crops.append(np.ascontiguousarray(np.asarray(resized, np.uint8)))
        places.append((left, top, target / side))
    return crops, places


class TiledDetector:
    """A pyramid of whole-frame passes plus enlarged overlapping tiles, merged (see the
    module doc).

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
        level_factor: float | None = None,
        level_stop: int = 512,
        threshold: float = 0.5,
        thresholds: Mapping[str, float] | None = None,
        min_size: float = 0.0,
        merge_iou: float = 0.4,
        batch_size: int = 8,
        model: str = "",
        model_path: str = "",
        window_size: int = WINDOW_SIZE,
        window_sizes: int = WINDOW_SIZES,
    ) -> None:
        if full_size is not None and full_size < 32:
            raise ValueError(f"full_size must be >= 32 or None, not {full_size}")
        if any(s <= 0 for s in tile_scales):
            raise ValueError(f"tile scales must be positive: {tuple(tile_scales)}")
        if not 0 <= overlap < tile_size:
            raise ValueError(f"overlap must be in [0, tile_size), not {overlap}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, not {batch_size}")
        if level_factor is not None and level_factor <= 1:
            raise ValueError(f"level_factor must be > 1 or None, not {level_factor}")
        if level_stop < 1:
            raise ValueError(f"level_stop must be >= 1, not {level_stop}")
        self.inner = inner
        self.full_size = full_size
        self.tile_scales = tuple(sorted(float(s) for s in tile_scales))
        self.tile_size = int(tile_size)
        self.overlap = int(overlap)
        self.level_factor = None if level_factor is None else float(level_factor)
        self.level_stop = int(level_stop)
        self.threshold = float(threshold)
        self.thresholds = dict(thresholds or {})
        self.min_size = float(min_size)
        self.merge_iou = float(merge_iou)
        self.batch_size = int(batch_size)
        self.model = model
        """The registered model name (or the path) this detector was loaded from."""
        self.model_path = model_path
        self.window_size = int(window_size)
        """Side of the smallest verification windows (:meth:`detect_windows`)."""
        self.window_sizes = int(window_sizes)
        """How many window sizes, doubling from ``window_size``."""

    @property
    def classes(self) -> tuple[str, ...]:
        return self.inner.classes

    def __repr__(self) -> str:
        return (
            f"TiledDetector({self.inner!r}, full_size={self.full_size}, "
            f"tile_scales={self.tile_scales}, tile_size={self.tile_size}, "
            f"overlap={self.overlap}, level_factor={self.level_factor}, "
            f"level_stop={self.level_stop}, threshold={self.threshold}, "
            f"thresholds={self.thresholds}, min_size={self.min_size})"
        )

    def full_frame_scale(self, width: int, height: int) -> float:
        """The scale of the full-frame pass (``<= 1``)."""
        if self.full_size is None:
            return 1.0
        return min(1.0, self.full_size / max(width, height))

    def level_scales(self, width: int, height: int) -> list[float]:
        """The scales of the whole-frame passes, largest first (see the module doc)."""
        scales = [self.full_frame_scale(width, height)]
        short = min(width, height)
        if self.level_factor is not None:
            smallest = self.level_stop / 2 / short
            while short * scales[-1] > self.level_stop:
                scales.append(max(scales[-1] / self.level_factor, smallest))
        return scales

    def plan(self, width: int, height: int) -> list[Tile]:
        """Every tile of every pass over a ``width`` x ``height`` image: the levels first,
        largest scale first, then the enlarged passes."""
        levels = self.level_scales(width, height)
        scales = levels + [s for s in self.tile_scales if s > levels[0] * 1.05]
        passes: list[Tile] = []
        for scale in scales:
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

    def detect_windows(
        self, image: RGBImage, boxes: NDArray[np.floating], context: float = WINDOW_CONTEXT
    ) -> Detections:
        """What the detector finds around ``boxes`` (N, 4), merged, thresholded and
        size-filtered: one square window per box, ``context`` times its longer side
        (:func:`window_crops`), all windows in one batch."""
        passes = self.window_passes(image, boxes, context)
        return self.merge([(WINDOW_TILE, found) for found in passes])

    def window_passes(
        self, image: RGBImage, boxes: NDArray[np.floating], context: float = WINDOW_CONTEXT
    ) -> list[Detections]:
        """The raw detections of each window of :meth:`detect_windows`, in image
        coordinates, before merging and thresholds."""
        check_rgb_image(image)
        crops, places = window_crops(image, boxes, context, self.window_size, self.window_sizes)
        if not crops:
            return []
        height, width = image.shape[:2]
        out = []
        for (x, y, scale), found in zip(places, self.inner.detect_batch(crops), strict=True):
            out.append(found.transformed(1 / scale, 1 / scale, x, y).clipped(width, height))
        return out

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
