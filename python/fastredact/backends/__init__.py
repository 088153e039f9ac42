"""Redaction backends: ``rust`` (the compiled core, :mod:`fastredact._core`) and ``numpy``
(:mod:`fastredact.backends.numpy_ref`, the pure-numpy reference with the same semantics)."""

from __future__ import annotations

from typing import Literal, TypeAlias

__all__ = ["BACKENDS", "Backend"]

Backend: TypeAlias = Literal["rust", "numpy"]
BACKENDS: tuple[Backend, ...] = ("rust", "numpy")
