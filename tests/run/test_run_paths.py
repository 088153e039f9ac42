"""Where a redaction run may write: never over or among its inputs, never over its own
manifest, and a place it cannot write is one clear line, never a traceback.

The inputs are small PNGs made here (nothing in them is detected, and the detectors are off:
what is checked is where bytes land, not what they show).
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fastredact import OutputUnwritable, Redactor
from fastredact.run import read_manifest
from fastredact.run._inputs import check_outdir_outside_inputs, output_overlap


def _png(path: Path, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 255, (24, 32, 3), np.uint8)
    Image.fromarray(pixels).save(path, pnginfo=_with_text())
    return path


def _with_text() -> object:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "someone identifiable")  # so the strip changes the bytes
    return info


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


QUIET = ("--no-faces", "--no-plates", "--no-progress", "--workers", "1")


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fastredact", "redact", *args, *QUIET],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=300,
        check=False,
    )


def _one_line_error(done: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    for word in words:
        assert word in done.stderr, done.stderr


@pytest.fixture()
def nested(tmp_path: Path) -> Path:
    """``out/sub/x.png`` and ``out/sub/sub/x.png``: redacting ``out/sub`` into ``out`` would
    write the second one's output over the first input."""
    out = tmp_path / "out"
    _png(out / "sub" / "x.png", 1)
    _png(out / "sub" / "sub" / "x.png", 2)
    return out


def test_an_input_inside_the_output_folder_is_refused_and_left_alone(nested: Path) -> None:
    before = _digests(nested)
    done = _cli(str(nested / "sub"), "-o", str(nested))
    _one_line_error(done, 2, "lies inside the output folder")
    assert _digests(nested) == before
    strip = subprocess.run(
        [sys.executable, "-m", "fastredact", "strip", str(nested / "sub"), "-o", str(nested)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    _one_line_error(strip, 2, "lies inside the output folder")
    assert _digests(nested) == before


def test_paths_read_from_stdin_are_checked_one_by_one(nested: Path) -> None:
    before = _digests(nested)
    done = _cli("-", "-o", str(nested), stdin=f"{nested / 'sub'}\n")
    _one_line_error(done, 1, "lies inside the output folder", "0 ok")
    assert _digests(nested) == before


def test_the_api_refuses_the_overlap_per_input(nested: Path, tmp_path: Path) -> None:
    outside = _png(tmp_path / "elsewhere" / "y.png", 3)
    before = _digests(nested)
    redactor = Redactor(faces=False, plates=False, workers=1)
    results = list(redactor.redact_paths([nested / "sub", outside], nested))
    assert [r.status for r in results] == ["failed", "ok"]
    assert "inside the output folder" in (results[0].error or "")
    assert _digests(nested) == {**before, "y.png": _digests(nested)["y.png"]}


def test_overlap_in_every_direction(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    photo = _png(folder / "a.png", 4)
    assert output_overlap(folder, folder) and output_overlap(folder, folder / "out")
    assert output_overlap(photo, photo)
    assert output_overlap(folder, tmp_path) and output_overlap(photo, tmp_path)
    assert output_overlap(folder, tmp_path / "out") is None
    assert output_overlap(photo, tmp_path / "in2") is None
    with pytest.raises(ValueError, match="lies inside the output folder"):
        check_outdir_outside_inputs([tmp_path / "elsewhere", folder], tmp_path)


def test_manifest_and_mapping_may_not_land_in_an_input(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    _png(folder / "a.png", 5)
    before = _digests(folder)
    out = str(tmp_path / "out")
    _one_line_error(_cli(str(folder), "-o", out, "--manifest", str(folder / "m.jsonl")), 2,
                    "the manifest", "inside the input")  # fmt: skip
    _one_line_error(_cli(str(folder), "-o", out, "--mapping", str(folder / "sub" / "p.jsonl")),
                    2, "the mapping file", "inside the input")  # fmt: skip
    same = str(tmp_path / "m.jsonl")
    _one_line_error(_cli(str(folder), "-o", out, "--manifest", same, "--mapping", same), 2,
                    "two different files")  # fmt: skip
    assert _digests(folder) == before
    assert not (tmp_path / "out").exists()


def test_an_output_never_replaces_the_manifest(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    _png(folder / "m.png", 6)
    _png(folder / "b.png", 7)
    manifest = tmp_path / "out" / "m.png"  # an odd name, but the user's choice
    done = _cli(str(folder), "-o", str(tmp_path / "out"), "--manifest", str(manifest))
    _one_line_error(done, 1, "m.png: OutputCollision: its output path m.png is already taken by")
    rows = list(read_manifest(manifest))
    assert sorted((r["path"], r["status"]) for r in rows) == [("b.png", "ok"), ("m.png", "failed")]


def test_an_output_folder_that_cannot_be_made_stops_the_run(tmp_path: Path) -> None:
    _png(tmp_path / "in" / "a.png", 8)
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    done = _cli(str(tmp_path / "in"), "-o", str(blocker / "out"))
    _one_line_error(done, 2, "cannot create the output folder")
    assert done.stderr.count("\n") == 1


def test_a_manifest_that_cannot_be_opened_stops_the_run(tmp_path: Path) -> None:
    _png(tmp_path / "in" / "a.png", 9)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    done = _cli(str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--manifest",
                str(blocker / "m.jsonl"))  # fmt: skip
    _one_line_error(done, 2, "cannot open the manifest")
    assert not list((tmp_path / "out").rglob("*.png"))


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_a_manifest_that_cannot_be_written_stops_the_run(tmp_path: Path) -> None:
    photo = _png(tmp_path / "in" / "a.png", 12)
    redactor = Redactor(faces=False, plates=False, workers=1)
    with pytest.raises(OutputUnwritable, match="cannot write to the manifest /dev/full"):
        list(redactor.redact_paths([photo], tmp_path / "out", manifest="/dev/full"))


def test_one_unwritable_output_is_that_files_failed_row(tmp_path: Path) -> None:
    _png(tmp_path / "in" / "sub" / "a.png", 10)
    _png(tmp_path / "in" / "b.png", 11)
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").write_text("a file where the output's folder should be")
    done = _cli(str(tmp_path / "in"), "-o", str(out))
    _one_line_error(done, 1, "OutputUnwritable: cannot write", "1 ok", "1 failed")
    assert "InternalError" not in done.stderr


def test_resume_redoes_an_input_whose_output_is_gone(tmp_path: Path) -> None:
    _png(tmp_path / "in" / "a.png", 13)
    _png(tmp_path / "in" / "b.png", 14)
    manifest = str(tmp_path / "m.jsonl")
    first = _cli(str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--manifest", manifest)
    assert first.returncode == 0, first.stderr
    (tmp_path / "out" / "a.png").unlink()
    again = _cli(str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--manifest", manifest,
                 "--resume")  # fmt: skip
    assert again.returncode == 0 and "1 ok, 1 skipped" in again.stderr, again.stderr
    assert (tmp_path / "out" / "a.png").is_file()
    elsewhere = _cli(str(tmp_path / "in"), "-o", str(tmp_path / "out2"), "--manifest", manifest,
                     "--resume")  # fmt: skip
    assert elsewhere.returncode == 0 and "2 ok, 0 skipped" in elsewhere.stderr, elsewhere.stderr
    assert _digests(tmp_path / "out2") == _digests(tmp_path / "out")


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_outputs_follow_the_umask(tmp_path: Path, umask: int, shared_data: Path) -> None:
    """A user whose umask is 077 gets outputs only they can read (photos, videos, manifest)."""
    _png(tmp_path / "in" / "a.png", 15)
    clip = shared_data / "egoblur" / "gen2" / "test_face_video.mp4"
    (tmp_path / "in" / "v.mp4").write_bytes(clip.read_bytes())
    done = subprocess.run(
        [sys.executable, "-m", "fastredact", "redact", str(tmp_path / "in"), "-o",
         str(tmp_path / "out"), "--manifest", str(tmp_path / "m.jsonl"), *QUIET],
        capture_output=True, text=True, timeout=600, check=False,
        preexec_fn=lambda: os.umask(umask),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for written in (tmp_path / "out" / "a.png", tmp_path / "out" / "v.mp4", tmp_path / "m.jsonl"):
        assert stat.S_IMODE(written.stat().st_mode) == 0o666 & ~umask, written


def test_a_file_name_at_the_filesystem_limit_is_written(tmp_path: Path, shared_data: Path) -> None:
    """A name of 250 bytes is valid; its temporary file's name must fit the limit too."""
    stem = "é" * 100 + "a" * 46  # 246 bytes
    photo = _png(tmp_path / "in" / f"{stem}.png", 16)
    clip = shared_data / "egoblur" / "gen2" / "test_face_video.mp4"
    (tmp_path / "in" / f"{stem}.mp4").write_bytes(clip.read_bytes())
    done = _cli(str(tmp_path / "in"), "-o", str(tmp_path / "out"))
    assert done.returncode == 0 and "2 ok" in done.stderr, done.stderr
    assert (tmp_path / "out" / photo.name).is_file()
    assert (tmp_path / "out" / f"{stem}.mp4").is_file()
    strip = subprocess.run(
        [sys.executable, "-m", "fastredact", "strip", str(photo), "-o", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert strip.returncode == 0, strip.stderr
    assert (tmp_path / "s" / photo.name).is_file()


def test_same_named_readmes_in_two_folders_are_skipped_not_failed(tmp_path: Path) -> None:
    for folder, seed in (("one", 17), ("two", 18)):
        _png(tmp_path / folder / f"{folder}.png", seed)
        (tmp_path / folder / "README.md").write_text("sources of these photos")
    done = _cli(str(tmp_path / "one"), str(tmp_path / "two"), "-o", str(tmp_path / "out"))
    assert done.returncode == 0 and "2 ok, 2 skipped, 0 failed" in done.stderr, done.stderr


def test_photos_not_named_like_photos_still_never_replace_each_other(tmp_path: Path) -> None:
    """Named without a photo suffix, they claim their output path when it is written."""
    for folder, seed in (("one", 19), ("two", 20)):
        (tmp_path / folder).mkdir()
        _png(tmp_path / folder / "photo.png", seed).rename(tmp_path / folder / "photo")
    done = _cli(str(tmp_path / "one"), str(tmp_path / "two"), "-o", str(tmp_path / "out"))
    assert done.returncode == 1 and "1 ok, 0 skipped, 1 failed" in done.stderr, done.stderr
    assert "OutputCollision: its output path photo is already taken by" in done.stderr
    assert len(list((tmp_path / "out").iterdir())) == 1
