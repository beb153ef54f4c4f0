"""Subscribe, resumed from the last event yielded when the stream fails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

import grpc
from telgate.client.retry import Retry
from telgate.v1 import events_pb2

if TYPE_CHECKING:
    from telgate.v1.events_pb2_grpc import EventServiceAsyncStub

Metadata: TypeAlias = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Position:
    """A place in the event stream: an event's epoch and sequence (a plain
    ``int``; uint64 on the wire). Store the last one received and subscribe
    after it to resume."""

    epoch: str
    sequence: int

    @classmethod
    def of(cls, event: events_pb2.Event) -> Position:
        """Where ``event`` is."""
        return cls(event.epoch, event.sequence)

    def precedes(self, event: events_pb2.Event) -> bool:
        """Whether ``event`` comes after this position (another epoch: the
        gateway's history restarted, every event of it is new)."""
        if self.epoch and event.epoch and event.epoch != self.epoch:
            return True
        return event.sequence > self.sequence

    def request_after(self, request: events_pb2.SubscribeRequest) -> events_pb2.SubscribeRequest:
        """``request`` (its filter and options) starting right after this position."""
        resumed = events_pb2.SubscribeRequest()
        resumed.CopyFrom(request)
        resumed.start = events_pb2.START_POSITION_AFTER_SEQUENCE
        resumed.after_sequence = self.sequence
        resumed.epoch = self.epoch
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
    connection dropped, the gateway is shutting down).

    A resumed subscription starts right after the last event yielded (same
    filter and options), and events at or before it are dropped from its
    batches, so no event is yielded twice; a batch left empty is skipped.
    Heartbeats and gap notices pass through (after a gateway restart the
    server sends a gap: events of the old epoch that were never delivered).
    Before any event was yielded a failed stream is opened again with
    ``request`` as it was (from START_POSITION_LIVE, events of the outage
    are not delivered). Other errors are raised."""
    policy = retry or Retry()
    last: Position | None = None
    if request.start == events_pb2.START_POSITION_AFTER_SEQUENCE:
        last = Position(request.epoch, request.after_sequence)
    current = request
    failures = 0
    while True:
        call = stub.Subscribe(current, metadata=metadata)
        try:
            async for message in call:
                failures = 0
                if not message.events:
                    yield message
                    continue
                fresh = [e for e in message.events if last is None or last.precedes(e)]
                if not fresh and not message.HasField("gap"):
                    continue
                out = message
                if len(fresh) < len(message.events):
                    out = events_pb2.SubscribeResponse()
                    out.CopyFrom(message)
                    del out.events[:]
                    out.events.extend(fresh)
                if fresh:
                    tail = fresh[-1]
                    last = Position(tail.epoch or message.epoch, tail.sequence)
                yield out
            return
        except grpc.aio.AioRpcError as error:
            failures += 1
            if not policy.retries(error, failures):
                raise
        finally:
            call.cancel()
        await policy.pause(failures)
        current = request if last is None else last.request_after(request)
