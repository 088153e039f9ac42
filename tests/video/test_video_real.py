"""Video redaction on the shared corpus of real files (../shared/data)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from fastredact._atomic import TEMP_MARKER
from fastredact.errors import CorruptInput, UnsupportedFormat
from fastredact.video import VideoOptions, redact_video
from tests.support import shared_file
from tests.support.videoclips import (
    HaarFaces,
    NullDetector,
    audio_packets,
    blur_boxes,
    exiftool_dump,
    fill_black,
    read_video,
)

FAST = VideoOptions(preset="ultrafast")

# (file, output suffix): structure, timing, audio and metadata are checked on each
REAL = [
    ("egoblur/gen1/test_video.mp4", ".mp4"),
    ("egoblur/gen2/test_face_video.mp4", ".mp4"),
    ("egoblur/gen2/test_lp_video.mp4", ".mov"),
    ("redact-client/not_starting_with_keyframe.mp4", ".mp4"),
    ("mat2/dirty.mp4", ".mp4"),
    ("mat2/dirty.avi", ".mkv"),
]

# what a source may leave in exiftool's output, and must not leave in ours
SOURCE_TRACES = (
    "HandBrake",
    "Lavf5",
    "Lavf6",
    "Lavc61",
    "JVT/AVC",
    "Core Media",
    "7465396486291",
    "MEncoder",
)


@pytest.mark.parametrize(("name", "suffix"), REAL)
def test_real_video_keeps_frames_timing_and_audio(
    shared_data: Path, tmp_path: Path, name: str, suffix: str
) -> None:
    src = shared_file(shared_data, name)
    dst = tmp_path / f"out{suffix}"
    result = redact_video(src, dst, detector=NullDetector(), redact_frame=fill_black, options=FAST)
    before, after = read_video(src), read_video(dst)
    assert after.frames == before.frames == result.frames
    assert (after.width, after.height) == (before.width, before.height)
    # timestamps: exact, or to the output's clock (1 ms in Matroska)
    tol = 1e-3 if suffix == ".mkv" else 0
    assert np.allclose([float(t) for t in after.pts_s], [float(t) for t in before.pts_s], atol=tol)
    end_before = float(before.pts_s[-1] + before.durations_s[-1])
    end_after = float(after.pts_s[-1] + after.durations_s[-1])
    assert end_after == pytest.approx(end_before, abs=tol)
    assert result.duration_s == pytest.approx(end_before - float(before.pts_s[0]), abs=tol + 1e-9)
    # audio: every packet, byte for byte, at the same time (to the container's 1 ms)
    a_before, a_after = audio_packets(src), audio_packets(dst)
    assert len(a_after) == len(a_before)
    for pb, pa in zip(a_before, a_after, strict=True):
        assert [b for _, b in pa] == [b for _, b in pb]
        assert np.allclose([t for t, _ in pa], [t for t, _ in pb], atol=1.1e-3)


@pytest.mark.parametrize(("name", "suffix"), REAL)
def test_real_video_metadata_is_gone(
    shared_data: Path, tmp_path: Path, name: str, suffix: str
) -> None:
    src = shared_file(shared_data, name)
    dst = tmp_path / f"out{suffix}"
    redact_video(src, dst, detector=NullDetector(), redact_frame=fill_black, options=FAST)
    before, after = exiftool_dump(src), exiftool_dump(dst)
    assert any(trace in before for trace in SOURCE_TRACES)  # each source leaves some trace
    for trace in SOURCE_TRACES:
        assert trace not in after, trace
    for line in after.splitlines():
        if "Date" in line and ("Create" in line or "Modify" in line):
            assert line.endswith("0000:00:00 00:00:00"), line
    info = read_video(dst)
    assert set(info.container_metadata) <= {
        "major_brand",
        "minor_version",
        "compatible_brands",
        "encoder",  # Matroska's muxer always writes "Writing App: Lavf" (bare when bit-exact)
    }
    assert info.container_metadata.get("encoder", "Lavf") == "Lavf"  # no version, no source
    for meta in info.stream_metadata:
        assert set(meta) <= {"language", "handler_name", "vendor_id", "DURATION"}
        assert meta.get("handler_name", "VideoHandler") in ("VideoHandler", "SoundHandler")
    assert b"x264 - core" not in dst.read_bytes()


def test_lp_video_description_track_times_are_dropped(shared_data: Path, tmp_path: Path) -> None:
    """test_lp_video.mp4 carries a 'description' tag of capture timestamps."""
    src = shared_file(shared_data, "egoblur/gen2/test_lp_video.mp4")
    with av.open(str(src)) as c:
        assert "7465396486291" in c.metadata.get("description", "")
    dst = tmp_path / "out.mp4"
    redact_video(src, dst, detector=NullDetector(), redact_frame=fill_black, options=FAST)
    assert b"7465396486291" not in dst.read_bytes()


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("redact-client/broken_video.mp4", CorruptInput, "not a readable video"),
        ("exiftool/Matroska.mkv", CorruptInput, "not a readable video"),
        ("exiftool/QuickTime.mov", CorruptInput, "no video frame"),
        ("exiftool/Flash.flv", UnsupportedFormat, "flv"),
    ],
)
def test_broken_or_unsupported_real_files_fail_closed(
    shared_data: Path, tmp_path: Path, name: str, error: type[Exception], message: str
) -> None:
    src = shared_file(shared_data, name)
    dst = tmp_path / "out.mkv"  # Matroska holds any audio: the error must be the video's
    with pytest.raises(error, match=message) as info:
        redact_video(src, dst, detector=NullDetector(), redact_frame=fill_black)
    assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []
    assert not any(TEMP_MARKER in p.name for p in tmp_path.iterdir())


def test_no_face_left_in_redacted_gen1_clip(shared_data: Path, tmp_path: Path) -> None:
    """Quality with the stand-in detector: on the first 45 frames of egoblur gen1 (made into
    a clip here), the detector finds the face in the input and nothing in the output."""
    src = shared_file(shared_data, "egoblur/gen1/test_video.mp4")
    clip = tmp_path / "clip.mp4"
    with av.open(str(src)) as inp, av.open(str(clip), "w") as out:
        v = out.add_stream("libx264", rate=30, options={"crf": "12", "preset": "ultrafast"})
        v.width, v.height = 608, 1080
        for i, frame in enumerate(inp.decode(video=0)):
            if i == 45:
                break
            frame.pict_type = 0
            out.mux(v.encode(frame.reformat(format="yuv420p")))
        out.mux(v.encode(None))
    faces = HaarFaces(downscale=3)
    with av.open(str(clip)) as c:
        found_in = sum(
            len(faces.detect(f.to_ndarray(format="rgb24")).boxes) > 0 for f in c.decode(video=0)
        )
    assert found_in >= 25  # the stand-in finds the face on ~32 of 45 input frames
    dst = tmp_path / "out.mp4"
    result = redact_video(clip, dst, detector=faces, redact_frame=blur_boxes, options=FAST)
    with av.open(str(dst)) as c:
        residual = sum(
            len(faces.detect(f.to_ndarray(format="rgb24")).boxes) > 0 for f in c.decode(video=0)
        )
    assert residual == 0
    assert result.frames_redacted >= found_in
