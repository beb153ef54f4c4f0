"""What the gateway asks of an event hub, whichever backs it: the
in-memory one (events/hub.py, the default: one process's sequences and
replay buffer) or the JetStream one (events/jetstream.py: a stream shared by
every instance, so positions mean the same on each)."""

from __future__ import annotations

from typing import Protocol

from telgate_server.events.filter import EventFilter
from telgate_server.events.hub import Gap, Subscription
from telgate_server.events.model import Event


class Hub(Protocol):
    """An event hub: numbers published events, keeps them for resume, and
    serves subscribers (see events/hub.py for the semantics both keep)."""

    @property
    def epoch(self) -> str:
        """What the sequences are numbered within; a client resuming with
        another epoch's sequence is told its position means nothing here."""

    @property
    def last_sequence(self) -> int:
        """The latest sequence known here (0: none yet)."""

    @property
    def oldest_sequence(self) -> int:
        """The oldest sequence still held (last_sequence + 1 when none is)."""

    # Counters the metrics read at scrape time.
    delivered: int
    dropped: int
    cut_count: int

    @property
    def subscriber_count(self) -> int:
        """Subscribers receiving events now."""

    @property
    def buffered(self) -> tuple[int, int]:
        """(events, bytes: an estimate) held in this process for replay."""

    def subscriptions(self) -> list[Subscription]:
        """The subscriptions receiving events now (for metrics: queue depths)."""

    def publish(self, event: Event) -> None:
        """Takes one event (never waits, never raises)."""

    async def open_subscription(
        self,
        event_filter: EventFilter,
        *,
        after: int | None = None,
        epoch: str = "",
        oldest: bool = False,
    ) -> tuple[Subscription, Gap | None]:
        """A subscription live from now, from the oldest event held
        (``oldest``), or resuming after sequence ``after`` of ``epoch``; with
        the range the hub no longer holds, if the client asked for some."""

    async def start(self) -> None:
        """Connects to whatever backs the hub (before any backend publishes)."""

    async def close(self) -> None:
        """Publishes what is queued, if it can, and disconnects."""
