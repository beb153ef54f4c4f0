"""A toy switch: only the core of the backend interface and a CDR source, in
process, with no network. It shows what the smallest backend must write, and
that the gateway asks nothing more of it."""

from __future__ import annotations

import time
from collections.abc import Callable

from telgate_server.cdr.continuity import Backfill
from telgate_server.cdr.model import Cdr
from telgate_server.gateway.model import CheckStep, LinkState, LinkStatus


class ToyBackend:
    """Core (name, kind, address, status, start / stop, check) and `cdr_source`."""

    kind = "toy"

    def __init__(self, name: str) -> None:
        self.name = name
        self._status = LinkStatus(LinkState.CONNECTING, "not started")
        self._listeners: list[Callable[[LinkStatus], None]] = []
        self._sink: Callable[[Cdr], object] | None = None
        # Its only optional part: the backend itself is the CDR source.
        self.cdr_source = self

    @property
    def address(self) -> str:
        return "in-process"

    @property
    def status(self) -> LinkStatus:
        return self._status

    def on_status(self, listener: Callable[[LinkStatus], None]) -> None:
        self._listeners.append(listener)

    def _set(self, state: LinkState, detail: str) -> None:
        self._status = LinkStatus(state, detail, since=time.time(), version="toy 1")
        for listener in self._listeners:
            listener(self._status)

    async def start(self) -> None:
        self._set(LinkState.UP, "in-process")

    async def stop(self) -> None:
        self._set(LinkState.DOWN, "stopped")

    async def check(self) -> list[CheckStep]:
        return [CheckStep("link", self._status.state is LinkState.UP, self._status.detail)]

    def on_cdr(self, sink: Callable[[Cdr], object]) -> None:
        self._sink = sink

    def cdr_backfill(self) -> Backfill | None:
        return None

    def call_ended(self, cdr: Cdr) -> None:
        """The switch finished a call: its CDR goes to the gateway's sink."""
        assert self._sink is not None, "the gateway registered no CDR sink"
        self._sink(cdr)
