"""``fastredact seal`` and ``fastredact retention``: the archive decrypts (with the
recipient's key, through pyrage) to byte-identical originals; a changed original, a bad key
or a failing disk writes no archive and deletes nothing; ``retention`` marks runs past their
date until their originals are deleted."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from fastredact import cli
from fastredact.retention import read_archive
from tests.support import REQUIRE_SHARED_DATA

pyrage: Any
try:
    import pyrage
except ImportError:  # pragma: no cover
    if REQUIRE_SHARED_DATA:  # CI installs the seal extra: a missing one is a failure there
        raise
    pytest.skip("pyrage is not installed: pip install 'fastredact[seal]'", allow_module_level=True)

PHOTOS = ("redact-client/obama.jpeg", "anonymizer/coco02.jpg", "scikit-image/astronaut.png")


@pytest.fixture
def run(shared_data: Path, tmp_path: Path) -> dict[str, Any]:
    """A publish-profile run over three photos (one in a sub-folder) and a key pair."""
    originals = tmp_path / "in"
    (originals / "sub").mkdir(parents=True)
    for i, relative in enumerate(PHOTOS):
        src = shared_data / relative
        shutil.copyfile(src, originals / ("sub" if i == 2 else "") / src.name)
    manifest = tmp_path / "m.jsonl"
    code = cli.main(["redact", str(originals), "-o", str(tmp_path / "out"), "--manifest",
                     str(manifest), "--profile", "publish", "--no-progress", "--workers", "1",
                     "--no-faces", "--no-plates"])  # fmt: skip
    assert code == 0
    key = pyrage.x25519.Identity.generate()
    (tmp_path / "key.txt").write_text(f"# a test key\n{key}\n")
    snapshot = {p: p.read_bytes() for p in originals.rglob("*") if p.is_file()}
    return {"originals": originals, "manifest": manifest, "key": key, "snapshot": snapshot}


def _seal(run: dict[str, Any], archive: Path, *flags: str) -> int:
    return cli.main(["seal", str(run["manifest"]), "--originals", str(run["originals"]),
                     "--to", str(archive), "--recipient", str(run["key"].to_public()),
                     *flags])  # fmt: skip


def test_sealed_originals_decrypt_byte_for_byte(run: dict[str, Any], tmp_path: Path) -> None:
    archive = tmp_path / "sealed" / "originals.tar.age"
    assert _seal(run, archive) == 0
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    members = read_archive(archive, str(run["key"]))
    expected = {p.relative_to(run["originals"]).as_posix(): b for p, b in run["snapshot"].items()}
    assert members == expected
    assert all(p.read_bytes() == b for p, b in run["snapshot"].items())  # nothing deleted
    seal = json.loads(run["manifest"].read_text().splitlines()[-1])
    assert seal["record"] == "seal" and seal["members"] == 3 and seal["deleted"] == 0
    assert not [p for p in archive.parent.iterdir() if p != archive]  # no temporary left
    with pytest.raises(pyrage.DecryptError):  # another key cannot open it
        read_archive(archive, str(pyrage.x25519.Identity.generate()))


def test_delete_originals_after_verifying_with_the_identity(
    run: dict[str, Any], tmp_path: Path
) -> None:
    archive = tmp_path / "a.age"
    code = _seal(run, archive, "--identity", str(tmp_path / "key.txt"), "--delete-originals")
    assert code == 0
    assert not [p for p in run["originals"].rglob("*") if p.is_file()]
    assert len(read_archive(archive, str(run["key"]))) == 3
    seal = json.loads(run["manifest"].read_text().splitlines()[-1])
    assert (seal["verified_with"], seal["deleted"]) == ("identity", 3)


def test_a_changed_original_is_refused_and_nothing_deleted(
    run: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    changed = run["originals"] / "sub" / "astronaut.png"
    changed.write_bytes(changed.read_bytes() + b"\0")
    archive = tmp_path / "a.age"
    assert _seal(run, archive, "--delete-originals") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "sub/astronaut.png" in err[0] and "SHA-256" in err[0]
    assert not archive.exists()
    assert sum(1 for p in run["originals"].rglob("*") if p.is_file()) == 3


def test_a_bad_recipient_or_identity_touches_nothing(
    run: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "a.age"
    code = cli.main(["seal", str(run["manifest"]), "--originals", str(run["originals"]),
                     "--to", str(archive), "--recipient", "age1notakey",
                     "--delete-originals"])  # fmt: skip
    assert code == 2 and "--recipient" in capsys.readouterr().err
    other = tmp_path / "other.txt"
    other.write_text(f"{pyrage.x25519.Identity.generate()}\n")
    assert _seal(run, archive, "--identity", str(other), "--delete-originals") == 2
    assert "not the secret key" in capsys.readouterr().err
    assert not archive.exists()
    assert all(p.read_bytes() == b for p, b in run["snapshot"].items())


def test_a_full_disk_leaves_no_archive_and_the_originals(
    run: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(src: Any, dst: Any, recipients: Any) -> None:
        dst.write(b"age-encryption.org/v1\n")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pyrage, "encrypt_io", full)
    folder = tmp_path / "sealed"
    folder.mkdir()
    assert _seal(run, folder / "a.age", "--delete-originals") == 2
    assert list(folder.iterdir()) == []  # neither the archive nor a temporary file
    assert all(p.read_bytes() == b for p, b in run["snapshot"].items())


def test_retention_marks_runs_past_their_date_until_deleted(
    run: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = json.loads(run["manifest"].read_text().splitlines()[0])
    until = record["retention_until"]
    manifest = str(run["manifest"])
    assert cli.main(["retention", manifest, "--today", until, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["due"] is False
    later = f"{int(until[:4]) + 1}{until[4:]}"
    assert cli.main(["retention", manifest, "--today", later]) == 0
    out = capsys.readouterr().out
    assert out.startswith("DUE") and "3 originals" in out
    assert _seal(run, tmp_path / "a.age", "--delete-originals") == 0
    capsys.readouterr()
    assert cli.main(["retention", manifest, "--today", later, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert (listed["due"], listed["deleted"], listed["sealed"]) == (False, 3, 1)
