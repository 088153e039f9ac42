"""The video encoder is the user's to choose: ``--video-codec``, ``--crf``, ``--preset``
(and the same ``Redactor`` options), validated before anything runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from numpy.typing import NDArray

from fastredact.run import Redactor, read_manifest
from fastredact.video._options import VideoOptions
from tests.support.videoclips import make_square_clip


def yuv_planes(path: Path) -> list[NDArray[np.uint8]]:
    """Every decoded frame as its stored 4:2:0 planes (no colour conversion)."""
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="yuv420p") for f in container.decode(video=0)]


def stream_codec(path: Path) -> str:
    with av.open(str(path)) as container:
        return container.streams.video[0].codec_context.name


def test_crf_0_is_lossless_where_nothing_is_hidden(tmp_path: Path) -> None:
    src = make_square_clip(tmp_path / "in.mp4", frames=8, width=96, height=64)
    redactor = Redactor(faces=False, plates=False, workers=1, crf=0, preset="ultrafast")
    result = redactor.redact_file(src, tmp_path / "out.mp4")
    assert result.ok, result.error
    before, after = yuv_planes(src), yuv_planes(tmp_path / "out.mp4")
    assert len(after) == len(before) == 8
    for i, (a, b) in enumerate(zip(before, after, strict=True)):
        assert np.array_equal(a, b), f"frame {i} changed"


def test_default_crf_is_lossy_so_the_lossless_test_can_fail(tmp_path: Path) -> None:
    src = make_square_clip(tmp_path / "in.mp4", frames=8, width=96, height=64)
    result = Redactor(faces=False, plates=False, workers=1, crf=40).redact_file(
        src, tmp_path / "out.mp4"
    )
    assert result.ok, result.error
    before, after = yuv_planes(src), yuv_planes(tmp_path / "out.mp4")
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_cli_writes_the_chosen_codec_and_records_it(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    src = make_square_clip(tmp_path / "in" / "clip.mp4", frames=6)
    manifest = tmp_path / "manifest.jsonl"
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "fastredact", "redact", str(src)),
            *("-o", str(tmp_path / "out"), "--manifest", str(manifest)),
            *("--video-codec", "libx265", "--crf", "30", "--preset", "ultrafast"),
            *("--no-faces", "--no-plates", "--workers", "1", "--no-progress"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert stream_codec(tmp_path / "out" / "clip.mp4") == "hevc"
    row = list(read_manifest(manifest))[-1]
    assert row["video"]["codec"] == "libx265"
    assert row["settings"]["video_codec"] == "libx265"
    assert row["settings"]["crf"] == 30 and row["settings"]["preset"] == "ultrafast"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--video-codec", "no-such-encoder"), "no video encoder named 'no-such-encoder'"),
        (("--video-codec", "aac"), "'aac' encodes audio, not video"),
        (("--crf", "60"), "crf must be between 0 and 51 for H.264/H.265"),
        (("--crf", "-1"), "crf must be between 0 and 63"),
        (("--preset", "warp"), "invalid choice: 'warp'"),
    ],
)
def test_cli_refuses_bad_encoder_settings_before_any_work(
    tmp_path: Path, flags: tuple[str, ...], message: str
) -> None:
    src = make_square_clip(tmp_path / "clip.mp4", frames=2)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "fastredact",
            "redact",
            str(src),
            "-o",
            str(tmp_path / "out"),
            *flags,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_video_options_accept_63_for_vp9() -> None:
    assert VideoOptions(codec="libvpx-vp9", crf=63).crf == 63
    with pytest.raises(ValueError, match="51"):
        VideoOptions(crf=52)
