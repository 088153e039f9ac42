"""One run over a video: demux, decode, detect, cover in time, hide, encode, mux.

:class:`VideoJob` reads the source once and writes one output container, frame by frame, in
constant memory (a look-ahead of at most the tracks' window). The detector and the hiding
step are injected (:class:`FrameDetector`, :data:`FrameRedactor`): this module knows neither
models nor kernels.
"""

from __future__ import annotations

import contextlib
import inspect
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol, cast

import av
import av.container
import av.error
import numpy as np
from av.bitstream import BitStreamFilterContext
from av.codec.context import Flags
from av.sidedata.sidedata import Type as SideDataType
from numpy.typing import NDArray

from fastredact._spare_cores import Lanes, SpareCores
from fastredact._timing import StageTimer
from fastredact.errors import CorruptInput, FastRedactError, UnsupportedFormat, one_line
from fastredact.video._display import DisplayTransform
from fastredact.video._frames import ColourTags, from_rgb, to_encoder_format, to_rgb
from fastredact.video._integrity import DeclaredDuration, LibavProblems, VideoFrameCount
from fastredact.video._motion import MotionGate
from fastredact.video._options import VideoOptions
from fastredact.video._streams import StreamPlan, StreamReport, open_output
from fastredact.video._tracking import FrameBoxes, TemporalCoverage
from fastredact.video._x264 import x264_cpu_params

__all__ = [
    "DetectionsLike",
    "FrameDetections",
    "FrameDetector",
    "FrameRedactor",
    "FrameScreen",
    "ProgressCallback",
    "VideoJob",
    "VideoResult",
]

_MAX_EARLY_PACKETS = 10_000
"""Audio packets allowed before the first video frame (bounds memory on odd files)."""

_SEI_FILTERS = {
    # The encoder's own banner (x264/x265 version and settings) travels in SEI NAL units.
    "h264": "filter_units=remove_types=6",
    "hevc": "filter_units=remove_types=39|40",
}


class DetectionsLike(Protocol):
    """What a detector returns: ``boxes`` (N, 4); ``labels`` and ``parents`` (N,) are read
    when present."""

    @property
    def boxes(self) -> Any: ...


class FrameDetector(Protocol):
    def detect(self, rgb: NDArray[np.uint8], /) -> DetectionsLike: ...


FrameRedactor = Callable[
    [NDArray[np.uint8], NDArray[np.float32], NDArray[np.bool_], list[object]], None
]
FrameScreen = Callable[[int, "FrameDetections"], "FrameDetections"]
ProgressCallback = Callable[[int, "int | None"], None]


@dataclass(frozen=True)
class FrameDetections:
    """What was found on one frame: ``boxes`` (N, 4, x0 y0 x1 y1 in the pixels of the frame
    searched; the job keeps them in stored pixels), their ``labels`` (``None``: one class)
    and ``parents`` (``None``: every box a detection; else -1 for a detection and, for a box
    attached to one, that detection's index; see :mod:`fastredact.video._tracking`)."""

    boxes: NDArray[np.float32]
    labels: Any = None
    parents: Any = None
    scores: Any = None

    @classmethod
    def of(
        cls, found: DetectionsLike, transform: DisplayTransform, width: int, height: int
    ) -> FrameDetections:
        """A detector's answer on the displayed frame, checked and mapped to the stored
        ``width`` x ``height`` pixels."""
        boxes = np.asarray(found.boxes, dtype=np.float32).reshape(-1, 4)
        if not np.isfinite(boxes).all():
            raise FastRedactError("detector returned non-finite boxes")
        labels = getattr(found, "labels", None)
        parents = getattr(found, "parents", None)
        scores = getattr(found, "scores", None)
        for name, values in (("labels", labels), ("parents", parents), ("scores", scores)):
            if values is not None and len(values) != len(boxes):
                raise FastRedactError(
                    f"detector returned {len(values)} {name} for {len(boxes)} boxes"
                )
        return cls(transform.boxes_to_stored(boxes, width, height), labels, parents, scores)


@dataclass
class VideoResult:
    """What happened to one video (the manifest row's video fields)."""

    frames: int = 0
    frames_detected: int = 0
    frames_reused: int = 0
    frames_with_detections: int = 0
    frames_redacted: int = 0
    passes: int = 1
    """Runs over the source: more than 1 when the output check found something to hide."""
    boxes_added_by_check: int = 0
    """Boxes the output check found and the last run hid (0 without a check)."""
    frames_checked: int = 0
    """Output frames the check ran the detectors on, over all runs (0 without a check)."""
    frames_with_guesses: int = 0
    """Frames holding a box that is a guess (a track's box copied beyond its first or last
    detection): the frames the redactor is asked to check again."""
    tracks: int = 0
    width: int = 0
    height: int = 0
    """The input's stored size (the detections' pixels)."""
    output_width: int | None = None
    output_height: int | None = None
    """The written size, when ``max_size`` / ``max_megapixels`` scaled the video down."""
    duration_s: float = 0.0
    codec: str = ""
    pix_fmt: str = ""
    container: str = ""
    max_buffered_frames: int = 0
    streams_kept: list[StreamReport] = field(default_factory=list)
    streams_dropped: list[StreamReport] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    detected: dict[int, FrameDetections] = field(default_factory=dict)
    """Each detected frame's detections in stored pixels, by frame index (only with
    ``VideoOptions.list_boxes``; not a manifest field of its own)."""

    def manifest_fields(self) -> dict[str, Any]:
        """JSON-ready fields for the manifest row."""
        return {
            "kind": "video",
            "frames": self.frames,
            "frames_detected": self.frames_detected,
            "frames_reused": self.frames_reused,
            "frames_with_detections": self.frames_with_detections,
            "frames_redacted": self.frames_redacted,
            "frames_with_guesses": self.frames_with_guesses,
            "tracks": self.tracks,
            "passes": self.passes,
            "boxes_added_by_check": self.boxes_added_by_check,
            "frames_checked": self.frames_checked,
            "width": self.width,
            "height": self.height,
            **(
                {"output_width": self.output_width, "output_height": self.output_height}
                if self.output_width is not None
                else {}
            ),
            "duration_s": round(self.duration_s, 6),
            "codec": self.codec,
            "pix_fmt": self.pix_fmt,
            "container": self.container,
            "streams_kept": [s.as_dict() for s in self.streams_kept],
            "streams_dropped": [s.as_dict() for s in self.streams_dropped],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }


@dataclass(frozen=True)
class _Detected:
    """One frame's detections from a lane, with the seconds they took there."""

    found: FrameDetections
    seconds: float


@dataclass(frozen=True)
class _InFlight:
    """A decoded frame waiting to be tracked, with its detection (``None``: not detected)."""

    index: int
    frame: av.VideoFrame
    detection: Future[_Detected] | None

    def ready(self) -> bool:
        return self.detection is None or self.detection.done()


class VideoJob:
    """One input → one output; holds the look-ahead and the encoder."""

    def __init__(
        self,
        inp: av.container.InputContainer,
        plan: StreamPlan,
        tmp: Path,
        output_format: str,
        options: VideoOptions,
        detector: FrameDetector,
        redact_frame: FrameRedactor | Callable[..., None],
        *,
        extra: dict[int, NDArray[np.float32]] | None = None,
        replay: dict[int, FrameDetections] | None = None,
        record: bool = False,
        screen: FrameScreen | None = None,
        spare: SpareCores | None = None,
    ) -> None:
        self.inp = inp
        self.screen = screen
        """Drops detections of a frame (by index, in stored pixels) before they are tracked:
        a reviewer's false positives."""
        self.extra = extra or {}
        """Boxes (stored pixels) to hide on given output frames besides the tracked ones."""
        self.replay = replay
        """Detections of an earlier run per frame index, used instead of detecting again."""
        self.recorded: dict[int, FrameDetections] | None = {} if record else None
        """This run's detections per frame index, kept only when asked (``record``): it grows
        with the video's length."""
        self.plan = plan
        self.tmp = tmp
        self.output_format = output_format
        self.options = options
        self.detector = detector
        self.redact_frame = taking_labels(redact_frame)
        self.coverage = TemporalCoverage(options.coverage())
        self.motion = (
            MotionGate(options.motion_threshold) if options.motion_threshold is not None else None
        )
        self.timer = StageTimer()
        self.result = VideoResult(
            streams_kept=list(plan.kept),
            streams_dropped=list(plan.dropped),
            container=output_format,
        )
        self.out: av.container.OutputContainer | None = None
        self.out_video: Any = None
        self.out_audio: dict[int, Any] = {}
        self.sei_filter: BitStreamFilterContext | None = None
        self.early_audio: list[av.Packet[Any]] = []
        self.pending: deque[av.VideoFrame] = deque()
        self.transform = DisplayTransform()
        self.tags: ColourTags | None = None
        self.out_size: tuple[int, int] | None = None
        """(width, height) the output is scaled to (publishing copies), else ``None``."""
        self.pix_fmt = options.pix_fmt
        self.last_pts: int | None = None
        self.first_pts: int | None = None
        self.end_pts = 0
        self.decoded = 0
        self.frame_count = VideoFrameCount(inp, plan.video)
        self.last_found: FrameDetections | None = None
        self.progress: ProgressCallback | None = None
        self.in_flight: deque[_InFlight] = deque()
        """Decoded frames not yet tracked, in decoding order, with their detections running
        on a lane or done."""
        self.lanes: Lanes | None = None
        if spare is not None and spare.workers > 1 and replay is None and self.motion is None:
            # the motion gate decides per frame from the frame before: frames one at a time
            self.lanes = Lanes(spare)
        self.most_in_flight = 2 * options.detect_every * (spare.workers if spare else 1)

    # -- main loop -------------------------------------------------------------------------

    def run(self, progress: ProgressCallback | None) -> VideoResult:
        self.progress = progress
        video = self.plan.video
        # One decoding thread: FFmpeg's messages about damage are then logged on this
        # thread, where LibavProblems sees them (decoding is cheap next to detection).
        video.codec_context.thread_count = 1
        video.codec_context.options = {"err_detect": "explode"}
        try:
            with LibavProblems(video.codec_context.name) as problems:
                self._demux(video, problems)
                problems.check()
            while self.in_flight:
                self._take_oldest()
            if self.decoded == 0:
                raise CorruptInput("no video frame could be decoded")
            self.frame_count.check()
            for fb in self.coverage.finish():
                self._emit(fb)
            self._flush_encoder()
            assert self.out is not None
            self.out.close()
            self.out = None
        except av.error.FFmpegError as exc:
            raise CorruptInput(f"video decoding failed: {_ffmpeg_message(exc)}") from None
        finally:
            if self.lanes is not None:
                self.lanes.close()
            if self.out is not None:
                with contextlib.suppress(Exception):
                    self.out.close()
        self._finish_result(video)
        return self.result

    def _demux(self, video: av.video.stream.VideoStream, problems: LibavProblems) -> None:
        """Every packet of every stream is read (the declared duration covers them all);
        video is decoded, kept audio copied, the rest discarded."""
        declared = DeclaredDuration(self.inp)
        audio = {s.index for s in self.plan.audio}
        for packet in self.inp.demux():
            problems.check()
            declared.saw(packet)
            if packet.stream.index in audio:
                self._on_audio(packet)
                continue
            if packet.stream.index != video.index:
                continue
            self.frame_count.saw(packet)
            with self.timer("decode_s"):
                frames = packet.decode()
            problems.check()
            for frame in frames:
                if isinstance(frame, av.VideoFrame):
                    self._on_frame(frame)
        declared.check()

    def _on_audio(self, packet: av.Packet[Any]) -> None:
        if packet.dts is None or packet.size == 0:
            return  # the demuxer's end-of-stream marker
        if self.out is None:
            if len(self.early_audio) >= _MAX_EARLY_PACKETS:
                raise CorruptInput(f"no video frame within the first {_MAX_EARLY_PACKETS} packets")
            self.early_audio.append(packet)
            return
        self._mux_audio(packet)

    def _mux_audio(self, packet: av.Packet[Any]) -> None:
        assert self.out is not None
        packet.stream = self.out_audio[packet.stream.index]
        self.out.mux(packet)

    def _on_frame(self, frame: av.VideoFrame) -> None:
        self._check_frame(frame)
        if self.out is None:
            self._start_output(frame)
        index = self.decoded
        self.decoded += 1
        if self.lanes is None:
            self._take(index, frame, self._detections(index, frame))
            return
        detected = index % self.options.detect_every == 0
        self.in_flight.append(_InFlight(index, frame, self._submit(frame) if detected else None))
        while self.in_flight and (
            self.in_flight[0].ready() or len(self.in_flight) > self.most_in_flight
        ):
            self._take_oldest()

    def _take_oldest(self) -> None:
        """Wait for the oldest frame in flight and pass it on."""
        oldest = self.in_flight.popleft()
        found = None
        if oldest.detection is not None:
            detected = oldest.detection.result()
            self.timer.add("detect_s", detected.seconds)
            found = self._accept(oldest.index, detected.found)
        self._take(oldest.index, oldest.frame, found)

    def _take(self, index: int, frame: av.VideoFrame, found: FrameDetections | None) -> None:
        """Track ``frame``'s detections (``None``: not detected) and emit what is covered."""
        self.pending.append(frame)
        buffered = len(self.pending) + len(self.in_flight)
        self.result.max_buffered_frames = max(self.result.max_buffered_frames, buffered)
        pushed = (
            self.coverage.push(index, None)
            if found is None
            else self.coverage.push(index, found.boxes, found.labels, found.parents)
        )
        for fb in pushed:
            self._emit(fb)

    def _check_frame(self, frame: av.VideoFrame) -> None:
        where = f"frame {self.decoded}"
        if frame.is_corrupt:
            raise CorruptInput(f"{where} is corrupt (decoder reported damage)")
        if frame.pts is None:
            raise CorruptInput(f"{where} has no timestamp")
        if self.last_pts is not None and frame.pts <= self.last_pts:
            raise CorruptInput(f"{where}: timestamps do not increase ({frame.pts})")
        if self.first_pts is None:
            self.first_pts = frame.pts
        self.last_pts = frame.pts
        self.end_pts = frame.pts + max(int(frame.duration or 0), 0)
        if (
            self.tags is not None
            and DisplayTransform.from_side_data(_display_matrix(frame)) != self.transform
        ):
            raise UnsupportedFormat(f"{where}: the display matrix changes mid-stream")

    # -- detection ---------------------------------------------------------------------------

    def _detections(self, index: int, frame: av.VideoFrame) -> FrameDetections | None:
        """This frame's detections in stored pixels, or ``None`` when it is not detected."""
        if self.replay is not None:
            replayed = self.replay.get(index)
            if replayed is not None and self.options.list_boxes:
                self.result.detected[index] = replayed
            return replayed
        if index % self.options.detect_every != 0:
            return None
        display = self._display(frame)
        if self.motion is not None and self.last_found is not None:
            if not self.motion.needs_detection(display):
                self.result.frames_reused += 1
                self._record(index, self.last_found)
                return self.last_found
        elif self.motion is not None:
            self.motion.needs_detection(display)
        with self.timer("detect_s"):
            dets = self.detector.detect(display)
        found = FrameDetections.of(dets, self.transform, frame.width, frame.height)
        return self._accept(index, found)

    def _display(self, frame: av.VideoFrame) -> NDArray[np.uint8]:
        """``frame`` as the detectors see it: RGB, as displayed."""
        assert self.tags is not None
        with self.timer("convert_s"):
            return np.ascontiguousarray(self.transform.to_display(to_rgb(frame, self.tags)))

    def _submit(self, frame: av.VideoFrame) -> Future[_Detected]:
        """Start this frame's detection on a free lane (waiting for one)."""
        assert self.lanes is not None
        display = self._display(frame)
        return self.lanes.submit(self._detect_on_lane, display, frame.width, frame.height)

    def _detect_on_lane(self, display: NDArray[np.uint8], width: int, height: int) -> _Detected:
        start = time.perf_counter()
        dets = self.detector.detect(display)
        found = FrameDetections.of(dets, self.transform, width, height)
        return _Detected(found, time.perf_counter() - start)

    def _accept(self, index: int, found: FrameDetections) -> FrameDetections:
        """A detected frame's detections, screened and counted (on the job's thread, in
        frame order)."""
        if self.screen is not None:
            found = self.screen(index, found)
        self.result.frames_detected += 1
        self.last_found = found
        self._record(index, found)
        return found

    def _record(self, index: int, found: FrameDetections) -> None:
        if self.recorded is not None:
            self.recorded[index] = found
        if self.options.list_boxes:
            self.result.detected[index] = found

    # -- output ------------------------------------------------------------------------------

    def _start_output(self, first: av.VideoFrame) -> None:
        """Create the output container and its streams from the first decoded frame."""
        self.transform = DisplayTransform.from_side_data(_display_matrix(first))
        self.tags = ColourTags.of(first)
        self.out_size = self.options.output_size(first.width, first.height)
        self.result.width, self.result.height = first.width, first.height
        width, height = self.out_size or (first.width, first.height)
        odd = width % 2 or height % 2
        if odd and self.pix_fmt in ("yuv420p", "yuvj420p", "nv12"):
            self.pix_fmt = "yuv444p"  # 4:2:0 needs even sizes; never crop or pad
        out = open_output(self.tmp, self.output_format)
        self.out = out
        self.out_video = self._add_video_stream(out, first)
        for stream in self.plan.audio:
            copy = out.add_stream_from_template(stream)
            copy.metadata.clear()
            self.out_audio[stream.index] = copy
        for packet in self.early_audio:
            self._mux_audio(packet)
        self.early_audio.clear()

    def _add_video_stream(self, out: av.container.OutputContainer, first: av.VideoFrame) -> Any:
        src = self.plan.video
        codec = self.options.codec_for(self.output_format)
        rate: Fraction = src.average_rate or src.guessed_rate or Fraction(30)
        try:
            stream = cast(
                "av.video.stream.VideoStream",
                out.add_stream(codec, rate=rate, options=self._codec_options(codec)),
            )
        except (av.error.FFmpegError, ValueError) as exc:
            raise UnsupportedFormat(f"cannot encode with {codec!r}: {exc}") from None
        if stream.codec_context.codec.canonical_name not in _storable(out):
            raise UnsupportedFormat(f"{self.output_format} cannot hold {codec!r} video")
        stream.width, stream.height = self.out_size or (first.width, first.height)
        stream.pix_fmt = self.pix_fmt
        if src.time_base is None:
            raise CorruptInput("the video stream has no time base")
        stream.time_base = src.time_base
        ctx = stream.codec_context
        ctx.time_base = src.time_base
        ctx.flags |= Flags.bitexact | Flags.frame_duration
        ctx.thread_count = self.options.threads
        assert self.tags is not None
        ctx.colorspace = self.tags.colorspace
        ctx.color_range = self.tags.color_range
        ctx.color_primaries = self.tags.color_primaries
        ctx.color_trc = self.tags.color_trc
        sar = src.sample_aspect_ratio
        if sar:
            ctx.sample_aspect_ratio = sar
        if not self.transform.is_identity:
            stream.set_display_matrix(list(self.transform.matrix))
        stream.metadata.clear()
        return stream

    def _codec_options(self, codec: str) -> dict[str, str]:
        opts = {"crf": str(self.options.crf)}
        if codec in ("libx264", "libx265") and self.options.preset:
            opts["preset"] = self.options.preset
        cpu = x264_cpu_params() if codec == "libx264" else None
        if cpu is not None:
            opts["x264-params"] = cpu  # the same frames, the same file (see _x264.py)
        if codec == "libx265":
            opts["x265-params"] = "log-level=error"
        if codec.startswith("libvpx"):
            opts["b"] = "0"  # constant quality
        return opts

    def _emit(self, fb: FrameBoxes) -> None:
        frame = self.pending.popleft()
        assert self.tags is not None
        boxes, extended = fb.boxes, fb.extended
        labels = list(fb.labels) if len(fb.labels) == len(boxes) else [None] * len(boxes)
        added = self.extra.get(fb.index)
        if added is not None:
            boxes = np.concatenate([boxes, added]).astype(np.float32)
            extended = np.concatenate([extended, np.zeros(len(added), np.bool_)])
            labels += [None] * len(added)
        inside = _in_frame(boxes, frame.width, frame.height)
        boxes, extended = boxes[inside], extended[inside]
        labels = [label for label, keep in zip(labels, inside, strict=True) if keep]
        if len(boxes) or self.options.every_frame:
            with self.timer("convert_s"):
                rgb = to_rgb(frame, self.tags)
            with self.timer("redact_s"):
                self.redact_frame(rgb, boxes, extended, labels)
            with self.timer("convert_s"):
                out_frame = from_rgb(rgb, frame, self.pix_fmt, self.tags, self.out_size)
            self.result.frames_redacted += 1
            self.result.frames_with_guesses += int(extended.any())
        else:
            out_frame = to_encoder_format(frame, self.pix_fmt, self.tags, self.out_size)
        if fb.detected:
            self.result.frames_with_detections += 1
        with self.timer("encode_s"):
            for packet in self.out_video.encode(out_frame):
                self._mux_video(packet)
        self.result.frames += 1
        if self.progress is not None:
            self.progress(self.result.frames, self.plan.video.frames or None)

    def _mux_video(self, packet: av.Packet[Any] | None) -> None:
        assert self.out is not None
        name = self.out_video.codec_context.codec.canonical_name
        if name not in _SEI_FILTERS:
            if packet is not None:
                self.out.mux(packet)
            return
        if self.sei_filter is None:
            self.sei_filter = BitStreamFilterContext(_SEI_FILTERS[name], self.out_video)
        for filtered in self.sei_filter.filter(packet):
            filtered.stream = self.out_video
            self.out.mux(filtered)

    def _flush_encoder(self) -> None:
        with self.timer("encode_s"):
            for packet in self.out_video.encode(None):
                self._mux_video(packet)
            if self.sei_filter is not None:
                self._mux_video(None)

    def _finish_result(self, video: av.video.stream.VideoStream) -> None:
        r = self.result
        r.tracks = self.coverage.tracks_started
        ctx = self.out_video.codec_context
        if self.out_size is not None:
            r.output_width, r.output_height = ctx.width, ctx.height
        r.codec = ctx.name
        r.pix_fmt = self.pix_fmt
        if self.first_pts is not None and video.time_base is not None:
            r.duration_s = float((self.end_pts - self.first_pts) * video.time_base)
        r.timings.update(self.timer.seconds)


def _storable(out: av.container.OutputContainer) -> set[str]:
    return set(out.supported_codecs)


def _display_matrix(frame: av.VideoFrame) -> bytes | None:
    data = frame.side_data.get(SideDataType.DISPLAYMATRIX)  # type: ignore[call-overload]
    return bytes(data) if data is not None else None


def taking_labels(redact_frame: Callable[..., None]) -> FrameRedactor:
    """``redact_frame`` as a redactor of four arguments: one written for three (``rgb, boxes,
    extended``, before the labels were passed) is called without them."""
    try:
        inspect.signature(redact_frame).bind(None, None, None, None)
    except TypeError:
        return lambda rgb, boxes, extended, labels: redact_frame(rgb, boxes, extended)
    except ValueError:  # no signature to read (a builtin): called with all four
        pass
    return redact_frame


def _in_frame(boxes: NDArray[np.float32], width: int, height: int) -> NDArray[np.bool_]:
    """Which boxes overlap the frame. They are kept as they are: a box reaching past the
    border keeps its size, so the ellipse drawn in it stays centred on the object (the
    kernels clip)."""
    keep = (boxes[:, 2] > 0) & (boxes[:, 0] < width) & (boxes[:, 3] > 0) & (boxes[:, 1] < height)
    return keep & (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])


def _ffmpeg_message(exc: av.error.FFmpegError) -> str:
    return one_line(exc.strerror or exc)
