"""Box overlap, non-maximum suppression and the merge of several passes (full frame + tiles)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from fastredact.detect._base import Detections

__all__ = ["intersection_areas", "iou_matrix", "merge_passes", "nms"]


def _areas(boxes: NDArray[np.floating]) -> NDArray[np.float64]:
    b = boxes.astype(np.float64)
    return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def intersection_areas(a: NDArray[np.floating], b: NDArray[np.floating]) -> NDArray[np.float64]:
    """Overlap area of every box of ``a`` (N, 4) with every box of ``b`` (M, 4): (N, M)."""
    a64 = a.astype(np.float64)[:, None, :]
    b64 = b.astype(np.float64)[None, :, :]
    w = np.minimum(a64[..., 2], b64[..., 2]) - np.maximum(a64[..., 0], b64[..., 0])
    h = np.minimum(a64[..., 3], b64[..., 3]) - np.maximum(a64[..., 1], b64[..., 1])
    inter: NDArray[np.float64] = np.clip(w, 0, None) * np.clip(h, 0, None)
    return inter


def iou_matrix(a: NDArray[np.floating], b: NDArray[np.floating]) -> NDArray[np.float64]:
    """Intersection over union of every box of ``a`` (N, 4) with every box of ``b`` (M, 4)."""
    inter = intersection_areas(a, b)
    union = _areas(a)[:, None] + _areas(b)[None, :] - inter
    out: NDArray[np.float64] = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return out


def nms(
    boxes: NDArray[np.float32], scores: NDArray[np.float32], iou_threshold: float
) -> NDArray[np.intp]:
    """Greedy NMS: indices of the kept boxes, highest score first.

    A box is suppressed when its IoU with a kept, higher-scoring box is ``>= iou_threshold``.
    Ties in score keep the lower index.
    """
    n = boxes.shape[0]
    if n == 0:
        return np.zeros(0, np.intp)
    order = np.argsort(-scores.astype(np.float64), kind="stable")
    iou = iou_matrix(boxes, boxes)
    suppressed = np.zeros(n, np.bool_)
    keep: list[int] = []
    for i in order:
        if suppressed[i]:
            continue
        keep.append(int(i))
        suppressed |= iou[i] >= iou_threshold
    return np.asarray(keep, np.intp)


def merge_passes(
    dets: Detections, iou_threshold: float = 0.4, containment: float = 0.7
) -> Detections:
    """Merge detections of several overlapping passes of one image, per label.

    Detections are visited by decreasing score; each kept detection absorbs the remaining
    ones of the same label whose IoU with it is ``>= iou_threshold``, which lie mostly inside
    it (``>= containment`` of their area), or which mostly contain it while being at most
    4x its area (the whole face, when the kept box is a part cut by a tile border). The kept
    box grows to the union of what it absorbed, so a merge never uncovers pixels that one of
    the passes covered; score and landmarks are the kept detection's. A much larger box
    around a strong small one stays a separate detection.
    """
    n = len(dets)
    if n <= 1:
        return dets
    boxes = dets.boxes.copy()
    labels = np.asarray(dets.labels, dtype=object)
    inter = intersection_areas(boxes, boxes)
    areas = _areas(boxes)
    union = areas[:, None] + areas[None, :] - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    # inside[i, j]: the share of box j that lies inside box i.
    inside = np.divide(inter, areas[None, :], out=np.zeros_like(inter), where=areas[None, :] > 0)
    comparable = areas[None, :] <= 4 * areas[:, None]
    same = labels[:, None] == labels[None, :]
    absorb = same & (
        (iou >= iou_threshold) | (inside >= containment) | ((containment <= inside.T) & comparable)
    )
    order = np.argsort(-dets.scores.astype(np.float64), kind="stable")
    taken = np.zeros(n, np.bool_)
    keep: list[int] = []
    for i in order:
        if taken[i]:
            continue
        members = absorb[i] & ~taken
        members[i] = True
        taken |= members
        group = boxes[members]
        boxes[i] = (
            group[:, 0].min(),
            group[:, 1].min(),
            group[:, 2].max(),
            group[:, 3].max(),
        )
        keep.append(int(i))
    idx = np.asarray(keep, np.intp)
    lms = None if dets.landmarks is None else dets.landmarks[idx]
    return Detections(boxes[idx], dets.scores[idx], tuple(dets.labels[i] for i in idx), lms)
