"""Timing of the round trips an HTTP-based backend makes to its switch (the
RequestTimings part: the request latency metric), in one place for all of them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telgate_server import errors

T = TypeVar("T")


class RoundTrips:
    """Reports each round trip as (name, outcome, seconds) to ``observer``:
    success, timeout (DEADLINE_EXCEEDED), unavailable (unreachable, refused,
    or a server error), cancelled (the gateway stopped waiting: a shutdown,
    a caller gone) or error (any other refusal)."""

    def __init__(self) -> None:
        self.observer: Callable[[str, str, float], None] | None = None

    async def timed(self, name: str, call: Awaitable[T]) -> T:
        """Awaits ``call`` and reports how it ended."""
        started = time.monotonic()
        outcome = "error"
        try:
            value = await call
            outcome = "success"
            return value
        except errors.DeadlineExceeded:
            outcome = "timeout"
            raise
        except errors.Unavailable:
            outcome = "unavailable"
            raise
        except asyncio.CancelledError:
            # Not the switch's failure: counted apart, as the AMI link does.
            outcome = "cancelled"
            raise
        finally:
            if self.observer is not None:
                self.observer(name, outcome, time.monotonic() - started)
