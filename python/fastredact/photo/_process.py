"""The per-photo decision: decode, detect, then one of three outputs.

1. **Lossless strip**: nothing to hide, no re-encode asked for, same format, orientation
   kept: JPEG, PNG, WebP and GIF keep their coded picture byte for byte and only lose their
   metadata (the strip the container check already made while decoding);
2. **HEIF / AVIF rebuild**: the same case for HEIF and AVIF, whose container the Rust core
   rebuilds around the primary image, used only when it decodes to the input's picture;
3. **Re-encode**: everything else: the frames are hidden (verified), encoded in the output
   format and stripped (or audited, for the formats our encoder writes without metadata).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from fastredact._hiding import hide_background, hide_verified
from fastredact._timing import StageTimer
from fastredact.detect import Detections
from fastredact.errors import UnsupportedFormat
from fastredact.formats import HEIF_FORMATS, LOSSLESS_STRIP_FORMATS, RAW_FORMAT
from fastredact.photo._decode import DecodedImage, decode_image
from fastredact.photo._encode import check_encoded_clean, encode_image
from fastredact.photo._orientation import undo_orientation
from fastredact.photo._resize import scale_down
from fastredact.strip import StripResult, strip_heif_checked, strip_metadata

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray

    from fastredact.corrections import InputCorrections
    from fastredact.detect import DetectorSet
    from fastredact.options import RedactOptions, StripOrientation

__all__ = ["PhotoOutcome", "output_format_for", "redact_photo"]


@dataclass
class PhotoOutcome:
    """A redacted photo, ready to be written, and what was done to it."""

    data: bytes
    """The output file's bytes."""
    format: str
    output_format: str
    width: int
    height: int
    orientation: int
    frames: int
    hidden: list[Detections]
    """What was hidden, per frame (empty lists when nothing was)."""
    metadata_removed: list[dict[str, Any]]
    reencoded: bool = False
    lossless_refused: str | None = None
    """Why a photo with nothing to hide was re-encoded rather than stripped losslessly
    (HEIF / AVIF whose container the lossless strip could not be trusted with)."""
    timings: StageTimer = field(default_factory=StageTimer)
    background_kept: list[list[int]] | None = None
    """``--background``: the people's boxes left unhidden (whole pixels, every frame)."""
    output_size: tuple[int, int] | None = None
    """(width, height) of the written picture as displayed, when ``max_size`` /
    ``max_megapixels`` scaled it down; detections stay in the input's pixels."""


def output_format_for(source: str, options: RedactOptions) -> str:
    """The format a photo in ``source`` format is written in (RAW becomes TIFF under
    ``--format same``)."""
    if options.format != "same":
        return options.format
    return "tiff" if source == RAW_FORMAT else source


def redact_photo(
    data: bytes,
    options: RedactOptions,
    detectors: DetectorSet,
    corrections: InputCorrections | None = None,
) -> PhotoOutcome:
    """The redacted, stripped photo for the input ``data`` (see the module doc), with a
    reviewer's ``corrections`` applied (boxes added, false positives left; see
    :mod:`fastredact.corrections`). Raises the :class:`~fastredact.errors.FastRedactError` of
    whatever cannot be done (decode, detect, encode); nothing is returned then."""
    timer = StageTimer()
    with timer("decode"):
        decoded = decode_image(data, max_pixels=options.max_pixels, icc=options.icc)
    found = [detectors.detect(frame, timer) for frame in decoded.frames]
    added = [Detections.empty() for _ in found]
    if corrections is not None:
        found = [corrections.screen(f, index) for index, f in enumerate(found)]
        added = [corrections.added(index) for index in range(len(found))]
    out_format = output_format_for(decoded.format, options)
    first = decoded.frames[0]
    scaled_size = options.output_size(first.shape[1], first.shape[0])
    untouched = not (
        any(len(frame) for frame in found)
        or any(len(frame) for frame in added)
        or options.background is not None
        or scaled_size is not None
        or options.reencode
        or out_format != decoded.format
        or (options.orientation == "bake" and decoded.orientation != 1)
    )
    refused: str | None = None
    if untouched and decoded.stripped is not None:
        return _outcome(decoded, out_format, found, decoded.stripped, timer)
    if untouched and decoded.format in HEIF_FORMATS:
        with timer("strip"):
            rebuilt = strip_heif_checked(
                data, decoded, icc=options.icc, max_pixels=options.max_pixels
            )
        if isinstance(rebuilt, StripResult):
            return _outcome(decoded, out_format, found, rebuilt, timer)
        refused = rebuilt
    hidden = []
    kept: list[list[int]] = []
    for index, (frame, frame_found, frame_added) in enumerate(
        zip(decoded.frames, found, added, strict=True)
    ):
        if options.background is not None:
            frame_found = _background(frame, frame_found, options, kept, timer)
        hidden.append(
            hide_verified(
                frame,
                frame_found,
                options,
                detectors,
                timer,
                added=frame_added,
                keep=_kept_by(corrections, index),
            )
        )
    with timer("encode"):
        frames: list[Any] = list(decoded.frames)
        if scaled_size is not None:  # a publishing copy: hidden at full size, then scaled
            frames = [scale_down(frame, scaled_size) for frame in frames]
        encoded = _encode(decoded, frames, out_format, options)
    with timer("strip"):
        if out_format in LOSSLESS_STRIP_FORMATS:
            tag: StripOrientation = "keep" if options.orientation == "keep" else "drop"
            stripped = strip_metadata(encoded, icc=options.icc, orientation=tag)
            cleaned, removed = stripped.data, stripped.removed_rows()
        else:  # TIFF / HEIF / AVIF / BMP: our encoder wrote them; verify, don't rewrite
            check_encoded_clean(encoded, out_format)
            cleaned, removed = encoded, []
    outcome = _outcome(decoded, out_format, hidden, None, timer)
    outcome.data = cleaned
    outcome.metadata_removed = [{"kind": "all (re-encoded)", "bytes": len(data)}, *removed]
    outcome.reencoded = True
    outcome.lossless_refused = refused
    outcome.output_size = scaled_size
    outcome.background_kept = kept if options.background is not None else None
    return outcome


def _background(
    frame: Any,
    found: Detections,
    options: RedactOptions,
    kept: list[list[int]],
    timer: StageTimer,
) -> Detections:
    """``--background``: hide the frame but its people; returns what is left to hide (the
    people too with ``--bodies``). ``kept`` gets the boxes left as they were."""
    people = np.array([label == "person" for label in found.labels], np.bool_)
    assert options.background is not None
    with timer("hide"):
        boxes = hide_background(frame, found.select(people), options, options.background)
    kept.extend([int(v) for v in box] for box in boxes)
    return found if options.bodies else found.select(~people)


def _kept_by(
    corrections: InputCorrections | None, frame: int
) -> Callable[[Detections], NDArray[np.bool_]] | None:
    """What verification on ``frame`` may hide: all but the reviewer's false positives."""
    if corrections is None or not corrections.removes:
        return None
    return lambda found: corrections.keep(found, frame)


def _outcome(
    decoded: DecodedImage,
    out_format: str,
    hidden: list[Detections],
    stripped: StripResult | None,
    timer: StageTimer,
) -> PhotoOutcome:
    return PhotoOutcome(
        data=stripped.data if stripped is not None else b"",
        format=decoded.format,
        output_format=out_format,
        width=decoded.width,
        height=decoded.height,
        orientation=decoded.orientation,
        frames=len(decoded.frames),
        hidden=hidden,
        metadata_removed=stripped.removed_rows() if stripped is not None else [],
        timings=timer,
    )


def _encode(
    decoded: DecodedImage, frames: list[Any], out_format: str, options: RedactOptions
) -> bytes:
    if options.orientation == "keep" and decoded.orientation != 1:
        frames = [undo_orientation(f, decoded.orientation) for f in frames]
    quality = options.quality or (decoded.jpeg_quality if out_format == "jpeg" else None)
    icc = decoded.icc_profile if options.icc == "keep" else None
    encoded = encode_image(
        frames,
        out_format,
        quality=quality,
        subsampling=decoded.jpeg_subsampling if out_format == decoded.format else None,
        icc_profile=icc,
        durations=decoded.durations,
        loop=decoded.loop,
        orientation=decoded.orientation if options.orientation == "keep" else 1,
    )
    if not encoded:
        raise UnsupportedFormat(f"encoding {out_format} produced nothing")
    return encoded
