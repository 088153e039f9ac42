"""Video containers: opening, which streams survive, and a metadata-free output (the
container itself is sniffed by :mod:`fastredact.formats`).

Policy (fail closed): the output is a new container built from scratch. It holds the
redacted video stream and, with ``audio="keep"``, every audio stream copied packet for
packet; everything else — subtitles, data and timed-metadata tracks (GPS, GoPro GPMF,
camera telemetry), attachments, cover art, extra video tracks — is dropped and reported.
No container, stream or chapter metadata is carried over, and the muxer runs bit-exact so
it writes no ``encoder`` / ``creation_time`` of its own.
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import av
import av.container
import av.error
import av.logging
import av.stream

from fastredact.errors import CorruptInput, UnsupportedFormat, one_line
from fastredact.formats import VIDEO_DEMUXERS, VIDEO_MUXER_OF_SUFFIX
from fastredact.video._ffmpeg_log import capture_messages

__all__ = [
    "StreamPlan",
    "StreamReport",
    "open_input",
    "open_output",
    "output_format_for",
    "plan_streams",
]


def output_format_for(dst: Path, container: str | None = None) -> str:
    """The muxer for ``dst``: ``container`` when given, else from the destination's suffix."""
    if container is not None:
        if container not in set(VIDEO_MUXER_OF_SUFFIX.values()):
            raise ValueError(
                f"container must be one of {', '.join(sorted(set(VIDEO_MUXER_OF_SUFFIX.values())))}"
            )
        return container
    fmt = VIDEO_MUXER_OF_SUFFIX.get(dst.suffix.lower())
    if dst.suffix.lower() == ".avi":
        raise UnsupportedFormat("AVI output cannot keep timestamps exactly; write .mkv instead")
    if fmt is None:
        raise UnsupportedFormat(
            f"cannot tell the output container from {dst.name!r}; "
            f"use one of {', '.join(VIDEO_MUXER_OF_SUFFIX)}"
        )
    return fmt


@contextlib.contextmanager
def _ffmpeg_errors() -> Iterator[list[str]]:
    """Collect FFmpeg's error messages while the block runs (for one-line error texts)."""
    messages: list[str] = []
    with capture_messages() as logs:
        try:
            yield messages
        finally:
            messages.extend(str(m[2]).strip() for m in logs if m[0] <= av.logging.ERROR)


def open_input(src: Path) -> av.container.InputContainer:
    """Open ``src`` for demuxing; unreadable → :class:`CorruptInput`, other formats →
    :class:`UnsupportedFormat` (one line each)."""
    container: av.container.InputContainer | None = None
    try:
        with _ffmpeg_errors() as messages:
            container = av.open(str(src), mode="r", metadata_errors="replace")
    except av.error.FileNotFoundError:
        raise CorruptInput("file not found") from None
    except av.error.FFmpegError as exc:
        detail = "; ".join(dict.fromkeys(messages)) or exc.strerror or str(exc)
        raise CorruptInput(f"not a readable video ({one_line(detail)})") from None
    if container.format.name not in VIDEO_DEMUXERS:
        container.close()
        raise UnsupportedFormat(f"video container {container.format.name!r} is not supported")
    return container


@dataclass(frozen=True)
class StreamReport:
    """One input stream and what became of it (a manifest entry)."""

    index: int
    type: str
    codec: str
    action: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "type": self.type, "codec": self.codec, "action": self.action}


@dataclass(frozen=True)
class StreamPlan:
    """Which input streams are redacted, copied and dropped."""

    video: av.video.stream.VideoStream
    audio: tuple[av.audio.stream.AudioStream, ...]
    kept: tuple[StreamReport, ...]
    dropped: tuple[StreamReport, ...]


def _codec_name(stream: av.stream.Stream) -> str:
    ctx = stream.codec_context
    name = getattr(ctx, "name", None) if ctx is not None else None
    return str(name or "unknown")


def _is_cover_art(stream: av.stream.Stream) -> bool:
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def plan_streams(
    container: av.container.InputContainer, *, audio: str, output_format: str
) -> StreamPlan:
    """Choose the video stream to redact and the audio streams to copy; drop the rest."""
    videos = [
        s for s in container.streams.video if not _is_cover_art(s) and s.codec_context is not None
    ]
    if not videos:
        kinds = ", ".join(f"{s.type}:{_codec_name(s)}" for s in container.streams) or "none"
        raise UnsupportedFormat(f"no decodable video stream (streams: {kinds})")
    video = videos[0]
    _check_decoder(video)
    storable = _storable_codecs(output_format)
    kept = [StreamReport(video.index, "video", _codec_name(video), "redacted")]
    dropped: list[StreamReport] = []
    copied: list[av.audio.stream.AudioStream] = []
    for s in container.streams:
        if s is video:
            continue
        codec = _codec_name(s)
        if s.type == "audio" and audio == "keep":
            if codec not in storable:
                raise UnsupportedFormat(
                    f"audio codec {codec!r} cannot be copied into {output_format}; "
                    "write .mkv or use audio='drop'"
                )
            copied.append(cast("av.audio.stream.AudioStream", s))
            kept.append(StreamReport(s.index, "audio", codec, "copied"))
        else:
            dropped.append(StreamReport(s.index, s.type, codec, _drop_reason(s, audio)))
    return StreamPlan(video, tuple(copied), tuple(kept), tuple(dropped))


def _drop_reason(stream: av.stream.Stream, audio: str) -> str:
    if stream.type == "audio":
        return f"dropped (audio={audio})"
    if stream.type == "video":
        return "dropped (cover art)" if _is_cover_art(stream) else "dropped (extra video stream)"
    return f"dropped ({stream.type} stream)"


def _check_decoder(stream: av.video.stream.VideoStream) -> None:
    name = _codec_name(stream)
    try:
        av.Codec(name, "r")
    except (av.error.FFmpegError, ValueError):
        raise UnsupportedFormat(f"video codec {name!r} cannot be decoded") from None


@functools.lru_cache(maxsize=8)
def _storable_codecs(output_format: str) -> frozenset[str]:
    """Codecs the muxer can store (asked of FFmpeg on an in-memory container)."""
    with av.open(io.BytesIO(), mode="w", format=output_format) as probe:
        return frozenset(probe.supported_codecs)


def open_output(path: Path, output_format: str) -> av.container.OutputContainer:
    """A new, empty output container at ``path`` that writes no metadata of its own."""
    out = av.open(
        str(path),
        mode="w",
        format=output_format,
        options={"fflags": "+bitexact"},
    )
    out.metadata.clear()
    return out
