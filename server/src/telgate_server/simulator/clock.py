"""Time for the sans-I/O engine: a clock interface, an asyncio adapter and a manual clock.

The engine never sleeps: it asks a :class:`Clock` to call it back later. The
TCP edge passes :class:`LoopClock` (asyncio); unit tests can pass
:class:`ManualClock` and advance time by hand.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from typing import Protocol


class Cancellable(Protocol):
    """A pending callback that can be cancelled."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """Monotonic time plus delayed callbacks."""

    def time(self) -> float: ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable: ...


class LoopClock:
    """:class:`Clock` on an asyncio event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop or asyncio.get_running_loop()

    def time(self) -> float:
        """The loop's monotonic time."""
        return self._loop.time()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        """Runs ``callback`` after ``delay`` seconds on the loop."""
        return self._loop.call_later(max(0.0, delay), callback)


class _ManualHandle:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A :class:`Clock` that only moves when :meth:`advance` is called (for tests)."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._queue: list[tuple[float, int, _ManualHandle, Callable[[], None]]] = []
        self._seq = itertools.count()

    def time(self) -> float:
        """The current manual time."""
        return self._now

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancellable:
        """Queues ``callback`` for ``now + delay``."""
        handle = _ManualHandle()
        heapq.heappush(
            self._queue, (self._now + max(0.0, delay), next(self._seq), handle, callback)
        )
        return handle

    def advance(self, seconds: float) -> None:
        """Moves time forward, running every callback that falls due, in order."""
        target = self._now + seconds
        while self._queue and self._queue[0][0] <= target:
            when, _, handle, callback = heapq.heappop(self._queue)
            self._now = when
            if not handle.cancelled:
                callback()
        self._now = target
