"""EventService: batched server streams from the event hub.

Every event is serialized at most once (:func:`encoded`, given to the hub
as its encoder), by protobuf from the message api/convert.py builds, the
first time a subscriber's stream takes it (never while nobody who would
receive it is subscribed): the hub keeps the wire bytes of its
``SubscribeResponse.events`` entry, and each batch is the concatenation
of those entries plus the epoch field, which is exactly the encoding of a
``SubscribeResponse`` (a repeated message field is the concatenation of its
entries, in any order relative to other fields). The service is therefore
registered with a serializer that passes such bytes through
(:func:`add_event_service`); other messages (the first one, gaps,
heartbeats) are ordinary protobuf messages."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from telgate.v1 import events_pb2

from telgate_server import errors
from telgate_server.api import convert, validation
from telgate_server.api.decode import check_decoded
from telgate_server.api.descriptor_encoder import varint
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


def _tag(field: str) -> bytes:
    """The key of a length-delimited SubscribeResponse field."""
    number = events_pb2.SubscribeResponse.DESCRIPTOR.fields_by_name[field].number
    return varint(number << 3 | 2)


_EVENTS_TAG = _tag("events")
_EPOCH_TAG = _tag("epoch")


# What a SubscribeResponse holds besides its events (the epoch field), with room to spare.
MESSAGE_HEADROOM = 1024
DEFAULT_MAX_EVENT_BYTES = 3 * 1024 * 1024 - MESSAGE_HEADROOM
# What a truncated event keeps of its name when even that is too large.
_NAME_KEPT = 200


def encoded(event: Event, max_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> bytes:
    """The event as one entry of ``SubscribeResponse.events`` (key, length,
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
        sequence=event.sequence,
        epoch=event.epoch,
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
            sequence=event.sequence, epoch=event.epoch, backend=event.backend, name=event.name
        ).SerializeToString()


_SEQUENCE_KEY = varint(events_pb2.Event.DESCRIPTOR.fields_by_name["sequence"].number << 3)
_EVENT_EPOCH_TAG = varint(events_pb2.Event.DESCRIPTOR.fields_by_name["epoch"].number << 3 | 2)


def stamped(entry: bytes, sequence: int, epoch: str) -> bytes:
    """An entry :func:`encoded` made from an event not yet numbered, with
    its sequence and epoch now set: the JetStream hub's, whose sequences are
    the stream's, known only once stored. The fields are appended to the
    event's body (protobuf keeps the last value of a field given twice)."""
    # The entry is key, length, body: skip the key (one byte) and the varint.
    i = len(_EVENTS_TAG)
    while entry[i] & 0x80:
        i += 1
    body = entry[i + 1 :]
    data = epoch.encode()
    body += _SEQUENCE_KEY + varint(sequence) + _EVENT_EPOCH_TAG + varint(len(data)) + data
    return _EVENTS_TAG + varint(len(body)) + body


def encode_batch(epoch_field: bytes, batch: list[Delivered]) -> bytes:
    """A SubscribeResponse carrying ``batch``, encoded (``epoch_field`` is the
    encoded epoch, see :func:`epoch_field`)."""
    parts = [epoch_field]
    parts.extend([data for _, data in batch])
    return b"".join(parts)


def epoch_field(epoch: str) -> bytes:
    """The encoded ``epoch`` field of a SubscribeResponse."""
    data = epoch.encode()
    return _EPOCH_TAG + varint(len(data)) + data


def _serialize(message: Outgoing) -> bytes:
    return message if isinstance(message, bytes) else message.SerializeToString()


def event_filter(f: events_pb2.EventFilter, registry: BackendRegistry) -> EventFilter:
    """The hub's filter for a request's filter; NOT_FOUND for an unknown backend."""
    for name in f.backends:
        registry.get(name)  # NOT_FOUND for a backend that does not exist
    return EventFilter.build(
        backends=list(f.backends),
        types=list(f.types),
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
        """The first message says the subscription is live (with the epoch, and
        the lost range if the resume point is no longer held); then batches of
        events, heartbeats on an idle stream, and RESOURCE_EXHAUSTED with the
        last sequence sent if the client falls too far behind."""
        # Gateway errors are mapped here rather than by @streaming: one async
        # generator less on the path of every batch.
        try:
            slot = self.streams.open(context)
            try:
                sub, gap, max_batch, heartbeat = await self._open(request)
            except BaseException:
                slot.close()
                raise
        except errors.GatewayError as exc:
            await abort(context, exc)
        epoch = self.hub.epoch
        head = epoch_field(epoch)
        try:
            first = events_pb2.SubscribeResponse(
                epoch=epoch, heartbeat_time=convert.timestamp(time.time())
            )
            if gap is not None:
                first.gap.CopyFrom(convert.gap(gap))
            yield first
            next_batch = sub.next_batch
            max_bytes = self.config.max_message_bytes - len(head)
            while True:
                batch = await next_batch(max_batch, heartbeat, max_bytes)
                if batch:
                    yield encode_batch(head, batch)
                else:
                    yield events_pb2.SubscribeResponse(
                        epoch=epoch, heartbeat_time=convert.timestamp(time.time())
                    )
        except SubscriberTooSlow as exc:
            await abort_with(
                context,
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                str(exc),
                "SUBSCRIBER_TOO_SLOW",
                last_sequence=str(exc.last_sequence),
                epoch=epoch,
            )
        finally:
            sub.close()
            slot.close()

    async def _open(
        self, request: events_pb2.SubscribeRequest
    ) -> tuple[Subscription, Gap | None, int, float]:
        """The subscription a request asks for, with its gap, batch size and heartbeat."""
        check_decoded(request)
        validation.check_request(request)
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
        after: int | None = None
        if request.start == events_pb2.START_POSITION_AFTER_SEQUENCE:
            after = request.after_sequence
        sub, gap = await self.hub.open_subscription(
            event_filter(request.filter, self.registry),
            after=after,
            epoch=request.epoch,
            oldest=request.start == events_pb2.START_POSITION_OLDEST,
        )
        return sub, gap, max_batch, heartbeat


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
