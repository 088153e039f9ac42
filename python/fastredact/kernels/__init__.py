"""The kernels: ``redact`` hides regions of an image in place (the public entry point of the
Rust kernels, ``rust/fastredact-core/src/kernels`` and ``mask.rs``), with the numpy
reference backend (:mod:`fastredact.kernels._numpy_ref`) beside it."""

from __future__ import annotations

import math
import numbers
import secrets
from collections.abc import Sequence
from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from fastredact import _core
from fastredact.kernels import _numpy_ref
from fastredact.kernels._regions import (
    DEFAULT_MASK_SCALE,
    MODES,
    SHAPES,
    Mode,
    Region,
    RegionArrays,
    Regions,
    Shape,
    normalize_regions,
)

__all__ = [
    "BACKENDS",
    "DEFAULT_MASK_SCALE",
    "MODES",
    "SHAPES",
    "Backend",
    "Mode",
    "Region",
    "RegionArrays",
    "Regions",
    "Shape",
    "normalize_regions",
    "redact",
]

Backend: TypeAlias = Literal["rust", "numpy"]
"""``rust``: the compiled core (:mod:`fastredact._core`); ``numpy``: the pure-numpy reference
with the same semantics (:mod:`fastredact.kernels._numpy_ref`)."""
BACKENDS: tuple[Backend, ...] = ("rust", "numpy")

#: The secret behind ``secure`` noise when no seed is given: drawn once per process from
#: the OS, so the noise is unknown to whoever sees the output and stays the same for a
#: block across the frames of a video (averaging frames does not cancel it).
_PROCESS_SEED = secrets.randbits(64)


def _check_image(image: object) -> npt.NDArray[np.uint8]:
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise TypeError(f"image must have dtype uint8, got {image.dtype}")
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise ValueError(f"image must be HxW, HxWx3 or HxWx4, got shape {image.shape}")
    if not image.flags.writeable:
        raise ValueError("image is read-only; redact works in place")
    return image


def _check_fill(fill: int | Sequence[int], grey: bool) -> tuple[int, int, int]:
    values: list[object] = [fill] if isinstance(fill, (int, np.integer)) else list(fill)
    if not values or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) and 0 <= int(v) <= 255
        for v in values
    ):
        raise ValueError(f"fill must be an int or 3 ints in 0..255, got {fill!r}")
    ints = [int(v) for v in values if isinstance(v, numbers.Integral)]
    if len(ints) == 1:
        return (ints[0], ints[0], ints[0])
    if len(ints) != 3:
        raise ValueError(f"fill must be an int or 3 ints in 0..255, got {fill!r}")
    if grey and len(set(ints)) != 1:
        raise ValueError(f"a grey image needs a grey fill (one value), got {fill!r}")
    return (ints[0], ints[1], ints[2])


def redact(
    image: npt.NDArray[np.uint8],
    regions: Regions,
    *,
    mode: Mode = "blur",
    shape: Shape = "ellipse",
    scale: float = DEFAULT_MASK_SCALE,
    feather: int = 0,
    strength: float | None = None,
    fill: int | Sequence[int] = (0, 0, 0),
    backend: Backend = "rust",
    threads: int | None = None,
    seed: int | None = None,
) -> None:
    """Hide ``regions`` of ``image`` in place; every pixel outside them is left unchanged.

    ``image``: uint8 HxW, HxWx3 or HxWx4 (alpha untouched), C-contiguous or a strided view.
    ``regions``: an (N, 4) array of ``x0, y0, x1, y1`` boxes (may reach outside the image),
    or a sequence of :class:`~fastredact.Region` carrying their own shape and mode.
    ``mode``: ``blur`` (Gaussian, sigma = region width / 4 unless ``strength`` gives sigma),
    ``pixelate`` (about 4 blocks across the short side, >= 4 px; ``strength`` gives the block
    size), ``secure`` (pixelate plus secret per-block noise) or ``fill`` (``fill`` colour).
    Where regions overlap the strongest mode wins: fill > secure > pixelate > blur.
    ``shape``: ``box`` or ``ellipse`` (inscribed); ``scale`` grows each region about its
    centre; ``feather`` blends the innermost ``feather`` pixels of the edge with the original.
    ``backend``: ``rust`` or ``numpy`` (the reference; same result within ±1 per channel).
    ``threads``: worker threads for the Rust backend (default: all cores).
    ``seed``: the secret of ``secure`` noise (default: one random value per process; pass
    one only for reproducible output, as anyone who knows it can subtract the noise).

    The Rust backend releases the GIL while it works; do not write to ``image`` from
    another thread meanwhile.
    """
    img = _check_image(image)
    arrays = normalize_regions(regions, shape=shape, mode=mode)
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real):
        raise TypeError(f"scale must be a number, got {type(scale).__name__}")
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a finite number > 0, got {scale!r}")
    if isinstance(feather, bool) or not isinstance(feather, numbers.Integral):
        raise TypeError(f"feather must be an int, got {type(feather).__name__}")
    if not 0 <= feather < 2**31:
        raise ValueError(f"feather must be >= 0, got {feather}")
    if strength is not None and not (
        isinstance(strength, numbers.Real)
        and not isinstance(strength, bool)
        and math.isfinite(strength)
        and strength > 0
    ):
        raise ValueError(f"strength must be None or a finite number > 0, got {strength!r}")
    grey = img.ndim == 2 or img.shape[2] == 1
    colour = _check_fill(fill, grey)
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if threads is not None and (
        isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or threads < 1
    ):
        raise ValueError(f"threads must be None or an int >= 1, got {threads!r}")
    if seed is not None and not (isinstance(seed, numbers.Integral) and 0 <= seed < 2**64):
        raise ValueError(f"seed must be None or an int in [0, 2**64), got {seed!r}")
    secret = _PROCESS_SEED if seed is None else int(seed)
    s = None if strength is None else float(strength)
    if len(arrays) == 0 or img.size == 0:
        return
    if backend == "numpy":
        _numpy_ref.redact_arrays(
            img,
            arrays,
            scale=float(scale),
            feather=int(feather),
            strength=s,
            fill=colour,
            seed=secret,
        )
    else:
        _core.redact(
            img,
            arrays.boxes,
            arrays.shapes,
            arrays.modes,
            float(scale),
            int(feather),
            s,
            colour,
            secret,
            None if threads is None else int(threads),
        )
