"""OpenCV Haar cascades (the permissive, offline plate detector shipped with OpenCV 4.x).

A cascade scans every scale itself down to its training window (60x20 pixels for
``haarcascade_russian_plate_number.xml``, 64x16 for the 16-stage one); smaller plates need an
enlarged image (see :class:`~fastredact.detect._tiling.TiledDetector`'s ``tile_scales``).
A cascade gives no probability: the score of a box is ``n / (n + min_neighbors)``, where
``n`` is the number of raw windows that voted for it, so every returned box scores ``>= 0.5``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from fastredact.detect._base import Detections, RGBImage, check_rgb_image
from fastredact.errors import DetectorError

__all__ = ["CascadeDetector"]


class CascadeDetector:
    """A Haar/LBP cascade at ``path`` reporting boxes labelled ``label``."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        label: str = "plate",
        scale_factor: float = 1.1,
        min_neighbors: int = 3,
        min_size: tuple[int, int] | None = None,
    ) -> None:
        if not hasattr(cv2, "CascadeClassifier"):
            raise DetectorError(
                "this OpenCV has no CascadeClassifier (OpenCV 5 dropped it); "
                'run: pip install "opencv-python-headless>=4.8,<5"'
            )
        self.path = os.fspath(path)
        # A CascadeClassifier must not be shared between threads (concurrent
        # detectMultiScale calls on one object crash OpenCV): one instance per thread.
        self._local = threading.local()
        self._cascade()
        if scale_factor <= 1.0 or min_neighbors < 1:
            raise ValueError("scale_factor must be > 1 and min_neighbors >= 1")
        self.label = label
        self.classes: tuple[str, ...] = (label,)
        self.scale_factor = float(scale_factor)
        self.min_neighbors = int(min_neighbors)
        self.min_size = min_size

    def __repr__(self) -> str:
        return (
            f"CascadeDetector({self.path!r}, label={self.label!r}, "
            f"scale_factor={self.scale_factor}, min_neighbors={self.min_neighbors})"
        )

    def _cascade(self) -> Any:
        cascade = getattr(self._local, "cascade", None)
        if cascade is None:
            cascade = cv2.CascadeClassifier(self.path)
            if cascade.empty():
                raise DetectorError(f"OpenCV cannot load the cascade {self.path}")
            self._local.cascade = cascade
        return cascade

    def detect(self, image: RGBImage) -> Detections:
        """Objects in ``image`` at its resolution and above (the cascade's own pyramid)."""
        gray = cv2.cvtColor(check_rgb_image(image), cv2.COLOR_RGB2GRAY)
        kwargs: dict[str, Any] = {}
        if self.min_size is not None:
            kwargs["minSize"] = self.min_size
        rects, neighbours = self._cascade().detectMultiScale2(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors, **kwargs
        )
        if len(rects) == 0:
            return Detections.empty()
        r = np.asarray(rects, np.float32).reshape(-1, 4)
        n = np.asarray(neighbours, np.float32).reshape(-1)
        boxes = np.stack([r[:, 0], r[:, 1], r[:, 0] + r[:, 2], r[:, 1] + r[:, 3]], axis=1)
        scores = n / (n + self.min_neighbors)
        return Detections(boxes, scores, (self.label,) * len(r))

    def detect_batch(self, images: Sequence[RGBImage]) -> list[Detections]:
        return [self.detect(image) for image in images]
