"""Benchmark helpers: the tests' view of the shared corpus (``../shared/data``: skip when
absent, error under CI), the per-file table of bench_strip and the images/s table of
bench_pipeline, printed after the run.

Run benches from the project root with ``python -m pytest benches/<file> --benchmark-only``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from tests.support import SHARED_DATA, require_shared_data, shared_file

__all__ = ["SHARED_DATA", "shared_data", "shared_file"]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ``../shared/data`` folder, or a skip (an error under CI) when it is absent."""
    return require_shared_data()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    _pipeline_table(terminalreporter)
    module = sys.modules.get("bench_strip")
    per_file: dict[str, dict[str, float]] = getattr(module, "PER_FILE", {})
    batched = per_file.get("exiftool -all= one process")
    if not per_file or batched is None:
        return
    terminalreporter.write_line("")
    terminalreporter.write_line(
        "per-file time (ms), mean and min over rounds; ratio to batched ExifTool (same stat):"
    )
    for name, stats in per_file.items():
        mean, low = stats["mean"], stats["min"]
        terminalreporter.write_line(
            f"  {name:40s} mean {mean * 1000:7.2f} ms ({mean / batched['mean']:5.2f}x)"
            f"   min {low * 1000:7.2f} ms ({low / batched['min']:5.2f}x)"
        )


def _pipeline_table(terminalreporter: pytest.TerminalReporter) -> None:
    module = sys.modules.get("bench_pipeline")
    if module is None or not getattr(module, "RESULTS", None):
        return
    terminalreporter.write_line("")
    for line in module.table():
        terminalreporter.write_line(line)
