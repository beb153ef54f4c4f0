"""Checks shared by every test: the shared fixtures must be reachable."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lab import SKIP_VARIABLE, Lab, skip_requested, start_lab
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


@pytest.fixture(scope="session")
def asterisk_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A real Asterisk 22 (../shared/asterisk) for the whole session; every
    test that takes it runs against the real PBX. Skipped only when
    TELGATE_SKIP_REAL_ASTERISK=1; a missing lab is an error saying where."""
    if skip_requested():
        pytest.skip(f"{SKIP_VARIABLE}=1: real-Asterisk tests skipped on request")
    # A short folder: Asterisk's control socket path must stay under 108 bytes.
    directory = Path(tempfile.mkdtemp(prefix="tglab-"))
    lab = start_lab(directory)
    try:
        yield lab
    finally:
        lab.stop()
        shutil.rmtree(directory, ignore_errors=True)
