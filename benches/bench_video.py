"""Video redaction throughput (frames per second), one run each.

    python -m pytest benches/bench_video.py --benchmark-only

Clips: egoblur/gen1/test_video.mp4 (608×1080, 600 frames) and a 1920×1080 copy of its
first 150 frames made in a temporary folder. The detector is a stand-in (OpenCV's Haar
cascade, see ``make_detector``); the lead swaps in ``fastredact.detect`` there, and adds
deface on the same clips for the "≥ 3× deface" comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import pytest
from tests.conftest import shared_file
from tests.videoclips import HaarFaces, blur_boxes

from fastredact.video import VideoOptions, redact_video

HD_FRAMES = 150


def make_detector() -> HaarFaces:
    # >>> the real detector goes here (fastredact.detect, CenterFace) <<<
    return HaarFaces(downscale=2)


@pytest.fixture(scope="module")
def gen1(shared_data: Path) -> Path:
    return shared_file(shared_data, "egoblur/gen1/test_video.mp4")


@pytest.fixture(scope="module")
def hd_clip(gen1: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1920×1080 (the portrait picture scaled and centred on a wide canvas)."""
    dst = tmp_path_factory.mktemp("bench") / "hd.mp4"
    with av.open(str(gen1)) as inp, av.open(str(dst), "w") as out:
        v = out.add_stream("libx264", rate=30, options={"crf": "16", "preset": "ultrafast"})
        v.width, v.height = 1920, 1080
        for i, frame in enumerate(inp.decode(video=0)):
            if i == HD_FRAMES:
                break
            rgb = frame.to_ndarray(format="rgb24")
            canvas = av.VideoFrame(1920, 1080, "rgb24").to_ndarray() * 0
            canvas[:, 656 : 656 + 608] = rgb
            out.mux(v.encode(av.VideoFrame.from_ndarray(canvas, format="rgb24")))
        out.mux(v.encode(None))
    return dst


def _run(
    benchmark: Callable[..., object], src: Path, tmp_path: Path, options: VideoOptions
) -> None:
    detector = make_detector()
    result = benchmark.pedantic(  # type: ignore[attr-defined]
        redact_video,
        args=(src, tmp_path / "out.mp4"),
        kwargs={"detector": detector, "redact_frame": blur_boxes, "options": options},
        rounds=1,
        iterations=1,
    )
    seconds = result.timings["total_s"]
    benchmark.extra_info.update(  # type: ignore[attr-defined]
        {
            "frames": result.frames,
            "fps": round(result.frames / seconds, 2),
            "frames_detected": result.frames_detected,
            "timings": {k: round(v, 2) for k, v in result.timings.items()},
        }
    )
    print(
        f"\n{src.name} {options.detect_every=}: {result.frames / seconds:.1f} fps", result.timings
    )


@pytest.mark.parametrize("detect_every", [1, 5], ids=["detect-every-1", "tracking-every-5"])
def test_fps_gen1(benchmark: object, gen1: Path, tmp_path: Path, detect_every: int) -> None:
    _run(benchmark, gen1, tmp_path, VideoOptions(detect_every=detect_every))  # type: ignore[arg-type]


@pytest.mark.parametrize("detect_every", [1, 5], ids=["detect-every-1", "tracking-every-5"])
def test_fps_1080p(benchmark: object, hd_clip: Path, tmp_path: Path, detect_every: int) -> None:
    _run(benchmark, hd_clip, tmp_path, VideoOptions(detect_every=detect_every))  # type: ignore[arg-type]
