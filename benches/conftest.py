"""Benchmark helpers: print the per-file table of bench_strip after the run."""

from __future__ import annotations

import sys

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
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
