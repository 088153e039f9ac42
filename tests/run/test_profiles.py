"""Profiles: the built-in ones resolve to what their TOML files say (read here with tomllib,
independently of the loader), explicit options win, ``publish`` refuses a mapping file, a
bad profile is one clear error line, and the run record names the profile and its
retention date."""

from __future__ import annotations

import datetime
import json
import shutil
import sys
from pathlib import Path

import pytest

from fastredact import RedactOptions, Redactor, cli
from fastredact.profiles import BUILTIN_FOLDER, builtin_profiles, load_profile

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@pytest.mark.parametrize("name", ["publish", "training", "internal"])
def test_builtin_profiles_resolve_to_their_files(name: str) -> None:
    data = tomllib.loads((BUILTIN_FOLDER / f"{name}.toml").read_text())
    options = RedactOptions.from_profile(name)
    for key, value in data["settings"].items():
        assert getattr(options, key) == value, key
    untouched = {f for f in RedactOptions(workers=1).output_settings() if f not in data["settings"]}
    defaults = RedactOptions()
    for key in untouched:
        assert getattr(options, key) == getattr(defaults, key), key
    assert options.allow_mapping == (data["mapping"] == "allowed")
    assert options.retention_days == data["retention_days"]
    assert options.profile == name


def test_the_built_in_profiles_are_the_three_documented() -> None:
    assert [p.name for p in builtin_profiles()] == ["internal", "publish", "training"]
    publish = load_profile("publish")
    assert publish.settings["small_faces"] is True and publish.settings["mode"] == "fill"
    assert not publish.mapping_allowed


def test_explicit_options_override_the_profile() -> None:
    options = RedactOptions.from_profile("publish", mode="blur", small_faces=False)
    assert (options.mode, options.small_faces, options.max_size) == ("blur", False, 2048)
    # The profile is a starting point: its name is not part of what changes the output.
    same = RedactOptions(**{**load_profile("publish").settings, "mode": "blur",
                            "small_faces": False})  # fmt: skip
    assert options.fingerprint() == same.fingerprint()


def _redact(args: list[str]) -> int:
    return cli.main(["redact", *args, "--no-progress", "--workers", "1"])


@pytest.fixture
def one_photo(shared_data: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copyfile(shared_data / "redact-client" / "obama.jpeg", folder / "obama.jpeg")
    return folder


def test_cli_flags_override_and_the_run_record_holds_the_profile(
    one_photo: Path, tmp_path: Path
) -> None:
    manifest = tmp_path / "m.jsonl"
    code = _redact([str(one_photo), "-o", str(tmp_path / "out"), "--manifest", str(manifest),
                    "--profile", "publish", "--mode", "pixelate", "--max-size", "300"])  # fmt: skip
    assert code == 0
    record, row = (json.loads(line) for line in manifest.read_text().splitlines())
    assert record["settings"]["mode"] == "pixelate"  # the flag
    assert record["settings"]["max_size"] == 300  # the flag
    assert record["settings"]["small_faces"] is True  # the profile
    assert record["settings"]["face_threshold"] == 0.35
    assert record["profile"]["name"] == "publish"
    assert record["profile"]["mapping"] == "refused"
    assert len(record["profile"]["sha256"]) == 64
    started = datetime.datetime.fromisoformat(record["started"])
    until = started + datetime.timedelta(days=load_profile("publish").retention_days or 0)
    assert record["retention_until"] == until.date().isoformat()
    assert (row["output_width"], row["output_height"]) == (220, 300)


def test_publish_refuses_a_mapping_file(
    one_photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = _redact([str(one_photo), "-o", str(out), "--profile", "publish",
                    "--mapping", str(tmp_path / "map.jsonl")])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "refuses --mapping" in err[0]
    assert not out.exists() and not (tmp_path / "map.jsonl").exists()
    with pytest.raises(ValueError, match="refuses a mapping"):
        list(Redactor(RedactOptions.from_profile("publish", workers=1)).redact_paths(
            [one_photo], out, mapping=tmp_path / "map.jsonl"))  # fmt: skip
    assert not (tmp_path / "map.jsonl").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('mapping = "maybe"\n', "mapping must be"),
        ("colour = 1\n", "unknown key"),
        ("[settings]\nmode = 3\n", "wrong type"),
        ('[settings]\nmode = "smudge"\n', "mode must be one of"),
        ("[settings]\nworkers = 4\n", "cannot set 'workers'"),
        ("[settings]\nface_threshold = 1.5\n", "between 0 and 1"),
        ("[settings\n", "not valid TOML"),
        ("retention_days = -3\n", "retention_days"),
    ],
)
def test_a_bad_profile_is_one_clear_line(
    text: str, message: str, one_photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_profile(path)
    code = _redact([str(one_photo), "-o", str(tmp_path / "out"), "--profile", str(path)])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and message in err[0]


def test_a_users_profile_file_and_an_unknown_name(tmp_path: Path) -> None:
    path = tmp_path / "cctv.toml"
    path.write_text('description = "x"\nretention_days = 7\n[settings]\nmode = "secure"\n')
    options = RedactOptions.from_profile(str(path))
    assert options.mode == "secure" and options.retention_days == 7
    assert load_profile(options.profile or "").sha256 == load_profile(path).sha256
    with pytest.raises(ValueError, match="not a built-in profile"):
        load_profile("pubish")


def test_profiles_command_lists_every_setting(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["profiles"]) == 0
    out = capsys.readouterr().out
    for name in ("publish", "training", "internal"):
        assert f"{name} (" in out
    assert "* mode = fill" in out and "* max-size = 2048" in out
