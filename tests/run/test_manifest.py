"""Manifest rows, torn-line tolerance, resume keys, mapping permissions, atomic writes, inputs."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from fastredact._atomic import TEMP_MARKER, write_atomically
from fastredact.errors import OutputCollision
from fastredact.options import settings_fingerprint
from fastredact.run._inputs import check_outdir_outside_inputs, iter_inputs
from fastredact.run._manifest import ManifestWriter, MappingWriter, read_done


def test_rows_are_json_lines_and_resume_reads_ok_rows(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    with ManifestWriter(path) as m:
        m.write({"path": "x", "input_sha256": "a", "settings_fingerprint": "s", "status": "ok"})
        m.write({"path": "y", "input_sha256": "b", "settings_fingerprint": "s", "status": "failed"})
    lines = path.read_text().splitlines()
    assert [json.loads(line)["input_sha256"] for line in lines] == ["a", "b"]
    done = read_done(path, "s")
    assert ("x", "a") in done and len(done) == 1
    assert ("y", "b") not in done and ("x", "b") not in done


def test_only_ok_rows_of_the_same_settings_count_as_done(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    with ManifestWriter(path) as m:
        m.write({"path": "x", "input_sha256": "a", "settings_fingerprint": "s", "status": "ok"})
        m.write({"path": "y", "input_sha256": "b", "settings_fingerprint": "t", "status": "ok"})
        m.write({"path": "z", "input_sha256": "c", "settings_fingerprint": "s", "status": "skip"})
        m.write({"path": 7, "input_sha256": "d", "settings_fingerprint": "s", "status": "ok"})
    assert len(read_done(path, "s")) == 1 and ("x", "a") in read_done(path, "s")
    assert len(read_done(path, "t")) == 1 and ("y", "b") in read_done(path, "t")
    assert ("x", "a") not in read_done(path, "t")


def test_torn_last_line_is_ignored_and_repaired(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text(
        '{"path":"x","input_sha256":"a","settings_fingerprint":"s","status":"ok"}\n{"input_sha'
    )
    done = read_done(path, "s")
    assert ("x", "a") in done and len(done) == 1
    with ManifestWriter(path) as m:
        m.write({"path": "z", "input_sha256": "c", "settings_fingerprint": "s", "status": "ok"})
    done = read_done(path, "s")
    assert ("x", "a") in done and ("z", "c") in done and len(done) == 2


def test_mapping_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "mapping.jsonl"
    with MappingWriter(path) as m:
        m.write({"input": "/secret/alice.jpg", "output": "out/alice.jpg"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_fingerprint_depends_on_settings_only() -> None:
    assert settings_fingerprint({"a": 1, "b": 2}) == settings_fingerprint({"b": 2, "a": 1})
    assert settings_fingerprint({"a": 1}) != settings_fingerprint({"a": 2})


def test_atomic_write_leaves_no_temp_file(tmp_path: Path) -> None:
    dst = tmp_path / "sub" / "out.jpg"
    write_atomically(dst, b"data")
    assert dst.read_bytes() == b"data"
    assert not [p for p in dst.parent.iterdir() if TEMP_MARKER in p.name]


def test_atomic_write_failure_removes_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_atomically(tmp_path / "out.jpg", b"data")
    assert list(tmp_path.iterdir()) == []


def test_inputs_walk_mirrors_tree_and_reports_problems(tmp_path: Path) -> None:
    root = tmp_path / "in"
    (root / "a" / "b").mkdir(parents=True)
    (root / "x.jpg").write_bytes(b"1")
    (root / "a" / "b" / "y.jpg").write_bytes(b"2")
    (root / "loop").symlink_to(root / "loop")
    (root / "dirlink").symlink_to(root / "a", target_is_directory=True)
    items = list(iter_inputs([root, tmp_path / "missing.jpg"], tmp_path / "out"))
    ok = sorted(str(i.relative) for i in items if i.error is None)
    assert "x.jpg" in ok and os.path.join("a", "b", "y.jpg") in ok
    errors = {i.path.name: i.error for i in items if i.error}
    assert "missing.jpg" in errors
    assert "dirlink" in errors  # symlinked folders are reported, not followed
    loop = next(i for i in items if i.path.name == "loop")
    with pytest.raises(Exception, match="cannot read"):
        loop.read()


def test_same_output_name_twice_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "p.jpg").write_bytes(b"1")
    (tmp_path / "b" / "p.jpg").write_bytes(b"2")
    items = list(
        iter_inputs([tmp_path / "a" / "p.jpg", tmp_path / "b" / "p.jpg"], tmp_path / "out")
    )
    assert items[0].error is None
    assert isinstance(items[1].error, OutputCollision)
    assert str(items[1].error) == (
        f"its output path p.jpg is already taken by {tmp_path / 'a' / 'p.jpg'}"
    )


def test_an_output_collision_names_the_earlier_input_from_a_folder(tmp_path: Path) -> None:
    for folder in ("one", "two"):
        (tmp_path / folder / "sub").mkdir(parents=True)
        (tmp_path / folder / "sub" / "p.jpg").write_bytes(folder.encode())
    (tmp_path / "two" / "sub" / "q.jpg").write_bytes(b"q")
    items = list(iter_inputs([tmp_path / "one", tmp_path / "two"], tmp_path / "out"))
    errors = {str(i.path.relative_to(tmp_path)): i.error and str(i.error) for i in items}
    earlier = tmp_path / "one" / "sub" / "p.jpg"
    assert errors == {
        os.path.join("one", "sub", "p.jpg"): None,
        os.path.join("two", "sub", "p.jpg"): (
            f"its output path {os.path.join('sub', 'p.jpg')} is already taken by {earlier}"
        ),
        os.path.join("two", "sub", "q.jpg"): None,
    }


def test_outdir_inside_input_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="inside the input"):
        check_outdir_outside_inputs([tmp_path], tmp_path / "out")
    with pytest.raises(ValueError):
        check_outdir_outside_inputs([tmp_path], tmp_path)
    check_outdir_outside_inputs([tmp_path / "in"], tmp_path / "out")
