"""HEIF / HEIC and AVIF photos with nothing to hide are stripped losslessly (the container
rebuilt around the primary image) instead of re-encoded, and only when the result decodes to
exactly the input's picture.

Checked against independent references: Pillow / libheif decoding input and output to the
same pixels, and ExifTool finding nothing in the output but facts about the container.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fastredact import Redactor, _core
from fastredact.run import FileResult
from tests.support import shared_file
from tests.support.exiftool import exiftool_records, violations

HEIF_FILES = (
    "exif-samples/heic/IMG_5195.HEIC",  # iPhone: grid of 42 tiles, EXIF with GPS, XMP
    "exif-samples/heic/mobile/iphone_13_pro_max.HEIC",  # + thumbnail, HDR gain map, irot
    "exif-samples/heic/samplefilehub.heif",
    "exif-rs/exif.heic",
    "mat2/dirty.heic",
    "mat2/dirty.avif",
)


def heif_violations(record: dict[str, object]) -> list[str]:
    """The oracle's verdict (its allowlist holds the HEIF container's own tags)."""
    return violations(record)


def reference_pixels(data: bytes) -> np.ndarray:
    """The picture as Pillow (libheif for HEIF, libavif for AVIF) decodes it, transforms
    applied: not fastredact's decoding code."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGBA" if "A" in im.mode else "RGB"))


@pytest.fixture(scope="module")
def nothing_to_find() -> Redactor:
    return Redactor(faces=False, plates=False, workers=1)


def _redact(redactor: Redactor, src: Path, tmp_path: Path) -> tuple[FileResult, bytes]:
    dst = tmp_path / src.name
    result = redactor.redact_file(src, dst)
    assert result.status == "ok", result.error
    return result, dst.read_bytes()


@pytest.mark.parametrize("name", HEIF_FILES)
def test_a_heif_with_nothing_to_hide_keeps_its_picture_and_loses_its_metadata(
    name: str, shared_data: Path, tmp_path: Path, nothing_to_find: Redactor
) -> None:
    src = shared_file(shared_data, name)
    result, out = _redact(nothing_to_find, src, tmp_path)
    assert not result.reencoded and result.lossless_refused is None
    assert out == _core.strip_heif(src.read_bytes(), "keep")[0]
    before, after = reference_pixels(src.read_bytes()), reference_pixels(out)
    assert before.shape == after.shape and np.array_equal(before, after)
    [record] = exiftool_records([tmp_path / src.name])
    assert heif_violations(record) == []


def test_the_oracle_sees_what_the_inputs_carry(shared_data: Path) -> None:
    """The check above can fail: the inputs show EXIF, GPS, XMP, thumbnails."""
    paths = [shared_file(shared_data, name) for name in HEIF_FILES[:3]]
    for record in exiftool_records(paths):
        leaks = " ".join(heif_violations(record))
        assert "GPS" in leaks or "XMP" in leaks, record["SourceFile"]


def test_thumbnails_and_auxiliary_images_are_reported_gone(
    shared_data: Path, tmp_path: Path, nothing_to_find: Redactor
) -> None:
    src = shared_file(shared_data, "exif-samples/heic/mobile/iphone_13_pro_max.HEIC")
    result, out = _redact(nothing_to_find, src, tmp_path)
    kinds = {row["kind"] for row in result.metadata_removed}
    assert {"exif", "xmp", "thumbnail", "auxiliary image"} <= kinds
    assert len(out) < src.stat().st_size


def test_an_image_with_alpha_is_re_encoded_and_keeps_it(
    tmp_path: Path, nothing_to_find: Redactor
) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    rgba = np.zeros((64, 96, 4), np.uint8)
    rgba[..., 0] = np.arange(96, dtype=np.uint8)
    rgba[16:48, 24:72, 3] = 255
    src = tmp_path / "in" / "alpha.heic"
    src.parent.mkdir()
    Image.fromarray(rgba).save(src, format="HEIF", quality=100)
    result, out = _redact(nothing_to_find, src, tmp_path)
    assert result.reencoded and "alpha" in (result.lossless_refused or "")
    alpha = reference_pixels(out)[..., 3]
    assert alpha[32, 48] > 200 and alpha[2, 2] < 50


def test_a_strip_that_changes_the_picture_is_not_used(
    shared_data: Path,
    tmp_path: Path,
    nothing_to_find: Redactor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Should the surgery ever produce another picture, the photo is re-encoded instead."""
    src = shared_file(shared_data, "exif-samples/heic/samplefilehub.heif")
    other = _core.strip_heif(shared_file(shared_data, "mat2/dirty.heic").read_bytes(), "keep")
    import fastredact.strip._heif as heif_strip

    monkeypatch.setattr(heif_strip._core, "strip_heif", lambda data, icc: other)
    result, out = _redact(nothing_to_find, src, tmp_path)
    assert result.reencoded
    assert "decodes differently" in (result.lossless_refused or "")
    before, after = reference_pixels(src.read_bytes()), reference_pixels(out)
    assert before.shape == after.shape
    assert np.abs(before.astype(int) - after.astype(int)).mean() < 3  # a re-encode of it


def test_the_strip_command_takes_heif_and_refuses_what_it_cannot_check(
    shared_data: Path, tmp_path: Path
) -> None:
    import subprocess
    import sys

    import pillow_heif

    pillow_heif.register_heif_opener()
    folder = tmp_path / "in"
    folder.mkdir()
    heic = shared_file(shared_data, "exif-samples/heic/IMG_5195.HEIC")
    (folder / "photo.heic").write_bytes(heic.read_bytes())
    rgba = np.zeros((32, 32, 4), np.uint8)
    rgba[8:24, 8:24] = 255
    Image.fromarray(rgba).save(folder / "alpha.heic", format="HEIF", quality=100)
    done = subprocess.run(
        [sys.executable, "-m", "fastredact", "strip", str(folder), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "alpha.heic" in done.stderr and "alpha plane" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "alpha.heic").exists()
    out = (tmp_path / "out" / "photo.heic").read_bytes()
    assert out == _core.strip_heif(heic.read_bytes(), "keep")[0]
    [record] = exiftool_records([tmp_path / "out" / "photo.heic"])
    assert heif_violations(record) == []


def test_a_re_encoded_heif_stays_visually_lossless(shared_data: Path) -> None:
    """The fast encoder settings (x265 ultrafast, quality 90) keep the picture: PSNR over 50 dB
    against the decoded source on a real iPhone photo (the eye sees nothing above ~45)."""
    from fastredact import photo

    data = shared_file(shared_data, "exif-samples/heic/IMG_5195.HEIC").read_bytes()
    frame = photo.decode_image(data).frames[0]
    back = reference_pixels(photo.encode_image([frame], "heif"))
    error = np.mean((back.astype(np.float64) - frame.astype(np.float64)) ** 2)
    assert 10 * np.log10(255**2 / error) > 50
    worse = reference_pixels(photo.encode_image([frame], "heif", quality=10))
    error = np.mean((worse.astype(np.float64) - frame.astype(np.float64)) ** 2)
    assert 10 * np.log10(255**2 / error) < 50  # the check can fail
