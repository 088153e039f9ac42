"""Plant a distinct canary in every place metadata can hide; none may survive a strip, raw or
inflated, and the pixels must stay identical (two decoders)."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

import fastredact
from fastredact import strip_metadata
from tests.support.containers import (
    canary_free,
    decode_opencv,
    decode_pillow,
    encode,
    noise_image,
    png_chunk,
    riff,
    riff_chunk,
    segment,
    tiff_with,
    webp_chunks,
)

XMP_ID = b"http://ns.adobe.com/xap/1.0/\0"
XMP_EXT_ID = b"http://ns.adobe.com/xmp/extension/\0"


def exif_payload(tag: str, orientation: int | None = 6) -> bytes:
    """EXIF with a Make, a GPS-ish user comment and a fake thumbnail, all canaries."""
    tiff = tiff_with(
        [
            (0x010F, 2, f"CANARY-{tag}-MAKE\0".encode()),
            (0x9286, 7, f"CANARY-{tag}-GPS-THUMB".encode()),
        ],
        orientation=orientation,
    )
    return b"Exif\0\0" + tiff


def insert_before_nth_sos(jpeg: bytes, n: int, extra: bytes) -> bytes:
    """Insert bytes before the n-th SOS marker (n=1: before the second scan)."""
    pos = -1
    for _ in range(n + 1):
        pos = jpeg.index(b"\xff\xda", pos + 1)
    return jpeg[:pos] + extra + jpeg[pos:]


def planted_jpeg() -> tuple[bytes, bytes]:
    """A progressive JPEG with a canary in every metadata location, and the clean base."""
    base = encode(noise_image(), "JPEG", quality=90, progressive=True)
    assert base.count(b"\xff\xda") >= 3
    secondary = encode(noise_image(16, 16, seed=2), "JPEG") + b"CANARY-MPF-IMAGE"
    head = b"".join(
        [
            segment(0xE1, exif_payload("EXIF")),
            segment(0xE1, XMP_ID + b"<x:xmpmeta>CANARY-XMP</x:xmpmeta>"),
            segment(0xE1, XMP_EXT_ID + b"0" * 32 + b"\0\0\0\x10\0\0\0\0CANARY-XMPEXT"),
            segment(0xE2, b"MPF\0MM\0*CANARY-MPF"),
            segment(0xE2, b"FPXR\0CANARY-FPXR"),
            segment(0xED, b"Photoshop 3.0\08BIM\x04\x04\0\0\0\0\0\x10CANARY-IPTC-DATA"),
            segment(0xEB, b"JP\0\0\0\0\0\x01jumbCANARY-C2PA"),
            segment(0xE3, b"CANARY-APP3"),
            segment(0xE9, b"CANARY-APP9"),
            segment(0xEF, b"CANARY-APP15"),
            segment(0xFE, b"CANARY-COM-HEAD"),
            segment(0xEE, b"Adobe\0\x64\x80\0\0\0\x01CANARY-ADOBE-PAD"),
        ]
    )
    # JFIF with a 1x1 "thumbnail" holding a canary-ish payload.
    jfif = base[2:20]
    assert jfif[4:9] == b"JFIF\0", "Pillow output starts with JFIF"
    jfif_thumb = segment(0xE0, jfif[4:16] + b"\x01\x01CAN") + segment(
        0xE0, b"JFXX\0\x10CANARY-JFXX"
    )
    dirty = base[:2] + jfif_thumb + head + base[20:]
    dirty = insert_before_nth_sos(
        dirty,
        1,
        segment(0xFE, b"CANARY-COM-BETWEEN-SCANS")
        + segment(0xE1, XMP_ID + b"CANARY-XMP-BETWEEN")
        + segment(0xEC, b"CANARY-APP12-BETWEEN"),
    )
    dirty += secondary + b"CANARY-TRAILER" + b"\0" * 64
    return dirty, base


def test_jpeg_every_location() -> None:
    dirty, base = planted_jpeg()
    assert not canary_free(dirty)
    result = strip_metadata(dirty)
    assert canary_free(result.data), "a canary survived in the stripped JPEG"
    kinds = set(result.removed_kinds)
    assert {
        "exif",
        "xmp",
        "xmp_extended",
        "mpf",
        "photoshop_iptc",
        "jumbf",
        "comment",
        "app_segment",
        "trailer",
        "jfif_thumbnail",
    } <= kinds
    assert result.orientation == 6
    assert result.format == "jpeg"
    assert not result.reencoded
    # Pixels identical with two decoders; stripping twice changes nothing.
    assert np.array_equal(decode_pillow(result.data), decode_pillow(base))
    assert np.array_equal(decode_opencv(result.data), decode_opencv(base))
    again = strip_metadata(result.data)
    assert again.data == result.data
    assert again.removed == ()


def test_jpeg_entropy_data_copied_byte_for_byte() -> None:
    dirty, base = planted_jpeg()
    out = strip_metadata(dirty, orientation="drop").data
    # With orientation dropped the output is the base with only the JFIF segment kept.
    assert out[out.index(b"\xff\xdb") :] == base[base.index(b"\xff\xdb") :]


def with_fill_bytes(jpeg: bytes) -> bytes:
    """The same JPEG with fill bytes where libjpeg allows them: an extra 0xFF before every
    stuffed ``FF 00`` in the entropy data (read as fill + stuffed zero) and before every
    marker after the SOI, plus a COM and an APP1 after fill bytes between two scans."""
    head, rest = jpeg[:2], jpeg[2:]
    filled = head + rest.replace(b"\xff", b"\xff\xff")  # FF 00 -> FF FF 00, FF xx -> FF FF xx
    return insert_before_nth_sos(
        filled,
        1,
        b"\xff\xff" + segment(0xFE, b"CANARY-COM-FILL") + b"\xff" + segment(0xE1, b"CANARY-APP1"),
    )


def test_jpeg_fill_bytes_accepted_as_libjpeg_does() -> None:
    base = encode(noise_image(256, 192), "JPEG", quality=95, progressive=True)
    assert base.count(b"\xff\x00") > 10 and base.count(b"\xff\xda") >= 3
    filled = with_fill_bytes(base)
    assert b"\xff\xff\x00" in filled and b"\xff\xff\xff\xfe" in filled
    # The reference: libjpeg (Pillow) and OpenCV decode the filled file as the original.
    reference = decode_pillow(base)
    assert np.array_equal(decode_pillow(filled), reference)
    assert np.array_equal(decode_opencv(filled), decode_opencv(base))
    result = strip_metadata(filled)
    assert canary_free(result.data), "a marker behind fill bytes survived"
    assert {"comment", "app_segment"} <= set(result.removed_kinds)
    assert b"\xff\xff\x00" in result.data  # fill inside entropy data is data: copied as is
    assert np.array_equal(decode_pillow(result.data), reference)
    assert np.array_equal(decode_opencv(result.data), decode_opencv(base))


def planted_png() -> tuple[bytes, bytes]:
    base = encode(noise_image(mode="RGBA"), "PNG")
    ihdr_end = 8 + 25
    ztxt = png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"CANARY-ZTXT"))
    itxt = png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\x01\0en\0\0" + zlib.compress(b"CANARY-ITXT"))
    itxt_plain = png_chunk(b"iTXt", b"Author\0\0\0\0\0CANARY-ITXT-PLAIN")
    extra = b"".join(
        [
            png_chunk(b"tEXt", b"Author\0CANARY-TEXT"),
            ztxt,
            itxt,
            itxt_plain,
            png_chunk(b"eXIf", exif_payload("PNG")[6:]),
            png_chunk(b"tIME", b"\x07\xe8\x01\x02\x03\x04\x05"),
            png_chunk(b"caBX", b"CANARY-C2PA"),
            png_chunk(b"vpAg", b"CANARY-UNKNOWN-ANCILLARY"),
            png_chunk(b"pHYs", struct.pack(">IIB", 2835, 2835, 1)),
        ]
    )
    dirty = base[:ihdr_end] + extra + base[ihdr_end:]
    dirty = dirty[:-12] + png_chunk(b"tEXt", b"Late\0CANARY-LATE") + dirty[-12:]
    dirty += b"CANARY-AFTER-IEND" + zlib.compress(b"CANARY-HIDDEN-ZLIB")
    return dirty, base


def test_png_every_location() -> None:
    dirty, base = planted_png()
    assert not canary_free(dirty)
    result = strip_metadata(dirty)
    assert canary_free(result.data)
    assert {"text", "exif", "time", "c2pa", "chunk", "trailer"} <= set(result.removed_kinds)
    assert b"pHYs" in result.data
    assert b"eXIf" in result.data  # the minimal orientation-only one
    assert np.array_equal(decode_pillow(result.data), decode_pillow(base))
    assert np.array_equal(decode_opencv(result.data), decode_opencv(base))
    assert strip_metadata(result.data).data == result.data


@pytest.mark.parametrize("with_flags", [True, False])
@pytest.mark.parametrize("lossless", [True, False])
def test_webp_exif_xmp_with_and_without_flags(with_flags: bool, lossless: bool) -> None:
    im = noise_image(mode="RGBA")
    base = encode(im, "WEBP", lossless=lossless, quality=80)
    chunks = webp_chunks(base)
    image_chunks = [riff_chunk(f, p) for f, p in chunks if f != b"VP8X"]
    width, height = im.size
    flags = (0x08 | 0x04 | 0x10) if with_flags else 0x10
    vp8x = bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little")
    vp8x += (height - 1).to_bytes(3, "little")
    dirty = riff(
        [
            riff_chunk(b"VP8X", vp8x),
            *image_chunks,
            riff_chunk(b"EXIF", exif_payload("WEBP")[6:]),
            riff_chunk(b"XMP ", b"<x:xmpmeta>CANARY-XMP</x:xmpmeta>"),
            riff_chunk(b"ABCD", b"CANARY-UNKNOWN"),
        ]
    )
    dirty += b"CANARY-AFTER-RIFF"
    result = strip_metadata(dirty)
    assert canary_free(result.data)
    assert {"exif", "xmp", "chunk", "trailer"} <= set(result.removed_kinds)
    out_chunks = dict(webp_chunks(result.data))
    assert out_chunks[b"VP8X"][0] & 0x04 == 0  # no XMP flag
    assert out_chunks[b"VP8X"][0] & 0x08 == 0x08  # the minimal EXIF (orientation 6)
    (riff_size,) = struct.unpack("<I", result.data[4:8])
    assert riff_size + 8 == len(result.data)
    assert np.array_equal(decode_pillow(result.data), decode_pillow(base))
    assert np.array_equal(decode_opencv(result.data), decode_opencv(base))
    dropped = strip_metadata(dirty, orientation="drop")
    assert dict(webp_chunks(dropped.data))[b"VP8X"][0] & 0x0C == 0
    assert b"EXIF" not in dropped.data


def test_webp_simple_format_with_stray_exif() -> None:
    base = encode(noise_image(), "WEBP", quality=80)
    dirty = riff(
        [riff_chunk(f, p) for f, p in webp_chunks(base)]
        + [riff_chunk(b"EXIF", exif_payload("SIMPLE")[6:])]
    )
    result = strip_metadata(dirty)
    assert canary_free(result.data)
    assert np.array_equal(decode_pillow(result.data), decode_pillow(base))


def test_gif_comments_and_application_extensions() -> None:
    frames = [noise_image(32, 32, seed=s).convert("P") for s in range(3)]
    out = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], loop=0, duration=50)
    base = out
    assert b"NETSCAPE2.0" in base
    comment = b"\x21\xfe" + bytes([14]) + b"CANARY-COMMENT" + b"\0"
    xmp_ext = b"\x21\xff\x0bXMP DataXMP" + bytes([10]) + b"CANARY-XMP" + b"\0"
    icc_ext = b"\x21\xff\x0bICCRGBG1012" + bytes([10]) + b"CANARY-ICC" + b"\0"
    plain_text = b"\x21\x01\x0c" + b"\0" * 12 + bytes([12]) + b"CANARY-PLAIN" + b"\0"
    # After the NETSCAPE extension, before the first frame; and one between frames.
    first_gce = base.index(b"\x21\xf9")
    dirty = base[:first_gce] + comment + xmp_ext + icc_ext + plain_text + base[first_gce:]
    second_gce = dirty.index(b"\x21\xf9", dirty.index(b"\x2c"))
    dirty = dirty[:second_gce] + comment.replace(b"COMMENT", b"COMMENT") + dirty[second_gce:]
    dirty += b"CANARY-AFTER-TRAILER"
    result = strip_metadata(dirty)
    assert canary_free(result.data)
    assert b"NETSCAPE2.0" in result.data
    assert {"comment", "application_extension", "plain_text", "trailer"} <= set(
        result.removed_kinds
    )
    assert np.array_equal(decode_pillow(result.data), decode_pillow(base))
    assert np.array_equal(decode_opencv(result.data), decode_opencv(base))
    assert strip_metadata(result.data).data == result.data


def test_icc_policy_on_all_formats() -> None:
    icc = b"\0\0\x01\x00" + b"fake-profile" * 20
    im = noise_image()
    for fmt, options in [("JPEG", {}), ("PNG", {}), ("WEBP", {"lossless": True})]:
        data = encode(im, fmt, icc_profile=icc, **options)
        kept = strip_metadata(data, icc="keep").data
        dropped = strip_metadata(data, icc="drop")
        assert b"fake-profile" in kept or fmt == "PNG"  # PNG's iCCP is compressed
        assert b"fake-profile" not in dropped.data
        assert "icc" in dropped.removed_kinds, fmt
        assert canary_free(dropped.data, b"fake-profile")


def test_the_canary_check_can_fail() -> None:
    """The oracle itself works: a naive strip that keeps the trailer is caught."""
    dirty, _ = planted_jpeg()
    eoi_kept = strip_metadata(dirty).data + b"CANARY-TRAILER"
    assert not canary_free(eoi_kept)
    hidden = zlib.compress(b"xxCANARY-HIDDENxx")
    assert not canary_free(b"prefix" + hidden)


def test_public_api_exports() -> None:
    for name in ("strip_metadata", "strip_file", "strip_files", "StripResult"):
        assert name in fastredact.__all__
