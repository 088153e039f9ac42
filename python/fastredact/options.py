"""The one place that decides defaults for photo redaction, so the manifest can record them.

:class:`RedactOptions` is what both the CLI and :class:`fastredact.Redactor` take; its
:meth:`RedactOptions.fingerprint` identifies everything that changes the output (``--resume``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from fastredact.cpus import usable_cpus
from fastredact.imageio import DEFAULT_MAX_PIXELS
from fastredact.manifest import settings_fingerprint
from fastredact.regions import DEFAULT_MASK_SCALE
from fastredact.video_options import DEFAULT_CRF, DEFAULT_PRESET, VideoOptions

__all__ = [
    "MODES",
    "OUTPUT_FORMATS",
    "SHAPES",
    "RedactOptions",
]

MODES = ("blur", "pixelate", "fill", "secure")
SHAPES = ("ellipse", "box")
OUTPUT_FORMATS = ("same", "jpeg", "png", "webp", "tiff")
ICC_POLICIES = ("keep", "drop")
ORIENTATION_POLICIES = ("keep", "bake")
DEVICES = ("cpu", "cuda")


SMALL_FACE_TILE_SCALES = (1.0, 3.0)
"""Face tiling with ``small_faces``: the standard passes plus 3x-enlarged tiles (faces down to
~10 px), the detection module's own default; ~10x the detector time of the standard schedule."""
STANDARD_FACE_TILE_SCALES = (1.0,)
"""Face tiling by default: the native image (in tiles) and its shrunk levels, so faces from
~24 px up to the whole frame (see :mod:`fastredact.detect.tiling`)."""


@dataclass(frozen=True)
class RedactOptions:
    """Settings of a photo redaction run (see ``fastredact redact --help`` for each)."""

    faces: bool = True
    plates: bool = True
    face_model: str = "centerface"
    plate_model: str = "platenet"
    mode: str = "blur"
    shape: str = "ellipse"
    mask_scale: float = DEFAULT_MASK_SCALE
    threshold: float | None = None
    face_threshold: float | None = None
    """Overrides ``threshold`` for faces."""
    plate_threshold: float | None = None
    """Overrides ``threshold`` for plates."""
    min_size: int | None = None
    small_faces: bool = False
    icc: str = "keep"
    orientation: str = "keep"
    format: str = "same"
    quality: int | None = None
    reencode: bool = False
    max_pixels: int = DEFAULT_MAX_PIXELS
    audio: str = "keep"
    video_codec: str | None = None
    crf: int = DEFAULT_CRF
    preset: str | None = DEFAULT_PRESET
    detect_every: int = 1
    verify_video: bool = False
    motion_threshold: float | None = None
    device: str = "cpu"
    workers: int = field(default_factory=usable_cpus)
    threads: int | None = None

    def __post_init__(self) -> None:
        _choice("mode", self.mode, MODES)
        _choice("shape", self.shape, SHAPES)
        _choice("format", self.format, OUTPUT_FORMATS)
        _choice("icc", self.icc, ICC_POLICIES)
        _choice("orientation", self.orientation, ORIENTATION_POLICIES)
        _choice("device", self.device, DEVICES)
        if not self.mask_scale > 0:
            raise ValueError(f"mask_scale must be > 0, got {self.mask_scale}")
        for name in ("threshold", "face_threshold", "plate_threshold"):
            value = getattr(self, name)
            if value is not None and not 0 < value < 1:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.min_size is not None and self.min_size < 0:
            raise ValueError(f"min_size must be >= 0, got {self.min_size}")
        if self.quality is not None and not 1 <= self.quality <= 100:
            raise ValueError(f"quality must be between 1 and 100, got {self.quality}")
        if self.max_pixels <= 0:
            raise ValueError(f"max_pixels must be > 0, got {self.max_pixels}")
        _choice("audio", self.audio, ("keep", "drop"))
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads}")
        self.video_options()  # validates codec, crf, preset, detect_every, motion_threshold

    def output_settings(self) -> dict[str, Any]:
        """Everything that changes the output bytes (workers and device do not)."""
        settings = asdict(self)
        settings.pop("workers")
        settings.pop("threads")
        settings.pop("device")
        for later in _ADDED_UNSET:  # unset, they change nothing: fingerprints stay as they were
            if settings[later] is None:
                settings.pop(later)
        return settings

    def fingerprint(self) -> str:
        return settings_fingerprint(self.output_settings())

    def video_options(self) -> VideoOptions:
        """The video settings these options imply (codec and quality: the video defaults)."""
        return VideoOptions(
            codec=self.video_codec,
            crf=self.crf,
            preset=self.preset,
            audio=self.audio,
            detect_every=self.detect_every,
            motion_threshold=self.motion_threshold,
            threads=self.threads_per_worker,
        )

    def threshold_for(self, label: str) -> float | None:
        """The reporting threshold the run asks for ``label`` (``"face"``, ``"plate"``), or
        ``None`` for the model's own default."""
        own = {"face": self.face_threshold, "plate": self.plate_threshold}.get(label)
        return own if own is not None else self.threshold

    @property
    def face_tile_scales(self) -> tuple[float, ...]:
        return SMALL_FACE_TILE_SCALES if self.small_faces else STANDARD_FACE_TILE_SCALES

    @property
    def threads_per_worker(self) -> int:
        """Intra-op threads per worker: ``threads`` when set, else so that workers × threads
        = the usable cores (:func:`fastredact.cpus.usable_cpus`)."""
        if self.threads is not None:
            return self.threads
        return max(1, usable_cpus() // self.workers)


_ADDED_UNSET = ("face_threshold", "plate_threshold")
"""Settings added after manifests were written, left out of the fingerprint while unset."""


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
