"""`fastredact redact`'s options are built from RedactOptions: every field with help text is
a flag, with the field's default, type and vocabulary; nothing is copied by hand."""

from __future__ import annotations

import argparse
from dataclasses import fields
from typing import get_args

import pytest

from fastredact import cli
from fastredact.commands.redact import options_from
from fastredact.options import Mode, OutputFormat, Preset, RedactOptions, choices


def _redact_parser() -> argparse.ArgumentParser:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["redact"]


def _actions() -> dict[str, argparse.Action]:
    return {a.dest: a for a in _redact_parser()._actions}


def test_every_flagged_field_is_an_option_with_its_default() -> None:
    actions = _actions()
    flagged = [f for f in fields(RedactOptions) if "flag" in f.metadata]
    assert len(flagged) >= 25
    defaults = RedactOptions()
    for field in flagged:
        action = actions[field.name]
        assert action.option_strings[0] == "--" + field.name.replace("_", "-")
        default = getattr(defaults, field.name)
        assert action.help == field.metadata["flag"].help.replace("%(default)s", str(default))
        # Unset flags stay out of the namespace, so a --profile's value can show through;
        # options_from() then takes the dataclass default (next tests).
        assert action.default == argparse.SUPPRESS, field.name
    unflagged = {f.name for f in fields(RedactOptions)} - {f.name for f in flagged}
    assert unflagged == {
        "face_model", "plate_model", "profile", "allow_mapping", "corrections_sha256"
    }  # fmt: skip
    # --profile is no field flag: it picks the profile whose name the options then hold.
    assert unflagged & set(actions) == {"profile"}


def test_vocabularies_are_the_literal_types() -> None:
    actions = _actions()
    assert tuple(actions["mode"].choices or ()) == get_args(Mode)
    assert tuple(actions["format"].choices or ()) == get_args(OutputFormat)
    assert tuple(actions["preset"].choices or ()) == get_args(Preset)
    assert choices(Preset | None) == get_args(Preset)
    assert choices(int) == ()


def test_parsed_defaults_are_the_dataclass_defaults() -> None:
    args = _redact_parser().parse_args(["in/", "-o", "out/"])
    assert options_from(args) == RedactOptions()


def test_a_flag_given_at_its_default_still_overrides_the_profile() -> None:
    args = _redact_parser().parse_args(["in/", "-o", "out/", "--profile", "publish",
                                        "--mode", "blur", "--no-small-faces"])  # fmt: skip
    options = options_from(args)
    assert (options.mode, options.small_faces) == ("blur", False)  # the defaults, given
    assert (options.icc, options.max_size, options.profile) == ("drop", 2048, "publish")


def test_flags_reach_the_options() -> None:
    args = _redact_parser().parse_args(
        ["in/", "-o", "out/", "--no-plates", "--mode", "fill", "--crf", "30", "--threshold",
         "0.4", "--plate-threshold", "0.6", "--small-faces", "--preset", "ultrafast"]
    )  # fmt: skip
    options = options_from(args)
    assert not options.plates and options.faces
    assert (options.mode, options.crf, options.preset) == ("fill", 30, "ultrafast")
    assert (options.threshold, options.plate_threshold, options.small_faces) == (0.4, 0.6, True)


@pytest.mark.parametrize(
    ("flags", "message"),
    [(["--mode", "smudge"], "invalid choice"), (["--crf", "x"], "invalid int value")],
)
def test_bad_values_are_usage_errors(
    flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["redact", "in/", "-o", "out/", *flags])
    assert info.value.code == cli.EXIT_USAGE
    assert message in capsys.readouterr().err
