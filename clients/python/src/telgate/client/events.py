"""Subscribe, resumed from the last position yielded when the stream fails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, TypeAlias

import grpc
from telgate.client.retry import Retry
from telgate.v1 import event_position_pb2, events_pb2

if TYPE_CHECKING:
    from telgate.v1.events_pb2_grpc import EventServiceAsyncStub

Metadata: TypeAlias = tuple[tuple[str, str], ...]
EventPosition: TypeAlias = event_position_pb2.EventPosition


def is_after(position: EventPosition, reference: EventPosition | None) -> bool:
    """Whether ``position`` comes after ``reference`` (None: the start). A
    position of another epoch does: the gateway's event history restarted,
    and the stream it comes from has moved on to the new one."""
    if reference is None:
        return True
    if reference.epoch and position.epoch and position.epoch != reference.epoch:
        return True
    return position.sequence > reference.sequence


def request_after(
    request: events_pb2.SubscribeRequest, position: EventPosition
) -> events_pb2.SubscribeRequest:
    """``request`` (its filter and options) starting right after ``position``
    (START_POSITION_AFTER): how a stored position is used to resume."""
    resumed = events_pb2.SubscribeRequest()
    resumed.CopyFrom(request)
    resumed.start = events_pb2.START_POSITION_AFTER
    resumed.after.CopyFrom(position)
    return resumed


async def resume_events(
    stub: EventServiceAsyncStub,
    request: events_pb2.SubscribeRequest,
    *,
    retry: Retry | None = None,
    metadata: Metadata | None = None,
) -> AsyncIterator[events_pb2.SubscribeResponse]:
    """The messages of ``Subscribe(request)``, subscribing again by itself
    when the stream fails with a status in ``retry.codes`` (UNAVAILABLE: the
    connection dropped, the gateway is shutting down or restarted) or an
    ErrorInfo reason in ``retry.reasons`` (SUBSCRIBER_TOO_SLOW: the gateway
    cut a consumer that read too slowly).

    The stream's position is the last one it yielded: the ``started``
    message's, then each event's and each heartbeat's. A resumed
    subscription asks for the events after it (same filter and options) and
    is invisible: its ``started`` message is not yielded, and events at or
    before the position are dropped from batches (a batch left empty is
    skipped), so no event is yielded twice. Gap notices pass through (after a
    gateway restart the new gateway sends an EPOCH_CHANGED gap). Other
    errors are raised.

    Store ``event.position`` (or a heartbeat's ``position``) to resume in
    another process later: ``request_after(request, stored)``."""
    policy = retry or Retry()
    last: EventPosition | None = None
    if request.start == events_pb2.START_POSITION_AFTER and request.HasField("after"):
        last = request.after
    current = request
    opened = False
    failures = 0
    while True:
        call = stub.Subscribe(current, metadata=metadata)
        try:
            async for message in call:
                failures = 0
                kind = message.WhichOneof("kind")
                if kind == "batch":
                    fresh = [e for e in message.batch.events if is_after(e.position, last)]
                    if not fresh:
                        continue
                    last = fresh[-1].position
                    if len(fresh) < len(message.batch.events):
                        out = events_pb2.SubscribeResponse()
                        out.batch.events.extend(fresh)
                        yield out
                        continue
                elif kind == "started":
                    if is_after(message.started.position, last):
                        last = message.started.position
                    if opened:
                        continue  # a resumption: the consumer sees one stream
                    opened = True
                elif (
                    kind == "heartbeat"
                    and message.heartbeat.HasField("position")
                    and is_after(message.heartbeat.position, last)
                ):
                    last = message.heartbeat.position
                yield message
            return
        except grpc.aio.AioRpcError as error:
            failures += 1
            if not policy.retries(error, failures):
                raise
        finally:
            call.cancel()
        await policy.pause(failures)
        current = request if last is None else request_after(request, last)
