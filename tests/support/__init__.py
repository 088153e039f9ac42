"""What the tests and benches share: where the shared corpus and the reference tools are, and
helpers by area (``images``, ``containers``, ``videoclips``, ``video_quality``, ``dng``,
``exiftool``, ``plates``).

Real third-party files live in ``../shared/data`` beside the project (never in this
repository). Tests that need them skip with a clear reason when the folder is absent —
except when ``FASTREDACT_REQUIRE_SHARED_DATA=1`` (set by ``.ci/run``), where a missing
folder is an error: CI must never pass by skipping.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

__all__ = [
    "PROJECT_ROOT",
    "REQUIRE_SHARED_DATA",
    "SHARED_DATA",
    "reference_tool",
    "require_shared_data",
    "shared_file",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
SHARED_DATA = Path(
    os.environ.get("FASTREDACT_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data")
)
REQUIRE_SHARED_DATA = os.environ.get("FASTREDACT_REQUIRE_SHARED_DATA") == "1"


def require_shared_data() -> Path:
    """The ``../shared/data`` folder, or a skip (an error under CI) when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA} (see README, 'Tests')")
    return SHARED_DATA


def shared_file(shared_data: Path, relative: str) -> Path:
    """One file of the shared corpus; missing files are an error, not a skip."""
    path = shared_data / relative
    if not path.is_file():
        raise FileNotFoundError(f"expected shared fixture {path} is missing")
    return path


def reference_tool(name: str, debian_package: str) -> str:
    """The path of an independent reference program, or a skip when it is not installed
    (a failure under CI, which installs it: ``.ci/run``)."""
    path = shutil.which(name)
    if path is None:
        if REQUIRE_SHARED_DATA:
            pytest.fail(f"{name} is required in CI (apt-get install {debian_package})")
        pytest.skip(f"{name} not installed (apt-get install {debian_package})")
    return path
