"""Is the input video whole? Signals that a demuxer or decoder met damage, checked as it runs.

A truncated or damaged file must fail (fail closed), but FFmpeg's demuxers often just stop
early: the Matroska demuxer logs "File ended prematurely" and then reports a clean end of
file, and decoders conceal damaged slices with a warning. Four independent checks:

- :class:`LibavProblems` captures FFmpeg's log messages on the thread doing the demuxing and
  decoding. Any message at ``ERROR`` level or worse, from any component, and any
  ``WARNING`` from the video decoder ("decoder warnings are errors") fails the file.
  Decoding runs single-threaded so that every decoder message is logged on this thread
  (per-thread capture keeps files processed in parallel apart).
- :func:`check_top_level_boxes` (MP4 / MOV / AVI / Matroska / WebM): the top-level boxes must
  tile the file;
  a file cut inside its trailing index or metadata decodes completely but is not whole.
- :class:`VideoFrameCount` compares the frames the header counts with the video packets
  demuxed (MP4, AVI and others that store a count);
- :class:`DeclaredDuration` compares the container's declared duration (Matroska / WebM
  Segment Duration) with the end of what was demuxed; a file cut at a cluster boundary ends
  cleanly for the demuxer but short of its declared length.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import av
import av.container
import av.logging

from fastredact.errors import CorruptInput, one_line
from fastredact.video._ffmpeg_log import capture_messages

__all__ = ["DeclaredDuration", "LibavProblems", "VideoFrameCount", "check_top_level_boxes"]

DURATION_SLACK_S = 0.002
"""Rounding allowed between the declared and the demuxed end (Matroska stores ms)."""


class LibavProblems:
    """Collects FFmpeg's messages on this thread; :meth:`check` raises on a problem."""

    def __init__(self, decoder: str) -> None:
        self.decoder = decoder
        self._capture: Any = None
        self._logs: list[Any] = []
        self._seen = 0

    def __enter__(self) -> LibavProblems:
        self._capture = capture_messages()
        self._logs = self._capture.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._capture.__exit__(kind, exc, tb)

    def check(self) -> None:
        """Raise :class:`CorruptInput` for the first problem logged since the last check."""
        logs = self._logs
        new, self._seen = logs[self._seen :], len(logs)
        for level, name, message in new:
            if self._is_problem(level, name):
                raise CorruptInput(f"damaged or truncated ({name}: {one_line(message)})")

    def _is_problem(self, level: int, name: str | None) -> bool:
        if level <= av.logging.ERROR:
            return True
        return level <= av.logging.WARNING and name == self.decoder


class VideoFrameCount:
    """The video frames demuxed, against the count in the file's header (``stream.frames``,
    0 when the container stores none).

    Every non-empty video packet is a frame. AVI also marks a repeated frame (FFmpeg writes
    one wherever a variable-rate source skips a tick of the constant-rate output) with an
    empty chunk, which the header counts but FFmpeg's demuxer never returns; AVI timestamps
    count frames (the stream's time base is one frame period), so there the span of the
    packets' timestamps counts the frames, repeated ones included."""

    def __init__(
        self, container: av.container.InputContainer, stream: av.video.stream.VideoStream
    ) -> None:
        self.declared = int(stream.frames or 0)
        self.by_timestamps = container.format.name == "avi"
        self.packets = 0
        self._first: int | None = None
        self._end = 0

    def saw(self, packet: av.Packet[Any]) -> None:
        """Record one demuxed packet of the video stream."""
        if not packet.size:
            return  # the demuxer's end-of-stream marker
        self.packets += 1
        if packet.pts is not None:
            self._first = packet.pts if self._first is None else min(self._first, packet.pts)
            self._end = max(self._end, packet.pts + max(int(packet.duration or 0), 1))

    def present(self) -> int:
        """The frames the packets hold."""
        if not self.by_timestamps or self._first is None:
            return self.packets
        return max(self.packets, self._end - self._first)

    def check(self) -> None:
        """Raise :class:`CorruptInput` when fewer frames were demuxed than the header counts."""
        present = self.present()
        if self.declared and present < self.declared:
            raise CorruptInput(f"truncated: {present} of {self.declared} video frames present")


class DeclaredDuration:
    """The end of the demuxed packets, against the duration the container declares."""

    def __init__(self, container: av.container.InputContainer) -> None:
        declared = container.duration if container.format.name == "matroska,webm" else None
        start = container.start_time or 0
        self.declared_s = (start + declared) / av.time_base if declared else None
        self.end_s = 0.0
        self._last: dict[int, float] = {}
        self._step: dict[int, float] = {}

    def saw(self, packet: av.Packet[Any]) -> None:
        """Record one demuxed packet (any stream)."""
        if packet.pts is None or packet.time_base is None or not packet.size:
            return
        index = packet.stream.index
        start = float(packet.pts * packet.time_base)
        previous = self._last.get(index)
        if previous is not None and start != previous:
            step = abs(start - previous)  # decode order: B-frames jump back and forth
            self._step[index] = min(self._step.get(index, step), step)
        self._last[index] = start
        length = float(packet.duration * packet.time_base) if packet.duration else 0.0
        self.end_s = max(self.end_s, start + length)

    def check(self) -> None:
        """Raise :class:`CorruptInput` when the demuxed packets end before the declared
        duration by more than one packet interval (the smallest step between a stream's
        timestamps: a last packet may carry no duration of its own)."""
        if self.declared_s is None or not self._last:
            return
        slack = max(self._step.values(), default=0.0) + DURATION_SLACK_S
        if self.end_s + slack < self.declared_s:
            raise CorruptInput(
                f"truncated: the packets end at {self.end_s:.3f} s, "
                f"the container declares {self.declared_s:.3f} s"
            )


def check_top_level_boxes(path: Path, container: str) -> None:
    """The file's top-level boxes must tile it exactly: ISO-BMFF atoms (MP4 / MOV), RIFF
    chunks (AVI), and for Matroska / WebM the EBML header and the Segment's children
    (clusters, cues, …). A file cut inside its last box (often the index or its trailing
    metadata, or for Matroska the last cluster: FFmpeg then drops the cut frame and reads a
    clean end of file) has a box that claims more bytes than remain."""
    if container not in ("mp4", "mov", "avi", "matroska", "webm"):
        return
    size = path.stat().st_size
    walk = {"avi": _riff_boxes, "matroska": _ebml_boxes, "webm": _ebml_boxes}.get(
        container, _iso_boxes
    )
    with open(path, "rb") as f:
        for name, start, length in walk(f, size):
            if start + length > size:
                raise CorruptInput(
                    f"truncated: the {name!r} box at byte {start} declares {length} bytes, "
                    f"{size - start} remain"
                )


def _iso_boxes(f: BinaryIO, size: int) -> Iterator[tuple[str, int, int]]:
    at = 0
    while at + 8 <= size:
        f.seek(at)
        head = f.read(16)
        length, kind = struct.unpack(">I4s", head[:8])
        if length == 1:
            if len(head) < 16:
                raise CorruptInput(f"truncated: the box at byte {at} has no 64-bit size")
            length = struct.unpack(">Q", head[8:16])[0]
        elif length == 0:
            length = size - at  # extends to the end of the file
        if length < 8:
            raise CorruptInput(f"damaged: the box at byte {at} declares {length} bytes")
        yield kind.decode("latin-1"), at, length
        at += length
    if at != size:
        raise CorruptInput(f"truncated: {size - at} stray bytes after the last box")


_EBML_SEGMENT = 0x18538067
_EBML_UNKNOWN = -1


def _ebml_vint(f: BinaryIO, at: int, *, is_id: bool) -> tuple[int, int]:
    """(value, length) of the EBML variable-length integer at ``at``; an element ID keeps
    its marker bit, a size of all ones is :data:`_EBML_UNKNOWN`."""
    f.seek(at)
    first = f.read(1)
    if not first or first[0] == 0:
        raise CorruptInput(f"damaged: no EBML {'ID' if is_id else 'size'} at byte {at}")
    length = 9 - first[0].bit_length()
    if is_id and length > 4:
        raise CorruptInput(f"damaged: EBML ID at byte {at} is {length} bytes long")
    rest = f.read(length - 1)
    if len(rest) != length - 1:
        raise CorruptInput(f"truncated: the EBML element at byte {at} is cut")
    raw = int.from_bytes(first + rest, "big")
    if is_id:
        return raw, length
    value = raw & ((1 << (7 * length)) - 1)
    return (_EBML_UNKNOWN if value == (1 << (7 * length)) - 1 else value), length


def _ebml_boxes(f: BinaryIO, size: int) -> Iterator[tuple[str, int, int]]:
    """Top-level EBML elements, then the Segment's children (which must end where the
    Segment does, or at the end of the file for a Segment of unknown size)."""
    at = 0
    while at < size:
        element, id_len = _ebml_vint(f, at, is_id=True)
        length, size_len = _ebml_vint(f, at + id_len, is_id=False)
        head = id_len + size_len
        if element == _EBML_SEGMENT:
            end = size if length == _EBML_UNKNOWN else at + head + length
            yield "Segment", at, end - at
            yield from _ebml_children(f, at + head, end)
            at = end
            continue
        if length == _EBML_UNKNOWN:
            raise CorruptInput(f"damaged: top-level EBML element at byte {at} has no size")
        yield f"EBML 0x{element:X}", at, head + length
        at += head + length


def _ebml_children(f: BinaryIO, start: int, end: int) -> Iterator[tuple[str, int, int]]:
    at = start
    while at < end:
        element, id_len = _ebml_vint(f, at, is_id=True)
        length, size_len = _ebml_vint(f, at + id_len, is_id=False)
        if length == _EBML_UNKNOWN:  # a live-streamed cluster: ends where the next begins
            return
        yield f"EBML 0x{element:X}", at, id_len + size_len + length
        at += id_len + size_len + length


def _riff_boxes(f: BinaryIO, size: int) -> Iterator[tuple[str, int, int]]:
    at = 0
    while at + 8 <= size:
        f.seek(at)
        kind, length = struct.unpack("<4sI", f.read(8))
        yield kind.decode("latin-1"), at, 8 + length + (length & 1)
        at += 8 + length + (length & 1)
    if at < size - 1:  # a missing pad byte at the very end is tolerated
        raise CorruptInput(f"truncated: {size - at} stray bytes after the last chunk")
