"""The routers' registry: the :class:`RouteDesk` every backend asks.

A router (a ``CallRoutingService.Route`` stream) registers the routes it
serves and gets a :class:`RouterLink`: a bounded outbox of queries and
QueryEnded notices the servicer writes to its stream. :meth:`RouterHub.ask`
sends a query to one matching router (a router naming the route beats a
``*`` one; equals take turns, except that the router that decided the same
call before is asked first) and waits until the query's deadline. What
comes back is checked against the query's kind (routing/fit.py); a query
without a usable decision gets the configured fallback (routing/fallback.py)
at once when its router is gone, at the deadline when it is silent.

Every query id a router was sent is remembered for a while after it ended,
so a decision that comes late is told LATE and one for an id the router
never had is told INVALID."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

from telgate_server.errors import quote
from telgate_server.routing.fallback import FallbackRules
from telgate_server.routing.fit import check_fits
from telgate_server.routing.model import (
    Answer,
    Decision,
    DecisionInvalid,
    Outcome,
    Registration,
    RouteKind,
    RouteQuery,
)
from telgate_server.routing.settings import RoutingConfig

log = logging.getLogger("telgate.routing")

# observe(backend, outcome, seconds or None): one routing decision counted.
Observer = Callable[[str, str, "float | None"], None]

# Outcome labels of routing_decisions_total.
ANSWERED = "answered"
FALLBACK_NO_ROUTER = "fallback_no_router"
FALLBACK_TIMEOUT = "fallback_timeout"
FALLBACK_INVALID = "fallback_invalid"
FALLBACK_ROUTER_GONE = "fallback_router_gone"
LATE_DISCARDED = "late_discarded"

# Round-robin positions kept for this many route names at most.
_MAX_TURNS = 10_000
# A router that let this many deadlines pass in a row is asked after the
# others (a hung CRM, a dead peer not yet noticed) until it decides in time.
SUSPECT_MISSES = 3


@dataclass(frozen=True, slots=True)
class QueryEnded:
    """What a router is told about a query it was sent."""

    query_id: str
    outcome: Outcome
    detail: str = ""


Outgoing = RouteQuery | QueryEnded


class RouterLink:
    """One registered router: what it serves and its outbox."""

    def __init__(self, router_id: str, registration: Registration, queue_size: int) -> None:
        self.id = router_id
        self.registration = registration
        self.outbox: asyncio.Queue[Outgoing] = asyncio.Queue(queue_size)
        # Queries sent to it that wait for its decision.
        self.in_flight: set[str] = set()
        self.open = True
        # Messages it was not sent because it does not read its stream.
        self.dropped = 0
        # Deadlines it let pass in a row (reset by a decision in time).
        self.misses = 0

    def send(self, message: Outgoing) -> bool:
        """Queues ``message``; False when the router is gone or its outbox is full."""
        if not self.open:
            return False
        try:
            self.outbox.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped += 1
            return False
        return True


@dataclass(frozen=True, slots=True)
class _Refused:
    """A query that gets the fallback before its deadline, and why."""

    why: str
    outcome: str


@dataclass(slots=True)
class _Pending:
    query: RouteQuery
    link: RouterLink
    future: asyncio.Future[Decision | _Refused]


@dataclass(frozen=True, slots=True)
class _Ended:
    """A query that no longer waits, as remembered for decisions about it."""

    router_id: str
    backend: str
    # How it ended, for the router: "late", or a sentence.
    late: bool
    how: str


class RouterHub:
    """Connected routers, the queries waiting for them, fallbacks and budgets."""

    def __init__(
        self, config: RoutingConfig | None = None, observe: Observer | None = None
    ) -> None:
        self.config = config if config is not None else RoutingConfig()
        self.rules = FallbackRules(self.config.fallback)
        self._observe = observe
        self._links: dict[str, RouterLink] = {}
        self._pending: dict[str, _Pending] = {}
        # Queries a router's decision answered, for ended() (bounded).
        self._answered: OrderedDict[str, RouterLink] = OrderedDict()
        self._recent: OrderedDict[str, _Ended] = OrderedDict()
        self._turns: dict[str, int] = {}
        # The router that last decided each call (by unique id): a call's next
        # query (an AGI follow-up, the next component of a Simotel chain) goes
        # to it first, so a router may keep the call's state (bounded).
        self._decided_by: OrderedDict[str, str] = OrderedDict()
        self._numbers = itertools.count(1)
        # Late decisions discarded since the start.
        self.late_discarded = 0

    # -- routers ------------------------------------------------------------

    def register(self, registration: Registration) -> RouterLink:
        """A new router serving ``registration``; its id is unique in this gateway."""
        link = RouterLink(f"router-{next(self._numbers)}", registration, self.config.router_queue)
        self._links[link.id] = link
        log.info(
            "router %s registered for routes %s (backends %s, kinds %s)",
            link.id,
            sorted(registration.routes),
            sorted(registration.backends) or "all",
            sorted(k.value for k in registration.kinds) or "all",
        )
        return link

    def unregister(self, link: RouterLink) -> None:
        """The router's stream ended: the queries it holds get the fallback now."""
        if not link.open:
            return
        link.open = False
        self._links.pop(link.id, None)
        for query_id in list(link.in_flight):
            pending = self._settle(query_id, "its router disconnected before deciding")
            if pending is not None and not pending.future.done():
                pending.future.set_result(
                    _Refused(f"router {link.id} disconnected before deciding", FALLBACK_ROUTER_GONE)
                )
        log.info("router %s left", link.id)

    @property
    def routers(self) -> list[RouterLink]:
        """The registered routers, oldest first."""
        return list(self._links.values())

    def _candidates(self, query: RouteQuery) -> list[RouterLink]:
        """Routers that may take ``query``: those naming its route, then the
        ``*`` ones, each group rotated one place per query (load sharing)."""
        named: list[RouterLink] = []
        wildcard: list[RouterLink] = []
        for link in self._links.values():
            if link.registration.serves(query):
                (named if link.registration.names(query.route) else wildcard).append(link)
        if len(self._turns) >= _MAX_TURNS and query.route not in self._turns:
            self._turns.clear()
        turn = self._turns.get(query.route, 0)
        self._turns[query.route] = turn + 1
        sticky = self._decided_by.get(query.unique_id) if query.unique_id else None
        order = _rotated(named, turn, sticky) + _rotated(wildcard, turn, sticky)
        if any(link.misses >= SUSPECT_MISSES for link in order):
            order.sort(key=lambda link: link.misses >= SUSPECT_MISSES)
        return order

    # -- RouteDesk ----------------------------------------------------------

    def budget(self, kind: RouteKind) -> float:
        """Seconds a query of ``kind`` may wait for its router (routing.budget)."""
        return float(getattr(self.config.budget, kind.value))

    async def ask(self, query: RouteQuery) -> Answer:
        """The decision for ``query``: its router's, in time and fitting its
        kind; else the fallback (at once when no router takes it or its
        router leaves, at the deadline when the router is silent)."""
        if not query.id:
            raise ValueError("a RouteQuery needs an id (routing.model.new_query_id())")
        if query.id in self._pending:
            raise ValueError(f"query {query.id!r} is already waiting for a decision")
        started = time.perf_counter()
        if query.deadline <= 0:
            query = replace(query, deadline=time.time() + self.budget(query.kind))
        elif query.deadline <= time.time():
            # No router could answer in time: none is bothered with it.
            why = "the query's deadline had passed before a router was asked"
            return self._fall(query, started, why, FALLBACK_TIMEOUT)
        link = self._dispatch(query)
        if link is None:
            return self._fall(query, started, self._nobody(query), FALLBACK_NO_ROUTER)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Decision | _Refused] = loop.create_future()
        self._pending[query.id] = _Pending(query, link, future)
        link.in_flight.add(query.id)
        wait = max(query.deadline - time.time(), 0.0)
        try:
            async with asyncio.timeout_at(loop.time() + wait):
                result = await future
        except TimeoutError:
            if self._settle(query.id, "late", late=True) is None and _resolved(future):
                # Decided in the same instant the deadline passed: still in time.
                result = future.result()
            else:
                return self._late(query, link, started, wait)
        except asyncio.CancelledError:
            # The backend stopped waiting (its PBX gave up, the gateway stops):
            # the router hears it, whether or not its decision had just come.
            settled = self._settle(query.id, "the PBX stopped waiting for it")
            decided = _resolved(future) and not isinstance(future.result(), _Refused)
            if settled is not None or decided:
                link.send(
                    QueryEnded(query.id, Outcome.HUNG_UP, "the PBX stopped waiting for a decision")
                )
            raise
        if isinstance(result, _Refused):
            return self._fall(query, started, result.why, result.outcome)
        self._answered[query.id] = link
        while len(self._answered) > self.config.remember_ended:
            self._answered.popitem(last=False)
        if query.unique_id:
            self._decided_by[query.unique_id] = link.id
            self._decided_by.move_to_end(query.unique_id)
            while len(self._decided_by) > self.config.remember_ended:
                self._decided_by.popitem(last=False)
        self._count(query.backend, ANSWERED, time.perf_counter() - started)
        return Answer(result, router_id=link.id)

    def _late(self, query: RouteQuery, link: RouterLink, started: float, wait: float) -> Answer:
        link.misses += 1
        if link.misses == SUSPECT_MISSES:
            log.warning(
                "router %s let %d deadlines pass in a row: other routers are asked first",
                link.id,
                link.misses,
            )
        link.send(
            QueryEnded(
                query.id,
                Outcome.LATE,
                f"no decision within {wait * 1000:.0f} ms (the deadline); the fallback was used",
            )
        )
        why = f"router {link.id} gave no decision by the deadline"
        return self._fall(query, started, why, FALLBACK_TIMEOUT)

    def ended(self, query: RouteQuery, outcome: Outcome, detail: str = "") -> None:
        """Tells the router whose decision answered ``query`` how it ended."""
        link = self._answered.pop(query.id, None)
        if link is not None:
            link.send(QueryEnded(query.id, outcome, detail))

    def fallback(self, query: RouteQuery, why: str) -> Answer:
        """The configured fallback for ``query`` (a backend found its decision
        could not be rendered); counted as fallback_invalid."""
        self._count(query.backend, FALLBACK_INVALID, None)
        return self._answer(query, why)

    # -- decisions from routers -------------------------------------------------

    def decide(self, link: RouterLink, query_id: str, decision: Decision) -> None:
        """A router's decision: given to the waiting backend if it fits the
        query's kind; else the query falls back and the router is told why."""
        pending = self._waiting(link, query_id)
        if pending is None:
            return
        try:
            check_fits(pending.query.kind, decision)
        except DecisionInvalid as exc:
            self.refuse(link, query_id, str(exc))
            return
        self._settle(query_id, "its decision was given")
        link.misses = 0
        pending.future.set_result(decision)

    def refuse(self, link: RouterLink, query_id: str, reason: str) -> None:
        """A router's decision for ``query_id`` cannot be used (``reason``):
        the query falls back now and the router is told INVALID."""
        pending = self._waiting(link, query_id)
        if pending is None:
            return
        self._settle(query_id, "its decision was invalid")
        link.send(QueryEnded(query_id, Outcome.INVALID, f"{reason}; the fallback was used"))
        pending.future.set_result(
            _Refused(f"router {link.id}'s decision is invalid: {reason}", FALLBACK_INVALID)
        )

    def _waiting(self, link: RouterLink, query_id: str) -> _Pending | None:
        """The query ``query_id`` if it still waits for ``link``'s answer;
        else None (a stray is dealt with by :meth:`_stray`)."""
        pending = self._pending.get(query_id)
        if pending is None or pending.link is not link:
            self._stray(link, query_id)
            return None
        if pending.future.done():
            # Its deadline passed this instant: ask() tells the router LATE.
            return None
        return pending

    def _stray(self, link: RouterLink, query_id: str) -> None:
        """A decision for a query that does not wait for this router."""
        ended = self._recent.get(query_id)
        if ended is not None and ended.router_id == link.id and ended.late:
            self.late_discarded += 1
            self._count(ended.backend, LATE_DISCARDED, None)
            link.send(
                QueryEnded(
                    query_id,
                    Outcome.LATE,
                    "the decision came after the deadline and was discarded; the fallback was used",
                )
            )
        elif ended is not None and ended.router_id == link.id:
            link.send(
                QueryEnded(
                    query_id,
                    Outcome.INVALID,
                    f"query {quote(query_id)} already ended ({ended.how}); decision discarded",
                )
            )
        else:
            link.send(
                QueryEnded(
                    query_id,
                    Outcome.INVALID,
                    f"no query {quote(query_id)} is waiting for a decision from this router",
                )
            )

    # -- helpers ------------------------------------------------------------

    def _dispatch(self, query: RouteQuery) -> RouterLink | None:
        for link in self._candidates(query):
            if link.send(query):
                return link
            if link.dropped & (link.dropped - 1) == 0:
                # Logged at the 1st, 2nd, 4th, 8th... skip: a stuck router cannot flood the log.
                log.warning(
                    "router %s does not read its stream (%d messages queued): "
                    "%d messages not sent to it so far",
                    link.id,
                    link.outbox.qsize(),
                    link.dropped,
                )
        return None

    def _nobody(self, query: RouteQuery) -> str:
        if any(link.registration.serves(query) for link in self._links.values()):
            return f"every router serving route {quote(query.route)} is not reading its stream"
        return (
            f"no router serves route {quote(query.route)} ({query.kind.value} "
            f"on backend {quote(query.backend)})"
        )

    def _settle(self, query_id: str, how: str, *, late: bool = False) -> _Pending | None:
        """The query no longer waits: out of the pending table, into the memory."""
        pending = self._pending.pop(query_id, None)
        if pending is None:
            return None
        pending.link.in_flight.discard(query_id)
        self._recent[query_id] = _Ended(pending.link.id, pending.query.backend, late, how)
        while len(self._recent) > self.config.remember_ended:
            self._recent.popitem(last=False)
        return pending

    def _answer(self, query: RouteQuery, why: str) -> Answer:
        decision = self.rules.find(query)
        if decision is None:
            return Answer(None, why=why)
        return Answer(decision, fallback=True, why=why)

    def _fall(self, query: RouteQuery, started: float, why: str, outcome: str) -> Answer:
        answer = self._answer(query, why)
        log.info(
            "query %s (%s %s on %s) %s: %s",
            query.id,
            query.kind.value,
            quote(query.route),
            query.backend,
            "gets the fallback" if answer.decision is not None else "has no fallback",
            why,
        )
        self._count(query.backend, outcome, time.perf_counter() - started)
        return answer

    def _count(self, backend: str, outcome: str, seconds: float | None) -> None:
        if self._observe is not None:
            self._observe(backend, outcome, seconds)


def _resolved(future: asyncio.Future[Decision | _Refused]) -> bool:
    return future.done() and not future.cancelled()


def _rotated(links: list[RouterLink], turn: int, first: str | None) -> list[RouterLink]:
    """``links`` rotated by ``turn``, the router ``first`` (if among them) ahead."""
    if len(links) < 2:
        return links
    at = turn % len(links)
    order = links[at:] + links[:at]
    if first is not None:
        order.sort(key=lambda link: link.id != first)
    return order
