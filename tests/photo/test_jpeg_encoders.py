"""JPEGs written by libjpeg-turbo's own ``cjpeg`` with every scan layout it offers pass the
scan check and decode to ``djpeg``'s pixels; cuts in them are mostly refused.

An independent encoder and decoder (Debian's ``libjpeg-turbo-progs``, installed by
``.ci/run``): progressive scripts with successive approximation, non-interleaved DC scans,
split sequential scans, restart intervals in MCUs and rows, and every sampling layout.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fastredact import _core, photo
from fastredact.errors import CorruptInput
from tests.support import REQUIRE_SHARED_DATA

HAVE_TOOLS = shutil.which("cjpeg") is not None and shutil.which("djpeg") is not None


@pytest.fixture(autouse=True)
def _tools() -> None:
    if not HAVE_TOOLS:
        if REQUIRE_SHARED_DATA:
            pytest.fail("cjpeg/djpeg are required in CI (apt-get install libjpeg-turbo-progs)")
        pytest.skip("cjpeg/djpeg not installed (apt-get install libjpeg-turbo-progs)")


SCRIPTS = {
    # Successive approximation on DC and AC, bands split, chroma refined separately.
    "successive": """
        0 1 2: 0 0 0 2;  0: 1 5 0 2;  2: 1 63 0 1;  1: 1 63 0 1;  0: 6 63 0 2;
        0: 1 63 2 1;  0 1 2: 0 0 2 1;  0 1 2: 0 0 1 0;  2: 1 63 1 0;  1: 1 63 1 0;
        0: 1 63 1 0;""",
    "noninterleaved-dc": """
        0: 0 0 0 0;  1: 0 0 0 0;  2: 0 0 0 0;  0: 1 63 0 0;  1: 1 63 0 0;  2: 1 63 0 0;""",
    "split-sequential": "0: 0 63 0 0; 1 2: 0 63 0 0;",
}

COLOUR_VARIANTS = {
    "baseline": [],
    "optimized": ["-optimize"],
    "progressive": ["-progressive"],
    "restart every MCU": ["-restart", "1"],
    "restart every 3 rows, progressive": ["-restart", "3", "-progressive"],
    "4:2:0": ["-sample", "2x2,1x1,1x1"],
    "4:2:2": ["-sample", "2x1,1x1,1x1"],
    "4:4:0": ["-sample", "1x2,1x1,1x1"],
    "4:1:1": ["-sample", "4x1,1x1,1x1"],
    "3x1 luma": ["-sample", "3x1,1x1,1x1"],
    "4x2 luma, progressive": ["-sample", "4x2,1x1,1x1", "-progressive"],
    "mixed chroma": ["-sample", "2x2,1x2,1x1"],
    "quality 100": ["-quality", "100"],
    "quality 5": ["-quality", "5"],
    "RGB colour space": ["-rgb"],
    **{f"script {name}": ["-scans", name] for name in SCRIPTS},
}
GRAY_VARIANTS = ("baseline", "progressive", "restart every MCU", "quality 100")


def _source(tmp: Path, gray: bool) -> Path:
    rng = np.random.default_rng(5)
    height, width = 437, 701  # not multiples of 8 or 16: partial MCUs on both edges
    ramp = np.linspace(0, 255, width)[None, :, None]
    noise = np.cumsum(rng.integers(-4, 5, (height, width, 3)), axis=0)
    pixels = np.clip(ramp + noise, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels)
    path = tmp / ("in.pgm" if gray else "in.ppm")
    (image.convert("L") if gray else image).save(path)
    return path


def _cjpeg(tmp: Path, args: list[str], gray: bool) -> bytes:
    resolved = []
    for arg in args:
        if arg in SCRIPTS:
            script = tmp / f"{arg}.txt"
            script.write_text(SCRIPTS[arg])
            arg = str(script)
        resolved.append(arg)
    out = tmp / "out.jpg"
    subprocess.run(
        ["cjpeg", *resolved, "-outfile", str(out), str(_source(tmp, gray))],
        check=True,
        capture_output=True,
    )
    return out.read_bytes()


def _djpeg(tmp: Path, data: bytes) -> np.ndarray:
    src, out = tmp / "ref.jpg", tmp / "ref.pnm"
    src.write_bytes(data)
    subprocess.run(["djpeg", "-outfile", str(out), str(src)], check=True, capture_output=True)
    with Image.open(out) as im:
        return np.asarray(im)


CASES = [(name, False) for name in COLOUR_VARIANTS] + [(name, True) for name in GRAY_VARIANTS]


@pytest.mark.parametrize(("variant", "gray"), CASES)
def test_cjpeg_output_is_whole_and_decodes_to_djpegs_pixels(
    tmp_path: Path, variant: str, gray: bool
) -> None:
    data = _cjpeg(tmp_path, COLOUR_VARIANTS[variant], gray)
    assert _core.check_jpeg_scans(data) is None  # checked, and whole
    ours = photo.decode_image(data).frames[0]
    reference = _djpeg(tmp_path, data)
    assert ours.shape == reference.shape
    assert np.array_equal(ours, reference)


@pytest.mark.parametrize("variant", ["baseline", "4:2:0", "progressive", "script successive"])
def test_cuts_in_cjpeg_output_are_mostly_refused(tmp_path: Path, variant: str) -> None:
    data = _cjpeg(tmp_path, COLOUR_VARIANTS[variant], gray=False)
    start = data.find(b"\xff\xda") + 20
    rng = np.random.default_rng(0)
    refused = 0
    for _ in range(60):
        at = start + int(rng.integers(0, len(data) - start - 40))
        damaged = data[:at] + data[at + int(rng.integers(1, 40)) :]
        try:
            photo.decode_image(damaged)
        except CorruptInput:
            refused += 1
    assert refused >= 36, refused  # measured 41-60 of 60 with these seeds


def test_arithmetic_coding_is_left_to_the_strict_decoder(tmp_path: Path) -> None:
    data = _cjpeg(tmp_path, ["-arithmetic"], gray=False)
    assert _core.check_jpeg_scans(data) == "arithmetic"
    with pytest.raises(CorruptInput):
        photo.decode_image(data[: len(data) // 2] + data[len(data) // 2 + 500 :])
