"""Frames between the decoder, the detector/redactor (RGB) and the encoder, colour-exact.

Frames with nothing to hide go to the encoder as decoded (no RGB round trip). Frames with
boxes go to RGB and back with the *same* colour matrix and range both ways — the source's
— so a redacted frame does not shift colour against its untouched neighbours (a visible
flicker otherwise: swscale's default matrix is BT.601, most HD video is BT.709).
"""

from __future__ import annotations

from dataclasses import dataclass

import av
import numpy as np
from numpy.typing import NDArray

__all__ = ["ColourTags", "from_rgb", "to_encoder_format", "to_rgb"]


@dataclass(frozen=True)
class ColourTags:
    """The colour description of the source, applied to conversions and to the output."""

    colorspace: int
    color_range: int
    color_primaries: int
    color_trc: int

    @classmethod
    def of(cls, frame: av.VideoFrame) -> ColourTags:
        return cls(
            int(frame.colorspace),
            int(frame.color_range),
            int(frame.color_primaries),
            int(frame.color_trc),
        )

    def apply(self, frame: av.VideoFrame) -> None:
        frame.colorspace = self.colorspace
        frame.color_range = self.color_range
        frame.color_primaries = self.color_primaries
        frame.color_trc = self.color_trc


def to_rgb(frame: av.VideoFrame, tags: ColourTags) -> NDArray[np.uint8]:
    """The frame as a writable H×W×3 uint8 RGB array (stored orientation)."""
    rgb = frame.to_ndarray(
        format="rgb24",
        src_colorspace=tags.colorspace,
        src_color_range=tags.color_range,
    )
    return np.ascontiguousarray(rgb)


def from_rgb(
    rgb: NDArray[np.uint8],
    like: av.VideoFrame,
    pix_fmt: str,
    tags: ColourTags,
    size: tuple[int, int] | None = None,
) -> av.VideoFrame:
    """An encoder-ready frame from ``rgb``, with ``like``'s timing and the source colours,
    scaled to ``size`` (width, height; area filter) when given."""
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    out = frame.reformat(
        width=size[0] if size else None,
        height=size[1] if size else None,
        format=pix_fmt,
        dst_colorspace=tags.colorspace,
        dst_color_range=tags.color_range,
        interpolation="AREA" if size else None,
    )
    _copy_timing(like, out)
    tags.apply(out)
    return out


def to_encoder_format(
    frame: av.VideoFrame, pix_fmt: str, tags: ColourTags, size: tuple[int, int] | None = None
) -> av.VideoFrame:
    """``frame`` in the encoder's pixel format (itself when it already is), scaled to
    ``size`` (width, height; area filter) when given."""
    if frame.format.name == pix_fmt and size is None:
        return frame
    out = frame.reformat(
        width=size[0] if size else None,
        height=size[1] if size else None,
        interpolation="AREA" if size else None,
        format=pix_fmt,
        src_colorspace=tags.colorspace,
        dst_colorspace=tags.colorspace,
        src_color_range=tags.color_range,
        dst_color_range=tags.color_range,
    )
    _copy_timing(frame, out)
    tags.apply(out)
    return out


def _copy_timing(src: av.VideoFrame, dst: av.VideoFrame) -> None:
    dst.pts = src.pts
    dst.time_base = src.time_base
    dst.duration = src.duration
