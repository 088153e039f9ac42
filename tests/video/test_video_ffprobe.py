"""Video metadata removal checked by an independent reader: the system's ``ffprobe``
(Debian's FFmpeg build, not the one inside PyAV), ``-show_format -show_streams
-show_chapters``, on a synthetic dirty MP4 and on the shared corpus's real videos."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fastredact.video import VideoOptions, redact_video
from tests.support import reference_tool, shared_file
from tests.support.videoclips import GPS_TEXT, PRIVATE, NullDetector, fill_black, make_dirty_mp4

FAST = VideoOptions(preset="ultrafast")

# What a muxer writes by itself and may stay (no value from the source, see the asserts).
ALLOWED_FORMAT_TAGS = {"major_brand", "minor_version", "compatible_brands", "encoder"}
ALLOWED_STREAM_TAGS = {"language", "handler_name", "vendor_id", "DURATION"}
GENERIC_HANDLERS = {"VideoHandler", "SoundHandler"}

REAL = [
    ("mat2/dirty.mp4", ".mp4"),
    ("mat2/dirty.avi", ".mkv"),
    ("egoblur/gen2/test_lp_video.mp4", ".mov"),
    ("egoblur/gen1/test_video.mp4", ".mp4"),
]


@pytest.fixture(scope="module")
def ffprobe() -> str:
    return reference_tool("ffprobe", "ffmpeg")


def probe(ffprobe: str, path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [
            *(ffprobe, "-v", "error", "-of", "json"),
            *("-show_format", "-show_streams", "-show_chapters", str(path)),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def assert_clean(report: dict[str, Any]) -> None:
    assert report.get("chapters", []) == []
    assert {s["codec_type"] for s in report["streams"]} <= {"video", "audio"}
    tags = report["format"].get("tags", {})
    assert set(tags) <= ALLOWED_FORMAT_TAGS, tags
    assert tags.get("encoder", "Lavf") == "Lavf", tags  # no version, nothing of the source
    for stream in report["streams"]:
        stream_tags = stream.get("tags", {})
        assert set(stream_tags) <= ALLOWED_STREAM_TAGS, stream_tags
        assert stream_tags.get("handler_name", "VideoHandler") in GENERIC_HANDLERS
        assert not stream.get("side_data_list") or all(
            s.get("side_data_type") == "Display Matrix" for s in stream["side_data_list"]
        )


def test_dirty_mp4_leaves_nothing_ffprobe_can_see(ffprobe: str, tmp_path: Path) -> None:
    src = make_dirty_mp4(tmp_path / "dirty.mp4")
    before = probe(ffprobe, src)
    text = json.dumps(before)
    # The probe does see what the source carries, so a clean report means something (the
    # MP4 muxer itself drops make/model and replaces the encoder tag).
    for key in ("title", "location", "creation_time", "comment"):
        assert PRIVATE[key] in text, key
    assert "Alice birthday" in text  # the chapter title
    assert {"subtitle", "data"} <= {s["codec_type"] for s in before["streams"]}
    assert before["chapters"]
    dst = tmp_path / "out.mp4"
    redact_video(src, dst, detector=NullDetector(), redact_frame=fill_black, options=FAST)
    after = probe(ffprobe, dst)
    assert_clean(after)
    text = json.dumps(after)
    for value in (*PRIVATE.values(), GPS_TEXT, "Alice", "2024-05-01"):
        assert value not in text
    assert [s["codec_type"] for s in after["streams"]] == ["video", "audio"]


@pytest.mark.parametrize(("name", "suffix"), REAL)
def test_real_videos_are_clean_to_ffprobe(
    ffprobe: str, shared_data: Path, tmp_path: Path, name: str, suffix: str
) -> None:
    src = shared_file(shared_data, name)
    before = probe(ffprobe, src)
    dst = tmp_path / f"out{suffix}"
    redact_video(src, dst, detector=NullDetector(), redact_frame=fill_black, options=FAST)
    after = probe(ffprobe, dst)
    assert_clean(after)
    source_tags = {
        str(v)
        for part in (before["format"], *before["streams"])
        for k, v in part.get("tags", {}).items()
        if k not in ALLOWED_FORMAT_TAGS | ALLOWED_STREAM_TAGS and len(str(v)) > 3
    }
    text = json.dumps(after)
    assert not {v for v in source_tags if v in text}
