"""The hand-written stub `_core.pyi` matches the compiled module (mypy.stubtest)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import fastredact


def test_core_stub_matches_compiled_module() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy.stubtest",
            "fastredact._core",
            "--mypy-config-file",
            str(Path(__file__).with_name("stubtest.ini")),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_package_is_typed() -> None:
    assert (Path(fastredact.__file__).parent / "py.typed").is_file()
    assert (Path(fastredact.__file__).parent / "_core.pyi").is_file()
