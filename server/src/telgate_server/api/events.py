"""EventService: batched server streams from the event hub.

Every event is serialized at most once (:func:`encoded`, given to the hub
as its encoder), by protobuf from the message api/convert.py builds, the
first time a subscriber's stream takes it (never while nobody who would
receive it is subscribed): the hub keeps the wire bytes of its
``EventBatch.events`` entry, and each batch is the ``batch`` field's key and
length followed by the concatenation of those entries, which is exactly the
encoding of a ``SubscribeResponse`` holding that batch (a repeated message
field is the concatenation of its entries). The service is therefore
registered with a serializer that passes such bytes through
(:func:`add_event_service`); other messages (started, gaps, heartbeats) are
ordinary protobuf messages.

Positions: ``started`` names the position after which the stream's events
follow (see the Subscribe docstring); each event carries its own; a
heartbeat carries the position up to which the stream has passed every
event (sent, or left out by the filter), which a quiet filtered subscriber
stores to resume without reading those again."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from telgate.v1 import event_position_pb2, events_pb2

from telgate_server import errors
from telgate_server.api import convert, validation
from telgate_server.api.decode import check_decoded
from telgate_server.api.descriptor_encoder import delimited, key, varint
from telgate_server.api.status import abort, abort_with
from telgate_server.api.streams import StreamLimits, unlimited
from telgate_server.config import EventsConfig
from telgate_server.events.filter import EventFilter
from telgate_server.events.hub import Gap, SubscriberTooSlow, Subscription
from telgate_server.events.hub_protocol import Hub
from telgate_server.events.model import Delivered, Event
from telgate_server.gateway.backend import BackendRegistry

Ctx = grpc.aio.ServicerContext[Any, Any]
# A stream message: a protobuf message, or a SubscribeResponse already encoded.
Outgoing = events_pb2.SubscribeResponse | bytes

SERVICE = "telgate.v1.EventService"
MIN_HEARTBEAT = 0.05
MAX_HEARTBEAT = 3600.0

log = logging.getLogger(__name__)


# The keys (length-delimited) of the fields written by hand below.
_EVENTS_TAG = key(events_pb2.EventBatch.DESCRIPTOR.fields_by_name["events"], 2)
_BATCH_TAG = key(events_pb2.SubscribeResponse.DESCRIPTOR.fields_by_name["batch"], 2)
_POSITION_TAG = key(events_pb2.Event.DESCRIPTOR.fields_by_name["position"], 2)


# What an event may not take of a SubscribeResponse: room for its key and length, and to spare.
MESSAGE_HEADROOM = 1024
# The batch field's key and length (a varint of 5 bytes at most) before its events.
BATCH_HEAD = len(_BATCH_TAG) + 5
DEFAULT_MAX_EVENT_BYTES = 3 * 1024 * 1024 - MESSAGE_HEADROOM
# What a truncated event keeps of its name when even that is too large.
_NAME_KEPT = 200


def encoded(event: Event, max_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> bytes:
    """The event as one entry of ``EventBatch.events`` (key, length,
    message): the hub's encoder. It never raises: an event the API cannot
    carry (a value protobuf refuses) is sent with its raw fields and no
    payload, or at the least its sequence and name, and the reason logged;
    the client then still sees every sequence. An event whose body is over
    ``max_bytes`` goes with its raw field values cut short and
    ``raw_fields_truncated`` set (see :func:`truncated`)."""
    try:
        body = convert.event_bytes(event)
    except Exception:
        log.exception("event %s (%s) cannot be encoded whole", event.sequence, event.name)
        body = _reduced(event)
    if len(body) > max_bytes:
        body = truncated(event, len(body), max_bytes)
    return _EVENTS_TAG + varint(len(body)) + body


def encoder(max_message_bytes: int) -> Callable[[Event], bytes]:
    """The hub's encoder for SubscribeResponses of at most ``max_message_bytes``."""
    return functools.partial(encoded, max_bytes=max_message_bytes - MESSAGE_HEADROOM)


def truncated(event: Event, original_size: int, max_bytes: int) -> bytes:
    """The body of an event too large for one message: each raw field value
    keeps an equal share of ``max_bytes`` (shorter values whole), the typed
    payload is left out if it alone does not fit, and the event says so."""
    log.warning(
        "event %s (%s) is %d bytes, over the %d a message may hold: its raw fields are cut",
        event.sequence,
        event.name,
        original_size,
        max_bytes,
    )
    try:
        msg = convert.event(event)
    except Exception:
        msg = convert.event(event, payload=False)
    msg.raw_fields_truncated = True
    msg.original_size = original_size
    fields = [(f.name, f.value) for f in msg.fields]
    del msg.fields[:]
    if msg.ByteSize() > max_bytes // 2:
        msg.ClearField("payload")
    fixed = msg.ByteSize()
    # Each field costs its name and a few bytes of keys and lengths besides its value.
    budget = max_bytes - fixed - sum(len(n.encode()) + 16 for n, _ in fields)
    share = _fair_share([len(v.encode()) for _, v in fields], budget)
    if share < 0:  # not even the names fit: the bare event
        return _bare(event, original_size)
    add = msg.fields.add
    for name, value in fields:
        data = value.encode()
        add(name=name, value=data[:share].decode(errors="ignore") if len(data) > share else value)
    body = msg.SerializeToString()
    return body if len(body) <= max_bytes else _bare(event, original_size)


def _fair_share(sizes: list[int], budget: int) -> int:
    """The largest cut ``c`` with ``sum(min(size, c)) <= budget`` (-1 when even
    empty values are over it): short values keep all of theirs."""
    if budget < 0:
        return -1
    left, count = budget, len(sizes)
    for size in sorted(sizes):
        if size * count > left:
            return left // count
        left -= size
        count -= 1
    return max(sizes, default=0)


def _bare(event: Event, original_size: int) -> bytes:
    return events_pb2.Event(
        position=position(event.epoch, event.sequence),
        backend=event.backend[:_NAME_KEPT],
        name=event.name[:_NAME_KEPT],
        raw_fields_truncated=True,
        original_size=original_size,
    ).SerializeToString()


def _reduced(event: Event) -> bytes:
    try:
        return convert.event(event, payload=False).SerializeToString()
    except Exception:  # a raw field protobuf refuses too: the bare minimum
        return events_pb2.Event(
            position=position(event.epoch, event.sequence), backend=event.backend, name=event.name
        ).SerializeToString()


def position(epoch: str, sequence: int) -> event_position_pb2.EventPosition:
    """An EventPosition."""
    return event_position_pb2.EventPosition(epoch=epoch, sequence=sequence)


def stamped(entry: bytes, sequence: int, epoch: str) -> bytes:
    """An entry :func:`encoded` made from an event not yet numbered, with
    its position now set: the JetStream hub's, whose sequences are the
    stream's, known only once stored. The position field is appended to the
    event's body (protobuf merges a message field given twice: the later
    epoch and sequence win)."""
    # The entry is key, length, body: skip the key (one byte) and the varint.
    i = len(_EVENTS_TAG)
    while entry[i] & 0x80:
        i += 1
    body = entry[i + 1 :]
    body += delimited(_POSITION_TAG, position(epoch, sequence).SerializeToString())
    return _EVENTS_TAG + varint(len(body)) + body


def encode_batch(batch: list[Delivered], size: int | None = None) -> bytes:
    """A SubscribeResponse carrying ``batch`` (an EventBatch), encoded;
    ``size``: the bytes of the batch's entries, when the caller knows them
    (Subscription.taken_bytes). The batch's key and length go in front of
    the entries in one join: no second copy of a batch of up to 3 MiB."""
    parts = [_BATCH_TAG, varint(sum([len(d) for _, d in batch]) if size is None else size)]
    parts.extend([data for _, data in batch])
    return b"".join(parts)


def _serialize(message: Outgoing) -> bytes:
    return message if isinstance(message, bytes) else message.SerializeToString()


def event_filter(f: events_pb2.EventFilter, registry: BackendRegistry) -> EventFilter:
    """The hub's filter for a request's filter; NOT_FOUND for an unknown backend."""
    for name in f.backends:
        registry.get(name)  # NOT_FOUND for a backend that does not exist
    return EventFilter.build(
        backends=list(f.backends),
        types=[validation.EVENT_KINDS[t] for t in f.types],
        names=list(f.raw_names),
        channels=list(f.channels),
        unique_ids=list(f.unique_ids),
        linked_ids=list(f.linked_ids),
        extensions=list(f.extensions),
    )


class EventServicer:
    """telgate.v1.EventService (registered by :func:`add_event_service`)."""

    def __init__(
        self,
        hub: Hub,
        registry: BackendRegistry,
        config: EventsConfig,
        streams: StreamLimits | None = None,
    ) -> None:
        self.hub = hub
        self.registry = registry
        self.config = config
        self.streams = streams or unlimited()

    async def Subscribe(
        self, request: events_pb2.SubscribeRequest, context: Ctx
    ) -> AsyncIterator[Outgoing]:
        """``started`` first, with the position after which events follow:
        LIVE, the latest event when the stream opened; AFTER, the position
        asked for, or (after a gap) the one before the oldest event held;
        OLDEST, the one before the oldest held. Then the gap, when the
        position asked for is no longer held; then batches of events, and
        heartbeats (with the position the stream has passed) on an idle
        stream. A client that falls too far behind gets RESOURCE_EXHAUSTED
        with ErrorInfo ``epoch`` and ``last_sequence``: the position to
        resume after (everything up to it was sent or filtered out)."""
        # Gateway errors are mapped here rather than by @streaming: one async
        # generator less on the path of every batch.
        try:
            # Bad input is refused before anything else (even the stream limit).
            event_filter, max_batch, heartbeat = self._check(request)
            slot = self.streams.open(context)
            try:
                sub, gap = await self._open(request, event_filter)
            except BaseException:
                slot.close()
                raise
        except errors.GatewayError as exc:
            await abort(context, exc)
        epoch = self.hub.epoch
        try:
            yield events_pb2.SubscribeResponse(
                started=events_pb2.SubscriptionStarted(position=position(epoch, sub.last_sent))
            )
            if gap is not None:
                yield events_pb2.SubscribeResponse(gap=convert.gap(gap, epoch))
            next_batch = sub.next_batch
            max_bytes = self.config.max_message_bytes - BATCH_HEAD
            while True:
                batch = await next_batch(max_batch, heartbeat, max_bytes)
                if batch:
                    yield encode_batch(batch, sub.taken_bytes)
                else:
                    yield events_pb2.SubscribeResponse(
                        heartbeat=events_pb2.Heartbeat(
                            time=convert.timestamp(time.time()),
                            position=position(epoch, sub.passed),
                        )
                    )
        except SubscriberTooSlow as exc:
            # A feed ended by its source (JetStream) names where it stopped
            # reading; events queued before were sent since: the later one.
            last = max(exc.last_sequence, sub.last_sent)
            await abort_with(
                context,
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"{exc}; resume after sequence {last} of epoch {epoch} (START_POSITION_AFTER "
                "with that position: ErrorInfo epoch and last_sequence)",
                "SUBSCRIBER_TOO_SLOW",
                last_sequence=str(last),
                epoch=epoch,
            )
        finally:
            sub.close()
            slot.close()

    def _check(self, request: events_pb2.SubscribeRequest) -> tuple[EventFilter, int, float]:
        """The request checked (INVALID_ARGUMENT, NOT_FOUND for an unknown
        backend): its hub filter, batch size and heartbeat interval."""
        check_decoded(request)
        validation.check_request(request)
        validation.check_subscribe(request)
        if request.max_batch_size < 0:
            raise errors.InvalidArgument(
                "max_batch_size must not be negative", metadata={"field": "max_batch_size"}
            )
        max_batch = min(request.max_batch_size or self.config.max_batch, self.config.max_batch)
        heartbeat = self.config.heartbeat_interval
        if request.HasField("heartbeat_interval"):
            asked = request.heartbeat_interval.ToNanoseconds() / 1e9
            if not 0 <= asked <= MAX_HEARTBEAT:
                raise errors.InvalidArgument(
                    f"heartbeat_interval is at least 0 and at most {MAX_HEARTBEAT:.0f} s",
                    metadata={"field": "heartbeat_interval"},
                )
            heartbeat = max(asked, MIN_HEARTBEAT)
        return event_filter(request.filter, self.registry), max_batch, heartbeat

    async def _open(
        self, request: events_pb2.SubscribeRequest, event_filter: EventFilter
    ) -> tuple[Subscription, Gap | None]:
        """The subscription a request asks for, with its gap."""
        after: int | None = None
        epoch = ""
        if request.start == events_pb2.START_POSITION_AFTER:
            after, epoch = request.after.sequence, request.after.epoch
        return await self.hub.open_subscription(
            event_filter,
            after=after,
            epoch=epoch,
            oldest=request.start == events_pb2.START_POSITION_OLDEST,
        )


def add_event_service(servicer: EventServicer, server: grpc.aio.Server) -> None:
    """Registers the EventService with a serializer that passes pre-encoded
    SubscribeResponse bytes through (the generated ``add_..._to_server``
    would serialize every message again)."""
    handlers = {
        "Subscribe": grpc.unary_stream_rpc_method_handler(
            servicer.Subscribe,
            request_deserializer=events_pb2.SubscribeRequest.FromString,
            response_serializer=_serialize,
        )
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    server.add_registered_method_handlers(SERVICE, handlers)
