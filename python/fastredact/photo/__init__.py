"""Photos: the per-photo decision (:func:`redact_photo`: lossless strip, HEIF / AVIF
container rebuild, or re-encode), decoding (strict JPEG and PNG checks, camera RAW, 16-bit),
orientation and encoding.

- :mod:`~fastredact.photo._process`: the decision, returning a :class:`PhotoOutcome`;
- :mod:`~fastredact.photo._decode`: format, bomb check, container walk, frames;
- :mod:`~fastredact.photo._strict_jpeg`, :mod:`~fastredact.photo._strict_png`: damage that
  Pillow would hide is an error;
- :mod:`~fastredact.photo._raw`, :mod:`~fastredact.photo._wide`: camera RAW, 16-bit RGB(A);
- :mod:`~fastredact.photo._orientation`, :mod:`~fastredact.photo._jpeg_quality`;
- :mod:`~fastredact.photo._encode`: encoders that write no metadata, and their audit;
- :mod:`~fastredact.photo._pillow`: Pillow set up never to guess.
"""

from __future__ import annotations

from fastredact.photo._decode import DecodedImage, Dimensions, decode_image, read_dimensions
from fastredact.photo._encode import check_encoded_clean, encode_image
from fastredact.photo._jpeg_quality import estimate_jpeg_quality
from fastredact.photo._orientation import apply_orientation, undo_orientation
from fastredact.photo._process import PhotoOutcome, output_format_for, redact_photo

__all__ = [
    "DecodedImage",
    "Dimensions",
    "PhotoOutcome",
    "apply_orientation",
    "check_encoded_clean",
    "decode_image",
    "encode_image",
    "estimate_jpeg_quality",
    "output_format_for",
    "read_dimensions",
    "redact_photo",
    "undo_orientation",
]
