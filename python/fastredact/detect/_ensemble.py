"""Faces by two detectors: YuNet on every pixel, CenterFace as a second opinion on a cheaper
copy. Where each is trusted (measured on labelled crowd, masked-face and portrait photos with
``benches/eval_faces.py``; see docs/detection.md):

- YuNet (about a quarter of CenterFace's cost per pixel) finds small faces better: a YuNet
  box is accepted at the ensemble's threshold ``t`` when it is small (shorter than
  :data:`LARGE` of the picture's short side);
- a *large* YuNet box needs :data:`LARGE_ACCEPT`, or CenterFace seeing a face there: large
  false boxes (a patch of sky, a shirt) are rare but cost the most pixels, and real large
  faces score high;
- CenterFace runs on the picture at half size (at full size on pictures of at most
  :data:`SMALL_PICTURE` pixels, where its smallest faces would otherwise be out of reach)
  and adds the faces YuNet misses: masked faces above all. Its boxes are accepted at ``t``
  when small, at :data:`SECOND_LARGE_ACCEPT` when large.

The two sets of boxes are merged like the passes of one detector
(:func:`~fastredact.detect._nms.merge_passes`).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from fastredact.detect._base import Detections, RGBImage, check_rgb_image
from fastredact.detect._nms import intersection_areas, iou_matrix, merge_passes
from fastredact.detect._tiling import WINDOW_CONTEXT, TiledDetector

__all__ = ["LARGE", "LARGE_ACCEPT", "SECOND_LARGE_ACCEPT", "SMALL_PICTURE", "FaceEnsemble"]

LARGE = 0.1
"""A box at least this share of the picture's short side high is large."""
LARGE_ACCEPT = 0.8
"""A large YuNet box with no CenterFace box over it is accepted from this score."""
SECOND_LARGE_ACCEPT = 0.7
"""A large CenterFace box is accepted from this score."""
CONFIRM = 0.1
"""A CenterFace box of at least this score confirms a YuNet box it covers (a third of it)."""
SAME_FACE = 0.4
"""A CenterFace box overlapping a YuNet box this much (IoU) is the same face: YuNet's box is
kept (their union would hide more than either, for no face more)."""
SMALL_PICTURE = 500_000
"""Pictures of at most this many pixels get the second opinion at full size."""


class FaceEnsemble:
    """YuNet and CenterFace as one face detector (see the module doc). ``threshold`` is the
    lowest score a box is accepted at; ``primary`` and ``second`` must return boxes down to
    :data:`CONFIRM` and ``threshold``."""

    classes: tuple[str, ...] = ("face",)

    def __init__(
        self,
        primary: TiledDetector,
        second: TiledDetector,
        *,
        threshold: float,
        min_size: float = 0.0,
        model: str = "yunet+centerface",
    ) -> None:
        self.primary = primary
        self.second = second
        self.threshold = float(threshold)
        self.min_size = float(min_size)
        self.model = model
        self.parts = (primary, second)

    def __repr__(self) -> str:
        return f"FaceEnsemble({self.primary!r}, {self.second!r}, threshold={self.threshold})"

    def detect(self, image: RGBImage) -> Detections:
        """Faces in ``image``: both detectors' raw passes judged box by box, then merged
        once."""
        check_rgb_image(image)
        yunet = _passes(self.primary, image)
        return self._judged(yunet, self._second_opinion(image), min(image.shape[:2]))

    def detect_windows(
        self, image: RGBImage, boxes: NDArray[np.floating], context: float = WINDOW_CONTEXT
    ) -> Detections:
        """Faces in square windows around ``boxes`` (see
        :meth:`~fastredact.detect._tiling.TiledDetector.detect_windows`), YuNet alone,
        judged as in :meth:`detect` (a large box needs :data:`LARGE_ACCEPT`): what is
        left of a face just hidden, or its blob, at a quarter of the second opinion's cost
        (which added nothing there, measured with ``benches/eval_faces.py``)."""
        yunet = Detections.concat(self.primary.window_passes(image, boxes, context))
        return self._judged(yunet, Detections.empty(), min(image.shape[:2]))

    def _judged(self, yunet: Detections, second: Detections, short: int) -> Detections:
        confirmed = _covered(yunet.boxes, second.select(second.scores >= CONFIRM).boxes)
        large = (yunet.heights >= LARGE * short) & ~confirmed
        keep = yunet.scores >= np.where(large, max(self.threshold, LARGE_ACCEPT), self.threshold)
        second_large = second.heights >= LARGE * short
        keep_second = second.scores >= np.where(
            second_large, max(self.threshold, SECOND_LARGE_ACCEPT), self.threshold
        )
        mine = merge_passes(yunet.select(keep))
        theirs = merge_passes(second.select(keep_second))
        if len(mine) and len(theirs):  # one face seen by both: YuNet's tighter box
            theirs = theirs.select(iou_matrix(theirs.boxes, mine.boxes).max(axis=1) < SAME_FACE)
        found = merge_passes(Detections.concat([mine, theirs]))
        if self.min_size > 0 and len(found):
            found = found.select(np.maximum(found.widths, found.heights) >= self.min_size)
        return found

    def _second_opinion(self, image: RGBImage) -> Detections:
        """CenterFace's raw passes over the picture at half size (full size for small
        pictures), in the picture's coordinates."""
        height, width = image.shape[:2]
        if height * width <= SMALL_PICTURE:
            return _passes(self.second, image)
        size = (max(1, round(width / 2)), max(1, round(height / 2)))
        half = np.ascontiguousarray(
            np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)
        )
        fx, fy = width / size[0], height / size[1]
        found = _passes(self.second, half)
        return found.transformed(fx, fy, 0, 0).clipped(width, height)

    def detect_batch(self, images: Sequence[RGBImage]) -> list[Detections]:
        return [self.detect(image) for image in images]


def _passes(detector: TiledDetector, image: RGBImage) -> Detections:
    return Detections.concat(found for _, found in detector.detect_passes(image))


def _covered(boxes: NDArray[np.float32], others: NDArray[np.float32]) -> NDArray[np.bool_]:
    """Which ``boxes`` have a third or more of their area inside one of ``others``."""
    if not len(boxes) or not len(others):
        return np.zeros(len(boxes), np.bool_)
    inter = intersection_areas(boxes, others)
    area = np.maximum((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]), 1e-9)
    covered: NDArray[np.bool_] = (inter / area[:, None]).max(axis=1) >= 0.3
    return covered
