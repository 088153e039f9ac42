"""The detector protocol and the :class:`Detections` container every detector returns.

Coordinates are always in pixels of the image that was passed to ``detect`` (after EXIF
orientation has been applied by the caller): ``x0, y0`` is the top-left corner, ``x1, y1``
the bottom-right corner (exclusive), as float32.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Detections",
    "Detector",
    "check_rgb_image",
    "same_shape_batches",
]

FloatArray = NDArray[np.float32]
RGBImage = NDArray[np.uint8]


def check_rgb_image(image: object) -> RGBImage:
    """Return ``image`` if it is an RGB uint8 array of shape (H, W, 3); raise otherwise."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a numpy array, not {type(image).__name__}")
    if image.dtype != np.uint8:
        raise TypeError(f"image must be uint8 RGB, not {image.dtype}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must have shape (H, W, 3), not {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image is empty: shape {image.shape}")
    return image


def same_shape_batches(images: Sequence[RGBImage], max_pixels: int) -> Iterator[list[int]]:
    """Indices of ``images`` (checked RGB) in batches of one shape and at most ``max_pixels``
    pixels (at least one image), for detectors whose network takes a batch of one size."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, image in enumerate(images):
        groups.setdefault(check_rgb_image(image).shape, []).append(i)
    for shape, indices in groups.items():
        per_call = max(1, max_pixels // (shape[0] * shape[1]))
        for start in range(0, len(indices), per_call):
            yield indices[start : start + per_call]


@dataclass(frozen=True)
class Detections:
    """What a detector found in one image.

    ``boxes`` is float32 (N, 4) ``x0, y0, x1, y1``; ``scores`` float32 (N,); ``labels`` a
    tuple of N class names (``"face"``, ``"plate"``, …); ``landmarks`` float32 (N, K, 2)
    ``x, y`` points (five facial landmarks for CenterFace) or ``None``.
    """

    boxes: FloatArray
    scores: FloatArray
    labels: tuple[str, ...]
    landmarks: FloatArray | None = field(default=None)

    def __post_init__(self) -> None:
        boxes = np.ascontiguousarray(self.boxes, dtype=np.float32).reshape(-1, 4)
        scores = np.ascontiguousarray(self.scores, dtype=np.float32).reshape(-1)
        labels = tuple(str(label) for label in self.labels)
        n = boxes.shape[0]
        if scores.shape[0] != n or len(labels) != n:
            raise ValueError(
                f"inconsistent detections: {n} boxes, {scores.shape[0]} scores, "
                f"{len(labels)} labels"
            )
        landmarks = self.landmarks
        if landmarks is not None:
            landmarks = np.ascontiguousarray(landmarks, dtype=np.float32)
            if landmarks.ndim != 3 or landmarks.shape[0] != n or landmarks.shape[2] != 2:
                raise ValueError(f"landmarks must have shape ({n}, K, 2), not {landmarks.shape}")
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "scores", scores)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "landmarks", landmarks)

    @classmethod
    def empty(cls, landmarks: int | None = None) -> Detections:
        """No detections (with a (0, ``landmarks``, 2) landmark array when given)."""
        lms = None if landmarks is None else np.zeros((0, landmarks, 2), np.float32)
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), (), lms)

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    @property
    def widths(self) -> FloatArray:
        return self.boxes[:, 2] - self.boxes[:, 0]

    @property
    def heights(self) -> FloatArray:
        return self.boxes[:, 3] - self.boxes[:, 1]

    def select(self, index: NDArray[np.bool_] | NDArray[np.intp] | Sequence[int]) -> Detections:
        """The detections at ``index`` (a boolean mask or integer indices), in that order."""
        idx = np.asarray(index)
        if idx.dtype == np.bool_:
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.intp, copy=False)
        lms = None if self.landmarks is None else self.landmarks[idx]
        return Detections(
            self.boxes[idx], self.scores[idx], tuple(self.labels[i] for i in idx), lms
        )

    def with_label(self, label: str) -> Detections:
        """Only the detections labelled ``label``."""
        return self.select(np.array([lab == label for lab in self.labels], dtype=np.bool_))

    def transformed(self, scale_x: float, scale_y: float, dx: float, dy: float) -> Detections:
        """Map coordinates: ``x' = x * scale_x + dx``, ``y' = y * scale_y + dy``."""
        mul = np.array([scale_x, scale_y, scale_x, scale_y], np.float32)
        add = np.array([dx, dy, dx, dy], np.float32)
        lms = None
        if self.landmarks is not None:
            lms = self.landmarks * np.array([scale_x, scale_y], np.float32) + np.array(
                [dx, dy], np.float32
            )
        return Detections(self.boxes * mul + add, self.scores, self.labels, lms)

    def clipped(self, width: int, height: int) -> Detections:
        """Boxes clipped to the image; boxes left empty by clipping are dropped."""
        boxes = self.boxes.copy()
        np.clip(boxes[:, 0::2], 0, width, out=boxes[:, 0::2])
        np.clip(boxes[:, 1::2], 0, height, out=boxes[:, 1::2])
        keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        clipped = Detections(boxes, self.scores, self.labels, self.landmarks)
        return clipped if bool(keep.all()) else clipped.select(keep)

    @staticmethod
    def concat(parts: Iterable[Detections]) -> Detections:
        """All detections of ``parts`` in one object (landmarks kept only if all have them)."""
        items = [p for p in parts if len(p)]
        if not items:
            return Detections.empty()
        lms = None
        shapes = {None if p.landmarks is None else p.landmarks.shape[1] for p in items}
        if None not in shapes and len(shapes) == 1:
            lms = np.concatenate([p.landmarks for p in items if p.landmarks is not None])
        return Detections(
            np.concatenate([p.boxes for p in items]),
            np.concatenate([p.scores for p in items]),
            tuple(lab for p in items for lab in p.labels),
            lms,
        )

    def __repr__(self) -> str:
        rows = ", ".join(
            f"{lab}@({b[0]:.0f},{b[1]:.0f},{b[2]:.0f},{b[3]:.0f}) {s:.2f}"
            for b, s, lab in zip(self.boxes, self.scores, self.labels, strict=False)
        )
        return f"Detections([{rows}])"


@runtime_checkable
class Detector(Protocol):
    """Anything that finds objects in an RGB uint8 image of shape (H, W, 3)."""

    @property
    def classes(self) -> tuple[str, ...]:
        """The labels this detector can report."""
        ...

    def detect(self, image: RGBImage) -> Detections:
        """Find objects; boxes in ``image`` pixel coordinates."""
        ...
