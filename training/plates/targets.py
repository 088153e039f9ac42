"""CenterNet targets at stride 4: elliptical Gaussian centre heatmap, log-size and offset."""

from __future__ import annotations

import numpy as np
from model import STRIDE


def encode(
    boxes: np.ndarray, ignore: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """heat (1,g,g), heat weight (1,g,g), log-size (2,g,g), offset (2,g,g), reg mask (1,g,g)."""
    grid = size // STRIDE
    heat = np.zeros((1, grid, grid), np.float32)
    weight = np.ones((1, grid, grid), np.float32)
    wh = np.zeros((2, grid, grid), np.float32)
    offset = np.zeros((2, grid, grid), np.float32)
    mask = np.zeros((1, grid, grid), np.float32)
    ys, xs = np.mgrid[0:grid, 0:grid].astype(np.float32)
    for x0, y0, x1, y1 in np.clip(ignore, 0, size) / STRIDE:
        gx0, gy0 = int(np.floor(x0)), int(np.floor(y0))
        gx1, gy1 = int(np.ceil(x1)), int(np.ceil(y1))
        weight[0, gy0:gy1, gx0:gx1] = 0.0
    for x0, y0, x1, y1 in boxes / STRIDE:
        w, h = max(x1 - x0, 0.25), max(y1 - y0, 0.25)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        ix, iy = min(int(cx), grid - 1), min(int(cy), grid - 1)
        sx, sy = max(0.54 * w / 6, 0.4), max(0.54 * h / 6, 0.4)
        g = np.exp(-((xs - ix) ** 2) / (2 * sx**2) - ((ys - iy) ** 2) / (2 * sy**2))
        heat[0] = np.maximum(heat[0], g)
        heat[0, iy, ix] = 1.0
        weight[0, iy, ix] = 1.0
        wh[:, iy, ix] = np.log(w), np.log(h)
        offset[:, iy, ix] = cx - ix, cy - iy
        mask[0, iy, ix] = 1.0
    return heat, weight, wh, offset, mask
