"""The one place that decides defaults and option vocabularies, so the manifest can record
them and the command line cannot drift from the API.

:class:`RedactOptions` is what both the CLI and :class:`fastredact.Redactor` take; its
:meth:`RedactOptions.fingerprint` identifies everything that changes the output (``--resume``).
Each field that is a command-line option carries its help text (:class:`Flag`):
``fastredact redact``'s parser is built from these fields, so a new option is one field here.
Each vocabulary is a ``Literal`` type defined once; its values are read with
:func:`typing.get_args`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, get_args, get_origin

from fastredact._cpus import usable_cpus
from fastredact.kernels import DEFAULT_MASK_SCALE, Mode, Shape

if TYPE_CHECKING:
    from fastredact.video._options import VideoOptions

__all__ = [
    "DEFAULT_CRF",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_PRESET",
    "OPTION_GROUPS",
    "AudioPolicy",
    "Device",
    "Flag",
    "IccPolicy",
    "Mode",
    "OutputFormat",
    "Preset",
    "RedactOptions",
    "RedactOrientation",
    "Shape",
    "StripOrientation",
    "choices",
    "settings_fingerprint",
]

OutputFormat: TypeAlias = Literal["same", "jpeg", "png", "webp", "tiff"]
"""Output photo format: ``same`` keeps the input's (RAW becomes 16-bit TIFF)."""
IccPolicy: TypeAlias = Literal["keep", "drop"]
"""What happens to an embedded ICC colour profile."""
RedactOrientation: TypeAlias = Literal["keep", "bake"]
"""``redact``: keep the EXIF orientation tag, or rotate the pixels upright."""
StripOrientation: TypeAlias = Literal["keep", "drop", "bake"]
"""``strip``: keep an orientation-only EXIF, drop it, or rotate the pixels (re-encodes)."""
AudioPolicy: TypeAlias = Literal["keep", "drop"]
"""Video audio streams: copied packet for packet, or dropped."""
Device: TypeAlias = Literal["cpu", "cuda"]
"""Where ``redact``'s detectors run."""
Preset: TypeAlias = Literal[
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
]
"""The speed/size presets of libx264 and libx265 (the only encoders a preset applies to)."""

DEFAULT_MAX_PIXELS = 200_000_000
"""Images with more pixels than this are refused before decoding (decompression bombs)."""
DEFAULT_CRF = 18
"""Video constant-quality factor: visually lossless H.264."""
DEFAULT_PRESET: Preset = "veryfast"
"""Video encoder preset: encoding must not be the bottleneck on a laptop."""

SMALL_FACE_TILE_SCALES = (1.0, 3.0)
"""Face tiling with ``small_faces``: the standard passes plus 3x-enlarged tiles (faces down to
~10 px), the detection module's own default; ~10x the detector time of the standard schedule."""
STANDARD_FACE_TILE_SCALES = (1.0,)
"""Face tiling by default: the native image (in tiles) and its shrunk levels, so faces from
~24 px up to the whole frame (see :mod:`fastredact.detect`)."""


def choices(vocabulary: Any) -> tuple[str, ...]:
    """The values of a ``Literal`` vocabulary (also inside ``... | None``), in order; ``()``
    for a type that is not one."""
    if get_origin(vocabulary) is Literal:
        return get_args(vocabulary)
    return tuple(
        v for arg in get_args(vocabulary) if get_origin(arg) is Literal for v in get_args(arg)
    )


@dataclass(frozen=True)
class Flag:
    """How a :class:`RedactOptions` field appears on the command line: its help text, the
    ``--help`` group it is listed in, and optionally the placeholder of its value.
    ``%(default)s`` in the help is replaced by the default."""

    help: str
    group: str
    metavar: str | None = None


FIND, HIDE, OUTPUT, VIDEO, RUN = (
    "what to find",
    "how to hide",
    "output",
    "video (MP4, MOV, MKV, AVI, WebM)",
    "run",
)
OPTION_GROUPS = (FIND, HIDE, OUTPUT, VIDEO, RUN)
"""The groups of ``fastredact redact --help``, in order."""


def _flag(help: str, group: str, metavar: str | None = None) -> dict[str, Flag]:
    """A field's metadata making it a command-line option (see :class:`Flag`)."""
    return {"flag": Flag(help, group, metavar)}


@dataclass(frozen=True)
class RedactOptions:
    """Settings of a redaction run (see ``fastredact redact --help`` for each)."""

    face_model: str = "yunet+centerface"
    """``yunet+centerface`` (the two as one), a registered face model (``fastredact
    models``: ``centerface``, ``yunet``) or a model file."""
    plate_model: str = "platenet"
    """A registered plate model or a model file."""
    faces: bool = field(default=True, metadata=_flag("detect and hide faces (default: on)", FIND))
    plates: bool = field(
        default=True, metadata=_flag("detect and hide licence plates (default: on)", FIND)
    )
    vehicle_plates: bool = field(
        default=True,
        metadata=_flag(
            "use the vehicles YOLOX-nano finds: search plates inside each, in crops enlarged "
            "to plate-readable scale, from 0.78 x the plate threshold; outside them, keep a "
            "plate under 1.33 x the threshold only if a second, closer look confirms it "
            "(default: on; with --plate-model platenet)",
            FIND,
        ),
    )
    bodies: bool = field(
        default=False,
        metadata=_flag(
            "also hide whole people: each person YOLOX-nano finds, by its box (default: off)",
            FIND,
        ),
    )
    threshold: float | None = field(
        default=None,
        metadata=_flag(
            "detector score threshold in (0, 1); lower finds more; objects scoring down to "
            "0.7 x T are hidden too, as a safety margin (default: each model's documented "
            "default: 0.46 faces, 0.45 plates)",
            FIND,
            "T",
        ),
    )
    face_threshold: float | None = field(
        default=None,
        metadata=_flag("--threshold for faces only (default: --threshold, else 0.46)", FIND, "T"),
    )
    plate_threshold: float | None = field(
        default=None,
        metadata=_flag(
            "--threshold for plates only (default: --threshold, else 0.45)",
            FIND,
            "T",
        ),
    )
    small_faces: bool = field(
        default=False,
        metadata=_flag(
            "also search 3x-upscaled tiles, finding faces down to ~10 px "
            "(default: faces from ~24 px; 10-20x slower)",
            FIND,
        ),
    )
    min_size: int | None = field(
        default=None,
        metadata=_flag("ignore detections smaller than PX pixels on their longer side", FIND, "PX"),
    )
    background: Mode | None = field(
        default=None,
        metadata=_flag(
            "also hide everything but the people (each person YOLOX-nano finds, by its box) "
            "with this mode, for scenes where the place identifies the person; faces and "
            "plates are hidden on top; in videos, people are kept on the frames they are "
            "seen on (default: off)",
            HIDE,
            "MODE",
        ),
    )
    mode: Mode = field(
        default="blur",
        metadata=_flag(
            "blur (default), pixelate, secure (pixelate + noise, resists de-blurring) or fill "
            "(solid black)",
            HIDE,
        ),
    )
    shape: Shape = field(
        default="ellipse", metadata=_flag("shape of each hidden region (default: ellipse)", HIDE)
    )
    mask_scale: float = field(
        default=DEFAULT_MASK_SCALE,
        metadata=_flag(
            "grow each detected box by S about its centre, so the hidden ellipse also "
            "covers hair, ears and chin (default: %(default)s)",
            HIDE,
            "S",
        ),
    )
    strength: float | None = field(
        default=None,
        metadata=_flag(
            "blur sigma (blur) or block size (pixelate, secure) in pixels, the same for every "
            "region (default: scaled to each region: sigma = its longer side / 4, about 4 "
            "blocks across its shorter side); weaker than the default can leave a face "
            "re-identifiable: measure with `fastredact eval reid`",
            HIDE,
            "PX",
        ),
    )
    format: OutputFormat = field(
        default="same",
        metadata=_flag(
            "output format (default: same as the input; RAW becomes 16-bit TIFF)", OUTPUT
        ),
    )
    quality: int | None = field(
        default=None,
        metadata=_flag(
            "JPEG/WebP quality 1-100 (default: matched to the source JPEG)", OUTPUT, "Q"
        ),
    )
    max_size: int | None = field(
        default=None,
        metadata=_flag(
            "publishing copies: scale photos and videos down so their longer side is at most "
            "PX pixels, after detection and hiding on the full picture (area filter; videos "
            "to even sizes); smaller ones are left as they are (default: no limit)",
            OUTPUT,
            "PX",
        ),
    )
    max_megapixels: float | None = field(
        default=None,
        metadata=_flag(
            "like --max-size, a limit on the pixel count: at most MP million pixels "
            "(default: no limit)",
            OUTPUT,
            "MP",
        ),
    )
    reencode: bool = field(
        default=False,
        metadata=_flag("re-encode every file, even those where nothing was found", OUTPUT),
    )
    icc: IccPolicy = field(
        default="keep", metadata=_flag("keep (default) or drop the ICC colour profile", OUTPUT)
    )
    orientation: RedactOrientation = field(
        default="keep",
        metadata=_flag(
            "keep the EXIF orientation tag (default) or rotate the pixels upright", OUTPUT
        ),
    )
    audio: AudioPolicy = field(
        default="keep", metadata=_flag("copy audio streams unchanged (default) or drop them", VIDEO)
    )
    video_codec: str | None = field(
        default=None,
        metadata=_flag(
            "FFmpeg encoder for the redacted video (default: libx264, H.264; libvpx-vp9 "
            "for .webm); e.g. libx265, libsvtav1",
            VIDEO,
            "NAME",
        ),
    )
    crf: int = field(
        default=DEFAULT_CRF,
        metadata=_flag(
            "constant-quality factor of the video encoder: lower is better and larger; 0 is "
            "lossless with libx264 (default: %(default)s, visually lossless H.264)",
            VIDEO,
            "N",
        ),
    )
    preset: Preset | None = field(
        default=DEFAULT_PRESET,
        metadata=_flag(
            "libx264/libx265 speed preset, ultrafast ... veryslow: slower gives smaller "
            "files at the same quality (default: %(default)s)",
            VIDEO,
            "NAME",
        ),
    )
    detect_every: int = field(
        default=1,
        metadata=_flag(
            "run the detectors on every Nth frame and track in between (default: 1, "
            "every frame); tracks are extended and gaps filled so a miss shows nothing",
            VIDEO,
            "N",
        ),
    )
    verify_video: bool = field(
        default=False,
        metadata=_flag(
            "decode each written video and run the detectors on every frame at the "
            "reporting threshold; hide what they still find (re-encoding can push a near-miss "
            "over the threshold) in up to 5 re-runs, else fail the file; costs about one "
            "detection per frame more",
            VIDEO,
        ),
    )
    motion_threshold: float | None = field(
        default=None,
        metadata=_flag(
            "skip detection on frames where no part of the picture changed by more than G "
            "grey levels since the last detected frame, and reuse its boxes (e.g. 3 for a fixed "
            "camera; default: off; the detector still runs at least every 30 frames)",
            VIDEO,
            "G",
        ),
    )
    list_video_boxes: bool = field(
        default=False,
        metadata=_flag(
            "list in the manifest every box found on every detected video frame (frame, "
            "label, box in stored pixels, score), which `fastredact eval reid` needs to "
            "measure cross-frame linkage (default: off, boxes are counted per label: a long "
            "video makes a long line)",
            VIDEO,
        ),
    )
    device: Device = field(default="cpu", metadata=_flag("where detectors run (default: cpu)", RUN))
    workers: int = field(
        default_factory=usable_cpus,
        metadata=_flag(
            "files processed in parallel (default: the cores this process may use, "
            "affinity and container CPU limits included: %(default)s here)",
            RUN,
            "N",
        ),
    )
    threads: int | None = field(
        default=None,
        metadata=_flag("detector threads per worker (default: cores / workers)", RUN, "N"),
    )

    retention_days: int | None = field(
        default=None,
        metadata=_flag(
            "days the originals may be kept after this run: the manifest's run record holds "
            "the date, and `fastredact retention` lists runs past it (default: the profile's, "
            "else none); nothing is ever deleted by redact",
            RUN,
            "DAYS",
        ),
    )
    profile: str | None = None
    """The name of the profile these options came from (:meth:`from_profile`), if any."""
    corrections_sha256: str | None = None
    """The SHA-256 of the reviewer's corrections file the run applies (``--corrections``),
    set by the run: corrections change the output, so they change the fingerprint."""
    allow_mapping: bool = True
    """Whether a mapping file (input path -> output path) may be written: a profile for
    public release refuses it."""

    max_pixels: int = field(
        default=DEFAULT_MAX_PIXELS,
        metadata=_flag(
            "refuse images with more pixels (all frames of an animation together), "
            "before decoding (default: %(default)s)",
            RUN,
            "N",
        ),
    )

    def __post_init__(self) -> None:
        for name, vocabulary in _VOCABULARIES.items():
            _choice(name, getattr(self, name), choices(vocabulary))
        if self.background is not None:
            _choice("background", self.background, choices(Mode))
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
        if self.strength is not None and not 0 < self.strength < float("inf"):
            raise ValueError(f"strength must be a finite number > 0, got {self.strength}")
        if self.max_size is not None and self.max_size < 2:
            raise ValueError(f"max_size must be >= 2 pixels, got {self.max_size}")
        if self.max_megapixels is not None and not 0 < self.max_megapixels < float("inf"):
            raise ValueError(f"max_megapixels must be a number > 0, got {self.max_megapixels}")
        if self.retention_days is not None and self.retention_days < 0:
            raise ValueError(f"retention_days must be >= 0, got {self.retention_days}")
        if self.max_pixels <= 0:
            raise ValueError(f"max_pixels must be > 0, got {self.max_pixels}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads}")
        self.video_options()  # validates codec, crf, preset, detect_every, motion_threshold

    @classmethod
    def from_profile(cls, profile: str, **overrides: Any) -> RedactOptions:
        """The options of a profile (a built-in name, ``"publish"``, or a TOML file), with
        ``overrides`` winning over it (see :mod:`fastredact.profiles`)."""
        from fastredact.profiles import load_profile

        return load_profile(profile).options(**overrides)

    def output_size(self, width: int, height: int) -> tuple[int, int] | None:
        """The size a ``width`` x ``height`` picture is scaled down to under ``max_size`` /
        ``max_megapixels``, or ``None`` when it is within them (aspect ratio kept, each side
        at least 1 px)."""
        return scaled_size(width, height, self.max_size, self.max_megapixels)

    def output_settings(self) -> dict[str, Any]:
        """Everything that changes the output bytes (workers, threads, device and what the
        manifest lists do not)."""
        settings = asdict(self)
        for name in _NOT_OUTPUT:
            settings.pop(name)
        for later, before in _ADDED_LATER.items():  # at the value that changes nothing,
            if settings[later] == before:  # they stay out: fingerprints stay as they were
                settings.pop(later)
        return settings

    def fingerprint(self) -> str:
        return settings_fingerprint(self.output_settings())

    def video_options(self) -> VideoOptions:
        """The video settings these options imply (codec and quality: the video defaults)."""
        from fastredact.video._options import VideoOptions

        return VideoOptions(
            codec=self.video_codec,
            crf=self.crf,
            preset=self.preset,
            audio=self.audio,
            detect_every=self.detect_every,
            motion_threshold=self.motion_threshold,
            threads=self.threads_per_worker,
            list_boxes=self.list_video_boxes,
            max_size=self.max_size,
            max_megapixels=self.max_megapixels,
            every_frame=self.background is not None,
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
        = the usable cores (:func:`fastredact._cpus.usable_cpus`)."""
        if self.threads is not None:
            return self.threads
        return max(1, usable_cpus() // self.workers)


_VOCABULARIES: dict[str, Any] = {
    "mode": Mode,
    "shape": Shape,
    "format": OutputFormat,
    "icc": IccPolicy,
    "orientation": RedactOrientation,
    "audio": AudioPolicy,
    "device": Device,
}
"""The fields of :class:`RedactOptions` that take a word from a vocabulary (``preset`` is
checked with the other video settings)."""

_NOT_OUTPUT = (
    "workers",
    "threads",
    "device",
    "list_video_boxes",
    "profile",
    "allow_mapping",
    "retention_days",
)
"""Fields that change how a run goes or what its manifest lists, never the output."""
_ADDED_LATER: dict[str, Any] = {
    "face_threshold": None,
    "plate_threshold": None,
    "strength": None,
    "max_size": None,
    "max_megapixels": None,
    "corrections_sha256": None,
    "background": None,
    "vehicle_plates": False,
    "bodies": False,
}
"""Settings added after manifests were written, and the value that does what runs did before
them: at that value a setting is left out of the fingerprint (``vehicle_plates`` is on by
default, so a default run's fingerprint changed with it: its outputs did too)."""


def scaled_size(
    width: int,
    height: int,
    max_size: int | None,
    max_megapixels: float | None,
    *,
    even: bool = False,
) -> tuple[int, int] | None:
    """The size ``width`` x ``height`` is scaled down to so that its longer side is at most
    ``max_size`` and its pixel count at most ``max_megapixels`` million (aspect ratio kept,
    rounded down; to even numbers with ``even``, as 4:2:0 video needs), or ``None`` when it
    is within both."""
    side = float(max_size) if max_size is not None else math.inf
    pixels = max_megapixels * 1e6 if max_megapixels is not None else math.inf
    if max(width, height) <= side and width * height <= pixels:
        return None
    scale = min(1.0, side / max(width, height), (pixels / (width * height)) ** 0.5)
    step = 2 if even else 1
    w = min(width, max(step, int(width * scale + 1e-9) // step * step))
    h = min(height, max(step, int(height * scale + 1e-9) // step * step))
    # The float scale can land a hair over a limit (a side rounded up by the epsilon, or a
    # square root that rounds to 1): take steps off the longer side until both hold.
    while (max(w, h) > side or w * h > pixels) and max(w, h) > step:
        if w >= h:
            w -= step
        else:
            h -= step
    return w, h


def settings_fingerprint(settings: Mapping[str, Any]) -> str:
    """A stable hash of everything that changes the output (canonical JSON, sorted keys)."""
    canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
