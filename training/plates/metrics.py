"""Recall at IoU ≥ 0.3 and false positives per image, matched greedily by score."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU between every box of ``a`` (N, 4) and ``b`` (M, 4), x0 y0 x1 y1."""
    ix = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    iy = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(ix, 0, None) * np.clip(iy, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


@dataclass
class Tally:
    """Counts over a set of images."""

    images: int = 0
    plates: int = 0
    found: int = 0
    false_positives: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.plates if self.plates else float("nan")

    @property
    def fp_per_image(self) -> float:
        return self.false_positives / self.images if self.images else float("nan")

    def add(self, boxes: np.ndarray, scores: np.ndarray, truth: np.ndarray, iou: float) -> None:
        """One image: each true plate matches at most one detection (best scores first)."""
        self.images += 1
        self.plates += len(truth)
        if not len(boxes):
            return
        order = np.argsort(-scores, kind="stable")
        overlap = iou_matrix(boxes[order], truth) if len(truth) else None
        taken = np.zeros(len(truth), bool)
        for i in range(len(order)):
            if overlap is not None:
                candidates = np.where(~taken & (overlap[i] >= iou))[0]
                if candidates.size:
                    taken[candidates[np.argmax(overlap[i, candidates])]] = True
                    self.found += 1
                    continue
            self.false_positives += 1
