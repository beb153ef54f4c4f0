"""A RouteDesk for tests: decisions come from a function of the query (or a
coroutine, for a slow router), and every ask / ended / fallback is recorded."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from telgate_server.routing import model as m

Decide = Callable[[m.RouteQuery], m.Decision | Awaitable[m.Decision | None] | None]


@dataclass
class Ended:
    query: m.RouteQuery
    outcome: m.Outcome
    detail: str


@dataclass
class ScriptedDesk:
    """Implements routing.model.RouteDesk."""

    decide: Decide
    fallback_decision: m.Decision | None = None
    queries: list[m.RouteQuery] = field(default_factory=list)
    ended_calls: list[Ended] = field(default_factory=list)
    fallbacks: list[tuple[m.RouteQuery, str]] = field(default_factory=list)
    cancelled: list[m.RouteQuery] = field(default_factory=list)
    # What budget() says for AGI queries (seconds).
    agi_budget: float = 7.0
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def ask(self, query: m.RouteQuery) -> m.Answer:
        self.queries.append(query)
        self._changed.set()
        try:
            decision = self.decide(query)
            if inspect.isawaitable(decision):
                decision = await decision
        except asyncio.CancelledError:
            self.cancelled.append(query)
            self._changed.set()
            raise
        return m.Answer(decision, router_id="test-router" if decision is not None else "")

    def ended(self, query: m.RouteQuery, outcome: m.Outcome, detail: str = "") -> None:
        self.ended_calls.append(Ended(query, outcome, detail))
        self._changed.set()

    def fallback(self, query: m.RouteQuery, why: str) -> m.Answer:
        self.fallbacks.append((query, why))
        return m.Answer(self.fallback_decision, fallback=True, why=why)

    def budget(self, kind: m.RouteKind) -> float:
        return self.agi_budget if kind is m.RouteKind.ASTERISK_AGI else 0.7

    async def wait_for(self, predicate: Callable[[], bool], within: float = 10.0) -> None:
        """Waits until ``predicate()`` holds (checked after each ask / ended)."""
        async with asyncio.timeout(within):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    async def wait_ended(self, count: int = 1, within: float = 10.0) -> list[Ended]:
        await self.wait_for(lambda: len(self.ended_calls) >= count, within)
        return self.ended_calls
