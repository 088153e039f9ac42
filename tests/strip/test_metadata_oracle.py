"""The ExifTool oracle: every real fixture we strip shows no metadata group outside an
allowlist in ``exiftool -j -G1 -a -u``; every fixture we do not strip is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastredact import formats, strip_metadata
from fastredact.errors import CorruptInput, UnsupportedFormat
from tests.support import reference_tool
from tests.support.exiftool import exiftool_records, violations

FOLDERS = ("exiftool", "mat2", "exif-samples", "img-parts", "exif-rs", "little_exif")
LOSSLESS = {"jpeg", "png", "webp", "gif"}
CHECKED = {"heif", "avif"}  # stripped when the result decodes to the same pixels
REFUSED = {"tiff", "bmp", "raw", "jxl"}


@pytest.fixture(scope="module")
def exiftool() -> str:
    return reference_tool("exiftool", "libimage-exiftool-perl")


def shared_inputs(shared_data: Path) -> list[Path]:
    files = []
    for folder in FOLDERS:
        root = shared_data / folder
        if not root.is_dir():
            raise FileNotFoundError(f"expected shared folder {root} is missing")
        files += [
            p
            for p in sorted(root.rglob("*"))
            if p.is_file() and p.suffix.lower() not in {".md", ".rst", ""}
        ]
    return files


def test_allowlist_catches_metadata() -> None:
    """The oracle can fail: typical leaks are flagged, container facts are not."""
    leaky = {
        "SourceFile": "x.jpg",
        "File:Comment": "hello",
        "GPS:GPSLatitude": "1",
        "IFD0:Make": "Canon",
        "IFD1:ThumbnailImage": "(Binary)",
        "XMP-dc:Creator": "me",
        "PNG:Author": "me",
        "ExifTool:Warning": "[minor] Trailer data after JPEG EOI",
        "MPF0:MPFVersion": "0100",
        "IFD0:Orientation": "Rotate 90 CW",
        "File:ImageWidth": 8,
    }
    bad = violations(leaky)
    assert len(bad) == 8, bad


def test_every_shared_fixture_is_clean_or_refused(
    shared_data: Path, exiftool: str, tmp_path: Path
) -> None:
    outputs: dict[Path, Path] = {}
    refused: dict[str, int] = {}
    for index, src in enumerate(shared_inputs(shared_data)):
        data = src.read_bytes()
        fmt = formats.sniff_photo(data)
        if fmt in LOSSLESS:
            result = strip_metadata(data)
            dst = tmp_path / f"{index:03d}-{src.name}"
            dst.write_bytes(result.data)
            outputs[dst] = src
        elif fmt in CHECKED:
            try:
                result = strip_metadata(data)
            except CorruptInput:  # ExifTool's cut-down fixtures: no picture to check against
                refused[fmt] = refused.get(fmt, 0) + 1
                continue
            dst = tmp_path / f"{index:03d}-{src.name}"
            dst.write_bytes(result.data)
            outputs[dst] = src
        else:
            with pytest.raises(UnsupportedFormat):
                strip_metadata(data)
            key = fmt or "unknown"
            refused[key] = refused.get(key, 0) + 1
    assert len(outputs) >= 90, f"only {len(outputs)} fixtures stripped"
    assert set(refused) <= REFUSED | CHECKED | {"unknown"}
    failures = []
    records = exiftool_records(list(outputs))
    assert len(records) == len(outputs)
    for record in records:
        bad = violations(record)
        if bad:
            src = outputs[Path(str(record["SourceFile"]))]
            failures.append(f"{src}: {bad[:5]}")
    assert not failures, "\n".join(failures)


def test_inputs_do_leak_according_to_the_oracle(shared_data: Path, exiftool: str) -> None:
    """Before stripping, the same oracle flags the GPS fixtures (so it is not vacuous)."""
    gps = sorted((shared_data / "exif-samples").rglob("DSCN00*.jpg"))
    assert gps
    for record in exiftool_records(gps):
        assert any(v.startswith("GPS:") for v in violations(record)), record["SourceFile"]
