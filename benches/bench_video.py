"""Video redaction throughput against deface 1.5.0, side by side in one run.

    python -m pytest benches/bench_video.py --benchmark-only -s

Clips: egoblur/gen1/test_video.mp4 itself (608×1080, 30 fps, 20 s, 600 frames), and its
first :data:`HD_FRAMES` frames scaled to 1920×1080 in a temporary folder (the portrait
picture enlarged 1.78× and centred on a black canvas, so the face is as large as in a 1080p
close-up; ``FASTREDACT_BENCH_HD_FRAMES`` changes the count). Both tools run as command-line programs
through ``subprocess`` and are timed by this process's clock, start-up and model loading
included: deface's CLI with its defaults (threshold 0.2, mask scale 1.3) from its own
virtual environment (:mod:`deface_env`), and ``fastredact redact`` with its defaults (faces
and plates, every frame detected, verification of detected frames; the headline row: one
video alone detects a frame on each worker at once), then with flags: ``--no-plates``,
``--detect-every 5`` (tracking between detected frames), ``--detect-every 5 --no-plates``,
``--verify-video`` (the written file decoded and every frame checked) and ``--workers 1``
(one worker with every core as detector threads, no frames at once).
fastredact's per-stage times come from its manifest row (``detect_s`` sums the workers).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from tests.support import shared_file

from deface_env import deface_python
from fastredact.run import read_manifest

HD_FRAMES = int(os.environ.get("FASTREDACT_BENCH_HD_FRAMES", "150"))
ROWS = {
    "defaults": [],
    "--no-plates": ["--no-plates"],
    "--detect-every 5": ["--detect-every", "5"],
    "--detect-every 5 --no-plates": ["--detect-every", "5", "--no-plates"],
    "--verify-video": ["--verify-video"],
    "--workers 1": ["--workers", "1"],
}


@pytest.fixture(scope="module")
def gen1(shared_data: Path) -> Path:
    return shared_file(shared_data, "egoblur/gen1/test_video.mp4")


def _make_clip(src: Path, dst: Path, frames: int, size: tuple[int, int] | None) -> Path:
    """The first ``frames`` frames of ``src``, optionally scaled into a ``size`` canvas."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = inp.streams.video[0]
        v = out.add_stream("libx264", rate=stream.average_rate, options={"crf": "16"})
        v.width, v.height = size or (stream.width, stream.height)
        for i, frame in enumerate(inp.decode(video=0)):
            if i == frames:
                break
            if size is not None:
                frame = _centred(frame, *size)
            frame.pict_type = 0
            out.mux(v.encode(frame.reformat(format="yuv420p")))
        out.mux(v.encode(None))
    return dst


def _centred(frame: av.VideoFrame, width: int, height: int) -> av.VideoFrame:
    scale = height / frame.height
    inner = frame.reformat(width=round(frame.width * scale) // 2 * 2, height=height)
    canvas = np.zeros((height, width, 3), np.uint8)
    x = (width - inner.width) // 2
    canvas[:, x : x + inner.width] = inner.to_ndarray(format="rgb24")
    return av.VideoFrame.from_ndarray(canvas, format="rgb24")


@pytest.fixture(scope="module")
def clips(gen1: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bench-video")
    return {
        "608x1080": gen1,
        "1920x1080": _make_clip(gen1, folder / "hd.mp4", HD_FRAMES, (1920, 1080)),
    }


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")
    return seconds


def _fastredact(src: Path, out: Path, *flags: str) -> tuple[float, dict[str, float]]:
    manifest = out / "manifest.jsonl"
    command = [
        sys.executable, "-m", "fastredact", "redact", str(src), "-o", str(out),
        "--manifest", str(manifest), "--no-progress", *flags,
    ]  # fmt: skip
    seconds = _timed(command)
    [row] = read_manifest(manifest)
    timings: dict[str, float] = row["video"]["timings"]
    return seconds, timings


def _deface(src: Path, out: Path) -> float:
    python = deface_python()
    deface = Path(python).parent / "deface"
    return _timed([str(deface), str(src), "-o", str(out / src.name)])


def _frames(path: Path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


@pytest.mark.parametrize("size", ["608x1080", "1920x1080"])
def test_fps_against_deface(
    benchmark: Callable[..., object], clips: dict[str, Path], tmp_path: Path, size: str
) -> None:
    src = clips[size]
    frames = _frames(src)

    def run_all() -> dict[str, float]:
        seconds = {"deface": _deface(src, _fresh(tmp_path / "deface"))}
        for i, (name, flags) in enumerate(ROWS.items()):
            seconds[name], stages = _fastredact(src, _fresh(tmp_path / f"row{i}"), *flags)
            listed = ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
            print(f"\n  fastredact {name} stages (s): {listed}")
        return seconds

    seconds = benchmark.pedantic(run_all, rounds=1, iterations=1)  # type: ignore[attr-defined]
    fps = {k: frames / v for k, v in seconds.items()}  # type: ignore[attr-defined]
    benchmark.extra_info.update({"frames": frames, "fps": fps})  # type: ignore[attr-defined]
    print(
        f"\n{size}, {frames} frames, load {os.getloadavg()[0]:.1f}: deface {fps['deface']:.2f} fps"
    )
    for name in ROWS:
        print(f"  fastredact {name}: {fps[name]:.2f} fps ({fps[name] / fps['deface']:.2f}x)")


def _fresh(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=False)
    return folder
