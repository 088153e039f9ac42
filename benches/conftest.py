"""Benchmarks reuse the tests' fixtures (the shared corpus)."""

from tests.conftest import shared_data

__all__ = ["shared_data"]
