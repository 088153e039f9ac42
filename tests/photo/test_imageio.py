"""Sniffing, bomb refusal, oriented decoding and quality-matched encoding (fastredact.photo)."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps

from fastredact import _core, formats, photo
from fastredact.errors import CorruptInput, LimitExceeded, UnsupportedFormat
from fastredact.photo import _decode as photo_decode
from tests.support import shared_file


def _jpeg(pixels: np.ndarray, **options: object) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", **options)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "pil_name"),
    [
        ("jpeg", "JPEG"),
        ("png", "PNG"),
        ("webp", "WEBP"),
        ("gif", "GIF"),
        ("tiff", "TIFF"),
        ("bmp", "BMP"),
    ],
)
def test_sniff_from_content_not_name(fmt: str, pil_name: str) -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(out, format=pil_name)
    assert formats.photo_format(out.getvalue()) == fmt


@pytest.mark.parametrize("data", [b"", b"hello, this is text named .jpg\n", b"\x00" * 64])
def test_sniff_rejects_non_images(data: bytes) -> None:
    with pytest.raises(UnsupportedFormat):
        formats.photo_format(data)


# An independent table of magic numbers (what the Python sniffer recognised before the Rust
# core took over), to check the core and the wrapper against.
_MAGICS: list[tuple[bytes, str]] = [
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),
    (b"MM\x00+", "tiff"),
    (b"IIU\x00", "raw"),
    (b"IIRO", "raw"),
    (b"IIRS", "raw"),
    (b"MMOR", "raw"),
    (b"FUJIFILMCCD-RAW", "raw"),
    (b"\x00MRM", "raw"),
    (b"\xff\x0a", "jxl"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "jxl"),
]
_BRANDS = {b"avif": "avif", b"avis": "avif", b"crx ": "raw"} | {
    brand: "heif"
    for brand in (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"mif2")
}


def _reference_sniff(data: bytes) -> str | None:
    for magic, name in _MAGICS[:8]:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:2] == b"BM" and len(data) >= 26:
        return "bmp"
    for magic, name in _MAGICS[14:]:
        if data.startswith(magic):
            return name
    if data[4:8] == b"ftyp" and data[8:12] in _BRANDS:
        return _BRANDS[data[8:12]]
    for magic, name in _MAGICS[8:14]:
        if data.startswith(magic):
            return name
    return None


_PREFIXES = [m for m, _ in _MAGICS] + [b"RIFF\x00\x00\x00\x00WEBP", b"BM"]
_PREFIXES += [b"\x00\x00\x00\x18ftyp" + brand for brand in [*_BRANDS, b"isom", b"qt  "]]


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=40),
        st.builds(
            lambda prefix, cut, tail: prefix[:cut] + tail,
            st.sampled_from(_PREFIXES),
            st.integers(0, 24),
            st.binary(max_size=32),
        ),
    )
)
def test_sniff_wrapper_and_core_agree(data: bytes) -> None:
    from fastredact import _core

    core = _core.sniff_format(data)
    assert core == _reference_sniff(data)
    if core is None or core == "jxl":
        with pytest.raises(UnsupportedFormat):
            formats.photo_format(data)
    else:
        assert formats.photo_format(data) == core


def test_bomb_is_refused_before_decoding() -> None:
    # A PNG header claiming 100000 x 100000 pixels with almost no data behind it.
    out = io.BytesIO()
    Image.new("L", (1, 1)).save(out, format="PNG")
    data = bytearray(out.getvalue())
    data[16:24] = (100_000).to_bytes(4, "big") * 2  # IHDR width, height
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")  # IHDR CRC
    with pytest.raises(LimitExceeded, match="over the limit"):
        photo.decode_image(bytes(data), max_pixels=200_000_000)


def test_pixel_limit_is_configurable() -> None:
    data = _jpeg(np.zeros((64, 64, 3), np.uint8))
    photo.decode_image(data, max_pixels=64 * 64)
    with pytest.raises(LimitExceeded):
        photo.decode_image(data, max_pixels=64 * 64 - 1)


def _animation(fmt: str, frames: int, size: tuple[int, int] = (40, 30)) -> bytes:
    rng = np.random.default_rng(frames)
    images = [
        Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
        for _ in range(frames)
    ]
    out = io.BytesIO()
    images[0].save(out, format=fmt, save_all=True, append_images=images[1:], duration=50)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP", "TIFF"])
@pytest.mark.parametrize("frames", [2, 7])
def test_pixel_limit_counts_every_frame_before_decoding(
    fmt: str, frames: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An animation decodes every frame to the full canvas: 7 frames of 40x30 are 8400 pixels
    # of memory however small each frame is in the file.
    data = _animation(fmt, frames)
    assert len(photo.decode_image(data, max_pixels=40 * 30 * frames).frames) == frames
    monkeypatch.setattr(photo_decode, "_decode_pillow", _must_not_decode)
    with pytest.raises(LimitExceeded, match=f"x {frames} frames"):
        photo.decode_image(data, max_pixels=40 * 30 * frames - 1)


def test_pixel_limit_counts_each_tiff_page_at_its_own_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A 4x4 first page must not vouch for a 300x200 second one.
    out = io.BytesIO()
    small, large = Image.new("RGB", (4, 4)), Image.new("RGB", (300, 200))
    small.save(out, format="TIFF", save_all=True, append_images=[large])
    data = out.getvalue()
    assert photo.read_dimensions(data, "tiff") == photo.Dimensions(4, 4, 2, 16 + 60_000)
    monkeypatch.setattr(photo_decode, "_decode_pillow", _must_not_decode)
    with pytest.raises(LimitExceeded, match="60016 pixels"):
        photo.decode_image(data, max_pixels=60_015)


def _must_not_decode(data: bytes, fmt: str) -> None:
    raise AssertionError("decoded although over the pixel limit")


def test_truncated_jpeg_is_corrupt() -> None:
    rng = np.random.default_rng(0)
    data = _jpeg(rng.integers(0, 255, (256, 256, 3), dtype=np.uint8))
    with pytest.raises(CorruptInput):
        photo.decode_image(data[: len(data) // 2])


@given(st.integers(1, 8))
@settings(max_examples=8, deadline=None)
def test_orientation_roundtrip(orientation: int) -> None:
    rng = np.random.default_rng(orientation)
    stored = rng.integers(0, 255, (5, 7, 3), dtype=np.uint8)
    shown = photo.apply_orientation(stored, orientation)
    assert np.array_equal(photo.undo_orientation(shown, orientation), stored)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pillow_exif_transpose(orientation: int) -> None:
    rng = np.random.default_rng(orientation)
    stored = rng.integers(0, 255, (16, 24, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    Image.fromarray(stored).save(out, format="PNG", exif=exif.tobytes())
    decoded = photo.decode_image(out.getvalue())
    reference = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(out.getvalue()))))
    assert decoded.orientation == orientation
    assert np.array_equal(decoded.frames[0], reference)


@pytest.mark.parametrize("quality", [30, 60, 75, 90, 95])
def test_jpeg_quality_is_estimated_from_tables(quality: int) -> None:
    data = _jpeg(np.full((32, 32, 3), 128, np.uint8), quality=quality)
    assert photo.decode_image(data).jpeg_quality == quality


def test_encode_writes_only_orientation_exif() -> None:
    pixels = np.zeros((8, 12, 3), np.uint8)
    data = photo.encode_image([pixels], "jpeg", quality=90, orientation=6)
    im = Image.open(io.BytesIO(data))
    assert dict(im.getexif()) == {0x0112: 6}


def test_shared_orientation_fixtures_decode_upright(shared_data: Path) -> None:
    # All 8 landscape_N files show the same upright picture once decoded: each is far
    # closer to landscape_1 than any mirrored version of itself is.
    def small(n: int) -> np.ndarray:
        data = shared_file(shared_data, f"exif-samples/jpg/orientation/landscape_{n}.jpg")
        frame = photo.decode_image(data.read_bytes()).frames[0]
        assert frame.shape == (450, 600, 3)
        return cv2.resize(frame, (75, 56), interpolation=cv2.INTER_AREA).astype(np.int16)

    ref = small(1)
    for n in range(2, 9):
        got = small(n)
        right = np.abs(got - ref).mean()
        wrong = min(np.abs(got[:, ::-1] - ref).mean(), np.abs(got[::-1] - ref).mean())
        assert right < 0.5 * wrong, (n, right, wrong)


@pytest.mark.parametrize(
    ("relative", "fmt"),
    [
        ("exif-samples/heic/IMG_5195.HEIC", "heif"),
        ("mat2/dirty.avif", "avif"),
        ("exiftool/GIF.gif", "gif"),
        ("exif-rs/exif.webp", "webp"),
    ],
)
def test_shared_formats_decode(shared_data: Path, relative: str, fmt: str) -> None:
    decoded = photo.decode_image(shared_file(shared_data, relative).read_bytes())
    assert decoded.format == fmt
    assert decoded.frames[0].size > 0


@pytest.mark.parametrize(
    "relative",
    # Truncated on purpose: LibRaw would "develop" DNG/RW2 anyway, filling the gap with noise.
    [
        "exiftool/Nikon.nef",
        "exiftool/FujiFilm.raf",
        "exiftool/DNG.dng",
        "exiftool/Panasonic.rw2",
        "exiftool/CanonRaw.cr2",
    ],
)
def test_truncated_raw_is_an_error(shared_data: Path, relative: str) -> None:
    with pytest.raises((CorruptInput, UnsupportedFormat)):
        photo.decode_image(shared_file(shared_data, relative).read_bytes())


def _tiff(pixels: np.ndarray, **options: object) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="TIFF", **options)
    return out.getvalue()


def test_plain_16_bit_gray_tiff_is_not_developed_as_raw() -> None:
    # LibRaw opens such a file and "develops" it as a Bayer mosaic; it must stay a picture.
    wide = np.random.default_rng(3).integers(0, 0xFFFF, (37, 53), dtype=np.uint16)
    data = _tiff(wide)
    assert not _core.is_camera_raw_tiff(data)
    decoded = photo.decode_image(data)
    assert decoded.format == "tiff"
    np.testing.assert_array_equal(decoded.frames[0], wide)


@pytest.mark.parametrize("fmt", ["png", "tiff"])
def test_16_bit_gray_keeps_16_bits_through_encode(fmt: str) -> None:
    wide = np.random.default_rng(6).integers(0, 0xFFFF, (29, 41), dtype=np.uint16)
    encoded = photo.encode_image([wide], fmt)
    with Image.open(io.BytesIO(encoded)) as im:  # Pillow as the independent decoder
        assert im.mode.startswith("I;16")
        np.testing.assert_array_equal(np.asarray(im, dtype=np.uint16), wide)
    jpeg = photo.encode_image([wide], "jpeg")  # no 16-bit JPEG: scaled to 8 bits
    with Image.open(io.BytesIO(jpeg)) as im:
        assert im.mode == "L"


def test_shared_film_scan_tiff_decodes_as_its_pixels(shared_data: Path) -> None:
    # A 16-bit grayscale scan whose EXIF names a (film) camera: not a camera RAW.
    data = shared_file(shared_data, "little_exif/20160513-A0012+001.tiff").read_bytes()
    decoded = photo.decode_image(data)
    assert decoded.format == "tiff"
    reference = np.asarray(Image.open(io.BytesIO(data)), dtype=np.uint16)
    assert decoded.frames[0].dtype == np.uint16
    np.testing.assert_array_equal(decoded.frames[0], reference)


@pytest.mark.parametrize(
    ("relative", "is_raw"),
    [
        ("exiftool/DNG.dng", True),
        ("exiftool/Nikon.nef", True),
        ("exiftool/CanonRaw.cr2", True),
        ("exiftool/ExifTool.tif", False),
        ("exiftool/GeoTiff.tif", False),
        ("exif-samples/tiff/BSG1.tiff", False),
        ("scikit-image/multipage_rgb.tif", False),
        ("mat2/dirty.tiff", False),
        ("little_exif/20160513-A0012+001.tiff", False),
    ],
)
def test_camera_raw_is_told_from_plain_tiff_by_structure(
    shared_data: Path, relative: str, is_raw: bool
) -> None:
    data = shared_file(shared_data, relative).read_bytes()
    assert _core.is_camera_raw_tiff(data) is is_raw


def test_written_dng_is_raw_and_plain_rgb_tiff_is_not() -> None:
    from tests.support.dng import bayer_dng

    rgb = np.random.default_rng(4).integers(0, 255, (32, 48, 3), dtype=np.uint8)
    assert _core.is_camera_raw_tiff(bayer_dng(rgb, make="Acme", model="Cam"))
    assert not _core.is_camera_raw_tiff(_tiff(rgb, compression="tiff_deflate"))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([b"II*\0", b"MM\0*"]), st.binary(max_size=400))
def test_raw_classifier_never_fails_on_garbage(magic: bytes, tail: bytes) -> None:
    assert _core.is_camera_raw_tiff(magic + tail) in (True, False)


def test_float_tiff_is_refused_not_clipped() -> None:
    data = _tiff(np.random.default_rng(5).random((20, 30), dtype=np.float32))
    with pytest.raises(UnsupportedFormat, match="floating-point"):
        photo.decode_image(data)


def test_32_bit_integer_tiff_is_kept_in_range_and_refused_beyond() -> None:
    values = np.arange(0, 60000, 10, dtype=np.int32).reshape(60, 100)
    decoded = photo.decode_image(_tiff(values))
    assert decoded.frames[0].dtype == np.uint16
    np.testing.assert_array_equal(decoded.frames[0], values)
    values[0, 0] = 70000  # does not fit 16 bits: refused, never wrapped or clipped
    with pytest.raises(UnsupportedFormat, match="32-bit integer"):
        photo.decode_image(_tiff(values))


@settings(max_examples=16, deadline=None)
@given(st.integers(1, 8), st.sampled_from([(23, 37), (23, 37, 3)]))
def test_tiff_orientation_is_applied_exactly_once(orientation: int, shape: tuple[int]) -> None:
    # Pillow's TIFF reader turns the pixels upright itself while loading; applying the tag a
    # second time showed faces upside down to the detector. OpenCV (libtiff) is the reference
    # (gray and RGB: it premultiplies RGBA).
    stored = np.random.default_rng(orientation).integers(0, 255, shape, np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = _tiff(stored, exif=exif.tobytes())
    decoded = photo.decode_image(data)
    assert decoded.orientation == orientation
    reference = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if reference.ndim == 3:
        reference = reference[:, :, ::-1]
    np.testing.assert_array_equal(decoded.frames[0], reference)


@settings(max_examples=24, deadline=None)
@given(st.sampled_from(["png", "tiff"]), st.sampled_from([3, 4]), st.integers(1, 8))
def test_16_bit_rgb_keeps_16_bits_icc_and_orientation(
    fmt: str, channels: int, orientation: int
) -> None:
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    wide = np.random.default_rng(channels).integers(0, 0xFFFF, (19, 31, channels), np.uint16)
    encoded = photo.encode_image([wide], fmt, icc_profile=icc, orientation=orientation)
    # OpenCV as the independent decoder of the 16 bits (its TIFF reader applies the tag).
    stored = cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_UNCHANGED)
    stored = stored[:, :, [2, 1, 0, 3][:channels]]
    expected = photo.apply_orientation(wide, orientation) if fmt == "tiff" else wide
    np.testing.assert_array_equal(stored, expected)
    with Image.open(io.BytesIO(encoded)) as im:
        assert im.info.get("icc_profile") == icc
        assert im.getexif().get(0x0112, 1) == orientation
    if fmt == "tiff":
        photo.check_encoded_clean(encoded, fmt)  # nothing but structure, ICC, orientation
    decoded = photo.decode_image(encoded)
    assert decoded.frames[0].dtype == np.uint16
    np.testing.assert_array_equal(decoded.frames[0], photo.apply_orientation(wide, orientation))


def test_16_bit_rgb_whose_decoders_disagree_is_refused() -> None:
    from fastredact.photo._wide import decode_wide_rgb

    wide = np.random.default_rng(8).integers(0, 0xFFFF, (12, 20, 3), np.uint16)
    png = photo.encode_image([wide], "png")
    narrow = (wide >> 8).astype(np.uint8)
    identity = [lambda pixels: pixels]
    np.testing.assert_array_equal(decode_wide_rgb(png, "png", narrow, identity), wide)
    narrow[5, 7, 1] ^= 1
    with pytest.raises(CorruptInput, match="disagree"):
        decode_wide_rgb(png, "png", narrow, identity)


def test_16_bit_rgb_to_8_bit_formats_keeps_the_high_byte() -> None:
    wide = np.random.default_rng(9).integers(0, 0xFFFF, (16, 16, 3), np.uint16)
    webp = photo.encode_image([wide], "webp", quality=100)
    with Image.open(io.BytesIO(webp)) as im:
        assert im.mode == "RGB"
    with pytest.raises(UnsupportedFormat, match="multi-frame"):
        photo.encode_image([wide, wide], "png")


def test_16_bit_rgba_tiff_decodes_without_opencv_noise(capfd: pytest.CaptureFixture[str]) -> None:
    # OpenCV writes 16-bit RGBA TIFF without ExtraSamples; libtiff notes it on stderr when
    # reading (once per file in a batch). The pixels are still cross-checked against Pillow.
    wide = np.random.default_rng(10).integers(0, 0xFFFF, (10, 12, 4), np.uint16)
    ok, buf = cv2.imencode(".tiff", wide)
    assert ok
    decoded = photo.decode_image(buf.tobytes())
    np.testing.assert_array_equal(decoded.frames[0], wide[:, :, [2, 1, 0, 3]])
    assert "WARN" not in capfd.readouterr().err
