"""The pure-numpy reference backend: the same semantics as the Rust core, written plainly.

It is the baseline users compare the Rust path against and the oracle the tests check it
with, so it follows the core's definitions step by step (same float expressions in the
same order, same integer rounding). See ``rust/fastredact-core/src/mask.rs`` and
``kernels/`` for the definitions; in short:

* a region is grown by ``scale`` about its centre; pixel ``(x, y)`` is covered when its
  centre is inside the box (half-open) or strictly inside the ellipse's row chord;
* each covered pixel takes the class ``(mode, parameter)`` with the largest key
  ``priority << 32 | parameter`` among the regions covering it;
* blur: three box passes along x, then three along y, radius ``r`` from sigma (default: the
  larger scaled half extent / 2, i.e. width / 4), each pass
  ``trunc(sum * float32(1 / (2r + 1)) + 0.5)`` with edge replication at the image border;
* pixelate: block means (rounded half up) over the covered pixels of the class in each
  block of a grid anchored at the image origin; secure adds keyed per-block noise;
* feather: ``floor(o + (r - o) * w + 0.5)``, ``w`` the largest feather weight.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from fastredact.kernels._regions import MODES, SHAPES, RegionArrays

__all__ = ["redact_arrays"]

_MAX_RADIUS = 16384
_MAX_BLOCK = 16384
_NOISE = 48
_BLUR, _PIXELATE, _SECURE, _FILL = (MODES.index(m) for m in ("blur", "pixelate", "secure", "fill"))
_BOX, _ELLIPSE = (SHAPES.index(s) for s in ("box", "ellipse"))

U8 = npt.NDArray[np.uint8]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


class _Geom:
    """Scaled geometry of one region (scalars as Python floats = IEEE doubles)."""

    def __init__(self, box: F64, shape: int, scale: float, row: int) -> None:
        x0, y0, x1, y1 = (float(v) for v in box)
        self.cx = (x0 + x1) / 2.0
        self.cy = (y0 + y1) / 2.0
        self.hw = (x1 - x0) / 2.0 * scale
        self.hh = (y1 - y0) / 2.0 * scale
        self.shape = shape
        if not all(np.isfinite([self.cx, self.cy, self.hw, self.hh])):
            raise ValueError(f"region {row}: coordinates too large in {box.tolist()}")

    def degenerate(self) -> bool:
        return self.hw <= 0.0 or self.hh <= 0.0

    def rows(self, height: int) -> tuple[int, int]:
        if self.degenerate():
            return 0, 0
        y0 = _clamp_coord(np.ceil(self.cy - self.hh - 0.5), height)
        y1 = _clamp_coord(np.ceil(self.cy + self.hh - 0.5), height)
        return min(y0, height), max(min(y1, height), min(y0, height))

    def spans(self, width: int, height: int) -> tuple[int, I64, I64]:
        """First row and per-row ``[a, b)`` (``a >= b``: empty) of the rows it may cover."""
        y0, y1 = self.rows(height)
        ys = np.arange(y0, y1, dtype=np.float64)
        if self.shape == _BOX:
            lo = np.full(len(ys), self.cx - self.hw - 0.5)
            hi = np.full(len(ys), self.cx + self.hw - 0.5)
        else:
            dy = (ys + 0.5 - self.cy) / self.hh
            q = 1.0 - dy * dy
            hx = self.hw * np.sqrt(np.maximum(q, 0.0))
            lo = self.cx - hx - 0.5
            hi = self.cx + hx - 0.5
            lo = np.where(q > 0.0, lo, 1.0)
            hi = np.where(q > 0.0, hi, 0.0)
        a = np.minimum(np.maximum(np.clip(np.ceil(lo), -1.0, width + 1.0), 0), width)
        b = np.minimum(np.maximum(np.clip(np.ceil(hi), -1.0, width + 1.0), 0), width)
        return y0, a.astype(np.int64), b.astype(np.int64)

    def pixel_bbox(self, width: int, height: int) -> tuple[int, int, int, int]:
        y0, y1 = self.rows(height)
        if self.degenerate():
            return 0, 0, 0, 0
        a = min(_clamp_coord(np.ceil(self.cx - self.hw - 0.5), width), width)
        b = min(_clamp_coord(np.ceil(self.cx + self.hw - 0.5), width), width)
        return a, y0, max(b, a), y1

    def weights(self, xs: F64, ys: F64, feather: float) -> F64:
        px = xs + 0.5
        py = ys + 0.5
        if self.shape == _BOX:
            left = px - (self.cx - self.hw)
            right = (self.cx + self.hw) - px
            top = py - (self.cy - self.hh)
            bottom = (self.cy + self.hh) - py
            d = np.minimum(np.minimum(left, right), np.minimum(top, bottom))
        else:
            dx = (px - self.cx) / self.hw
            dy = (py - self.cy) / self.hh
            t = np.sqrt(dx * dx + dy * dy)
            d = (1.0 - t) * min(self.hw, self.hh)
        w: F64 = np.minimum(np.maximum(d, 0.0) / feather, 1.0)
        return w


def _clamp_coord(v: float, limit: int) -> int:
    return max(int(min(max(float(v), -1.0), limit + 1.0)), 0)


def _radius(sigma: float) -> int:
    d = np.sqrt(4.0 * sigma * sigma + 1.0)
    r = np.floor((d - 1.0) / 2.0 + 0.5)
    return int(min(max(r, 1.0), _MAX_RADIUS))


def _param(mode: int, g: _Geom, strength: float | None) -> int:
    if mode == _BLUR:
        return _radius(strength if strength is not None else max(g.hw, g.hh) / 2.0)
    if mode in (_PIXELATE, _SECURE):
        if strength is not None:
            return int(min(max(np.floor(strength + 0.5), 1.0), _MAX_BLOCK))
        short = min(2.0 * g.hw, 2.0 * g.hh)
        return int(min(max(np.ceil(short / 4.0), 4.0), _MAX_BLOCK))
    return 0


def _box_pass(a: U8, r: int, axis: int) -> U8:
    """One clamped box pass of radius ``r`` along ``axis``, rounded as the core does."""
    n = a.shape[axis]
    pad = [(0, 0)] * a.ndim
    pad[axis] = (r, r)
    p = np.pad(a, pad, mode="edge")
    cs = np.cumsum(p, axis=axis, dtype=np.int64)
    zero_shape = list(cs.shape)
    zero_shape[axis] = 1
    cs = np.concatenate([np.zeros(zero_shape, dtype=np.int64), cs], axis=axis)
    hi = np.take(cs, np.arange(2 * r + 1, 2 * r + 1 + n), axis=axis)
    lo = np.take(cs, np.arange(0, n), axis=axis)
    inv = np.float32(1.0) / np.float32(2 * r + 1)
    out = (hi - lo).astype(np.float32) * inv + np.float32(0.5)
    result: U8 = out.astype(np.int32).astype(np.uint8)
    return result


def _blur(a: U8, r: int) -> U8:
    for _ in range(3):
        a = _box_pass(a, r, axis=1)
    for _ in range(3):
        a = _box_pass(a, r, axis=0)
    return a


def _mix64(z: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    out: npt.NDArray[np.uint64] = z ^ (z >> np.uint64(31))
    return out


def _noise(seed: int, bx: npt.NDArray[np.uint64], by: npt.NDArray[np.uint64], c: int) -> I64:
    cc = np.full(bx.shape, c, dtype=np.uint64)
    with np.errstate(over="ignore"):
        key = (
            np.uint64(seed)
            ^ (bx * np.uint64(0x9E3779B97F4A7C15))
            ^ (by * np.uint64(0xC2B2AE3D27D4EB4F))
            ^ (cc * np.uint64(0x165667B19E3779F9))
        )
        mixed = _mix64(key)
    out: I64 = (mixed % np.uint64(2 * _NOISE + 1)).astype(np.int64) - _NOISE
    return out


def _clusters(rects: list[tuple[int, int, int, int]], pad: int, w: int, h: int) -> list[list[int]]:
    """Group rectangles whose padded (clipped) versions overlap."""
    padded = [
        (max(x0 - pad, 0), max(y0 - pad, 0), min(x1 + pad, w), min(y1 + pad, h))
        for x0, y0, x1, y1 in rects
    ]
    parent = list(range(len(rects)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, p in enumerate(padded):
        for j in range(i + 1, len(padded)):
            q = padded[j]
            if p[0] < q[2] and q[0] < p[2] and p[1] < q[3] and q[1] < p[3]:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(rects)):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def redact_arrays(
    image: U8,
    regions: RegionArrays,
    *,
    scale: float,
    feather: int,
    strength: float | None,
    fill: tuple[int, int, int],
    seed: int,
) -> None:
    """Redact ``image`` (HxW or HxWxC uint8, validated by the caller) in place."""
    img = image[:, :, None] if image.ndim == 2 else image
    height, width, channels = img.shape
    nc = 3 if channels == 4 else channels
    geoms = [_Geom(regions.boxes[i], int(regions.shapes[i]), scale, i) for i in range(len(regions))]
    if height == 0 or width == 0 or not geoms:
        return
    modes = [int(m) for m in regions.modes]
    params = [_param(m, g, strength) for m, g in zip(modes, geoms, strict=True)]
    keys = [(m_prio << 32) | p for m_prio, p in zip(modes, params, strict=True)]

    # Resolve: per pixel the largest key among the regions covering it (-1: none).
    key_img = np.full((height, width), -1, dtype=np.int64)
    cover: list[tuple[int, int, I64, I64]] = []  # first row, last row, a, b
    for g, k in zip(geoms, keys, strict=True):
        y0, a, b = g.spans(width, height)
        cover.append((y0, y0 + len(a), a, b))
        if len(a) == 0:
            continue
        x0, x1 = int(a.min()), int(b.max())
        if x1 <= x0:
            continue
        cols = np.arange(x0, x1)
        inside = (cols >= a[:, None]) & (cols < b[:, None])
        sub = key_img[y0 : y0 + len(a), x0:x1]
        sub[inside & (k > sub)] = k
    union = key_img >= 0
    if not union.any():
        return
    orig = img[:, :, :nc].copy()
    red = orig.copy()

    for k in sorted(set(keys)):
        where = key_img == k
        if not where.any():
            continue
        mode, param = k >> 32, k & 0xFFFFFFFF
        if mode == _FILL:
            colour = fill[:1] if nc == 1 else fill
            red[where] = np.asarray(colour, dtype=np.uint8)
        elif mode == _BLUR:
            members = [i for i in range(len(geoms)) if keys[i] == k]
            rects = [geoms[i].pixel_bbox(width, height) for i in members]
            rects = [r for r in rects if r[0] < r[2] and r[1] < r[3]]
            for group in _clusters(rects, 3 * param, width, height):
                gx0 = min(rects[i][0] for i in group)
                gy0 = min(rects[i][1] for i in group)
                gx1 = max(rects[i][2] for i in group)
                gy1 = max(rects[i][3] for i in group)
                pad = 3 * param
                rx0, ry0 = max(gx0 - pad, 0), max(gy0 - pad, 0)
                rx1, ry1 = min(gx1 + pad, width), min(gy1 + pad, height)
                blurred = _blur(orig[ry0:ry1, rx0:rx1], param)
                inner = blurred[gy0 - ry0 : gy1 - ry0, gx0 - rx0 : gx1 - rx0]
                sel = where[gy0:gy1, gx0:gx1]
                red[gy0:gy1, gx0:gx1][sel] = inner[sel]
        else:
            bs = param
            ys, xs = np.nonzero(where)
            nbx = -(-width // bs)
            block = (ys // bs) * nbx + (xs // bs)
            uniq, inv = np.unique(block, return_inverse=True)
            counts = np.bincount(inv).astype(np.int64)
            px = orig[ys, xs].astype(np.int64)
            means = np.empty((len(uniq), nc), dtype=np.int64)
            for c in range(nc):
                sums = np.bincount(inv, weights=px[:, c]).astype(np.int64)
                means[:, c] = (sums + counts // 2) // counts
            if mode == _SECURE:
                bx = (uniq % nbx).astype(np.uint64)
                by = (uniq // nbx).astype(np.uint64)
                for c in range(nc):
                    means[:, c] = np.clip(means[:, c] + _noise(seed, bx, by, c), 0, 255)
            red[ys, xs] = means[inv].astype(np.uint8)

    if feather > 0:
        weight = np.zeros((height, width), dtype=np.float64)
        for g, (y0, y1, a, b) in zip(geoms, cover, strict=True):
            if y1 <= y0:
                continue
            x0, x1 = int(a.min()), int(max(b.max(), a.min()))
            if x1 <= x0:
                continue
            cols = np.arange(x0, x1)
            inside = (cols >= a[:, None]) & (cols < b[:, None])
            yy, xx = np.meshgrid(
                np.arange(y0, y1, dtype=np.float64), cols.astype(np.float64), indexing="ij"
            )
            wr = np.where(inside, g.weights(xx, yy, float(feather)), 0.0)
            np.maximum(weight[y0:y1, x0:x1], wr, out=weight[y0:y1, x0:x1])
        o = orig.astype(np.float64)
        v = o + (red.astype(np.float64) - o) * weight[:, :, None]
        red = np.floor(v + 0.5).astype(np.uint8)

    out = img[:, :, :nc]
    out[union] = red[union]
