"""Waiting for a container's state by polling it (bounded), never by sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable

WAIT = 90.0


def wait_for(what: str, ready: Callable[[], bool], timeout: float = WAIT) -> None:
    """Polls ``ready()`` every 0.2 s until it is true; fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(0.2)
