"""HEIC / AVIF photos with nothing to hide: the checked lossless strip against the re-encode
every HEIF photo got before (and still gets with ``--reencode`` or when something is hidden).

Run: ``python -m pytest benches/bench_heif.py --benchmark-only -s``

Both rows run ``Redactor(faces=False, plates=False).redact_file`` on the same shared phone
photos, one process, one after the other (detection is off: the rows differ only in what is
written). Per photo: seconds (decode, strip and the decode of the result that checks it,
or decode and encode) and the output's size against the input's.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from tests.support import SHARED_DATA

from fastredact import Redactor

PHOTOS = (
    "exif-samples/heic/IMG_5195.HEIC",
    "exif-samples/heic/mobile/iphone_13_pro_max.HEIC",
    "mat2/dirty.heic",
    "mat2/dirty.avif",
)
RESULTS: dict[str, list[tuple[str, float, float]]] = {}


@pytest.mark.parametrize("reencode", [False, True], ids=["lossless strip", "re-encode"])
def test_heif(benchmark: Any, tmp_path: Path, reencode: bool) -> None:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    redactor = Redactor(faces=False, plates=False, workers=1, reencode=reencode)
    rows: list[tuple[str, float, float]] = []

    def run() -> None:
        for name in PHOTOS:
            src = SHARED_DATA / name
            started = time.perf_counter()
            result = redactor.redact_file(src, tmp_path / src.name)
            seconds = time.perf_counter() - started
            assert result.ok and result.reencoded == reencode, result.error
            size = (tmp_path / src.name).stat().st_size / src.stat().st_size
            rows.append((src.name, seconds, size))

    benchmark.pedantic(run, rounds=1, iterations=1)
    RESULTS["re-encode" if reencode else "lossless strip"] = rows
    if len(RESULTS) == 2:
        print("\n| photo | lossless strip s | re-encode s | output / input size, strip", end="")
        print(" | re-encode |")
        print("| --- | --- | --- | --- | --- |")
        strip, again = RESULTS["lossless strip"], RESULTS["re-encode"]
        for (name, s1, z1), (_, s2, z2) in zip(strip, again, strict=True):
            print(f"| {name} | {s1:.2f} | {s2:.2f} | {z1:.3f} | {z2:.2f} |")


def _psnr(a: Any, b: Any) -> float:
    import numpy as np

    error = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)
    return float(10 * np.log10(255**2 / max(error, 1e-12)))


def test_heif_encoder_settings(benchmark: Any) -> None:
    """fastredact's HEIF encode (x265 ultrafast, quality 90) against libheif's default (preset
    slow) at quality 95, what fastredact used before 2026-12-06: seconds, size against the
    phone's file, PSNR of the decoded result against the decoded source."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    import io

    import pillow_heif
    from PIL import Image

    from fastredact import photo

    pillow_heif.register_heif_opener()
    rows: list[str] = []

    def encode_both() -> None:
        for name in PHOTOS[:2]:
            data = (SHARED_DATA / name).read_bytes()
            frame = photo.decode_image(data).frames[0]
            started = time.perf_counter()
            ours = photo.encode_image([frame], "heif")
            ours_s = time.perf_counter() - started
            started = time.perf_counter()
            buffer = io.BytesIO()
            Image.fromarray(frame).save(buffer, format="HEIF", quality=95)
            before_s = time.perf_counter() - started
            for label, out, seconds in (
                ("ours", ours, ours_s),
                ("before", buffer.getvalue(), before_s),
            ):
                back = photo.decode_image(out).frames[0]
                rows.append(
                    f"| {Path(name).name} | {label} | {seconds:.2f} | {len(out) / len(data):.2f} "
                    f"| {_psnr(frame, back):.1f} |"
                )

    benchmark.pedantic(encode_both, rounds=1, iterations=1)
    print("\n| photo | encoder | seconds | size / phone's file | PSNR dB |")
    print("| --- | --- | --- | --- | --- |")
    print("\n".join(rows))
