"""Synthetic clips and stand-ins for the video tests (made in the test's tmp dir, tiny).

The stand-in detector finds a bright square on a dark background; the stand-in redactor
paints boxes black. Real detectors and kernels are wired in by the pipeline, not here.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from numpy.typing import NDArray

SQUARE = 12
BRIGHT = 250


@dataclass
class Dets:
    boxes: NDArray[np.float32]
    scores: NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    labels: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))


def empty_dets() -> Dets:
    return Dets(np.zeros((0, 4), np.float32))


class NullDetector:
    """Finds nothing (for tests about streams, timing and metadata)."""

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def detect(self, rgb: NDArray[np.uint8]) -> Dets:
        self.shapes.append(rgb.shape)
        return empty_dets()


class SquareDetector:
    """Finds the bright square, except on the frames listed in ``miss`` (call numbers)."""

    def __init__(self, miss: Sequence[int] = ()) -> None:
        self.miss = set(miss)
        self.calls = 0
        self.shapes: list[tuple[int, ...]] = []

    def detect(self, rgb: NDArray[np.uint8]) -> Dets:
        call = self.calls
        self.calls += 1
        self.shapes.append(rgb.shape)
        ys, xs = np.nonzero(rgb.min(axis=2) > 200)
        if call in self.miss or len(xs) == 0:
            return empty_dets()
        box = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32)
        return Dets(box, np.ones(1, np.float32), np.zeros(1, np.int64))


def fill_black(
    rgb: NDArray[np.uint8],
    boxes: NDArray[np.float32],
    carried: object = None,
    labels: object = None,
) -> None:
    """Stand-in redaction: paint each box (grown by 2 px) black."""
    h, w = rgb.shape[:2]
    for x0, y0, x1, y1 in boxes:
        rgb[max(0, int(y0) - 2) : min(h, int(np.ceil(y1)) + 2),
            max(0, int(x0) - 2) : min(w, int(np.ceil(x1)) + 2)] = 0  # fmt: skip


def square_position(i: int, width: int, height: int) -> tuple[int, int]:
    """Where the square is on frame ``i`` (moves right and down, wrapping)."""
    x = (4 + 3 * i) % (width - SQUARE - 4)
    y = (4 + 2 * i) % (height - SQUARE - 4)
    return x, y


def square_frame(i: int, width: int, height: int) -> NDArray[np.uint8]:
    rgb = np.full((height, width, 3), 40, np.uint8)
    rgb[:, :, 1] = np.linspace(20, 90, width, dtype=np.uint8)[None, :]
    x, y = square_position(i, width, height)
    rgb[y : y + SQUARE, x : x + SQUARE] = BRIGHT
    return rgb


def make_square_clip(
    path: Path,
    *,
    frames: int = 12,
    width: int = 96,
    height: int = 64,
    rate: int = 25,
    pts: Sequence[int] | None = None,
    time_base: Fraction | None = None,
    rotation: int | None = None,
    audio: bool = False,
    audio_first: bool = False,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    still: bool = False,
) -> Path:
    """A clip of a bright square moving on a dark gradient (lossless-ish, tiny)."""
    with av.open(str(path), "w") as out:
        if audio and audio_first:
            a_stream = _add_audio(out)
        v = out.add_stream(codec, rate=rate, options={"crf": "1", "preset": "ultrafast"})
        v.width, v.height, v.pix_fmt = width, height, pix_fmt
        if time_base is not None:
            v.time_base = time_base
            v.codec_context.time_base = time_base
        if rotation is not None:
            v.set_display_rotation(rotation)
        if audio and not audio_first:
            a_stream = _add_audio(out)
        for i in range(frames):
            picture = square_frame(0 if still else i, width, height)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            if pts is not None:
                frame.pts = pts[i]
                frame.time_base = time_base
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
        if audio:
            _write_tone(out, a_stream, seconds=frames / rate)
    return path


def _add_audio(out: Any) -> Any:
    a = out.add_stream("aac", rate=48000)
    a.layout = "mono"
    return a


def _write_tone(out: Any, stream: Any, seconds: float) -> None:
    n = int(48000 * seconds)
    t = np.arange(n) / 48000.0
    samples = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
    for start in range(0, n, 1024):
        frame = av.AudioFrame.from_ndarray(samples[:, start : start + 1024], format="flt",
                                           layout="mono")  # fmt: skip
        frame.sample_rate = 48000
        frame.pts = start
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


@dataclass
class VideoInfo:
    """What a reader sees in a video file (decoded)."""

    frames: int
    pts_s: list[Fraction]
    durations_s: list[Fraction]
    width: int
    height: int
    rotation: int
    stream_types: list[str]
    container_metadata: dict[str, str]
    stream_metadata: list[dict[str, str]]
    chapters: int
    pictures: list[NDArray[np.uint8]]


def read_video(path: Path, *, keep_pictures: bool = False) -> VideoInfo:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        pts, durs, pics, rot = [], [], [], 0
        for f in c.decode(v):
            pts.append(f.pts * f.time_base)
            durs.append(f.duration * f.time_base)
            rot = f.rotation
            if keep_pictures:
                pics.append(f.to_ndarray(format="rgb24"))
        return VideoInfo(
            frames=len(pts),
            pts_s=pts,
            durations_s=durs,
            width=v.codec_context.width,
            height=v.codec_context.height,
            rotation=rot,
            stream_types=[s.type for s in c.streams],
            container_metadata=dict(c.metadata),
            stream_metadata=[dict(s.metadata) for s in c.streams],
            chapters=len(c.chapters()) if hasattr(c, "chapters") else 0,
            pictures=pics,
        )


def audio_packets(path: Path) -> list[list[tuple[float, bytes]]]:
    """Per audio stream: (presentation time in seconds, payload) of every packet."""
    with av.open(str(path)) as c:
        streams = list(c.streams.audio)
        position = {s.index: i for i, s in enumerate(streams)}
        out: list[list[tuple[float, bytes]]] = [[] for _ in streams]
        for p in c.demux(*streams):
            if p.size and p.pts is not None and p.stream.index in position:
                out[position[p.stream.index]].append((float(p.pts * p.time_base), bytes(p)))
        return out


def exiftool_dump(path: Path) -> str:
    """``exiftool -ee -G1 -a -u`` of ``path`` (file-system lines removed)."""
    done = subprocess.run(
        ["exiftool", "-ee", "-G1", "-a", "-u", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return "\n".join(
        line for line in done.stdout.splitlines() if not line.startswith(("[System]", "[ExifTool]"))
    )


GPS_TEXT = "GPS 48.85770 2.29500 alt 35m"
PRIVATE = {
    "title": "Alice at home",
    "location": "+48.8577+002.2950/",
    "make": "Apple",
    "model": "iPhone 15 Pro",
    "creation_time": "2024-05-01T10:00:00.000000Z",
    "encoder": "SecretCam 1.0",
    "comment": "Alice Martin, 12 rue de Rivoli",
}


def make_dirty_mp4(path: Path, *, frames: int = 10, rate: int = 25) -> Path:
    """An MP4 full of what must not survive: container tags (location, make, model, …),
    a named track, chapters with titles, a subtitle track of GPS text (as drones write)
    and a binary data track; the audio is stream 0 and the video stream 1."""
    width, height = 64, 48
    tb = Fraction(1, 1000)
    with av.open(str(path), "w", format="mp4") as out:
        out.metadata.update(PRIVATE)
        a = _add_audio(out)
        a.metadata["handler_name"] = "Alice's iPhone audio"
        v = out.add_stream("libx264", rate=rate, options={"crf": "1", "preset": "ultrafast"})
        v.width, v.height, v.pix_fmt = width, height, "yuv420p"
        v.metadata.update(
            {"handler_name": "Alice's iPhone", "creation_time": PRIVATE["creation_time"]}
        )
        sub = out.add_mux_stream("mov_text")
        sub.time_base = tb
        data = out.add_mux_stream("bin_data")
        data.time_base = tb
        out.set_chapters(
            [
                {
                    "id": 1,
                    "start": 0,
                    "end": 200,
                    "time_base": tb,
                    "metadata": {"title": "Alice birthday"},
                }
            ]
        )
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(square_frame(i, width, height), format="rgb24")
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
        _write_tone(out, a, seconds=frames / rate)
        text = GPS_TEXT.encode()
        for i, stream in enumerate((sub, data, sub, data)):
            payload = len(text).to_bytes(2, "big") + text if stream is sub else text
            packet = av.Packet(payload)
            packet.stream = stream
            packet.time_base = tb
            packet.pts = packet.dts = i * 100
            packet.duration = 100
            out.mux(packet)
    return path


class HaarFaces:
    """Stand-in face detector: OpenCV's frontal Haar cascade on a half-size grey copy.

    The real detector (``fastredact.detect``, CenterFace) replaces it in the pipeline.
    """

    def __init__(self, downscale: int = 2) -> None:
        import cv2

        self._cv2 = cv2
        self.downscale = downscale
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
        self.cascade = cv2.CascadeClassifier(path)
        if self.cascade.empty():
            raise RuntimeError(f"cannot load {path}")

    def detect(self, rgb: NDArray[np.uint8]) -> Dets:
        cv2, k = self._cv2, self.downscale
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if k > 1:
            grey = cv2.resize(
                grey, (grey.shape[1] // k, grey.shape[0] // k), interpolation=cv2.INTER_AREA
            )
        found = self.cascade.detectMultiScale(
            grey, scaleFactor=1.1, minNeighbors=5, minSize=(20, 20)
        )
        boxes = (
            np.array([[x, y, x + w, y + h] for x, y, w, h in found], np.float32).reshape(-1, 4) * k
        )
        return Dets(boxes, np.ones(len(boxes), np.float32), np.zeros(len(boxes), np.int64))


def blur_boxes(
    rgb: NDArray[np.uint8],
    boxes: NDArray[np.float32],
    carried: object = None,
    labels: object = None,
    grow: float = 0.25,
) -> None:
    """Stand-in redaction for real faces: a box grown by ``grow`` on each side, heavily
    pixelated (mean of 8×8 cells) then filled with its mean — unrecognisable."""
    h, w = rgb.shape[:2]
    for x0, y0, x1, y1 in boxes:
        dx, dy = (x1 - x0) * grow, (y1 - y0) * grow
        a, b = max(0, int(x0 - dx)), min(w, int(np.ceil(x1 + dx)))
        c, d = max(0, int(y0 - dy)), min(h, int(np.ceil(y1 + dy)))
        if b > a and d > c:
            rgb[c:d, a:b] = rgb[c:d, a:b].reshape(-1, 3).mean(axis=0).astype(np.uint8)
