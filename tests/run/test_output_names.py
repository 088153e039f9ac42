"""No output replaces another: two inputs meeting on one output path (the same name under two
roots, a format change, names differing only in case where the filesystem ignores case)
give the first its output and the later a failed row naming the first."""

from __future__ import annotations

import hashlib
import io
import os
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from fastredact import cli, photo
from fastredact.run import Redactor
from fastredact.run._output_names import OutputNames, expected_output, folds_case


def _photo(path: Path, fmt: str, value: int) -> None:
    """A flat, face-free photo of one grey ``value``, telling apart which input an output is."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = io.BytesIO()
    Image.fromarray(np.full((48, 64, 3), value, np.uint8)).save(out, format=fmt)
    path.write_bytes(out.getvalue())


def _grey(path: Path) -> float:
    return float(photo.decode_image(path.read_bytes()).frames[0].mean())


@pytest.fixture(scope="module")
def to_jpeg() -> Redactor:
    return Redactor(workers=1, format="jpeg", plates=False)


def test_a_png_converted_beside_a_jpeg_of_the_same_name_fails_and_replaces_nothing(
    tmp_path: Path, to_jpeg: Redactor
) -> None:
    _photo(tmp_path / "in" / "a.jpg", "JPEG", 40)
    _photo(tmp_path / "in" / "a.png", "PNG", 200)
    results = {r.path: r for r in to_jpeg.redact_paths([tmp_path / "in"], tmp_path / "out")}
    assert results["a.jpg"].ok, results["a.jpg"].error
    assert not results["a.png"].ok
    assert results["a.png"].error_kind == "OutputCollision"
    assert results["a.png"].error == (
        f"its output path a.jpg is already taken by {tmp_path / 'in' / 'a.jpg'}"
    )
    assert sorted(os.listdir(tmp_path / "out")) == ["a.jpg"]
    assert _grey(tmp_path / "out" / "a.jpg") == pytest.approx(40, abs=2)


def test_a_file_whose_content_changes_its_output_name_cannot_take_another_output(
    tmp_path: Path, to_jpeg: Redactor
) -> None:
    # Named like nothing, so listed at its own name; its content is a PNG, so it is written
    # as shot.jpg: the name another input already holds. Caught as it is written.
    _photo(tmp_path / "in" / "shot.jpg", "JPEG", 40)
    _photo(tmp_path / "in" / "shot.raw-export", "PNG", 200)
    results = {r.path: r for r in to_jpeg.redact_paths([tmp_path / "in"], tmp_path / "out")}
    assert results["shot.jpg"].ok, results["shot.jpg"].error
    assert results["shot.raw-export"].error_kind == "OutputCollision"
    assert results["shot.raw-export"].error == (
        f"its output path shot.jpg is already taken by {tmp_path / 'in' / 'shot.jpg'}"
    )
    assert sorted(os.listdir(tmp_path / "out")) == ["shot.jpg"]
    assert _grey(tmp_path / "out" / "shot.jpg") == pytest.approx(40, abs=2)


def test_the_same_collisions_are_refused_on_resume(tmp_path: Path, to_jpeg: Redactor) -> None:
    _photo(tmp_path / "in" / "a.jpg", "JPEG", 40)
    _photo(tmp_path / "in" / "a.png", "PNG", 200)
    manifest = tmp_path / "manifest.jsonl"
    for _ in range(2):
        results = {
            r.path: r
            for r in to_jpeg.redact_paths(
                [tmp_path / "in"], tmp_path / "out", manifest=manifest, resume=True
            )
        }
    assert results["a.jpg"].status == "skipped"
    assert results["a.png"].status == "failed"
    assert _grey(tmp_path / "out" / "a.jpg") == pytest.approx(40, abs=2)


def test_names_differing_only_in_case_collide_where_case_is_folded() -> None:
    names = OutputNames(fold_case=True)
    root = Path("/in")
    assert names.claim(Path("sub/IMG_1.JPG"), root, Path("sub/IMG_1.JPG")) is None
    assert names.claim(Path("sub/img_1.jpg"), root, Path("sub/img_1.jpg")) == root / "sub/IMG_1.JPG"
    composed = unicodedata.normalize("NFC", "café.jpg")
    decomposed = unicodedata.normalize("NFD", "café.jpg")
    assert names.claim(Path(composed), root, Path(composed)) is None
    assert names.claim(Path(decomposed), root, Path(decomposed)) == root / composed


def test_names_differing_only_in_case_are_apart_where_case_matters() -> None:
    names = OutputNames(fold_case=False)
    root = Path("/in")
    assert names.claim(Path("IMG_1.JPG"), root, Path("IMG_1.JPG")) is None
    assert names.claim(Path("img_1.jpg"), root, Path("img_1.jpg")) is None
    assert names.claim(Path("img_1.jpg"), Path("/other"), Path("img_1.jpg")) == root / "img_1.jpg"


@given(st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=30), st.booleans())
def test_a_claim_fails_exactly_when_an_earlier_input_took_the_name(
    raw_names: list[str], fold: bool
) -> None:
    names = OutputNames(fold_case=fold)
    root = Path("/in")

    def key(name: str) -> str:
        return unicodedata.normalize("NFC", name).casefold() if fold else name

    holders: dict[str, str] = {}
    for index, raw in enumerate(raw_names):
        source = Path(f"{index}-{raw.replace('/', '_').replace(chr(0), '_')}")
        output = Path(raw.replace("/", "_").replace("\0", "_") or "_")
        earlier = names.claim(output, root, source)
        holder = holders.setdefault(key(os.fsdecode(output)), str(source))
        assert earlier == (None if holder == str(source) else root / holder)


@pytest.mark.parametrize(
    ("relative", "fmt", "expected"),
    [
        ("a.png", "jpeg", "a.jpg"),
        ("sub/a.JPG", "jpeg", "sub/a.JPG"),
        ("a.jpeg", "png", "a.png"),
        ("x.CR2", "same", "x.tiff"),
        ("x.nef", "jpeg", "x.jpg"),
        ("x.dng", "tiff", "x.tiff"),
        ("clip.avi", "jpeg", "clip.mkv"),
        ("clip.mp4", "jpeg", "clip.mp4"),
        ("p.heic", "same", "p.heic"),
        ("README", "png", "README"),
        ("notes.txt", "png", "notes.txt"),
    ],
)
def test_expected_output_follows_the_pipelines_renaming(
    relative: str, fmt: str, expected: str
) -> None:
    assert expected_output(Path(relative), fmt) == Path(expected)


def test_the_case_probe_reads_the_filesystem_and_leaves_nothing(tmp_path: Path) -> None:
    # An independent look at the same filesystem: does a lower-case name find an upper-case one?
    (tmp_path / "Probe-REFERENCE").write_bytes(b"")
    reference = (tmp_path / "probe-reference").exists()
    (tmp_path / "Probe-REFERENCE").unlink()
    assert folds_case(tmp_path) is reference
    assert folds_case(tmp_path / "not" / "made" / "yet") is reference
    assert os.listdir(tmp_path) == []


def test_dry_run_lists_each_output_where_it_will_be_written_and_the_collisions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _photo(tmp_path / "in" / "a.jpg", "JPEG", 40)
    _photo(tmp_path / "in" / "a.png", "PNG", 200)
    _photo(tmp_path / "in" / "sub" / "b.png", "PNG", 200)
    src, out = tmp_path / "in", tmp_path / "out"
    args = ["redact", str(src), "-o", str(out), "--format", "jpeg", "--dry-run"]
    assert cli.main(args) == cli.EXIT_OK
    assert capsys.readouterr().out.splitlines() == [
        f"{src / 'a.jpg'} -> {out / 'a.jpg'}",
        f"{src / 'a.png'} -> (skipped: its output path a.jpg is already taken by {src / 'a.jpg'})",
        f"{src / 'sub' / 'b.png'} -> {out / 'sub' / 'b.jpg'}",
    ]
    assert not out.exists()
    assert sorted(os.listdir(tmp_path)) == ["in"]


def test_an_avi_written_as_mkv_beside_an_mkv_of_the_same_name_fails(tmp_path: Path) -> None:
    from tests.video.test_video_truncation import make_avi_with_a_repeat, make_clip

    (tmp_path / "in").mkdir()
    make_avi_with_a_repeat(tmp_path / "in" / "clip.avi")
    make_clip(tmp_path / "in" / "clip.mkv", codec="libx264", audio=False)
    redactor = Redactor(workers=1, plates=False)
    results = {r.path: r for r in redactor.redact_paths([tmp_path / "in"], tmp_path / "out")}
    assert results["clip.avi"].ok, results["clip.avi"].error
    assert results["clip.mkv"].error_kind == "OutputCollision"
    assert results["clip.mkv"].error == (
        f"its output path clip.mkv is already taken by {tmp_path / 'in' / 'clip.avi'}"
    )
    assert os.listdir(tmp_path / "out") == ["clip.mkv"]
    written = hashlib.sha256((tmp_path / "out" / "clip.mkv").read_bytes()).hexdigest()
    assert written == results["clip.avi"].output_sha256
