"""Checks shared by every test: the shared fixtures must be reachable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.lab import Lab, running_lab

# One throw-away PostgreSQL cluster per session, for every folder that takes it.
from tests.services.postgres import postgres_cluster
from tests.shared import AMI_FIXTURES

__all__ = ["postgres_cluster"]


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stops at once, saying where it looked, when ../shared is missing
    (otherwise hundreds of tests fail one FileNotFoundError at a time)."""
    if not AMI_FIXTURES.is_dir():
        pytest.exit(
            f"the shared fixtures are not at {AMI_FIXTURES}: put the project's shared/ "
            "folder beside this repository, or set TELGATE_SHARED to it",
            returncode=4,
        )


@pytest.fixture(scope="session")
def asterisk_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A real Asterisk 22 (../shared/asterisk) for the whole session; every
    test that takes it runs against the real PBX. Skipped only when
    TELGATE_SKIP_REAL_ASTERISK=1; a missing lab is an error saying where."""
    with running_lab("tglab-") as lab:
        yield lab
