"""The command-line skeleton: version, help, usage errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

import fastredact
from fastredact import cli


def run_module(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fastredact", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_version_matches_package_metadata() -> None:
    from importlib.metadata import version

    done = run_module("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"fastredact {fastredact.__version__}"
    assert fastredact.__version__ == version("fastredact")


def test_help_explains_the_tool() -> None:
    done = run_module("--help")
    assert done.returncode == 0
    assert "usage: fastredact" in done.stdout
    assert "metadata" in done.stdout


def test_no_command_is_a_usage_error() -> None:
    done = run_module()
    assert done.returncode == cli.EXIT_USAGE
    assert "usage:" in done.stderr


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--no-such-option"])
    assert info.value.code == cli.EXIT_USAGE
    assert "unrecognized arguments" in capsys.readouterr().err
