"""Video redaction on synthetic clips made in the test (tiny, a few frames each)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tracemalloc
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from numpy.typing import NDArray

from fastredact._atomic import TEMP_MARKER
from fastredact.errors import CorruptInput, UnsupportedFormat
from fastredact.formats import sniff_video
from fastredact.video import VideoOptions, VideoResult, redact_video
from tests.support import PROJECT_ROOT
from tests.support.videoclips import (
    BRIGHT,
    GPS_TEXT,
    PRIVATE,
    SQUARE,
    Dets,
    NullDetector,
    SquareDetector,
    audio_packets,
    empty_dets,
    exiftool_dump,
    fill_black,
    make_dirty_mp4,
    make_square_clip,
    read_video,
    square_position,
)


def square_visible(picture: np.ndarray, i: int) -> bool:
    """Is the bright square of frame ``i`` visible in the decoded output picture?"""
    h, w = picture.shape[:2]
    x, y = square_position(i, w, h)
    return float(picture[y : y + SQUARE, x : x + SQUARE].mean()) > BRIGHT - 60


def redact(src: Path, dst: Path, detector: object = None, **options: object) -> VideoResult:
    return redact_video(
        src,
        dst,
        detector=detector or NullDetector(),  # type: ignore[arg-type]
        redact_frame=fill_black,
        options=VideoOptions(**options),  # type: ignore[arg-type]
    )


def no_leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if TEMP_MARKER in p.name)


# -- temporal coverage, end to end ---------------------------------------------------------


def test_one_frame_detector_miss_never_shows(tmp_path: Path) -> None:
    src = make_square_clip(tmp_path / "in.mp4", frames=12)
    assert all(
        square_visible(p, i) for i, p in enumerate(read_video(src, keep_pictures=True).pictures)
    )
    result = redact(src, tmp_path / "out.mp4", SquareDetector(miss=[3, 7, 8]))
    out = read_video(tmp_path / "out.mp4", keep_pictures=True)
    assert out.frames == 12
    assert not any(square_visible(p, i) for i, p in enumerate(out.pictures))
    assert result.frames_with_detections == 9
    assert result.frames_redacted == 12
    assert result.tracks == 1


def test_the_miss_shows_without_coverage(tmp_path: Path) -> None:
    """Same clip, coverage off: the missed frame shows the square (the test above can fail)."""
    src = make_square_clip(tmp_path / "in.mp4", frames=12)
    redact(src, tmp_path / "out.mp4", SquareDetector(miss=[5]), extend=0, max_gap=1)
    pictures = read_video(tmp_path / "out.mp4", keep_pictures=True).pictures
    assert [i for i, p in enumerate(pictures) if square_visible(p, i)] == [5]


def test_detect_every_n_with_tracking(tmp_path: Path) -> None:
    src = make_square_clip(tmp_path / "in.mp4", frames=15)
    detector = SquareDetector()
    result = redact(src, tmp_path / "out.mp4", detector, detect_every=4)
    assert detector.calls == 4  # frames 0, 4, 8, 12
    assert result.frames_detected == 4
    pictures = read_video(tmp_path / "out.mp4", keep_pictures=True).pictures
    assert not any(square_visible(p, i) for i, p in enumerate(pictures))


def test_motion_skip_reuses_boxes_on_still_frames(tmp_path: Path) -> None:
    still = make_square_clip(tmp_path / "still.mp4", frames=8, still=True)
    detector = SquareDetector()
    result = redact(still, tmp_path / "out.mp4", detector, motion_threshold=3.0)
    assert detector.calls == 1 and result.frames_reused == 7
    pictures = read_video(tmp_path / "out.mp4", keep_pictures=True).pictures
    assert not any(square_visible(p, 0) for p in pictures)
    moving = make_square_clip(tmp_path / "moving.mp4", frames=8)
    detector = SquareDetector()
    redact(moving, tmp_path / "out2.mp4", detector, motion_threshold=3.0)
    assert detector.calls == 8


# -- timing, geometry ------------------------------------------------------------------------


def test_variable_frame_rate_timestamps_are_kept(tmp_path: Path) -> None:
    pts = [0, 40, 50, 130, 135, 300, 310, 400, 520, 530]
    src = make_square_clip(tmp_path / "vfr.mp4", frames=10, pts=pts, time_base=Fraction(1, 1000))
    before = read_video(src)
    result = redact(src, tmp_path / "out.mp4")
    after = read_video(tmp_path / "out.mp4")
    assert after.pts_s == before.pts_s == [Fraction(p, 1000) for p in pts]
    # per-frame durations in MP4 are decode-order deltas (B-frames reorder them); what
    # must match is the end of the last frame, i.e. the duration of the video
    assert after.pts_s[-1] + after.durations_s[-1] == before.pts_s[-1] + before.durations_s[-1]
    assert result.frames == 10


def test_odd_size_keeps_its_resolution(tmp_path: Path) -> None:
    src = make_square_clip(tmp_path / "odd.mkv", width=63, height=47, pix_fmt="yuv444p")
    result = redact(src, tmp_path / "out.mkv", SquareDetector())
    out = read_video(tmp_path / "out.mkv", keep_pictures=True)
    assert (out.width, out.height, result.pix_fmt) == (63, 47, "yuv444p")
    assert not any(square_visible(p, i) for i, p in enumerate(out.pictures))


def test_rotation_detects_upright_and_keeps_the_display_matrix(tmp_path: Path) -> None:
    src = make_square_clip(tmp_path / "rot.mp4", width=96, height=64, rotation=90)
    detector = SquareDetector()
    redact(src, tmp_path / "out.mp4", detector)
    assert detector.shapes[0] == (96, 64, 3)  # the detector saw the displayed picture
    # PyAV's rotation=90 is counter-clockwise: what was displayed is np.rot90(stored)
    out = read_video(tmp_path / "out.mp4", keep_pictures=True)
    assert (out.width, out.height, out.rotation) == (96, 64, 90)
    assert not any(square_visible(p, i) for i, p in enumerate(out.pictures))


def test_rotation_convention_matches_pyav(tmp_path: Path) -> None:
    """What our transform shows is np.rot90(stored, 1) for PyAV's rotation=90 (ccw)."""
    src = make_square_clip(tmp_path / "rot.mp4", width=96, height=64, rotation=90, frames=1)
    seen: list[np.ndarray] = []

    class Keep(NullDetector):
        def detect(self, rgb: np.ndarray):  # type: ignore[no-untyped-def]
            seen.append(rgb.copy())
            return super().detect(rgb)

    redact(src, tmp_path / "out.mp4", Keep())
    stored = read_video(src, keep_pictures=True).pictures[0]
    np.testing.assert_array_equal(seen[0], np.rot90(stored, 1))


def redacted_frame_colour_shift(tmp_path: Path) -> float:
    """A BT.709 source: the RGB round trip of a redacted frame must not shift its colours
    against the untouched frames (a visible flicker)."""
    src = tmp_path / "bt709.mp4"
    with av.open(str(src), "w") as out:
        v = out.add_stream("libx264", rate=25, options={"crf": "0", "preset": "ultrafast"})
        v.width, v.height, v.pix_fmt = 96, 64, "yuv420p"
        v.codec_context.colorspace = 1  # BT.709
        for _ in range(3):
            y = np.tile(np.linspace(40, 200, 96, dtype=np.uint8), (64, 1))
            u = np.full((32, 48), 90, np.uint8)
            w = np.full((32, 48), 170, np.uint8)
            frame = av.VideoFrame.from_ndarray(
                np.concatenate([y, u.reshape(16, 96), w.reshape(16, 96)]), format="yuv420p"
            )
            frame.colorspace = 1
            out.mux(v.encode(frame))
        out.mux(v.encode(None))

    class MiddleOnly(NullDetector):
        calls = 0

        def detect(self, rgb: np.ndarray):  # type: ignore[no-untyped-def]
            self.calls += 1
            dets = super().detect(rgb)
            if self.calls == 2:
                dets.boxes = np.array([[0, 0, 8, 8]], np.float32)
                dets.labels = np.zeros(1, np.int64)
                dets.scores = np.ones(1, np.float32)
            return dets

    result = redact(src, tmp_path / "out.mp4", MiddleOnly(), extend=0, max_gap=1, crf=0)
    assert result.frames_redacted == 1
    pics = read_video(tmp_path / "out.mp4", keep_pictures=True).pictures
    diff = np.abs(pics[1][16:].astype(int) - pics[0][16:].astype(int))
    return float(diff.mean())


# -- streams and metadata ---------------------------------------------------------------------


def test_audio_is_copied_bit_exact_when_it_is_stream_0(tmp_path: Path) -> None:
    src = make_square_clip(tmp_path / "av.mp4", audio=True, audio_first=True)
    assert read_video(src).stream_types == ["audio", "video"]
    result = redact(src, tmp_path / "out.mp4")
    assert read_video(tmp_path / "out.mp4").stream_types == ["video", "audio"]
    before, after = audio_packets(src), audio_packets(tmp_path / "out.mp4")
    assert len(before[0]) > 10
    assert [b for _, b in after[0]] == [b for _, b in before[0]]
    assert [t for t, _ in after[0]] == pytest.approx([t for t, _ in before[0]], abs=1e-3)
    assert [s.as_dict()["action"] for s in result.streams_kept] == ["redacted", "copied"]


def test_audio_drop(tmp_path: Path) -> None:
    src = make_square_clip(tmp_path / "av.mp4", audio=True)
    result = redact(src, tmp_path / "out.mp4", audio="drop")
    assert read_video(tmp_path / "out.mp4").stream_types == ["video"]
    assert result.streams_dropped[0].action == "dropped (audio=drop)"


def test_metadata_subtitles_data_and_chapters_are_gone(tmp_path: Path) -> None:
    src = make_dirty_mp4(tmp_path / "dirty.mp4")
    before = exiftool_dump(src)
    for needle in ("Alice", "GPS Latitude", "Chapter", "gpmd", "Rivoli", "Lavf"):
        assert needle in before  # the fixture carries what we look for
    assert GPS_TEXT.encode() in src.read_bytes()
    result = redact(src, tmp_path / "out.mp4", SquareDetector())

    out_path = tmp_path / "out.mp4"
    after = exiftool_dump(out_path)
    for needle in (
        "Alice",
        "GPS",
        "Chapter",
        "gpmd",
        "SecretCam",
        "Lavf",
        "x264",
        "Location",
        "Rivoli",
    ):
        assert needle not in after, needle
    assert "0000:00:00 00:00:00" in after  # creation dates zeroed, never the source's
    data = out_path.read_bytes()
    for raw in (GPS_TEXT.encode(), b"Alice", b"x264 - core", b"Lavf", b"Rivoli"):
        assert raw not in data, raw
    info = read_video(out_path)
    assert info.stream_types == ["video", "audio"]
    assert set(info.container_metadata) <= {"major_brand", "minor_version", "compatible_brands"}
    for meta in info.stream_metadata:
        assert set(meta) <= {"language", "handler_name", "vendor_id"}
        assert "Alice" not in meta.get("handler_name", "")
    assert info.chapters == 0
    assert not any(PRIVATE["creation_time"] in v for v in info.container_metadata.values())
    assert {s.type for s in result.streams_dropped} == {"subtitle", "data"}
    assert [b for _, b in audio_packets(out_path)[0]] == [b for _, b in audio_packets(src)[0]]


def test_webm_output_uses_vp9(tmp_path: Path) -> None:
    src = make_square_clip(tmp_path / "in.mp4", frames=4)
    result = redact(src, tmp_path / "out.webm", SquareDetector())
    assert result.codec == "libvpx-vp9"
    assert read_video(tmp_path / "out.webm").frames == 4


def test_sniff_video() -> None:
    assert sniff_video(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00") == "mp4"
    assert sniff_video(b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00") == "mov"
    assert sniff_video(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00") is None
    assert sniff_video(b"\x00\x00\x00\x18ftypmif2\x00\x00\x00\x00") is None
    assert sniff_video(b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00") is None
    assert sniff_video(b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01") is None
    assert sniff_video(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm") == "webm"
    assert sniff_video(b"RIFF\x00\x00\x00\x00AVI LIST") == "avi"
    assert sniff_video(b"\xff\xd8\xff\xe0") is None


# -- failures: fail closed ---------------------------------------------------------------------


def test_detector_failure_mid_stream_leaves_nothing(tmp_path: Path) -> None:
    src = make_square_clip(tmp_path / "in.mp4", frames=12)

    class Boom(SquareDetector):
        def detect(self, rgb: np.ndarray):  # type: ignore[no-untyped-def]
            if self.calls == 8:
                raise RuntimeError("detector crashed")
            return super().detect(rgb)

    out_dir = tmp_path / "out"
    with pytest.raises(RuntimeError, match="crashed"):
        redact(src, out_dir / "out.mp4", Boom())
    assert list(out_dir.iterdir()) == []


def test_existing_destination_is_untouched_on_failure(tmp_path: Path) -> None:
    dst = tmp_path / "out.mp4"
    dst.write_bytes(b"previous")
    (tmp_path / "bad.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 100)
    with pytest.raises(CorruptInput):
        redact(tmp_path / "bad.mp4", dst)
    assert dst.read_bytes() == b"previous"
    assert no_leftovers(tmp_path) == []


def test_truncated_input_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "fs.mp4"
    with av.open(str(src), "w", options={"movflags": "+faststart"}) as out:
        v = out.add_stream("libx264", rate=25, options={"crf": "10", "preset": "ultrafast"})
        v.width, v.height = 96, 64
        rng = np.random.default_rng(0)
        for _ in range(30):
            pic = rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)
            out.mux(v.encode(av.VideoFrame.from_ndarray(pic, format="rgb24")))
        out.mux(v.encode(None))
    data = src.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(CorruptInput, match="truncated"):
        redact(tmp_path / "cut.mp4", tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


def test_corrupt_bitstream_is_an_error_not_a_guess(tmp_path: Path) -> None:
    src = make_square_clip(tmp_path / "in.mkv", frames=30, width=160, height=120)
    data = bytearray(src.read_bytes())
    rng = np.random.default_rng(3)
    for j in rng.integers(len(data) // 3, len(data) * 9 // 10, 300):
        data[j] ^= 0xFF
    (tmp_path / "bad.mkv").write_bytes(bytes(data))
    with pytest.raises(CorruptInput):
        redact(tmp_path / "bad.mkv", tmp_path / "out.mkv")
    assert not (tmp_path / "out.mkv").exists()
    assert no_leftovers(tmp_path) == []


def test_unsupported_codec_and_container(tmp_path: Path) -> None:
    avi = make_square_clip(tmp_path / "in.avi", codec="mpeg4", frames=3)
    (tmp_path / "zz.avi").write_bytes(avi.read_bytes().replace(b"FMP4", b"ZZZZ"))
    with pytest.raises(UnsupportedFormat, match="no decodable video stream"):
        redact(tmp_path / "zz.avi", tmp_path / "out.mkv")
    ts = make_square_clip(tmp_path / "in.ts", frames=2)
    with pytest.raises(UnsupportedFormat, match="mpegts"):
        redact(ts, tmp_path / "out.mp4")
    with pytest.raises(UnsupportedFormat, match="AVI output"):
        redact(avi, tmp_path / "out.avi")
    with pytest.raises(UnsupportedFormat, match="output container"):
        redact(avi, tmp_path / "out.xyz")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("out")]


def test_audio_only_file_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "tone.m4a"
    with av.open(str(src), "w", format="mp4") as out:
        a = out.add_stream("aac", rate=48000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="flt", layout="mono"
        )
        frame.sample_rate = 48000
        out.mux(a.encode(frame))
        out.mux(a.encode(None))
    with pytest.raises(UnsupportedFormat, match="no decodable video stream"):
        redact(src, tmp_path / "out.mp4")


KILL_SCRIPT = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from fastredact.video import redact_video
from tests.support.videoclips import SquareDetector, fill_black

class Slow(SquareDetector):
    def detect(self, rgb):
        time.sleep(0.02)
        return super().detect(rgb)

def progress(done, total):
    if done == 20:
        Path(sys.argv[2] + ".started").write_text("x")

redact_video(sys.argv[1], sys.argv[2], detector=Slow(), redact_frame=fill_black, progress=progress)
"""


def test_killed_mid_stream_leaves_no_output(tmp_path: Path) -> None:
    src = make_square_clip(tmp_path / "in.mp4", frames=300)
    dst = tmp_path / "out" / "out.mp4"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(src), str(dst), str(PROJECT_ROOT)],
        stderr=subprocess.PIPE,
    )
    marker = Path(str(dst) + ".started")
    deadline = time.monotonic() + 60
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), proc.stderr.read() if proc.stderr else ""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not dst.exists()
    # kill -9 cannot clean up, but what remains is clearly marked as temporary
    assert all(TEMP_MARKER in p.name for p in dst.parent.iterdir() if p != marker)


# -- memory ---------------------------------------------------------------------------------------


def test_memory_does_not_grow_with_length(tmp_path: Path) -> None:
    short = make_square_clip(tmp_path / "short.mp4", frames=60)
    long = make_square_clip(tmp_path / "long.mp4", frames=480)
    peaks = []
    for src in (short, long):
        tracemalloc.start()
        result = redact(src, tmp_path / f"out-{src.name}", SquareDetector(miss=range(0, 500, 7)))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        lookahead = VideoOptions().coverage().lookahead
        assert result.max_buffered_frames <= lookahead + 1
    assert peaks[1] < peaks[0] * 1.5 + 256 * 1024, peaks


def test_redacted_frames_keep_the_colours_of_their_neighbours(tmp_path: Path) -> None:
    """A BT.709 source: the RGB round trip of a redacted frame must not shift its colours
    against the untouched frames (a visible flicker). Mean |RGB difference| outside the box:
    ≈ 1.1 (rounding) with the source's matrix both ways, ≈ 5 when BT.601 is used on the
    way back (measured when this test was written)."""
    assert redacted_frame_colour_shift(tmp_path) < 2.0


class OnceAt:
    """Finds one box on the ``index``-th frame it is shown, nothing elsewhere."""

    def __init__(self, index: int) -> None:
        self.index, self.calls = index, 0

    def detect(self, rgb: NDArray[np.uint8]) -> Dets:
        self.calls += 1
        if self.calls - 1 != self.index:
            return empty_dets()
        box = np.array([[10, 10, 40, 40]], np.float32)
        return Dets(box, np.ones(1, np.float32), np.zeros(1, np.int64))


def test_frames_with_guessed_boxes_are_counted(tmp_path: Path) -> None:
    """A lone detection on frame 10 is copied 5 frames either side (coverage defaults):
    those 10 frames hold a guess, the detected frame does not."""
    src = make_square_clip(tmp_path / "in.mp4", frames=24)
    guessed: list[bool] = []

    def record(
        rgb: NDArray[np.uint8], boxes: NDArray[np.float32], extended: object, labels: object
    ) -> None:
        guessed.append(bool(np.asarray(extended).any()))
        fill_black(rgb, boxes)

    result = redact_video(
        src, tmp_path / "out.mp4", detector=OnceAt(10), redact_frame=record,  # type: ignore[arg-type]
    )  # fmt: skip
    assert result.frames_redacted == 11 == len(guessed)
    assert result.frames_with_guesses == 10 == sum(guessed)
    assert result.manifest_fields()["frames_with_guesses"] == 10
