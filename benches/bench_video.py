"""Video redaction throughput against deface 1.5.0, side by side in one run.

    python -m pytest benches/bench_video.py --benchmark-only -s

Clips: egoblur/gen1/test_video.mp4 itself (608×1080, 30 fps, 20 s, 600 frames), and its
first :data:`HD_FRAMES` frames scaled to 1920×1080 in a temporary folder (the portrait
picture enlarged 1.78× and centred on a black canvas, so the face is as large as in a 1080p
close-up; ``FASTREDACT_BENCH_HD_FRAMES`` changes the count). Both tools run as command-line programs
through ``subprocess`` and are timed by this process's clock, start-up and model loading
included: ``fastredact redact`` (CenterFace faces, the default face detection; plates off
because deface finds only faces; one worker, so the detector uses every core) with
``--detect-every 5`` (tracking), ``--detect-every 1`` and ``--detect-every 5 --verify-video``
(the written output checked frame by frame), and deface's CLI from its own
virtual environment (:mod:`deface_env`) at the same face threshold (0.35) and mask scale
(fastredact's default).
fastredact's per-stage times come from its manifest row.
"""

from __future__ import annotations

import json
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
from fastredact.detect import DEFAULTS
from fastredact.kernels import DEFAULT_MASK_SCALE

HD_FRAMES = int(os.environ.get("FASTREDACT_BENCH_HD_FRAMES", "150"))
THRESHOLD = DEFAULTS["centerface"].threshold
MASK_SCALE = DEFAULT_MASK_SCALE


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


def _fastredact(
    src: Path, out: Path, detect_every: int, *extra: str
) -> tuple[float, dict[str, float]]:
    manifest = out / "manifest.jsonl"
    command = [
        sys.executable, "-m", "fastredact", "redact", str(src), "-o", str(out),
        "--no-plates", "--workers", "1", "--detect-every", str(detect_every),
        "--threshold", str(THRESHOLD), "--manifest", str(manifest), *extra,
    ]  # fmt: skip
    seconds = _timed(command)
    row = json.loads(manifest.read_text().splitlines()[-1])
    return seconds, row["video"]["timings"]


def _deface(src: Path, out: Path) -> float:
    python = deface_python()
    deface = Path(python).parent / "deface"
    command = [
        str(deface), str(src), "-o", str(out / src.name),
        "--thresh", str(THRESHOLD), "--mask-scale", str(MASK_SCALE),
    ]  # fmt: skip
    return _timed(command)


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
        deface_s = _deface(src, _fresh(tmp_path / "deface"))
        tracked_s, tracked_t = _fastredact(src, _fresh(tmp_path / "every5"), 5)
        every1_s, every1_t = _fastredact(src, _fresh(tmp_path / "every1"), 1)
        checked_s, checked_t = _fastredact(src, _fresh(tmp_path / "checked"), 5, "--verify-video")
        for name, t in (
            ("--detect-every 5", tracked_t),
            ("--detect-every 1", every1_t),
            ("--detect-every 5 --verify-video", checked_t),
        ):
            stages = ", ".join(f"{k} {v:.1f}" for k, v in t.items())
            print(f"\n  fastredact {name} stages (s): {stages}")
        return {"deface": deface_s, "every5": tracked_s, "every1": every1_s, "checked": checked_s}

    seconds = benchmark.pedantic(run_all, rounds=1, iterations=1)  # type: ignore[attr-defined]
    fps = {k: frames / v for k, v in seconds.items()}  # type: ignore[attr-defined]
    benchmark.extra_info.update({"frames": frames, "fps": fps})  # type: ignore[attr-defined]
    print(
        f"\n{size}, {frames} frames, load {os.getloadavg()[0]:.1f}: "
        f"deface {fps['deface']:.2f} fps; fastredact --detect-every 5 {fps['every5']:.2f} fps "
        f"({fps['every5'] / fps['deface']:.2f}x); --detect-every 1 {fps['every1']:.2f} fps "
        f"({fps['every1'] / fps['deface']:.2f}x); --detect-every 5 --verify-video "
        f"{fps['checked']:.2f} fps ({fps['checked'] / fps['deface']:.2f}x)"
    )


def _fresh(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=False)
    return folder
