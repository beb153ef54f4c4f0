"""Bounds on open server streams (Subscribe, StreamCdrs): per caller and in
total. Each stream holds a queue, a filter in the hub's index and a task for
as long as it is open, so one caller opening thousands would starve the
others; past a bound a new stream answers RESOURCE_EXHAUSTED naming the
setting, and the streams already open go on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

from telgate_server import errors

Ctx = grpc.aio.ServicerContext[Any, Any]


class StreamSlot:
    """One open stream, counted until :meth:`close` (idempotent)."""

    def __init__(self, limits: StreamLimits, caller: str) -> None:
        self._limits = limits
        self.caller = caller
        self._open = True

    def close(self) -> None:
        if self._open:
            self._open = False
            self._limits._release(self.caller)

    def __enter__(self) -> StreamSlot:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class StreamLimits:
    """Counts open streams by caller (``caller_of`` names the caller of a call)."""

    def __init__(self, per_caller: int, total: int, caller_of: Callable[[Ctx], str]) -> None:
        self.per_caller = per_caller
        self.total = total
        self._caller_of = caller_of
        self._open: dict[str, int] = {}
        self.count = 0

    def open(self, context: Ctx) -> StreamSlot:
        """A slot for a new stream of this call's caller; RESOURCE_EXHAUSTED
        when the caller, or the gateway, already has as many as allowed."""
        caller = self._caller_of(context)
        held = self._open.get(caller, 0)
        if held >= self.per_caller:
            raise errors.ResourceExhausted(
                f"this caller already has {held} open streams, the most the gateway setting "
                "server.max_streams_per_caller allows; close one first",
                metadata={
                    "setting": "server.max_streams_per_caller",
                    "limit": str(self.per_caller),
                },
            )
        if self.count >= self.total:
            raise errors.ResourceExhausted(
                f"the gateway already has {self.count} open streams, the most the gateway "
                "setting server.max_streams allows; try again later",
                metadata={"setting": "server.max_streams", "limit": str(self.total)},
            )
        self._open[caller] = held + 1
        self.count += 1
        return StreamSlot(self, caller)

    def held_by(self, caller: str) -> int:
        """Streams ``caller`` has open now."""
        return self._open.get(caller, 0)

    def _release(self, caller: str) -> None:
        self.count -= 1
        left = self._open[caller] - 1
        if left:
            self._open[caller] = left
        else:
            del self._open[caller]


def unlimited() -> StreamLimits:
    """Limits that never refuse (servicers built without any, as in unit tests)."""
    return StreamLimits(1 << 62, 1 << 62, lambda _context: "")
