"""The event hub: one sequence of events for all backends, fanned out to
subscribers through bounded per-subscriber queues.

``publish`` never waits: it runs on the path from the PBX socket, so a slow
subscriber only fills its own queue; when that overflows, the subscriber is
cut off (it learns the last sequence it was sent, so it can resume) and
nobody else notices.

Sequences and epochs: every published event gets the next sequence number
(1, 2, 3, ... without holes) within the hub's epoch. The epoch is a new
string each time the gateway starts, so a client that resumes with a
sequence from another epoch is told its position means nothing here.

The hub keeps a :data:`~telgate_server.events.model.Record` tuple per event
in the replay buffer and the subscriber queues: what filters read and the
event's body: its compact form (strings and numbers the backend makes the
event again from: an AMI event's text), or the Event itself when it has
none (the gateway's own events). An event is encoded (by the ``encode``
function the api layer gives the hub) the first time a subscriber's stream
takes it, once whatever the number of subscribers while it is in the replay
buffer (the hub keeps its bytes by sequence until the record leaves the
buffer), and never while nobody who would receive it is subscribed. Records
are tuples of strings, numbers and bytes, which the garbage collector stops
tracking. The buffer is bounded both by
count and by the records' size (estimated from the raw fields, see
Event.size_hint), whichever is hit first.

Publishing is cheap with many subscribers: filters are indexed by their most
selective list (linked id, unique id, exact channel, extension, type,
backend), so an event only reaches the filters that can match it, and each
candidate is then checked in full. Only filters with channel prefixes alone
are evaluated for every event.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from telgate_server import errors
from telgate_server.events.filter import EventFilter
from telgate_server.events.model import (
    BODY,
    SEQUENCE,
    SIZE,
    Body,
    Delivered,
    Event,
    Record,
    Reviver,
    record,
)

DEFAULT_REPLAY_BYTES = 64 * 1024 * 1024
# What a record costs beyond its event's bytes: the tuple, the strings
# filters read (channel, ids), about.
RECORD_OVERHEAD = 400


def record_size(r: Record) -> int:
    """The memory a record holds, about (for the replay buffer's byte bound)."""
    return r[SIZE] + RECORD_OVERHEAD


class SubscriberTooSlow(Exception):
    """The subscriber's queue overflowed; ``last_sequence`` was the last one sent."""

    def __init__(self, last_sequence: int, limit: int) -> None:
        super().__init__(f"the subscriber fell {limit} events behind and was cut off")
        self.last_sequence = last_sequence
        self.limit = limit


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class SubscriptionOwner(Protocol):
    """What a Subscription asks of the hub that fills it (either backend)."""

    delivered: int
    dropped: int

    def encode(self, r: Record) -> bytes: ...

    def passed(self, sub: Subscription) -> int:
        """The sequence up to which ``sub`` was given or skipped every event."""
        ...

    def unsubscribe(self, sub: Subscription) -> None: ...


class Subscription:
    """One subscriber's queue. Filled by the hub, drained by its stream."""

    _ids = itertools.count(1)

    def __init__(self, hub: SubscriptionOwner, event_filter: EventFilter, limit: int) -> None:
        self.id = next(self._ids)
        self.filter = event_filter
        self.limit = limit
        # The sequence of the last event handed to the stream (0: none yet).
        self.last_sent = 0
        self.overflowed = False
        self._hub = hub
        self._queue: collections.deque[Record] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        # Replayed events still queued: they do not count against the limit,
        # which is about falling behind live traffic.
        self._replayed = 0
        # The encoded bytes of the batch :meth:`take` returned last (the
        # stream writes the batch's length before its events).
        self.taken_bytes = 0
        # Heartbeat: loop time by which the next batch or heartbeat is due (0: not
        # streaming yet), and the timer that wakes the stream then.
        self._deadline = 0.0
        self._timer: asyncio.TimerHandle | None = None

    @property
    def queued(self) -> int:
        """Events waiting to be sent."""
        return len(self._queue)

    def replay(self, records: list[Record]) -> None:
        """Queues events from the replay buffer ahead of live ones."""
        self._queue.extend(records)
        self._replayed += len(records)
        if records:
            self._notify()

    def push(self, r: Record) -> None:
        """Queues an event (called by the hub; never blocks). On overflow the
        queue is dropped, the hub forgets the subscriber and its stream ends."""
        queue = self._queue
        if len(queue) - self._replayed >= self.limit:
            if not self.overflowed:
                self.overflowed = True
                self._hub.dropped += len(queue)
                queue.clear()
                self._replayed = 0
                self._hub.unsubscribe(self)
                self._notify()
            return
        queue.append(r)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _notify(self) -> None:
        if self._waiter is not None:
            _wake(self._waiter)

    @property
    def passed(self) -> int:
        """The sequence up to which the stream has passed every event, sent
        or left out by the filter: a heartbeat's position. Meaningful when
        nothing is queued (heartbeats go out only then)."""
        return max(self.last_sent, self._hub.passed(self))

    def take(self, max_batch: int, max_bytes: int = 0) -> list[Delivered]:
        """Everything queued now, up to ``max_batch`` events and, unless
        ``max_bytes`` is 0, up to ``max_bytes`` encoded bytes (at least one
        event, whatever its size), as (sequence, bytes): this is where events
        are encoded, once each whatever the number of subscribers."""
        queue = self._queue
        if len(queue) <= max_batch:
            batch = list(queue)
            queue.clear()
        else:
            batch = [queue.popleft() for _ in range(max_batch)]
        encode = self._hub.encode
        out: list[Delivered] = []
        size = 0
        for i, r in enumerate(batch):
            body = r[BODY]
            data = body if type(body) is bytes else encode(r)
            if max_bytes and size + len(data) > max_bytes and i:
                # Over the bound: the rest waits for the next batch, in order.
                queue.extendleft(reversed(batch[i:]))
                break
            size += len(data)
            out.append((r[SEQUENCE], data))
        self.taken_bytes = size
        if self._replayed:
            self._replayed = max(0, self._replayed - len(out))
        if out:
            self.last_sent = out[-1][0]
            self._hub.delivered += len(out)
        return out

    async def next_batch(
        self, max_batch: int, heartbeat: float, max_bytes: int = 0
    ) -> list[Delivered]:
        """The next batch: whatever is queued, up to ``max_batch`` events and
        ``max_bytes`` bytes (see :meth:`take`), as soon as
        anything is, never waiting to fill one; an empty list (a heartbeat)
        after ``heartbeat`` seconds without a batch. Raises SubscriberTooSlow
        once the queue overflowed."""
        loop = asyncio.get_running_loop()
        if self._deadline == 0.0:
            self._deadline = loop.time() + heartbeat
        while not self._queue and not self.overflowed:
            if loop.time() >= self._deadline:
                self._deadline = loop.time() + heartbeat
                return []
            if self._timer is None:
                self._timer = loop.call_at(self._deadline, self._on_timer)
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiter = waiter
            try:
                await waiter
            finally:
                self._waiter = None
        if self.overflowed:
            raise SubscriberTooSlow(self.last_sent, self.limit)
        self._deadline = loop.time() + heartbeat
        return self.take(max_batch, max_bytes)

    def _on_timer(self) -> None:
        # One heartbeat timer per interval, not one per wait: a busy stream
        # waits thousands of times a second, and a TimerHandle made and
        # cancelled each time cost more than the wait itself. Armed for the
        # deadline; when it fires early (a batch went out since), it re-arms
        # for the new deadline.
        loop = asyncio.get_running_loop()
        if loop.time() < self._deadline:
            self._timer = loop.call_at(self._deadline, self._on_timer)
            return
        self._timer = None
        self._notify()

    def close(self) -> None:
        """Stops receiving events (idempotent)."""
        self._hub.unsubscribe(self)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


@dataclass(frozen=True, slots=True)
class Gap:
    """Events a resuming subscriber asked for that are no longer held: the
    range ``first..last`` inclusive; when the epoch changed, ``first`` is
    the first sequence of ``previous_epoch`` the client had not seen and
    ``last`` 0 (where that epoch ended is not known here)."""

    first: int
    last: int
    epoch_changed: bool = False
    previous_epoch: str = ""


# Index names, most selective first; a filter is indexed under the first one it sets.
_LINKED, _UNIQUE, _CHANNEL, _EXTENSION, _TYPE, _BACKEND = range(6)

Subs = tuple[Subscription, ...]


def _index_of(f: EventFilter) -> tuple[int, frozenset[str]] | None:
    """Which index a filter goes in, under which keys (None: the firehose / scan lists)."""
    if f.linked_ids:
        return _LINKED, f.linked_ids
    if f.unique_ids:
        return _UNIQUE, f.unique_ids
    if f.channels and not f.channel_prefixes:
        return _CHANNEL, f.channels
    if f.extensions:
        return _EXTENSION, f.extensions
    if f.types or f.names:
        # Kinds and names share the index: publish looks an event up by both.
        return _TYPE, f.types | f.names
    if f.backends:
        return _BACKEND, f.backends
    return None


def _without(subs: Subs, sub: Subscription) -> Subs:
    """``subs`` less ``sub`` (copied in C: no Python loop over the others)."""
    i = subs.index(sub)
    return subs[:i] + subs[i + 1 :]


def _push_matching(subs: Subs, r: Record) -> None:
    for sub in subs:
        if sub.filter.matches(r):
            sub.push(r)


def _push_matching_once(lists: Iterable[Subs], r: Record) -> None:
    """Like _push_matching over several lists that may share subscribers."""
    seen: set[int] = set()
    for subs in lists:
        for sub in subs:
            if sub.id not in seen:
                seen.add(sub.id)
                if sub.filter.matches(r):
                    sub.push(r)


class EventHub:
    """Assigns gateway sequence numbers within an epoch, keeps the latest events
    for resume, and fans events out."""

    def __init__(
        self,
        encode: Callable[[Event], bytes],
        *,
        subscriber_queue: int = 10_000,
        replay_size: int = 50_000,
        replay_bytes: int = DEFAULT_REPLAY_BYTES,
        epoch: str | None = None,
    ) -> None:
        self.epoch = epoch or f"{int(time.time())}-{uuid.uuid4().hex[:8]}"
        # Event -> its bytes as subscribers get them; must not raise.
        self._encode = encode
        # Events encoded since the start (at most one encoding per event).
        self.encoded_count = 0
        # The bytes of the events of the replay buffer encoded so far, by
        # sequence (ints and bytes: a dict the collector does not track).
        self._encoded: dict[int, bytes] = {}
        # The revivers of compact records, by the number the records name.
        self._revivers: list[Reviver] = []
        self._reviver_ids: dict[Reviver, int] = {}
        self.subscriber_queue = subscriber_queue
        self.replay_size = replay_size
        self.replay_bytes = replay_bytes
        self.last_sequence = 0
        # Subscribers cut off for being too slow, since the start.
        self.cut_count = 0
        # Events taken by subscriber streams, and events dropped with the queue
        # of a subscriber cut off (read by the metrics at scrape time).
        self.delivered = 0
        self.dropped = 0
        self._buffer: collections.deque[Record] = collections.deque()
        self._buffer_bytes = 0
        self._subs: dict[int, Subscription] = {}
        # Who may want an event, kept up to date on each (un)subscribe (see
        # _index_add); tuples, so publish may iterate them while a push cuts
        # a subscriber off.
        self._firehose: Subs = ()
        self._scan: Subs = ()
        self._index: list[dict[str, Subs]] = [{} for _ in range(6)]

    @property
    def oldest_sequence(self) -> int:
        """The oldest sequence still held (last_sequence + 1 when none is)."""
        return self._buffer[0][SEQUENCE] if self._buffer else self.last_sequence + 1

    @property
    def buffered(self) -> tuple[int, int]:
        """(events, bytes: an estimate) in the replay buffer."""
        return len(self._buffer), self._buffer_bytes

    @property
    def subscriber_count(self) -> int:
        """Subscribers currently receiving events."""
        return len(self._subs)

    def encode(self, r: Record) -> bytes:
        """The record's bytes, encoded now if they were not yet (kept by
        sequence while the record is in the replay buffer, where every other
        stream finds them)."""
        body = r[BODY]
        if type(body) is bytes:
            return body
        seq = r[SEQUENCE]
        data = self._encoded.get(seq)
        if data is not None:
            return data
        if isinstance(body, Event):
            data = body.encoded
            if data is None:
                data = body.encoded = self._encode(body)
                self.encoded_count += 1
        else:
            data = self._encode(self._revive(r))
            self.encoded_count += 1
        if seq >= self.oldest_sequence:
            self._encoded[seq] = data
        return data

    def passed(self, sub: Subscription) -> int:
        """Every event up to the latest was pushed to ``sub`` or filtered out
        as it was published (publish pushes at once)."""
        return self.last_sequence

    def _revive(self, r: Record) -> Event:
        body = r[BODY]
        if not isinstance(body, tuple):
            raise TypeError("the record keeps no compact form")
        revive: Reviver = self._revivers[int(body[0])]
        event: Event = revive(r)
        event.sequence = r[SEQUENCE]
        event.epoch = self.epoch
        return event

    def _body(self, event: Event) -> Body:
        """What a record keeps of the event: its compact form, with the number
        of its reviver, when it has one; else the event."""
        compact, revive = event.compact, event.revive
        if compact is None or revive is None:
            return event
        rid = self._reviver_ids.get(revive)
        if rid is None:
            rid = self._reviver_ids[revive] = len(self._revivers)
            self._revivers.append(revive)
        return (rid, *compact)

    def subscriptions(self) -> list[Subscription]:
        """The subscriptions receiving events now (for metrics: queue depths)."""
        return list(self._subs.values())

    def publish(self, event: Event) -> None:
        """Numbers the event, keeps it for resume and queues it for every
        subscriber whose filter matches (encoding waits for a stream to take it)."""
        seq = self.last_sequence = self.last_sequence + 1
        event.sequence = seq
        event.epoch = self.epoch
        r = record(event, self._body(event))
        buffer = self._buffer
        buffer.append(r)
        self._buffer_bytes += record_size(r)
        while len(buffer) > self.replay_size or self._buffer_bytes > self.replay_bytes:
            old = buffer.popleft()
            self._buffer_bytes -= record_size(old)
            self._encoded.pop(old[SEQUENCE], None)

        for sub in self._firehose:
            sub.push(r)
        if self._scan:
            _push_matching(self._scan, r)
        index = self._index
        linked = index[_LINKED]
        if linked and event.linked_id and (subs := linked.get(event.linked_id)):
            _push_matching(subs, r)
        unique = index[_UNIQUE]
        if unique and event.unique_id and (subs := unique.get(event.unique_id)):
            _push_matching(subs, r)
        channel = index[_CHANNEL]
        if channel and event.channel and (subs := channel.get(event.channel)):
            _push_matching(subs, r)
        exts = index[_EXTENSION]
        if exts and event.extensions:
            hits = [s for x in event.extensions if (s := exts.get(x))]
            if len(hits) == 1:
                _push_matching(hits[0], r)
            elif hits:
                _push_matching_once(hits, r)
        types = index[_TYPE]
        if types:
            by_name = types.get(event.name)
            kind = event.kind
            by_kind = types.get(kind) if kind else None
            if by_name and by_kind:
                _push_matching_once((by_name, by_kind), r)
            elif by_name or by_kind:
                _push_matching(by_name or by_kind or (), r)
        backends = index[_BACKEND]
        if backends and (subs := backends.get(event.backend)):
            _push_matching(subs, r)

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
        loop, and nothing awaits in between). Returns the lost range, if the
        client asked for more than is held."""
        sub = Subscription(self, event_filter, limit or self.subscriber_queue)
        gap: Gap | None = None
        if after is not None:
            if epoch and epoch != self.epoch:
                # The gateway restarted: the client's sequence means nothing here.
                gap = Gap(after + 1, 0, epoch_changed=True, previous_epoch=epoch)
                after = 0
            if after > self.last_sequence:
                raise errors.InvalidArgument(
                    f"after.sequence {after} is ahead of the latest sequence "
                    f"{self.last_sequence} of epoch {self.epoch}",
                    metadata={"field": "after.sequence"},
                )
            oldest = self.oldest_sequence
            if gap is None and after + 1 < oldest:
                gap = Gap(after + 1, oldest - 1)
            skip = max(0, after + 1 - oldest)
            held = itertools.islice(self._buffer, skip, None)
            if event_filter.is_empty:
                sub.replay(list(held))
            else:
                sub.replay([e for e in held if event_filter.matches(e)])
            # Sent = what precedes the first event it will get.
            sub.last_sent = max(after, oldest - 1)
        else:
            sub.last_sent = self.last_sequence
        self._subs[sub.id] = sub
        self._index_add(sub)
        return sub, gap

    async def open_subscription(
        self,
        event_filter: EventFilter,
        *,
        after: int | None = None,
        epoch: str = "",
        oldest: bool = False,
    ) -> tuple[Subscription, Gap | None]:
        """:meth:`subscribe` as the Hub protocol asks (``oldest``: after
        the sequence before the oldest held)."""
        if oldest:
            after = max(self.oldest_sequence - 1, 0)
        return self.subscribe(event_filter, after=after, epoch=epoch)

    async def start(self) -> None:
        """Nothing to connect to: the hub lives in this process."""

    async def close(self) -> None:
        """Nothing to flush: the hub lives in this process."""

    def unsubscribe(self, sub: Subscription) -> None:
        """Forgets a subscriber (idempotent)."""
        if self._subs.pop(sub.id, None) is not None:
            if sub.overflowed:
                self.cut_count += 1
            self._index_remove(sub)

    # The index changes only where the (un)subscribed filter is: a caller
    # that opens and closes streams costs its own filter's keys, not every
    # subscriber's (a full rebuild cost 80 ms with 1,000 subscribers of
    # 1,000 keys each, on the event loop, per stream opened or closed).
    # Each entry is replaced by a new tuple, never changed in place, so a
    # publish iterating one while a push cuts a subscriber off is unaffected.

    def _index_add(self, sub: Subscription) -> None:
        f = sub.filter
        if f.is_empty:
            self._firehose += (sub,)
            return
        where = _index_of(f)
        if where is None:
            self._scan += (sub,)
            return
        which, keys = where
        entries = self._index[which]
        for key in keys:
            entries[key] = (*entries.get(key, ()), sub)

    def _index_remove(self, sub: Subscription) -> None:
        f = sub.filter
        if f.is_empty:
            self._firehose = _without(self._firehose, sub)
            return
        where = _index_of(f)
        if where is None:
            self._scan = _without(self._scan, sub)
            return
        which, keys = where
        entries = self._index[which]
        for key in keys:
            rest = _without(entries[key], sub)
            if rest:
                entries[key] = rest
            else:
                del entries[key]
