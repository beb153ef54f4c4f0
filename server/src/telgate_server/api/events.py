"""EventService: batched server streams from the event hub."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
from telgate.v1 import events_pb2, events_pb2_grpc

from telgate_server import errors
from telgate_server.api import convert
from telgate_server.api.status import abort_with, streaming
from telgate_server.config import EventsConfig
from telgate_server.events.filter import EventFilter
from telgate_server.events.hub import EventHub, SubscriberTooSlow
from telgate_server.gateway.backend import BackendRegistry

Ctx = grpc.aio.ServicerContext[Any, Any]

MIN_HEARTBEAT = 0.05


def event_filter(f: events_pb2.EventFilter, registry: BackendRegistry) -> EventFilter:
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


class EventServicer(events_pb2_grpc.EventServiceServicer):
    def __init__(self, hub: EventHub, registry: BackendRegistry, config: EventsConfig) -> None:
        self.hub = hub
        self.registry = registry
        self.config = config

    @streaming
    async def Subscribe(
        self, request: events_pb2.SubscribeRequest, context: Ctx
    ) -> AsyncIterator[events_pb2.SubscribeResponse]:
        if request.max_batch_size < 0:
            raise errors.InvalidArgument("max_batch_size must not be negative")
        max_batch = min(request.max_batch_size or self.config.max_batch, self.config.max_batch)
        heartbeat = self.config.heartbeat_interval
        if request.HasField("heartbeat_interval"):
            heartbeat = max(request.heartbeat_interval.ToNanoseconds() / 1e9, MIN_HEARTBEAT)
        after: int | None = None
        if request.start == events_pb2.START_POSITION_AFTER_SEQUENCE:
            after = request.after_sequence
        elif request.start == events_pb2.START_POSITION_OLDEST:
            after = max(self.hub.oldest_sequence - 1, 0)
        sub, gap = self.hub.subscribe(
            event_filter(request.filter, self.registry), after=after, epoch=request.epoch
        )
        epoch = self.hub.epoch
        try:
            # The first message says the subscription is live (and what was lost).
            first = events_pb2.SubscribeResponse(
                epoch=epoch, heartbeat_time=convert.timestamp(time.time())
            )
            if gap is not None:
                first.gap.CopyFrom(convert.gap(gap))
            yield first
            async for batch in sub.batches(max_batch, heartbeat):
                if not batch:
                    yield events_pb2.SubscribeResponse(
                        epoch=epoch, heartbeat_time=convert.timestamp(time.time())
                    )
                    continue
                yield events_pb2.SubscribeResponse(
                    epoch=epoch, events=[convert.event(e) for e in batch]
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
