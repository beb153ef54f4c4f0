"""The event hub: one sequence of events for all backends, fanned out to
subscribers through bounded per-subscriber queues.

``publish`` never waits: it runs on the path from the PBX socket, so a slow
subscriber only fills its own queue; when that overflows, the subscriber is
cut off (it learns the last sequence it was sent, so it can resume) and
nobody else notices."""

from __future__ import annotations

import asyncio
import collections
import itertools
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from telgate_server import errors
from telgate_server.events.filter import EventFilter
from telgate_server.events.model import Event


class SubscriberTooSlow(Exception):
    """The subscriber's queue overflowed; ``last_sequence`` was the last one sent."""

    def __init__(self, last_sequence: int, limit: int) -> None:
        super().__init__(
            f"the subscriber fell {limit} events behind and was cut off; resume after "
            f"sequence {last_sequence}"
        )
        self.last_sequence = last_sequence
        self.limit = limit


class Subscription:
    """One subscriber's queue. Filled by the hub, drained by its stream."""

    _ids = itertools.count(1)

    def __init__(self, hub: EventHub, event_filter: EventFilter, limit: int) -> None:
        self.id = next(self._ids)
        self.filter = event_filter
        self.limit = limit
        self.last_sent = 0
        self.overflowed = False
        self._hub = hub
        self._queue: collections.deque[Event] = collections.deque()
        self._ready = asyncio.Event()
        # Replayed events still queued: they do not count against the limit,
        # which is about falling behind live traffic.
        self._replayed = 0

    def replay(self, events: list[Event]) -> None:
        """Queues events from the replay buffer ahead of live ones."""
        self._queue.extend(events)
        self._replayed += len(events)
        if events:
            self._ready.set()

    def push(self, event: Event) -> None:
        """Queues an event (called by the hub; never blocks)."""
        if self.overflowed:
            return
        if len(self._queue) - self._replayed >= self.limit:
            self.overflowed = True
            self._queue.clear()
        else:
            self._queue.append(event)
        self._ready.set()

    def take(self, max_batch: int) -> list[Event]:
        """Everything queued now, up to ``max_batch`` events."""
        queue = self._queue
        count = min(len(queue), max_batch)
        batch = [queue.popleft() for _ in range(count)]
        self._replayed = max(0, self._replayed - count)
        if not queue:
            self._ready.clear()
        if batch:
            self.last_sent = batch[-1].sequence
        return batch

    async def batches(self, max_batch: int, heartbeat: float) -> AsyncIterator[list[Event]]:
        """Yields batches as they become available; an empty list is a heartbeat
        after ``heartbeat`` seconds of silence. Raises SubscriberTooSlow."""
        while True:
            if not self._queue and not self.overflowed:
                try:
                    await asyncio.wait_for(self._ready.wait(), heartbeat)
                except TimeoutError:
                    yield []
                    continue
            if self.overflowed:
                raise SubscriberTooSlow(self.last_sent, self.limit)
            batch = self.take(max_batch)
            if batch:
                yield batch

    def close(self) -> None:
        self._hub.unsubscribe(self)


@dataclass(frozen=True, slots=True)
class Gap:
    """Events a resuming subscriber asked for that are no longer held."""

    first: int
    last: int
    epoch_changed: bool = False
    previous_epoch: str = ""


class EventHub:
    """Assigns gateway sequence numbers within an epoch, keeps the latest events
    for resume, and fans events out."""

    def __init__(
        self, *, subscriber_queue: int = 10_000, replay_size: int = 50_000, epoch: str | None = None
    ) -> None:
        self.epoch = epoch or f"{int(time.time())}-{uuid.uuid4().hex[:8]}"
        self.subscriber_queue = subscriber_queue
        self.last_sequence = 0
        self._subs: dict[int, Subscription] = {}
        self._buffer: collections.deque[Event] = collections.deque(maxlen=replay_size)

    @property
    def oldest_sequence(self) -> int:
        """The oldest sequence still held (last_sequence + 1 when none is)."""
        return self._buffer[0].sequence if self._buffer else self.last_sequence + 1

    @property
    def subscriber_count(self) -> int:
        return len(self._subs)

    def publish(self, event: Event) -> None:
        """Numbers the event and queues it for every subscriber whose filter matches."""
        self.last_sequence += 1
        event.sequence = self.last_sequence
        event.epoch = self.epoch
        self._buffer.append(event)
        for sub in self._subs.values():
            if sub.filter.matches(event):
                sub.push(event)

    def subscribe(
        self,
        event_filter: EventFilter,
        limit: int | None = None,
        *,
        after: int | None = None,
        epoch: str = "",
    ) -> tuple[Subscription, Gap | None]:
        """A new subscription, live from now or, with ``after``, resuming after
        that sequence: the held events are queued first, then live ones, with
        no gap and no duplicate at the seam (publish and subscribe run on one
        loop). Returns the lost range, if the client asked for more than is held."""
        sub = Subscription(self, event_filter, limit or self.subscriber_queue)
        gap: Gap | None = None
        if after is not None:
            if epoch and epoch != self.epoch:
                # The gateway restarted: the client's sequence means nothing here.
                gap = Gap(0, 0, epoch_changed=True, previous_epoch=epoch)
                after = 0
            if after > self.last_sequence:
                raise errors.InvalidArgument(
                    f"after_sequence {after} is ahead of the latest sequence "
                    f"{self.last_sequence} of epoch {self.epoch}",
                    metadata={"field": "after_sequence"},
                )
            oldest = self.oldest_sequence
            if gap is None and after + 1 < oldest:
                gap = Gap(after + 1, oldest - 1)
            skip = max(0, after + 1 - oldest)
            sub.replay(
                [e for e in itertools.islice(self._buffer, skip, None) if event_filter.matches(e)]
            )
        self._subs[sub.id] = sub
        return sub, gap

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.pop(sub.id, None)
