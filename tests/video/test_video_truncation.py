"""Truncated and damaged videos fail closed: an error, and no output.

Clips are made here (MKV with audio, WebM, MP4), then cut at a point hypothesis picks, or
exactly at a Matroska cluster boundary (where the demuxer sees a clean end of file), or
damaged inside one video packet (the decoder conceals it with a warning).
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastredact.errors import CorruptInput
from fastredact.video import VideoOptions, redact_video
from tests.support.videoclips import NullDetector, fill_black, square_frame

CLUSTER_ID = b"\x1f\x43\xb6\x75"
FRAMES = 40


def make_clip(path: Path, *, codec: str, audio: bool) -> Path:
    """40 frames of a moving square (keyframe every 8), in small Matroska clusters."""
    options = {"cluster_time_limit": "200"} if path.suffix in (".mkv", ".webm") else {}
    with av.open(str(path), "w", options=options) as out:
        v = out.add_stream(codec, rate=25, options={"g": "8", "crf": "20"})
        v.width, v.height, v.pix_fmt = 160, 120, "yuv420p"
        a = out.add_stream("aac", rate=48000) if audio else None
        for i in range(FRAMES):
            frame = av.VideoFrame.from_ndarray(square_frame(i, 160, 120), format="rgb24")
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
        if a is not None:
            _tone(out, a, FRAMES / 25)
    return path


def make_avi_with_a_repeat(path: Path) -> Path:
    """40 MJPEG frames in AVI with one tick skipped after frame 10: FFmpeg's AVI muxer then
    writes an empty chunk there (AVI's "repeat the previous frame"), which the header counts
    (41 frames) and the demuxer skips."""
    with av.open(str(path), "w") as out:
        v = out.add_stream("mjpeg", rate=25)
        v.width, v.height, v.pix_fmt = 160, 120, "yuvj420p"
        for i in range(FRAMES):
            frame = av.VideoFrame.from_ndarray(square_frame(i, 160, 120), format="rgb24")
            frame = frame.reformat(format="yuvj420p")
            frame.pts = i + (i >= 10)
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
    return path


def _tone(out: av.container.OutputContainer, stream: object, seconds: float) -> None:
    n = int(48000 * seconds)
    samples = (0.1 * np.sin(np.arange(n) / 20)).astype(np.float32)[None, :]
    for start in range(0, n, 1024):
        frame = av.AudioFrame.from_ndarray(
            samples[:, start : start + 1024], format="flt", layout="mono"
        )
        frame.sample_rate, frame.pts = 48000, start
        out.mux(stream.encode(frame))  # type: ignore[attr-defined]
    out.mux(stream.encode(None))  # type: ignore[attr-defined]


KINDS = {
    "mkv": (".mkv", "libx264", True),
    "webm": (".webm", "libvpx-vp9", False),
    "mp4": (".mp4", "libx264", True),
    "avi": (".avi", "mjpeg", False),  # with a repeated frame: see make_avi_with_a_repeat
}

OUT_SUFFIX = {".avi": ".mkv"}
"""AVI input is written as Matroska (AVI cannot keep the timestamps)."""


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("whole")
    made = {}
    for kind, (suffix, codec, audio) in KINDS.items():
        if kind == "avi":
            made[kind] = make_avi_with_a_repeat(folder / "clip.avi").read_bytes()
            continue
        made[kind] = make_clip(folder / f"clip{suffix}", codec=codec, audio=audio).read_bytes()
    return made


def redact(src: Path, dst: Path) -> object:
    return redact_video(
        src,
        dst,
        detector=NullDetector(),
        redact_frame=fill_black,
        options=VideoOptions(preset="ultrafast"),
    )


def assert_refused(data: bytes, folder: Path, suffix: str) -> None:
    src = folder / f"cut{suffix}"
    src.write_bytes(data)
    dst = folder / f"out{OUT_SUFFIX.get(suffix, suffix)}"
    with pytest.raises(CorruptInput) as info:
        redact(src, dst)
    assert "\n" not in str(info.value)
    assert sorted(p.name for p in folder.iterdir()) == [src.name]
    src.unlink()


@pytest.mark.parametrize("kind", list(KINDS))
def test_whole_clips_pass(clips: dict[str, bytes], tmp_path: Path, kind: str) -> None:
    suffix = KINDS[kind][0]
    src = tmp_path / f"in{suffix}"
    src.write_bytes(clips[kind])
    dst = tmp_path / f"out{OUT_SUFFIX.get(suffix, suffix)}"
    assert redact(src, dst).frames == FRAMES  # type: ignore[attr-defined]


def test_the_avi_clip_has_a_repeated_frame(clips: dict[str, bytes], tmp_path: Path) -> None:
    """The premise of the "avi" kind: its header counts one frame more than it has packets
    (a frame count check by packets alone refused this whole file as truncated)."""
    src = tmp_path / "in.avi"
    src.write_bytes(clips["avi"])
    with av.open(str(src)) as container:
        video = container.streams.video[0]
        packets = sum(1 for p in container.demux(video) if p.size)
        assert (video.frames, packets) == (FRAMES + 1, FRAMES)


@pytest.mark.parametrize("kind", list(KINDS))
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(cut=st.floats(min_value=0.0, max_value=1.0, exclude_max=True))
def test_truncated_anywhere_is_refused(
    clips: dict[str, bytes], tmp_path: Path, kind: str, cut: float
) -> None:
    data = clips[kind]
    keep = min(len(data) - 1, int(len(data) * cut))
    assert_refused(data[:keep], tmp_path, KINDS[kind][0])


@pytest.mark.parametrize("kind", ["mkv", "webm"])
def test_cut_at_every_cluster_boundary_is_refused(
    clips: dict[str, bytes], tmp_path: Path, kind: str
) -> None:
    """At a cluster boundary the demuxer ends cleanly: the declared duration catches it."""
    data = clips[kind]
    starts = [i for i in range(len(data)) if data.startswith(CLUSTER_ID, i)]
    assert len(starts) >= 4  # the clip has several clusters
    for start in starts:
        assert_refused(data[:start], tmp_path, KINDS[kind][0])


@pytest.mark.parametrize("kind", ["mkv", "webm"])
def test_cut_inside_the_last_cluster_is_refused(
    clips: dict[str, bytes], tmp_path: Path, kind: str
) -> None:
    """Regression: a WebM cut inside its last frame lost that frame with no FFmpeg message,
    and the declared duration allows one frame of slack; the last cluster's EBML size, which
    now runs past the end of the file, catches it."""
    data = clips[kind]
    last = max(i for i in range(len(data)) if data.startswith(CLUSTER_ID, i))
    for keep in range(last + 8, len(data), max(1, (len(data) - last) // 40)):
        assert_refused(data[:keep], tmp_path, KINDS[kind][0])


@pytest.mark.parametrize("kind", ["mkv", "mp4"])
def test_damage_inside_one_video_packet_is_refused(
    clips: dict[str, bytes], tmp_path: Path, kind: str
) -> None:
    """Bytes flipped in the middle of one inter frame: the decoder conceals the damage
    (a warning, or a corrupt-frame flag); the file must fail, not come out patched.
    H.264 only: VP9 carries no redundancy the decoder could check, so FFmpeg decodes such
    damage silently (a known limit; truncation is still caught for WebM)."""
    suffix = KINDS[kind][0]
    whole = tmp_path / f"whole{suffix}"
    whole.write_bytes(clips[kind])
    with av.open(str(whole)) as c:
        packets = [
            (p.pos, p.size)
            for p in c.demux(video=0)
            if p.size and not p.is_keyframe and p.pos is not None and p.pos >= 0
        ]
    whole.unlink()
    pos, size = max(packets, key=lambda ps: ps[1])  # the largest: the flip hits slice data
    data = bytearray(clips[kind])
    for j in range(pos + size // 3, pos + size * 2 // 3):
        data[j] ^= 0x5A
    assert_refused(bytes(data), tmp_path, suffix)


SEGMENT_ID = b"\x18\x53\x80\x67"
UNKNOWN_SIZE = b"\x01" + b"\xff" * 7


def with_unknown_segment_size(data: bytes) -> bytes:
    """The same Matroska file with its Segment size set to "unknown" (as live recorders
    write it): the demuxer then cannot tell that clusters are missing at the end."""
    at = data.index(SEGMENT_ID) + len(SEGMENT_ID)
    assert data[at] == 0x01  # FFmpeg writes an 8-byte size
    return data[:at] + UNKNOWN_SIZE + data[at + 8 :]


@pytest.mark.parametrize("kind", ["mkv", "webm"])
def test_cut_at_a_cluster_of_a_live_recording_is_refused(
    clips: dict[str, bytes], tmp_path: Path, kind: str
) -> None:
    """No "ended prematurely" signal exists here: the declared duration catches the cut."""
    suffix = KINDS[kind][0]
    data = with_unknown_segment_size(clips[kind])
    whole = tmp_path / f"whole{suffix}"
    whole.write_bytes(data)
    assert redact(whole, tmp_path / f"out{suffix}").frames == FRAMES  # type: ignore[attr-defined]
    whole.unlink()
    (tmp_path / f"out{suffix}").unlink()
    starts = [i for i in range(len(data)) if data.startswith(CLUSTER_ID, i)]
    for start in starts[1:]:
        assert_refused(data[:start], tmp_path, suffix)


@pytest.mark.parametrize("missing", [1, 5, 79, 100])
def test_mp4_cut_in_its_trailing_index_is_refused(
    clips: dict[str, bytes], tmp_path: Path, missing: int
) -> None:
    """The moov box (index + metadata) comes last here: a cut in it loses no sample and
    FFmpeg says nothing, but the file is not whole."""
    data = clips["mp4"]
    assert data.rfind(b"moov") > len(data) // 2
    assert_refused(data[:-missing], tmp_path, ".mp4")
