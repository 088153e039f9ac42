"""Shared fixtures (the helpers themselves live in :mod:`tests.support`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import REQUIRE_SHARED_DATA, SHARED_DATA, require_shared_data


def pytest_sessionstart(session: pytest.Session) -> None:
    if REQUIRE_SHARED_DATA and not SHARED_DATA.is_dir():
        raise pytest.UsageError(
            f"FASTREDACT_REQUIRE_SHARED_DATA=1 but the shared test data folder {SHARED_DATA} "
            "is missing"
        )


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ``../shared/data`` folder, or a skip (an error under CI) when it is absent."""
    return require_shared_data()
