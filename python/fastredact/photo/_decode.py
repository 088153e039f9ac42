"""Reading and writing photos: sniff the format from content, refuse decompression bombs
before decoding, decode with the EXIF orientation applied, and encode back to the source's
format with matching quality.

Everything here works on bytes and arrays (no paths), so the pipeline owns file handling.
Errors are :class:`~fastredact.errors.CorruptInput`, :class:`~fastredact.errors.UnsupportedFormat`
or :class:`~fastredact.errors.LimitExceeded` with a one-line cause (the caller adds the file name).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar, cast

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFile, JpegImagePlugin, UnidentifiedImageError

from fastredact import _core
from fastredact.errors import CorruptInput, LimitExceeded, UnsupportedFormat
from fastredact.jpeg_pixels import decode_jpeg_pixels
from fastredact.png_stream import check_png_stream
from fastredact.wide_pixels import decode_wide_rgb, encode_wide_rgb, is_wide_rgb

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "RAW_FORMAT",
    "DecodedImage",
    "Dimensions",
    "apply_orientation",
    "check_container",
    "check_encoded_clean",
    "decode_image",
    "encode_image",
    "estimate_jpeg_quality",
    "read_dimensions",
    "sniff_format",
    "undo_orientation",
]

DEFAULT_MAX_PIXELS = 200_000_000
"""Images with more pixels than this are refused before decoding (decompression bombs)."""

RAW_FORMAT = "raw"
_Pixel = TypeVar("_Pixel", bound=np.generic)

PNG_COMPRESS_LEVEL = 3
"""zlib level for re-encoded PNGs: a 5-megapixel photo takes ~0.47 s at 3 against ~1.0 s at
Pillow's default 6, for a file ~3 % larger (egoblur gen2 test_face_image.png, one core)."""
DECODABLE_FORMATS = frozenset(
    ("jpeg", "png", "webp", "gif", "tiff", "bmp", "heif", "avif", RAW_FORMAT)
)
"""What :func:`sniff_format` returns (the core sniffer's names this module decodes)."""

# Pillow must never guess: truncated data is an error, and our own pixel limit replaces
# Pillow's bomb check (which only warns below twice its limit).
ImageFile.LOAD_TRUNCATED_IMAGES = False
Image.MAX_IMAGE_PIXELS = None

_PILLOW_FORMATS = {
    "jpeg": "JPEG",
    "png": "PNG",
    "webp": "WEBP",
    "gif": "GIF",
    "tiff": "TIFF",
    "bmp": "BMP",
    "heif": "HEIF",
    "avif": "AVIF",
}


def sniff_format(data: bytes) -> str:
    """Name the container format of ``data`` from its first bytes (never from a file name).

    Returns one of ``jpeg png webp gif tiff bmp heif avif raw``; TIFF-based camera RAW files
    (DNG, NEF, ARW, …) are told apart from plain TIFF in :func:`decode_image` by their TIFF
    directories (``_core.is_camera_raw_tiff``), never by LibRaw, which also opens plain TIFFs.
    A thin wrapper over the Rust sniffer (``fastredact._core.sniff_format``), which also recognises
    JPEG XL: that is refused here, like every unknown format, with ``UnsupportedFormat``.
    """
    fmt = _core.sniff_format(bytes(data[:32]))
    if fmt is not None and fmt in DECODABLE_FORMATS:
        return fmt
    if fmt == "jxl":
        raise UnsupportedFormat("JPEG XL images are not supported")
    if not data:
        raise UnsupportedFormat("empty file")
    raise UnsupportedFormat("unrecognised file format (not a supported image)")


@dataclass
class DecodedImage:
    """A decoded photo, oriented for display (EXIF orientation already applied).

    ``frames`` holds one array per frame (one for still images): uint8 H×W, H×W×3 or
    H×W×4 (alpha kept); uint16 H×W, H×W×3 or H×W×4 for 16-bit gray, RGB or RGBA PNG / TIFF
    (single-image), and uint16 H×W×3 for RAW development.
    """

    format: str
    frames: list[NDArray[np.uint8] | NDArray[np.uint16]]
    orientation: int = 1
    icc_profile: bytes | None = None
    jpeg_quality: int | None = None
    jpeg_subsampling: int | None = None
    durations: list[int] = field(default_factory=list)
    loop: int | None = None

    @property
    def width(self) -> int:
        return int(self.frames[0].shape[1])

    @property
    def height(self) -> int:
        return int(self.frames[0].shape[0])


@dataclass(frozen=True)
class Dimensions:
    """What the headers promise: the first frame's size, the number of frames and the
    pixels that decoding all of them takes."""

    width: int
    height: int
    frames: int
    pixels: int


def read_dimensions(data: bytes, fmt: str) -> Dimensions:
    """Sizes from the headers alone (no pixel decoding), for the bomb check. Pillow walks the
    frame headers of GIF, APNG, WebP and TIFF; every frame of an animation is decoded to the
    full canvas, and every TIFF page at its own size, so they all count (a JPEG's MPF
    secondary images are not decoded: one frame)."""
    if fmt == RAW_FORMAT:
        raw = _open_raw(data)
        with raw:
            width, height = int(raw.sizes.width), int(raw.sizes.height)
            return Dimensions(width, height, 1, width * height)
    with _open_pillow(data, fmt) as im:
        width, height = int(im.size[0]), int(im.size[1])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                frames = 1 if fmt == "jpeg" else max(1, int(getattr(im, "n_frames", 1)))
                pixels = _tiff_page_pixels(im, frames) if fmt == "tiff" else width * height * frames
        except (OSError, SyntaxError, ValueError, TypeError, EOFError, Warning) as exc:
            raise CorruptInput(f"cannot count {fmt.upper()} frames: {_one_line(exc)}") from None
        return Dimensions(width, height, frames, pixels)


def _tiff_page_pixels(im: Image.Image, pages: int) -> int:
    """The pixels of every page together (pages have sizes of their own); seeking reads a
    page's directory, not its pixels."""
    total = 0
    for index in range(pages):
        im.seek(index)
        total += int(im.size[0]) * int(im.size[1])
    im.seek(0)
    return total


def decode_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> DecodedImage:
    """Decode ``data`` fully, refusing images over ``max_pixels`` (all frames together)
    before any pixel is decoded."""
    fmt = sniff_format(data)
    if fmt == "tiff" and _core.is_camera_raw_tiff(data):
        fmt = RAW_FORMAT
    size = read_dimensions(data, fmt)
    if size.width <= 0 or size.height <= 0:
        raise CorruptInput(f"image has no pixels ({size.width}x{size.height})")
    if size.pixels > max_pixels:
        shape = f"{size.width}x{size.height}" + (
            f" x {size.frames} frames" if size.frames > 1 else ""
        )
        raise LimitExceeded(
            f"image is {shape} = {size.pixels} pixels, over the limit of {max_pixels} "
            "(--max-pixels)"
        )
    if fmt == RAW_FORMAT:
        return _decode_raw(data)
    check_container(data, fmt)
    return _decode_pillow(data, fmt)


_WALKED_FORMATS = frozenset(("jpeg", "png", "webp", "gif"))


def check_container(data: bytes, fmt: str) -> None:
    """Walk every segment / chunk / block of a JPEG, PNG, WebP or GIF with the Rust core's
    container walker (the one the lossless strip uses) and raise ``CorruptInput`` on damage:
    PNG chunk CRCs, chunk and RIFF sizes, GIF block structure, JPEG markers. Pillow checks
    none of the CRCs and decodes a PNG with damaged IDAT data into garbage rows. A PNG's
    image data is then inflated whole (:func:`~fastredact.png_stream.check_png_stream`)."""
    if fmt in _WALKED_FORMATS:
        _core.strip_metadata(data)
    if fmt == "png":
        check_png_stream(data)


def _open_pillow(data: bytes, fmt: str) -> Image.Image:
    if fmt in ("heif", "avif"):
        _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[fmt]])
    except UnidentifiedImageError:
        raise CorruptInput(
            f"cannot read {fmt.upper()} header (corrupt, or a variant Pillow cannot decode)"
        ) from None
    except (OSError, SyntaxError, ValueError, TypeError, Warning) as exc:
        raise CorruptInput(f"cannot read {fmt.upper()} header: {_one_line(exc)}") from None


def _decode_pillow(data: bytes, fmt: str) -> DecodedImage:
    with _open_pillow(data, fmt) as im:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                return _read_frames(im, fmt, data)
        except (OSError, SyntaxError, ValueError, TypeError, EOFError, Warning) as exc:
            raise CorruptInput(f"cannot decode {fmt.upper()}: {_one_line(exc)}") from None


def _read_frames(im: Image.Image, fmt: str, data: bytes) -> DecodedImage:
    orientation = _exif_orientation(im)
    decoded = DecodedImage(
        format=fmt,
        frames=[],
        orientation=orientation,
        icc_profile=im.info.get("icc_profile") or None,
        loop=im.info.get("loop"),
    )
    if fmt == "jpeg":
        decoded.jpeg_quality = estimate_jpeg_quality(getattr(im, "quantization", {}))
        sampling = JpegImagePlugin.get_sampling(im)
        decoded.jpeg_subsampling = sampling if sampling >= 0 else None
        decoded.frames.append(_read_jpeg_primary(im, data, orientation))
        decoded.durations.append(0)
        return decoded
    wide = is_wide_rgb(data, fmt, im)
    for index in range(int(getattr(im, "n_frames", 1))):
        im.seek(index)
        im.load()
        frame: NDArray[np.uint8] | NDArray[np.uint16] = _to_array(im)
        if not _oriented_by_pillow(im, orientation):
            frame = cast(
                "NDArray[np.uint8] | NDArray[np.uint16]", apply_orientation(frame, orientation)
            )
        if wide:  # 16-bit RGB(A): OpenCV's 16 bits, checked against Pillow's 8
            narrow = cast(NDArray[np.uint8], frame)
            frame = decode_wide_rgb(data, fmt, narrow, _orientation_variants(orientation))
        decoded.frames.append(frame)
        decoded.durations.append(int(im.info.get("duration", 0) or 0))
    return decoded


def _oriented_by_pillow(im: Image.Image, orientation: int) -> bool:
    """Whether Pillow already turned the loaded frame upright: its TIFF reader applies the
    orientation tag while loading and then deletes the tag (other formats leave both alone)."""
    return orientation != 1 and im.format == "TIFF" and _exif_orientation(im) == 1


def _orientation_variants(orientation: int) -> list[Callable[[NDArray[np.uint16]], Any]]:
    """The ways a second decoder may have handled the orientation: left the pixels as stored,
    or applied it (OpenCV's TIFF reader does, whatever its flags say)."""
    return [
        lambda pixels: pixels,
        partial(apply_orientation, orientation=orientation),
        partial(undo_orientation, orientation=orientation),
    ]


def _read_jpeg_primary(im: Image.Image, data: bytes, orientation: int) -> NDArray[np.uint8]:
    """The primary image only: MPF secondary images are metadata, dropped with the rest."""
    _check_mpf_extent(im, len(data))
    pixels = decode_jpeg_pixels(data, im.mode, im.size)
    if pixels is None:  # CMYK / YCCK: scans checked, pixels from Pillow
        im.load()
        pixels = cast(NDArray[np.uint8], _to_array(im))  # CMYK: always 8-bit
    return apply_orientation(pixels, orientation)


def _check_mpf_extent(im: Image.Image, length: int) -> None:
    """Refuse a JPEG whose MPF index lists an image running past the end of the file: the
    file was cut (the images' offsets are relative to the MPF segment, so an entry whose
    offset plus size alone exceeds the length certainly does)."""
    entries = (getattr(im, "mpinfo", None) or {}).get(0xB002) or []
    for entry in entries:
        try:
            end = int(entry["DataOffset"]) + int(entry["Size"])
        except (KeyError, TypeError, ValueError):
            raise CorruptInput("malformed MPF index (multi-picture JPEG)") from None
        if end > length:
            raise CorruptInput(
                f"truncated: the MPF index lists an image ending at byte {end}, "
                f"the file has {length}"
            )


def _to_array(im: Image.Image) -> NDArray[np.uint8] | NDArray[np.uint16]:
    """Pixels as uint8 (uint16 for 16-bit gray): gray stays gray, alpha is kept, everything
    else becomes RGB."""
    if im.mode == "L":
        rgb = im
    elif im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgb = im.convert("RGBA")
    elif im.mode in ("I;16", "I;16B", "I;16L"):
        # 16-bit gray stays 16-bit (PNG and TIFF write it back; other formats get 8 bits).
        return np.array(im, dtype=np.uint16)
    elif im.mode == "I":
        wide = np.asarray(im)  # int32
        if wide.size and (int(wide.min()) < 0 or int(wide.max()) > 0xFFFF):
            raise UnsupportedFormat("32-bit integer pixels are not supported")
        return wide.astype(np.uint16)
    elif im.mode == "F":
        # Converting would clip floats to 0..255 (a 0..1 image turns black): refuse instead.
        raise UnsupportedFormat("floating-point pixels are not supported")
    else:
        rgb = im.convert("RGB")
    return np.array(rgb, dtype=np.uint8)  # a writable copy: frames are redacted in place


def _exif_orientation(im: Image.Image) -> int:
    try:
        value = int(im.getexif().get(0x0112, 1))
    except Exception:  # a broken EXIF block is stripped anyway; display as stored
        return 1
    return value if 1 <= value <= 8 else 1


# Each EXIF orientation as (transpose, then rotate k quarter turns counter-clockwise).
_ORIENTATION_OPS: dict[int, tuple[bool, bool, int]] = {
    # orientation: (flip left-right, transpose, rot90 count) applied in that order
    1: (False, False, 0),
    2: (True, False, 0),
    3: (False, False, 2),
    4: (True, False, 2),
    5: (False, True, 0),
    6: (False, False, 3),
    7: (False, True, 2),
    8: (False, False, 1),
}


def apply_orientation(pixels: NDArray[_Pixel], orientation: int) -> NDArray[_Pixel]:
    """Turn stored pixels into display pixels for an EXIF ``orientation`` (1–8)."""
    flip, transpose, turns = _ORIENTATION_OPS.get(orientation, (False, False, 0))
    out = pixels
    if flip:
        out = out[:, ::-1]
    if transpose:
        out = np.swapaxes(out, 0, 1)
    if turns:
        out = np.rot90(out, turns)
    return np.ascontiguousarray(out)


def undo_orientation(pixels: NDArray[_Pixel], orientation: int) -> NDArray[_Pixel]:
    """Inverse of :func:`apply_orientation`: display pixels back to stored pixels."""
    flip, transpose, turns = _ORIENTATION_OPS.get(orientation, (False, False, 0))
    out = pixels
    if turns:
        out = np.rot90(out, -turns)
    if transpose:
        out = np.swapaxes(out, 0, 1)
    if flip:
        out = out[:, ::-1]
    return np.ascontiguousarray(out)


# The IJG luminance quantisation table at quality 50 (ITU-T T.81 Annex K), natural order.
_IJG_LUMA = np.array(
    [16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
     14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
     18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
     49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99],
    dtype=np.float64,
)  # fmt: skip


def estimate_jpeg_quality(qtables: dict[int, list[int]] | None) -> int | None:
    """The IJG quality (1–100) whose luminance table best matches the file's.

    Both Pillow's tables and the reference are compared as a mean ratio, which is what the
    IJG scaling formula multiplies; the order of the 64 entries cancels out of the mean.
    """
    if not qtables or 0 not in qtables:
        return None
    table = np.asarray(list(qtables[0])[:64], dtype=np.float64)
    if table.size != 64 or not np.all(table > 0):
        return None
    best, best_err = 75, float("inf")
    for quality in range(1, 101):
        scale = 5000 / quality if quality < 50 else 200 - 2 * quality
        ref = np.clip(np.floor((_IJG_LUMA * scale + 50) / 100), 1, 255)
        err = float(np.abs(np.sort(ref) - np.sort(table)).sum())
        if err < best_err:
            best, best_err = quality, err
    return best


def _open_raw(data: bytes):  # type: ignore[no-untyped-def]
    import rawpy

    try:
        return rawpy.imread(io.BytesIO(data))
    except rawpy.LibRawFileUnsupportedError:
        raise UnsupportedFormat("camera RAW variant not supported by LibRaw") from None
    except Exception as exc:
        raise CorruptInput(f"cannot read camera RAW: {_one_line(exc)}") from None


# Even lossless-compressed RAW data needs more than this many bytes per sensor pixel; a file
# smaller than that is truncated, and LibRaw would silently develop the missing part as noise.
_MIN_RAW_BYTES_PER_PIXEL = 1 / 16


def _decode_raw(data: bytes) -> DecodedImage:
    """Develop a camera RAW to 16-bit RGB, camera white balance, oriented (LibRaw flips)."""
    with _open_raw(data) as raw:
        sensor_pixels = int(raw.sizes.raw_width) * int(raw.sizes.raw_height)
        if len(data) < sensor_pixels * _MIN_RAW_BYTES_PER_PIXEL:
            raise CorruptInput(
                f"camera RAW is truncated: {len(data)} bytes for a "
                f"{raw.sizes.raw_width}x{raw.sizes.raw_height} sensor"
            )
        try:
            rgb = raw.postprocess(output_bps=16, use_camera_wb=True, no_auto_bright=False)
        except Exception as exc:
            raise CorruptInput(f"cannot develop camera RAW: {_one_line(exc)}") from None
    return DecodedImage(format=RAW_FORMAT, frames=[np.array(rgb)])


_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _heif_registered = True


def encode_image(
    frames: list[NDArray[np.uint8] | NDArray[np.uint16]],
    fmt: str,
    *,
    quality: int | None = None,
    subsampling: int | None = None,
    icc_profile: bytes | None = None,
    durations: list[int] | None = None,
    loop: int | None = None,
    orientation: int = 1,
) -> bytes:
    """Encode frames to ``fmt`` (``jpeg png webp gif tiff bmp heif avif``) with no metadata.

    ``quality`` applies to lossy formats (JPEG, WebP and AVIF default 95 when unknown, HEIF
    90 with x265's fastest preset); 16-bit frames (gray,
    RGB, RGBA) are written with 16 bits to PNG and TIFF and scaled to 8 bits for other
    formats. The ICC profile is written only when given (policy decided by the caller).
    """
    if fmt not in _PILLOW_FORMATS or (fmt == "avif" and not _has_avif()):
        raise UnsupportedFormat(f"cannot write {fmt.upper()}")
    if fmt in ("png", "tiff") and frames[0].dtype == np.uint16 and frames[0].ndim == 3:
        if len(frames) > 1:
            raise UnsupportedFormat(f"cannot write a multi-frame 16-bit RGB {fmt.upper()}")
        return encode_wide_rgb(
            cast(NDArray[np.uint16], frames[0]),
            fmt,
            icc_profile=icc_profile,
            orientation=orientation,
            png_compress_level=PNG_COMPRESS_LEVEL,
        )
    images = [_pillow_image(frame, fmt) for frame in frames]
    if fmt in ("heif", "avif"):
        _register_heif()
    options: dict[str, object] = {}
    if icc_profile and fmt not in ("gif", "bmp"):
        options["icc_profile"] = icc_profile
    if orientation != 1 and fmt not in ("gif", "bmp"):
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    if fmt == "jpeg":
        options.update(quality=quality or 95, optimize=True)
        if subsampling is not None:
            options["subsampling"] = subsampling
        images = [im.convert("RGB") if im.mode == "RGBA" else im for im in images]
    elif fmt == "heif":
        # x265's fastest preset at quality 90: 3.0 s for a 12-megapixel iPhone photo where
        # libheif's default (preset "slow", here at quality 95) took 17 s, for the same
        # fidelity (PSNR 53.3 against 53.6 dB) and size (3.0x the phone's file, both).
        options["quality"] = quality or 90
        options["enc_params"] = {"preset": "ultrafast"}
    elif fmt in ("webp", "avif"):
        options["quality"] = quality or 95
    elif fmt == "tiff":
        options["compression"] = "tiff_adobe_deflate"
    elif fmt == "png":
        options["compress_level"] = PNG_COMPRESS_LEVEL
    if len(images) > 1:
        options.update(save_all=True, append_images=images[1:])
        if durations:
            options["duration"] = durations
        if loop is not None:
            options["loop"] = loop
    out = io.BytesIO()
    try:
        images[0].save(out, format=_PILLOW_FORMATS[fmt], **options)
    except (OSError, ValueError, KeyError) as exc:
        raise UnsupportedFormat(f"cannot write {fmt.upper()}: {_one_line(exc)}") from None
    return out.getvalue()


# Baseline TIFF tags that describe pixels only (no camera, time, place or software).
_STRUCTURAL_TIFF_TAGS = frozenset(
    {256, 257, 258, 259, 262, 273, 274, 277, 278, 279, 282, 283, 284, 296, 317, 338, 339, 34675}
)


def check_encoded_clean(data: bytes, fmt: str) -> None:
    """Verify that our own encoder wrote no metadata beyond pixels, ICC and orientation.

    Used for formats the Rust stripper does not rewrite (TIFF, HEIF, AVIF, BMP); raises
    :class:`InternalError` (never writes a file that might carry more).
    """
    from fastredact.errors import InternalError

    with _open_pillow(data, fmt) as im:
        extra: set[int | str]
        if fmt == "tiff":
            extra = set(im.tag_v2.keys()) - _STRUCTURAL_TIFF_TAGS  # type: ignore[attr-defined]
        else:
            extra = {tag for tag in im.getexif() if tag != 0x0112}
            extra |= {k for k in ("xmp", "XML:com.adobe.xmp", "comment") if im.info.get(k)}
    if extra:
        raise InternalError(f"encoded {fmt.upper()} carries metadata {sorted(map(str, extra))}")


def _pillow_image(frame: NDArray[np.uint8] | NDArray[np.uint16], fmt: str) -> Image.Image:
    """A frame as a Pillow image: 16-bit gray stays 16-bit where the format holds it (PNG,
    TIFF), everything else is written with 8 bits per sample."""
    if frame.dtype == np.uint16 and frame.ndim == 2 and fmt in ("png", "tiff"):
        return Image.fromarray(np.ascontiguousarray(frame))
    return Image.fromarray(_to_uint8(frame))


def _to_uint8(frame: NDArray[np.uint8] | NDArray[np.uint16]) -> NDArray[np.uint8]:
    if frame.dtype == np.uint16:
        return (frame >> 8).astype(np.uint8)
    return np.asarray(frame, dtype=np.uint8)


def _has_avif() -> bool:
    from PIL import features

    return bool(features.check("avif"))


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())
