"""The settings of one video's job. The defaults users can change are decided in
:mod:`fastredact.options` (which the manifest records); these are their reasons, with the
job's own defaults:

- ``codec=None`` → ``libx264`` (H.264 plays everywhere; ``libvpx-vp9`` for ``.webm``, which
  cannot hold H.264). ``crf=18``: visually lossless for H.264, so a redacted dataset stays
  usable for training; ``preset="veryfast"``: encoding must not be the bottleneck on a
  laptop (x264's usual trade: several times faster than ``medium``, somewhat larger files
  at the same CRF; not measured here — encoding took ≈ 26 ms per 608×1080 frame).
- ``pix_fmt="yuv420p"`` (what every player decodes). Odd widths or heights cannot be
  4:2:0-subsampled, so those videos are written ``yuv444p`` instead of being cropped or
  padded: the resolution never changes.
- ``audio="keep"``: audio streams are copied packet for packet (no re-encode, no drift).
- ``detect_every=1``: the detector sees every frame. With ``detect_every=N`` it sees one
  frame in N and tracks carry the boxes over the frames between.
- ``extend=5`` frames before a track's first and after its last detection, ``max_gap=15``
  frames bridged by interpolation, ``iou_threshold=0.2`` to link boxes across frames.
  With ``detect_every=N`` the effective values grow to at least ``N`` and ``2·N`` (a face
  can appear right after one detected frame, and one detected frame may miss it).
- ``motion_threshold=None``: off. When set (grey levels, e.g. 3.0), frames whose coarse
  block means moved less than that since the last detected frame reuse its boxes.

Memory: the look-ahead holds ``max(extend, max_gap)`` decoded frames (≈ 1.5 bytes per
pixel each for 4:2:0 sources), plus the encoder's own look-ahead; nothing grows with the
video's length.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from fastredact.options import DEFAULT_CRF, DEFAULT_PRESET, AudioPolicy, Preset, choices
from fastredact.video._tracking import CoverageSettings

__all__ = ["VideoOptions"]

_X26X = ("libx264", "libx265")
_X26X_MAX_CRF = 51


@dataclass(frozen=True)
class VideoOptions:
    """Settings of a video redaction (see the module docstring for the defaults)."""

    codec: str | None = None
    crf: int = DEFAULT_CRF
    preset: Preset | None = DEFAULT_PRESET
    pix_fmt: str = "yuv420p"
    container: str | None = None
    audio: AudioPolicy = "keep"
    detect_every: int = 1
    extend: int = 5
    max_gap: int = 15
    iou_threshold: float = 0.2
    motion_threshold: float | None = None
    threads: int = 0
    list_boxes: bool = False
    """Keep every detected frame's boxes in :attr:`VideoResult.detected` (the manifest
    lists them)."""
    every_frame: bool = False
    """Call the frame redactor on every frame, with boxes or without (``--background`` hides
    a frame without people too)."""
    max_size: int | None = None
    max_megapixels: float | None = None
    """Publishing copies: the output is scaled down (area filter, even sizes) to these limits
    after the frames were hidden at full size."""

    def output_size(self, width: int, height: int) -> tuple[int, int] | None:
        """The encoded size of a ``width`` x ``height`` video, or ``None`` when unscaled."""
        from fastredact.options import scaled_size

        return scaled_size(width, height, self.max_size, self.max_megapixels, even=True)

    def __post_init__(self) -> None:
        if self.audio not in choices(AudioPolicy):
            raise ValueError(
                f"audio must be one of {', '.join(choices(AudioPolicy))}; got {self.audio!r}"
            )
        if not 0 <= self.crf <= 63:
            raise ValueError(f"crf must be between 0 and 63, got {self.crf}")
        if self.codec in (None, *_X26X) and self.crf > _X26X_MAX_CRF:
            raise ValueError(
                f"crf must be between 0 and {_X26X_MAX_CRF} for H.264/H.265, got {self.crf} "
                "(up to 63 needs a VP9 or AV1 encoder)"
            )
        if self.preset is not None and self.preset not in choices(Preset):
            raise ValueError(
                f"preset must be one of {', '.join(choices(Preset))}; got {self.preset!r}"
            )
        if self.codec is not None:
            _check_video_encoder(self.codec)
        if self.detect_every < 1:
            raise ValueError(f"detect_every must be >= 1, got {self.detect_every}")
        if self.motion_threshold is not None and not self.motion_threshold >= 0:
            raise ValueError(f"motion_threshold must be >= 0, got {self.motion_threshold}")
        if self.threads < 0:
            raise ValueError(f"threads must be >= 0 (0: automatic), got {self.threads}")
        self.coverage()  # validates extend / max_gap / iou_threshold

    def codec_for(self, output_format: str) -> str:
        if self.codec is not None:
            return self.codec
        return "libvpx-vp9" if output_format == "webm" else "libx264"

    def coverage(self) -> CoverageSettings:
        """Tracking settings, grown to fit ``detect_every``."""
        n = self.detect_every
        return CoverageSettings(
            extend=max(self.extend, n if n > 1 else 0),
            max_gap=max(self.max_gap, 2 * n if n > 1 else 0),
            iou_threshold=self.iou_threshold,
        )

    def output_settings(self) -> dict[str, Any]:
        """Everything that changes the output bytes (``threads`` and ``list_boxes`` do not)."""
        settings = asdict(self)
        settings.pop("threads")
        settings.pop("list_boxes")
        return settings


def _check_video_encoder(name: str) -> None:
    """Raise ValueError unless this build of FFmpeg (PyAV's) has a video encoder ``name``."""
    import av  # here, not at import: options are validated long before any video is opened

    try:
        codec = av.Codec(name, "w")
    except (av.error.FFmpegError, ValueError):  # av raises UnknownCodecError (a ValueError)
        raise ValueError(f"no video encoder named {name!r} in this FFmpeg build") from None
    if codec.type != "video":
        raise ValueError(f"{name!r} encodes {codec.type}, not video")
