"""Real files: identical pixels (Pillow and OpenCV), idempotence, orientation, errors, the
file API and the ``fastredact strip`` command."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from fastredact import (
    CorruptInput,
    UnsupportedFormat,
    cli,
    formats,
    strip_file,
    strip_files,
    strip_metadata,
)
from tests.support.containers import decode_opencv, decode_pillow, encode, noise_image, png_chunk

LOSSLESS = {"jpeg", "png", "webp", "gif"}
FOLDERS = ("exiftool", "mat2", "exif-samples", "img-parts", "exif-rs", "little_exif")


def lossless_fixtures(shared_data: Path) -> list[Path]:
    found = []
    for folder in FOLDERS:
        for p in sorted((shared_data / folder).rglob("*")):
            if p.is_file() and formats.sniff_photo(p.read_bytes()[:64]) in LOSSLESS:
                found.append(p)
    return found


def try_decode(decoder: object, data: bytes) -> np.ndarray | None:
    try:
        return decoder(data)  # type: ignore[operator,no-any-return]
    except Exception:
        return None


def test_pixels_identical_and_idempotent_on_real_files(shared_data: Path) -> None:
    files = lossless_fixtures(shared_data)
    assert len(files) >= 90
    compared = {"pillow": 0, "opencv": 0}
    for src in files:
        data = src.read_bytes()
        out = strip_metadata(data, icc="drop", orientation="drop").data
        kept = strip_metadata(data).data
        assert strip_metadata(kept).data == kept, f"{src}: second strip changed bytes"
        for name, decoder in (("pillow", decode_pillow), ("opencv", decode_opencv)):
            before = try_decode(decoder, data)
            if before is None:
                continue  # the fixture itself does not decode (truncated on purpose)
            after = try_decode(decoder, out)
            assert after is not None, f"{src}: output does not decode in {name}"
            assert np.array_equal(before, after), f"{src}: pixels changed ({name})"
            compared[name] += 1
    assert compared["pillow"] >= 80 and compared["opencv"] >= 70, compared


def orientation_files(shared_data: Path) -> list[Path]:
    files = sorted((shared_data / "exif-samples" / "jpg" / "orientation").glob("*.jpg"))
    assert len(files) == 16
    return files


def test_eight_orientations_still_display_the_same(shared_data: Path) -> None:
    seen = set()
    for src in orientation_files(shared_data):
        data = src.read_bytes()
        result = strip_metadata(data)
        seen.add(result.orientation)
        for decode in (
            lambda b: np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(b)))),
            lambda b: cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR),
        ):
            assert np.array_equal(decode(data), decode(result.data)), src
        dropped = strip_metadata(data, orientation="drop").data
        assert Image.open(io.BytesIO(dropped)).getexif().get(0x0112) is None
    assert seen == set(range(1, 9))


def test_bake_rotates_pixels(shared_data: Path) -> None:
    src = shared_data / "exif-samples" / "jpg" / "orientation" / "landscape_6.jpg"
    data = src.read_bytes()
    result = strip_metadata(data, orientation="bake")
    assert result.reencoded and result.orientation == 6
    upright = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))), dtype=float)
    with Image.open(io.BytesIO(result.data)) as im:
        assert im.getexif().get(0x0112) is None
        baked = np.asarray(im, dtype=float)
    assert baked.shape == upright.shape
    assert np.abs(baked - upright).mean() < 3.0
    # Lossless formats bake exactly.
    tiff = b"MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0"
    png = encode(noise_image(), "PNG")
    png = png[:33] + png_chunk(b"eXIf", tiff) + png[33:]
    baked_png = strip_metadata(png, orientation="bake")
    expected = np.asarray(noise_image().transpose(Image.Transpose.ROTATE_270))
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(baked_png.data))), expected)
    assert b"eXIf" not in baked_png.data


@pytest.mark.parametrize("channels", [3, 4])
def test_bake_keeps_16_bit_rgb_png_exact(channels: int) -> None:
    wide = np.random.default_rng(channels).integers(0, 0xFFFF, (21, 34, channels), np.uint16)
    order = [2, 1, 0, 3][:channels]
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(wide[:, :, order]))
    assert ok
    png = buf.tobytes()
    tiff = b"MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0"
    png = png[:33] + png_chunk(b"eXIf", tiff) + png[33:]
    baked = strip_metadata(png, orientation="bake")
    assert baked.reencoded and b"eXIf" not in baked.data
    written = cv2.imdecode(np.frombuffer(baked.data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert written.dtype == np.uint16  # Pillow alone would have kept 8 bits
    np.testing.assert_array_equal(written[:, :, order], np.rot90(wide, k=-1))  # 6: 90° CW


def test_truncated_real_files_are_corrupt(shared_data: Path) -> None:
    for rel in (
        "exif-samples/jpg/gps/DSCN0010.jpg",
        "mat2/dirty.png",
        "mat2/dirty.webp",
        "mat2/dirty.gif",
    ):
        data = (shared_data / rel).read_bytes()
        for cut in (16, len(data) // 3, len(data) // 2, len(data) - 1):
            with pytest.raises(CorruptInput):
                strip_metadata(data[:cut])


def test_unknown_and_unsupported_formats(shared_data: Path) -> None:
    for data in (b"", b"hello world", b"%PDF-1.7\n", b"\0" * 100):
        with pytest.raises(UnsupportedFormat):
            strip_metadata(data)
    for rel in ("mat2/dirty.tiff", "mat2/dirty.jxl"):
        with pytest.raises(UnsupportedFormat, match="cannot be stripped"):
            strip_metadata((shared_data / rel).read_bytes())
    # A JPEG-named text file is sniffed by content.
    with pytest.raises(UnsupportedFormat):
        strip_metadata(b"this is not a jpeg")


def test_bad_arguments() -> None:
    data = encode(noise_image(), "PNG")
    with pytest.raises(ValueError, match="icc"):
        strip_metadata(data, icc="maybe")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="orientation"):
        strip_metadata(data, orientation="sideways")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        strip_metadata("not bytes")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        strip_files([], threads=0)


def test_strip_file_is_atomic_and_never_touches_the_input(tmp_path: Path) -> None:
    src = tmp_path / "in.jpg"
    data = encode(noise_image(), "JPEG") + b"TRAILER-SECRET"
    src.write_bytes(data)
    os.utime(src, (1_000_000_000, 1_000_000_000))
    dst = tmp_path / "out" / "deep" / "in.jpg"
    result = strip_file(src, dst)
    assert dst.read_bytes() == result.data
    assert b"TRAILER-SECRET" not in dst.read_bytes()
    assert src.read_bytes() == data and src.stat().st_mtime == 1_000_000_000
    with pytest.raises(ValueError, match="overwrite"):
        strip_file(src, src)
    assert src.read_bytes() == data
    # On error: nothing at the destination, no temporary file left behind.
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptInput):
        strip_file(bad, tmp_path / "out" / "bad.jpg")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["deep"]
    with pytest.raises(FileNotFoundError):
        strip_file(tmp_path / "missing.jpg", tmp_path / "out" / "missing.jpg")


def test_strip_files_batch(tmp_path: Path) -> None:
    good = encode(noise_image(), "JPEG") + b"TRAILER"
    names = []
    for i in range(12):
        (tmp_path / f"{i}.jpg").write_bytes(good)
        names.append(f"{i}.jpg")
    (tmp_path / "bad.png").write_bytes(encode(noise_image(), "PNG")[:100])
    (tmp_path / "text.jpg").write_bytes(b"plain text")
    names += ["bad.png", "text.jpg", "missing.gif"]
    pairs = [(tmp_path / n, tmp_path / "out" / n) for n in names]
    results = strip_files(pairs)
    assert [r.src for r in results] == [p[0] for p in pairs]
    assert all(r.ok and r.format == "jpeg" for r in results[:12])
    assert all(r.removed_bytes == len(b"TRAILER") for r in results[:12])
    assert isinstance(results[12].error, CorruptInput)
    assert isinstance(results[13].error, UnsupportedFormat)
    assert isinstance(results[14].error, OSError)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(names[:12])
    single = strip_files(pairs[:3], threads=1)
    assert [r.removed for r in single] == [r.removed for r in results[:3]]
    same = strip_files([(tmp_path / "0.jpg", tmp_path / "0.jpg")])
    assert isinstance(same[0].error, ValueError)
    assert (tmp_path / "0.jpg").read_bytes() == good
    # durable=True writes the same bytes and fails the same way.
    synced_pairs = [(src, tmp_path / "synced" / src.name) for src, _ in pairs]
    synced = strip_files(synced_pairs, durable=True)
    assert [type(r.error) for r in synced] == [type(r.error) for r in results]
    for (_, dst), (_, synced_dst) in zip(pairs[:12], synced_pairs[:12], strict=True):
        assert synced_dst.read_bytes() == dst.read_bytes() == strip_metadata(good).data


def test_strip_files_bake(tmp_path: Path, shared_data: Path) -> None:
    src = shared_data / "exif-samples" / "jpg" / "orientation" / "portrait_8.jpg"
    one = shared_data / "exif-samples" / "jpg" / "orientation" / "portrait_1.jpg"
    results = strip_files(
        [(src, tmp_path / "8.jpg"), (one, tmp_path / "1.jpg")], orientation="bake"
    )
    assert results[0].ok and results[0].reencoded and results[0].orientation == 8
    assert results[1].ok and not results[1].reencoded
    with Image.open(tmp_path / "8.jpg") as im:
        assert im.getexif().get(0x0112) is None


# ---------------------------------------------------------------- the command line


def make_tree(root: Path) -> None:
    (root / "a" / "b").mkdir(parents=True)
    (root / "top.jpg").write_bytes(encode(noise_image(), "JPEG") + b"SECRET")
    (root / "a" / "x.png").write_bytes(encode(noise_image(), "PNG") + b"SECRET")
    (root / "a" / "b" / "y.gif").write_bytes(encode(noise_image().convert("P"), "GIF"))


def test_cli_mirrors_the_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_tree(tmp_path / "in")
    before = {p: p.read_bytes() for p in (tmp_path / "in").rglob("*") if p.is_file()}
    code = cli.main(["strip", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-q"])
    assert code == cli.EXIT_OK
    outs = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.*"))
    assert outs == ["a/b/y.gif", "a/x.png", "top.jpg"]
    assert all(b"SECRET" not in p.read_bytes() for p in (tmp_path / "out").rglob("*.*"))
    assert before == {p: p.read_bytes() for p in before}
    durable = ["strip", str(tmp_path / "in"), "-o", str(tmp_path / "out2"), "-q", "--durable"]
    assert cli.main(durable) == cli.EXIT_OK
    for name in outs:
        assert (tmp_path / "out2" / name).read_bytes() == (tmp_path / "out" / name).read_bytes()


def test_cli_some_failed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_tree(tmp_path / "in")
    (tmp_path / "in" / "a" / "broken.jpg").write_bytes(encode(noise_image(), "JPEG")[:300])
    code = cli.main(["strip", str(tmp_path / "in"), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == cli.EXIT_SOME_FAILED
    lines = [line for line in err.splitlines() if "broken.jpg" in line]
    assert len(lines) == 1 and "truncated" in lines[0]
    assert "Traceback" not in err
    assert "stripped 3 file(s)" in err and "1 failed" in err
    assert not (tmp_path / "out" / "a" / "broken.jpg").exists()


def test_cli_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_tree(tmp_path / "in")
    inside = cli.main(["strip", str(tmp_path / "in"), "-o", str(tmp_path / "in" / "out")])
    assert inside == cli.EXIT_USAGE
    assert "inside the input" in capsys.readouterr().err
    assert not (tmp_path / "in" / "out").exists()
    missing = cli.main(["strip", str(tmp_path / "nope"), "-o", str(tmp_path / "out")])
    assert missing == cli.EXIT_USAGE
    (tmp_path / "in2").mkdir()
    (tmp_path / "in2" / "top.jpg").write_bytes(b"x")
    clash = cli.main(
        ["strip", str(tmp_path / "in"), str(tmp_path / "in2"), "-o", str(tmp_path / "out")]
    )
    assert clash == cli.EXIT_USAGE
    assert "would both be written" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        cli.main(["strip", str(tmp_path / "in")])  # no -o
    assert info.value.code == cli.EXIT_USAGE


def test_cli_help_is_readable() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "fastredact", "strip", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0
    for words in ("OUTDIR", "GPS", "never", "exit status", "--orientation", "HEIC"):
        assert words in done.stdout
