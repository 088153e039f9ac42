"""Video: streaming redaction with PyAV, in constant memory, failing closed.

- :mod:`~fastredact.video._redact`: :func:`redact_video`, the entry (atomic output, the
  checked re-runs of ``--verify-video``);
- :mod:`~fastredact.video._job`: one run over the source (demux, decode, detect, track,
  hide, encode, mux);
- :mod:`~fastredact.video._process`: the run's detectors and hiding step wired in;
- :mod:`~fastredact.video._streams`, :mod:`~fastredact.video._frames`,
  :mod:`~fastredact.video._display`: containers and streams, colour-exact frame
  conversions, the display matrix;
- :mod:`~fastredact.video._integrity`, :mod:`~fastredact.video._ffmpeg_log`: truncation and
  damage are errors;
- :mod:`~fastredact.video._tracking`, :mod:`~fastredact.video._motion`: covering frames
  between detections, skipping still frames;
- :mod:`~fastredact.video._check`: the detectors run again on the written output;
- :mod:`~fastredact.video._options`: the settings of one video's job.
"""

from __future__ import annotations

from fastredact.video._job import (
    DetectionsLike,
    FrameDetections,
    FrameDetector,
    FrameRedactor,
    ProgressCallback,
    VideoResult,
)
from fastredact.video._options import VideoOptions
from fastredact.video._process import (
    VideoOutcome,
    output_container_for,
    redact_video_file,
    video_output_path,
)
from fastredact.video._redact import CHECK_PASSES, redact_video

__all__ = [
    "CHECK_PASSES",
    "DetectionsLike",
    "FrameDetections",
    "FrameDetector",
    "FrameRedactor",
    "ProgressCallback",
    "VideoOptions",
    "VideoOutcome",
    "VideoResult",
    "output_container_for",
    "redact_video",
    "redact_video_file",
    "video_output_path",
]
