"""Publishing copies (``--max-size`` / ``--max-megapixels``): detection and hiding at full
size, then an area-filter scale. Checked against the area filter written out as a matrix
(numpy) on the full-size output, by a detector run on the small output, and for video by
ffprobe and the --verify-video read-back."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from PIL import Image

from fastredact import RedactOptions, Redactor, cli
from fastredact.detect import load_detector
from fastredact.options import scaled_size
from tests.support.video_quality import trim_clip


@given(
    st.integers(1, 20_000),
    st.integers(1, 20_000),
    st.one_of(st.none(), st.integers(2, 8000)),
    st.one_of(st.none(), st.floats(0.01, 100)),
    st.booleans(),
)
# Found by hypothesis on 2026-12-07: a square root that rounds to 1, a side rounded up.
@example(10_000, 10_000, None, 99.99999999999999, False)
@example(2000, 2000, None, 3.999999999999986, False)
def test_scaled_size_keeps_within_the_limits(
    width: int, height: int, max_size: int | None, max_mp: float | None, even: bool
) -> None:
    size = scaled_size(width, height, max_size, max_mp, even=even)
    within = (max_size is None or max(width, height) <= max_size) and (
        max_mp is None or width * height <= max_mp * 1e6
    )
    if size is None:
        assert within
        return
    assert not within
    w, h = size
    floor = 2 if even else 1
    assert min(width, floor) <= w <= width and min(height, floor) <= h <= height
    if max_size is not None:
        assert max(w, h) <= max(max_size, floor)
    if max_mp is not None and min(w, h) > floor:
        assert w * h <= max_mp * 1e6
    if even:  # even unless the input's own side is 1 px
        assert w % 2 == 0 or w == width == 1
        assert h % 2 == 0 or h == height == 1
    if min(w, h) > 4:  # the aspect ratio is kept to the rounding
        assert abs(w / h - width / height) <= (width / height) * (2 / min(w, h)) + 1e-9


def _options(**kw: object) -> RedactOptions:
    return RedactOptions(workers=1, format="png", **kw)  # type: ignore[arg-type]


def test_a_scaled_photo_is_the_area_mean_of_the_full_size_redaction(
    shared_data: Path, tmp_path: Path
) -> None:
    src = shared_data / "scikit-image" / "astronaut.png"  # 512x512, one face
    full = Redactor(_options()).redact_file(src, tmp_path / "full.png")
    small = Redactor(_options(max_size=200)).redact_file(src, tmp_path / "small.png")
    assert full.ok and small.ok
    assert (small.width, small.height) == (512, 512)  # the input's: the boxes' pixels
    assert (small.output_width, small.output_height) == (200, 200)
    assert small.detections == full.detections  # detected at full size, the same
    got = np.asarray(Image.open(tmp_path / "small.png").convert("RGB"), np.float64)
    whole = np.asarray(Image.open(tmp_path / "full.png").convert("RGB"), np.float64)
    reference = np.einsum("ij,jkc,lk->ilc", _area(512, 200), whole, _area(512, 200))
    diff = np.abs(got - reference)
    assert got.shape == (200, 200, 3)
    assert diff.max() <= 1.0 and diff.mean() < 0.5  # rounding


def _area(n_in: int, n_out: int) -> np.ndarray:
    """The area filter as a matrix: output pixel i is the mean of the input interval
    [i * s, (i + 1) * s), s = n_in / n_out, partial pixels weighted by their overlap."""
    s = n_in / n_out
    weights = np.zeros((n_out, n_in))
    for i in range(n_out):
        lo, hi = i * s, (i + 1) * s
        for j in range(int(np.floor(lo)), min(n_in, int(np.ceil(hi)))):
            weights[i, j] = max(0.0, min(hi, j + 1) - max(lo, j))
    return weights / s


def test_what_was_hidden_stays_hidden_at_the_small_size(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "redact-client" / "obama.jpeg"
    result = Redactor(RedactOptions(workers=1, max_size=320)).redact_file(src, tmp_path / "o.jpeg")
    assert result.ok and max(result.output_width or 0, result.output_height or 0) == 320
    small = np.asarray(Image.open(tmp_path / "o.jpeg").convert("RGB"))
    assert max(small.shape[:2]) == 320
    found = load_detector("yunet+centerface", threads=1).detect(np.ascontiguousarray(small))
    assert len(found.boxes) == 0, found.boxes
    # The detector does find the face in the original scaled the same way: not vacuous.
    original = Image.open(src).convert("RGB").resize(small.shape[1::-1], Image.BOX)
    assert len(load_detector("yunet+centerface", threads=1).detect(np.asarray(original)).boxes)


def test_a_photo_within_the_limit_keeps_the_lossless_path(
    shared_data: Path, tmp_path: Path
) -> None:
    src = shared_data / "coco8" / "images"
    photo = next(p for p in sorted(src.rglob("*.jpg")))
    plain = Redactor(RedactOptions(workers=1, faces=False, plates=False)).redact_file(
        photo, tmp_path / "a.jpg"
    )
    limited = Redactor(
        RedactOptions(workers=1, faces=False, plates=False, max_size=10_000)
    ).redact_file(photo, tmp_path / "b.jpg")
    assert not plain.reencoded and not limited.reencoded
    assert (tmp_path / "a.jpg").read_bytes() == (tmp_path / "b.jpg").read_bytes()
    assert limited.output_width is None


@pytest.mark.slow
def test_a_video_is_scaled_to_even_sizes_and_stays_redacted(
    shared_data: Path, tmp_path: Path
) -> None:
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe is not installed")
    clip = tmp_path / "in" / "clip.mp4"
    clip.parent.mkdir()
    trim_clip(shared_data / "egoblur/gen1/test_video.mp4", clip, 12)
    manifest = tmp_path / "m.jsonl"
    code = cli.main(["redact", str(clip.parent), "-o", str(tmp_path / "out"), "--manifest",
                     str(manifest), "--max-size", "301", "--verify-video", "--no-progress",
                     "--workers", "1"])  # fmt: skip
    assert code == 0
    row = json.loads(manifest.read_text().splitlines()[-1])
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=width,height", "-of", "json", str(tmp_path / "out" / "clip.mp4")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    stream = json.loads(probe.stdout)["streams"][0]
    assert (stream["width"], stream["height"]) == (row["output_width"], row["output_height"])
    assert max(stream["width"], stream["height"]) <= 301
    assert stream["width"] % 2 == 0 and stream["height"] % 2 == 0
    assert max(row["width"], row["height"]) > 301  # the input's size stays in the row
    assert row["video"]["passes"] >= 1  # --verify-video read the small output back: clean
