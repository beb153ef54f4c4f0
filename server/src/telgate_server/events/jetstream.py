"""The event hub on a NATS JetStream stream (``events.hub = "jetstream"``):
every instance publishes the events of the links it runs to one stream and
serves its subscribers from that stream, so a resume position means the
same on every instance.

Publishing: an event goes to ``<prefix>.<backend>.<kind or name>`` (tokens
sanitised, see :func:`token`) with a ``Nats-Msg-Id`` header (see
:func:`message_id`): JetStream drops a message whose id it stored within
``duplicate_window``, so a re-publish (a retried publish, or the new owner
of a link publishing what the old one already had) is stored once. The
payload is the event's filter keys (a JSON list) and, after a newline, its
``EventBatch.events`` entry as the api encodes it, without its position
(see api/events.py ``stamped``). ``publish`` never waits: events
go to a bounded outbox that a task publishes with a window of
acknowledgements outstanding, retrying failed ones with their ids.

Sequences: the stream's sequence numbers, the same on every instance; the
epoch names the stream and when it was created (a stream made again is a
new epoch). Replay depth is the stream's retention (``max_msgs``,
``max_bytes``, ``max_age``); a resume position older than the first event
retained gets the gap message naming the range retention dropped.

Serving: each instance reads the stream once, from where it started, with
one consumer (its *tail*), into the in-memory hub's fan-out and a buffer of
the latest ``local_buffer`` events (:class:`_LocalFanOut`); a subscriber
whose position that covers (live, or a recent resume) shares it, with the
in-memory hub's semantics (a subscriber that falls ``subscriber_queue``
events behind is cut with its last sequence). A subscriber resuming from
further back reads the stream with an ephemeral pull consumer of its own
(filtered on the server by subject when the filter names one backend alone;
every filter is also applied here), pulling no more than its queue has room
for, so a long replay is paced, never cut; once it reaches what the tail
covers it joins the tail, with no gap and no duplicate (one event loop). If
retention drops events such a subscriber had not read yet, its stream ends
(RESOURCE_EXHAUSTED with its last sequence) so that it resumes and is told
the range. After a reconnect to NATS the tail starts again where it was;
subscribers reading on their own end with their last sequence.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import itertools
import json
import logging
import re
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as NatsSubscription
from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import NotFoundError

from telgate_server import errors, nats_connect
from telgate_server.config import NatsConfig
from telgate_server.events.filter import EventFilter
from telgate_server.events.hub import EventHub, Gap, SubscriberTooSlow, Subscription
from telgate_server.events.model import (
    BACKEND,
    BODY,
    CHANNEL,
    EXTENSIONS,
    KIND,
    LINKED_ID,
    NAME,
    UNIQUE_ID,
    Body,
    Event,
    Record,
)

log = logging.getLogger(__name__)

# Event -> its EventBatch.events entry; (entry, sequence, epoch) -> the
# entry with them set (api/events.py: encoded, stamped).
Encode = Callable[[Event], bytes]
Stamp = Callable[[bytes, int, str], bytes]

# Fields that make an event's text its own: AMI events with
# `timestampevents = yes` carry Timestamp, some carry SequenceNumber; the
# gateway's CDR events carry the CDR's SourceId.
_IDENTITY_FIELDS = ("Timestamp", "SequenceNumber")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
# Consumers of subscribers whose instance died are removed by the server after this.
CONSUMER_IDLE = 300.0
# Latest events each instance holds from its tail of the stream, for
# subscribers at or near the tail (older positions are read from the stream).
LOCAL_BUFFER = 10_000
MSG_ID = "Nats-Msg-Id"
STATUS = "Status"


def token(value: str) -> str:
    """``value`` as one subject token: characters other than letters,
    digits, ``-`` and ``_`` become ``_`` (two names may then share a token:
    filters are checked in full on every event anyway)."""
    return _UNSAFE.sub("_", value)[:128] or "_"


def message_id(event: Event) -> str:
    """The event's ``Nats-Msg-Id``: the same on every instance that sees the
    same event when the event says who it is (a CDR event's SourceId; an
    event whose fields hold a Timestamp or SequenceNumber: a hash of its
    backend, name and fields), else a new random id (the event cannot be
    told from an identical one; the id still makes a retried publish a
    duplicate)."""
    fields = event.fields
    if event.name in ("telgate.CdrRecorded", "telgate.CdrGap"):
        # The cursor is the instance's own; the CDR's source id is the PBX's.
        keys = [v for k, v in fields if k in ("SourceId", "From", "To", "Reason")]
        return _digest(event.backend, event.name, "\n".join(keys))
    text = getattr(fields, "text", None)
    if not isinstance(text, str):
        if not any(k in _IDENTITY_FIELDS for k, _ in fields):
            return uuid.uuid4().hex
        text = "\n".join(f"{k}: {v}" for k, v in fields)
    elif not any(f"{k}: " in text for k in _IDENTITY_FIELDS):
        return uuid.uuid4().hex
    return _digest(event.backend, event.name, text)


def _digest(*parts: str) -> str:
    return hashlib.blake2b("\0".join(parts).encode(), digest_size=16).hexdigest()


def stream_sequence(reply: str) -> int:
    """The stream sequence a JetStream delivery's reply subject names
    (``$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>...``, or with a domain
    and account hash in front: 12 tokens)."""
    tokens = reply.split(".")
    return int(tokens[5] if len(tokens) == 9 else tokens[7])


def _epoch_of(stream: str, info: js_api.StreamInfo) -> str:
    """The epoch of a stream: its name and creation time (made anew: another)."""
    created = info.created
    return f"{stream}-{int(created.timestamp() * 1e6) if created is not None else 0}"


class RetentionOverrun(SubscriberTooSlow):
    """Events the subscriber had not read yet left the stream's retention."""

    def __init__(self, last_sequence: int, first: int, last: int) -> None:
        Exception.__init__(
            self,
            f"events {first}..{last} left the event stream's retention before this "
            "subscriber read them (resuming, it is told the range lost)",
        )
        self.last_sequence = last_sequence
        self.limit = 0


class ConsumerLost(SubscriberTooSlow):
    """The subscriber's consumer on the stream went away (server restart...)."""

    def __init__(self, last_sequence: int, why: str) -> None:
        Exception.__init__(
            self,
            f"the event stream stopped serving this subscriber ({why})",
        )
        self.last_sequence = last_sequence
        self.limit = 0


class JsSubscription(Subscription):
    """A subscriber's queue, filled from its pull consumer; it asks for more
    when :meth:`take` makes room, and ends after what is queued when the
    feed ends it (:meth:`end`)."""

    def __init__(self, hub: JetStreamHub, event_filter: EventFilter, limit: int) -> None:
        super().__init__(hub, event_filter, limit)
        self.ended: SubscriberTooSlow | None = None
        self.room = asyncio.Event()

    def end(self, exc: SubscriberTooSlow) -> None:
        """Ends the stream once what is queued has been taken."""
        if self.ended is None:
            self.ended = exc
        if not self.queued:
            self.overflowed = True
            self._notify()

    def take(self, max_batch: int, max_bytes: int = 0) -> list[tuple[int, bytes]]:
        out = super().take(max_batch, max_bytes)
        if self.ended is not None and not self.queued:
            self.overflowed = True
        self.room.set()
        return out

    async def next_batch(
        self, max_batch: int, heartbeat: float, max_bytes: int = 0
    ) -> list[tuple[int, bytes]]:
        try:
            return await super().next_batch(max_batch, heartbeat, max_bytes)
        except SubscriberTooSlow:
            if self.ended is not None:
                raise self.ended from None
            raise


class _Feed:
    """One subscriber's ephemeral pull consumer: pulls as much as its queue
    has room for (no expiry: the server sends as events arrive), turns each
    message into a record, and ends the subscription on a hole (retention)
    or a status saying the consumer is gone."""

    def __init__(
        self,
        hub: JetStreamHub,
        sub: JsSubscription,
        *,
        consumer: str,
        start: int,
        contiguous: bool,
        max_batch: int,
    ) -> None:
        self.hub = hub
        self.sub = sub
        self.consumer = consumer
        # The stream sequence expected next (holes mean retention dropped
        # events, when every event of the stream reaches this consumer).
        self.expected = start
        self.contiguous = contiguous
        self.max_batch = max_batch
        self.credit = 0
        self.inbox = ""
        self.nats_sub: NatsSubscription | None = None
        self.task: asyncio.Task[None] | None = None
        # Set when the subscriber moves to the tail (or goes): nothing more from here.
        self.detached = False

    async def start(self) -> None:
        nc = self.hub.nc
        self.inbox = nc.new_inbox()
        self.nats_sub = await nc.subscribe(self.inbox, cb=self.on_msg)
        self.sub.room.set()
        self.task = asyncio.create_task(self.refill(), name=f"events-feed-{self.sub.id}")

    async def refill(self) -> None:
        """Asks for more whenever the queue and the credit outstanding leave
        room for a batch (or for half the queue, when that is less)."""
        sub = self.sub
        subject = f"$JS.API.CONSUMER.MSG.NEXT.{self.hub.config.stream}.{self.consumer}"
        nc = self.hub.nc
        while sub.ended is None:
            await sub.room.wait()
            sub.room.clear()
            want = sub.limit - sub.queued - self.credit
            if want >= min(self.max_batch, sub.limit // 2):
                self.credit += want
                await nc.publish(subject, b'{"batch":%d}' % want, reply=self.inbox)

    async def on_msg(self, msg: Msg) -> None:
        sub = self.sub
        if sub.ended is not None or self.detached:
            # (messages already received when the subscriber joined the tail)
            return
        headers = msg.headers
        if not msg.reply:
            status = headers.get(STATUS, "") if headers else ""
            if status == "100":  # an idle heartbeat
                return
            description = headers.get("Description", "") if headers else ""
            sub.end(ConsumerLost(sub.last_sent, f"status {status} {description}".strip()))
            self.hub.unsubscribe(sub)
            return
        self.credit -= 1
        hub = self.hub
        if hub.local.covers(self.expected):
            # Caught up with what this instance's tail holds: from here the
            # subscriber shares the tail (this message is among what it holds).
            hub.join_local(sub, self.expected - 1)
            return
        seq = stream_sequence(msg.reply)
        if seq > self.expected and self.contiguous:
            # Not a filtered consumer: only retention removes events it had not reached.
            sub.end(RetentionOverrun(self.expected - 1, self.expected, seq - 1))
            hub.unsubscribe(sub)
            return
        self.expected = seq + 1
        hub._last = max(hub._last, seq)
        r = hub.record_of(msg.data, seq)
        # An event the filter skips used credit: room for another (see refill).
        if sub.filter.is_empty or sub.filter.matches(r):
            sub.push(r)
        if self.credit <= sub.limit // 4:
            sub.room.set()

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if self.nats_sub is not None:
            with contextlib.suppress(Exception):
                await self.nats_sub.unsubscribe()
        with contextlib.suppress(Exception):
            await self.hub.js.delete_consumer(self.hub.config.stream, self.consumer)


class _LocalFanOut(EventHub):
    """The in-memory hub's fan-out and replay buffer, fed by the instance's
    tail of the stream (events numbered with the stream's sequences): one
    decoding per event per instance, whatever the number of subscribers."""

    def _body(self, event: Event) -> Body:
        # The tail's events come encoded: the record keeps the bytes.
        return event.encoded if event.encoded is not None else event

    def covers(self, position: int) -> bool:
        """Whether a subscriber expecting ``position`` next finds it here
        and everything after it (held, or yet to come from the tail)."""
        return self.oldest_sequence <= position <= self.last_sequence + 1

    def attach(self, sub: Subscription, after: int) -> None:
        """Queues the held events after ``after`` that ``sub`` wants, then
        live ones (the same loop turn: no gap, no duplicate)."""
        if sub.id in self._subs:
            raise RuntimeError("the subscriber already shares the tail")
        skip = max(0, after + 1 - self.oldest_sequence)
        held = itertools.islice(self._buffer, skip, None)
        f = sub.filter
        sub.replay(list(held) if f.is_empty else [r for r in held if f.matches(r)])
        self._subs[sub.id] = sub
        self._index_add(sub)

    def reset(self, last: int) -> None:
        """Forgets what is held (after a hole in the tail); next is ``last`` + 1."""
        self._buffer.clear()
        self._buffer_bytes = 0
        self._encoded.clear()
        self.last_sequence = last


def _never_encode(event: Event) -> bytes:
    raise TypeError("events from the stream come encoded")


class _Tail:
    """This instance's one consumer of the whole stream from where it
    started: feeds :class:`_LocalFanOut` (pulls without expiry, asking for
    more as the credit runs low)."""

    CREDIT = 4096

    def __init__(self, hub: JetStreamHub) -> None:
        self.hub = hub
        self.consumer = ""
        self.inbox = ""
        self.credit = 0
        self.nats_sub: NatsSubscription | None = None
        self.progress = asyncio.Event()

    async def start(self) -> None:
        """A consumer from the event after the last one the fan-out holds."""
        hub = self.hub
        info = await hub.js.add_consumer(
            hub.config.stream,
            js_api.ConsumerConfig(
                deliver_policy=js_api.DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=hub.local.last_sequence + 1,
                ack_policy=js_api.AckPolicy.NONE,
                filter_subject=f"{hub.config.subject_prefix}.>",
                inactive_threshold=CONSUMER_IDLE,
                mem_storage=True,
                num_replicas=1,
                description=f"telgate instance tail {hub.name}",
            ),
        )
        self.consumer = info.name
        self.inbox = hub.nc.new_inbox()
        self.nats_sub = await hub.nc.subscribe(self.inbox, cb=self.on_msg)
        self.credit = 0
        await self.ask()

    async def ask(self) -> None:
        want = self.CREDIT - self.credit
        self.credit += want
        await self.hub.nc.publish(
            f"$JS.API.CONSUMER.MSG.NEXT.{self.hub.config.stream}.{self.consumer}",
            b'{"batch":%d}' % want,
            reply=self.inbox,
        )

    async def on_msg(self, msg: Msg) -> None:
        hub = self.hub
        if hub._tail is not self:
            return  # a tail replaced (its messages still arriving)
        if not msg.reply:
            status = msg.headers.get(STATUS, "") if msg.headers else ""
            if status != "100":
                log.warning("event stream tail: status %s; starting it again", status)
                hub.restart_tail()
            return
        self.credit -= 1
        if self.credit < self.CREDIT // 2:
            await self.ask()
        seq = stream_sequence(msg.reply)
        local = hub.local
        if seq <= local.last_sequence:
            return  # a previous consumer's, already held
        if seq > local.last_sequence + 1:
            hub.tail_hole(local.last_sequence + 1, seq - 1)
        hub._last = max(hub._last, seq)
        r = hub.record_of(msg.data, seq)
        event = Event(
            r[BACKEND],
            r[NAME],
            (),
            0.0,
            channel=r[CHANNEL],
            unique_id=r[UNIQUE_ID],
            linked_id=r[LINKED_ID],
            extensions=r[EXTENSIONS],
        )
        event.kind = r[KIND]
        event.encoded = r[BODY]  # type: ignore[assignment]
        local.last_sequence = seq - 1
        local.publish(event)
        self.progress.set()

    async def close(self) -> None:
        if self.nats_sub is not None:
            with contextlib.suppress(Exception):
                await self.nats_sub.unsubscribe()
            self.nats_sub = None
        if self.consumer:
            with contextlib.suppress(Exception):
                await self.hub.js.delete_consumer(self.hub.config.stream, self.consumer)


class _Outgoing:
    """An event on its way to the stream: subject, payload, id."""

    __slots__ = ("msg_id", "payload", "subject")

    def __init__(self, subject: str, payload: bytes, msg_id: str) -> None:
        self.subject = subject
        self.payload = payload
        self.msg_id = msg_id


class JetStreamHub:
    """The Hub protocol on a JetStream stream (see the module docstring)."""

    def __init__(
        self,
        config: NatsConfig,
        encode: Encode,
        stamp: Stamp,
        *,
        subscriber_queue: int = 10_000,
        max_batch: int = 500,
        name: str = "telgate",
        local_buffer: int = LOCAL_BUFFER,
    ) -> None:
        self.config = config
        self._encode = encode
        self.stamp = stamp
        self.subscriber_queue = subscriber_queue
        self.max_batch = max_batch
        self.name = name
        self._prefix = config.subject_prefix
        self._epoch = ""
        # The latest and oldest stream sequences seen here (stream info,
        # publish acknowledgements, deliveries).
        self._last = 0
        self._first = 1
        self.delivered = 0
        self.dropped = 0
        self.cut_count = 0
        # Events published (acknowledged, stored or duplicate) and refused.
        self.published = 0
        self.duplicates = 0
        self.unpublished = 0
        self._outbox: collections.deque[_Outgoing] = collections.deque()
        self._wake = asyncio.Event()
        # Set while nothing waits to be published or acknowledged.
        self._idle = asyncio.Event()
        self._idle.set()
        self._pump: asyncio.Task[None] | None = None
        self.local_buffer = local_buffer
        # Every subscription; those still catching up from the stream have a feed.
        self._subs: dict[int, JsSubscription] = {}
        self._feeds: dict[int, _Feed] = {}
        self._local: _LocalFanOut | None = None
        self._tail: _Tail | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self._nc: Client | None = None
        self._last_error: Exception | None = None
        self._js: JetStreamContext | None = None

    # -- the connection and the stream --------------------------------------

    @property
    def nc(self) -> Client:
        if self._nc is None:
            raise RuntimeError("the JetStream hub is not started")
        return self._nc

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise RuntimeError("the JetStream hub is not started")
        return self._js

    async def start(self) -> None:
        """Connects, creates the stream (or brings its limits to the
        configured ones) and starts publishing."""
        cfg = self.config
        nc = await nats_connect.connect(
            cfg,
            self.name,
            error_cb=self._on_error,
            reconnected_cb=self._on_reconnected,
            last_error=lambda: self._last_error,
        )
        self._nc = nc
        self._js = self._nc.jetstream(publish_async_max_pending=cfg.publish_window)
        info = await self._ensure_stream()
        self._epoch = _epoch_of(cfg.stream, info)
        self._note_state(info.state)
        self._local = _LocalFanOut(
            _never_encode,
            subscriber_queue=self.subscriber_queue,
            replay_size=self.local_buffer,
            replay_bytes=1 << 62,
            epoch=self._epoch,
        )
        self._local.last_sequence = info.state.last_seq or 0
        self._tail = _Tail(self)
        await self._tail.start()
        self._pump = asyncio.create_task(self._publish_loop(), name="events-jetstream-publish")
        log.info(
            "event hub: JetStream stream %s at %s (epoch %s, sequences %d..%d)",
            cfg.stream,
            cfg.url,
            self._epoch,
            self._first,
            self._last,
        )

    async def _on_reconnected(self) -> None:
        """After a reconnect the subscribers' consumers and pending pulls may
        be gone (the server restarted, or another took over): their streams
        end with their last sequence, and clients resume from the stream.
        The stream is read again: made anew (a server that lost it), it is a
        new epoch."""
        log.warning("NATS: reconnected; subscribers catching up resume from their last sequence")
        for sub in [f.sub for f in self._feeds.values()]:
            sub.end(ConsumerLost(sub.last_sent, "the connection to NATS was lost"))
            self.unsubscribe(sub)
        try:
            info = await self._ensure_stream()
        except Exception as exc:
            log.error("event stream %s after reconnect: %s", self.config.stream, exc)
            return
        epoch = _epoch_of(self.config.stream, info)
        if epoch != self._epoch:
            # The stream was made again: nothing held here belongs to it.
            log.warning("event stream %s is new (epoch %s)", self.config.stream, epoch)
            self._epoch = epoch
            for sub in list(self._subs.values()):
                sub.end(ConsumerLost(sub.last_sent, "the event stream was made again"))
                self.unsubscribe(sub)
            self.local.reset(info.state.last_seq or 0)
        self._note_state(info.state)
        self.restart_tail()

    async def _on_error(self, exc: Exception) -> None:
        self._last_error = exc
        log.warning("NATS: %s", type(exc).__name__)

    def _stream_config(self, description: str | None = None) -> js_api.StreamConfig:
        cfg = self.config
        return js_api.StreamConfig(
            name=cfg.stream,
            description=description or "telgate events",
            subjects=[f"{self._prefix}.>"],
            retention=js_api.RetentionPolicy.LIMITS,
            max_msgs=cfg.max_msgs,
            max_bytes=cfg.max_bytes,
            max_age=cfg.max_age,
            duplicate_window=cfg.duplicate_window,
            storage=js_api.StorageType.FILE if cfg.storage == "file" else js_api.StorageType.MEMORY,
            num_replicas=cfg.replicas,
            discard=js_api.DiscardPolicy.OLD,
        )

    async def _ensure_stream(self) -> js_api.StreamInfo:
        jsm = self.js
        try:
            info = await jsm.stream_info(self.config.stream)
        except NotFoundError:
            try:
                return await jsm.add_stream(self._stream_config())
            except Exception as exc:
                # Another instance made it first: use that one.
                try:
                    return await jsm.stream_info(self.config.stream)
                except NotFoundError:
                    raise errors.FailedPrecondition(
                        f"cannot create the event stream {self.config.stream}: {exc}"
                    ) from None
        have, want = info.config, self._stream_config(info.config.description)
        if (have.max_msgs, have.max_bytes, have.duplicate_window, have.subjects) != (
            want.max_msgs,
            want.max_bytes,
            want.duplicate_window,
            want.subjects,
        ) or abs((have.max_age or 0) - (want.max_age or 0)) > 1e-3:
            # Limits are the operator's to change; every instance brings them
            # to its own configuration (configure all instances alike).
            want.storage = have.storage
            want.num_replicas = have.num_replicas
            info = await jsm.update_stream(want)
            log.info("event stream %s: limits updated", self.config.stream)
        return info

    def _note_state(self, state: js_api.StreamState) -> None:
        last = state.last_seq or 0
        first = state.first_seq or 0
        self._last = max(self._last, last)
        self._first = first if first else last + 1

    async def close(self) -> None:
        """Publishes what is queued (for up to the connect timeout), ends the
        subscriptions' consumers and disconnects."""
        if self._pump is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._drained(), self.config.connect_timeout)
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None
        if self._outbox:
            log.error("%d events were not published to NATS before stopping", len(self._outbox))
        for sub in list(self._subs.values()):
            sub.end(ConsumerLost(sub.last_sent, "the gateway is stopping"))
            self.unsubscribe(sub)
        if self._tail is not None:
            await self._tail.close()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
            self._nc = self._js = None

    async def _drained(self) -> None:
        await self._idle.wait()

    # -- publishing -----------------------------------------------------------

    def publish(self, event: Event) -> None:
        """Queues the event for the stream (never waits, never raises; past
        ``publish_queue`` queued events the oldest is dropped and logged)."""
        event.sequence = 0
        event.epoch = ""
        try:
            entry = self._encode(event)
            meta = json.dumps(
                [
                    event.backend,
                    event.name,
                    event.kind,
                    event.channel,
                    event.unique_id,
                    event.linked_id,
                    list(event.extensions),
                ],
                separators=(",", ":"),
            ).encode()
            subject = f"{self._prefix}.{token(event.backend)}.{token(event.kind or event.name)}"
            out = _Outgoing(subject, meta + b"\n" + entry, message_id(event))
        except Exception:
            log.exception("event %s from %s cannot be published", event.name, event.backend)
            self.unpublished += 1
            return
        outbox = self._outbox
        if len(outbox) >= self.config.publish_queue:
            outbox.popleft()
            self.unpublished += 1
            if self.unpublished == 1 or self.unpublished % 1000 == 0:
                log.error(
                    "NATS is not taking events fast enough: %d dropped so far "
                    "(events.nats.publish_queue %d)",
                    self.unpublished,
                    self.config.publish_queue,
                )
        outbox.append(out)
        self._idle.clear()
        self._wake.set()

    async def _publish_loop(self) -> None:
        """Publishes the outbox in order, a window of acknowledgements at a
        time; a failed publish is retried (same id) before anything newer."""
        backoff = 0.05
        while True:
            await self._wake.wait()
            self._wake.clear()
            outbox = self._outbox
            while outbox:
                self._idle.clear()
                size = min(len(outbox), self.config.publish_window)
                batch = [outbox.popleft() for _ in range(size)]
                failed = await self._send(batch)
                if failed:
                    outbox.extendleft(reversed(failed))
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 2.0)
                else:
                    backoff = 0.05
            self._idle.set()

    async def _send(self, batch: list[_Outgoing]) -> list[_Outgoing]:
        """Publishes ``batch``; returns those not acknowledged, in order."""
        js = self.js
        futures: list[asyncio.Future[js_api.PubAck]] = []
        try:
            for out in batch:
                futures.append(
                    await js.publish_async(
                        out.subject,
                        out.payload,
                        headers={MSG_ID: out.msg_id},
                        # No stall timeout: nats-py then waits for the
                        # semaphore in a task of its own per message, a loop
                        # turn and a socket write each. The window bounds
                        # what is outstanding (the semaphore is its size).
                        wait_stall=None,
                    )
                )
        except Exception as exc:
            log.warning("publishing events to NATS: %s; retrying", type(exc).__name__)
        if futures:
            await asyncio.wait(futures, timeout=self.config.connect_timeout)
        failed: list[_Outgoing] = []
        for i, out in enumerate(batch):
            fut = futures[i] if i < len(futures) else None
            if fut is None or not fut.done() or fut.cancelled() or fut.exception() is not None:
                if fut is not None and not fut.done():
                    fut.cancel()
                failed.append(out)
                continue
            ack = fut.result()
            if ack.duplicate:
                self.duplicates += 1
            else:
                self.published += 1
            self._last = max(self._last, ack.seq)
        if failed:
            log.warning("%d events not acknowledged by NATS; retrying them", len(failed))
        return failed

    async def flush(self) -> None:
        """Waits until every event published so far is acknowledged (tests, benchmarks)."""
        await self._drained()

    # -- the Hub protocol -------------------------------------------------------

    @property
    def epoch(self) -> str:
        return self._epoch

    @property
    def last_sequence(self) -> int:
        return self._last

    @property
    def oldest_sequence(self) -> int:
        return max(self._first, 1)

    @property
    def subscriber_count(self) -> int:
        return len(self._subs)

    @property
    def catching_up(self) -> int:
        """Subscribers reading from the stream on their own (not yet at the tail)."""
        return len(self._feeds)

    @property
    def buffered(self) -> tuple[int, int]:
        """(events, bytes) this instance holds from its tail of the stream."""
        return self._local.buffered if self._local is not None else (0, 0)

    def subscriptions(self) -> list[Subscription]:
        return list(self._subs.values())

    @property
    def local(self) -> _LocalFanOut:
        if self._local is None:
            raise RuntimeError("the JetStream hub is not started")
        return self._local

    def record_of(self, data: bytes, seq: int) -> Record:
        """The record of a stream message (its payload, its sequence)."""
        cut = data.index(b"\n")
        backend, name, kind, channel, unique_id, linked_id, extensions = json.loads(data[:cut])
        entry = self.stamp(data[cut + 1 :], seq, self._epoch)
        return (
            seq,
            entry,
            backend,
            name,
            kind,
            channel,
            unique_id,
            linked_id,
            tuple(extensions),
            len(entry),
        )

    def join_local(self, sub: JsSubscription, after: int) -> None:
        """A subscriber caught up from the stream shares the tail from ``after`` on."""
        feed = self._feeds.pop(sub.id, None)
        if feed is not None:
            feed.detached = True
            self._background(feed.close())
        self.local.attach(sub, after)

    def tail_hole(self, first: int, last: int) -> None:
        """The tail missed ``first..last`` (retention dropped them before it
        read them): the subscribers it serves end after what they have,
        so that they resume and are told; what is held is forgotten."""
        log.warning("event stream tail: events %d..%d left the stream unread", first, last)
        for sub in self.local.subscriptions():
            if isinstance(sub, JsSubscription):
                sub.end(RetentionOverrun(first - 1, first, last))
                self.unsubscribe(sub)
        self.local.reset(first - 1)

    def restart_tail(self) -> None:
        """A new tail consumer from the event after the last one held."""
        old = self._tail
        self._tail = tail = _Tail(self)

        async def restart() -> None:
            if old is not None:
                await old.close()
            try:
                await tail.start()
            except Exception as exc:
                # The reconnect (when NATS is back) starts another.
                log.error("event stream tail cannot start again: %s", type(exc).__name__)
            if self._tail is not tail:
                await tail.close()

        self._background(restart())

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _tail_reaches(self, seq: int) -> None:
        """Waits (a moment at most) until the tail has read ``seq``."""
        tail = self._tail
        if tail is None:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.connect_timeout
        while self.local.last_sequence < seq:
            tail.progress.clear()
            left = deadline - loop.time()
            if left <= 0:
                return
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(tail.progress.wait(), left)

    def passed(self, sub: Subscription) -> int:
        """What ``sub``'s source has read: its own consumer's last message
        while it catches up, else this instance's tail."""
        feed = self._feeds.get(sub.id)
        if feed is not None:
            return feed.expected - 1
        return self.local.last_sequence if self._local is not None else 0

    def encode(self, r: Record) -> bytes:
        """Records from the stream hold their bytes already."""
        body = r[1]
        if not isinstance(body, bytes):
            raise TypeError("a JetStream record holds its bytes")
        return body

    async def open_subscription(
        self,
        event_filter: EventFilter,
        *,
        after: int | None = None,
        epoch: str = "",
        oldest: bool = False,
    ) -> tuple[Subscription, Gap | None]:
        """A subscription served by its own consumer on the stream, from the
        position asked for (see the Hub protocol)."""
        try:
            info = await self.js.stream_info(self.config.stream)
        except Exception as exc:
            raise errors.Unavailable(
                f"the event stream cannot be read now ({type(exc).__name__}); try again"
            ) from None
        self._note_state(info.state)
        first, last = self.oldest_sequence, info.state.last_seq or 0
        gap: Gap | None = None
        if oldest:
            after = first - 1
        if after is None:
            start = last + 1
        else:
            if epoch and epoch != self.epoch:
                gap = Gap(after + 1, 0, epoch_changed=True, previous_epoch=epoch)
                after = 0
            if after > last:
                raise errors.InvalidArgument(
                    f"after.sequence {after} is ahead of the latest sequence {last} of "
                    f"epoch {self.epoch}",
                    metadata={"field": "after.sequence"},
                )
            if gap is None and after + 1 < first:
                gap = Gap(after + 1, first - 1)
            start = max(after + 1, first)
        sub = JsSubscription(self, event_filter, self.subscriber_queue)
        sub.last_sent = start - 1
        # Near the tail (the usual case: live, or a recent position): share it.
        await self._tail_reaches(start - 1)
        if self.local.covers(start):
            self._subs[sub.id] = sub
            self.local.attach(sub, start - 1)
            return sub, gap
        backends = event_filter.backends
        subject = f"{self._prefix}.>"
        if len(backends) == 1:
            subject = f"{self._prefix}.{token(next(iter(backends)))}.>"
        try:
            consumer = await self.js.add_consumer(
                self.config.stream,
                js_api.ConsumerConfig(
                    deliver_policy=js_api.DeliverPolicy.BY_START_SEQUENCE,
                    opt_start_seq=start,
                    ack_policy=js_api.AckPolicy.NONE,
                    filter_subject=subject,
                    inactive_threshold=CONSUMER_IDLE,
                    mem_storage=True,
                    num_replicas=1,
                    description=f"telgate subscriber {self.name}/{sub.id}",
                ),
            )
        except Exception as exc:
            raise errors.Unavailable(
                f"the event stream cannot serve a subscriber now ({type(exc).__name__}); try again"
            ) from None
        feed = _Feed(
            self,
            sub,
            consumer=consumer.name,
            start=start,
            contiguous=subject == f"{self._prefix}.>",
            max_batch=self.max_batch,
        )
        self._subs[sub.id] = sub
        self._feeds[sub.id] = feed
        await feed.start()
        return sub, gap

    def unsubscribe(self, sub: Subscription) -> None:
        """Forgets a subscriber and removes its consumer (idempotent)."""
        if self._subs.pop(sub.id, None) is None:
            return
        if sub.overflowed and isinstance(sub, JsSubscription) and sub.ended is None:
            self.cut_count += 1
        feed = self._feeds.pop(sub.id, None)
        if feed is not None:
            feed.detached = True
            self._background(feed.close())
        if self._local is not None:
            self._local.unsubscribe(sub)
