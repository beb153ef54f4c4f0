"""Checks shared by every test: the shared fixtures must be reachable."""

from __future__ import annotations

import pytest

from tests.shared import AMI_FIXTURES


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stops at once, saying where it looked, when ../shared is missing
    (otherwise hundreds of tests fail one FileNotFoundError at a time)."""
    if not AMI_FIXTURES.is_dir():
        pytest.exit(
            f"the shared fixtures are not at {AMI_FIXTURES}: put the project's shared/ "
            "folder beside this repository, or set TELGATE_SHARED to it",
            returncode=4,
        )
