"""Graceful shutdown of the API: refuse new calls, end open streams with
UNAVAILABLE and the position each client resumes from.

A stream is ended between two messages, never in the middle of one: when the
shutdown begins, a stream waiting for its next batch is cancelled at that
wait (nothing was taken from its queue yet), and a stream busy writing ends
as soon as the write returns. The status then carries the last position the
client was sent (ErrorInfo reason ``ERROR_REASON_SHUTTING_DOWN``):

- Subscribe: ``epoch`` and ``last_sequence``, an EventPosition to resume
  after: the latest position the stream sent (its last event's, or a later
  heartbeat's, or SubscriptionStarted's); with nothing sent yet, the
  position the stream would have started from;
- StreamCdrs: ``last_cursor`` (the greatest cursor sent, CDR or gap; with
  none, the request's ``after_cursor``).

Route streams (routers) end the same way, with no position: the router
connects again, and the queries it held get their fallback at once.

grpc.health.v1 Watch streams end too, right after their NOT_SERVING
(DrainedWatch), with the same status: the stock Watch never ends by itself,
so a load balancer watching would hold the shutdown for the whole grace."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from grpc_health.v1 import health_pb2
from telgate.v1 import cdrs_pb2, events_pb2

from telgate_server.api.cdr_wire import EncodedResponse
from telgate_server.events.hub_protocol import Hub

SHUTTING_DOWN = "SHUTTING_DOWN"


class Position(Protocol):
    """Follows what a stream sent, to say where its client resumes."""

    def seen(self, message: Any) -> None: ...

    def resume(self) -> tuple[str, dict[str, str]]:
        """A sentence for the status and the ErrorInfo metadata."""
        ...


class SubscribePosition:
    """Where a Subscribe client resumes: the latest position sent."""

    def __init__(self, request: object, hub: Hub) -> None:
        self.epoch = hub.epoch
        # The position before the first event this stream will send, used
        # when the stream has sent nothing yet: worked out as the servicer
        # does, before it subscribes. Nothing runs between with the in-memory
        # hub; the JetStream hub awaits the stream's state first, so the
        # servicer's position may be later than this one, never earlier (a
        # resume from here loses nothing). A position the hub no longer holds
        # is kept as asked: resuming, the client is told the gap.
        self.start = hub.last_sequence
        if isinstance(request, events_pb2.SubscribeRequest):
            if request.start == events_pb2.START_POSITION_AFTER:
                same = request.after.epoch == hub.epoch
                self.start = request.after.sequence if same else max(hub.oldest_sequence - 1, 0)
            elif request.start == events_pb2.START_POSITION_OLDEST:
                self.start = max(hub.oldest_sequence - 1, 0)
        # The last message that carried a position, decoded only at the end
        # (batches go out pre-encoded; decoding each would cost the hot path).
        self._last: bytes | events_pb2.SubscribeResponse | None = None

    def seen(self, message: Any) -> None:
        if isinstance(message, bytes) or (
            isinstance(message, events_pb2.SubscribeResponse)
            and message.WhichOneof("kind") in ("started", "heartbeat")
        ):
            self._last = message

    def resume(self) -> tuple[str, dict[str, str]]:
        sequence, epoch = self.start, self.epoch
        last = self._last
        if last is not None:
            msg = events_pb2.SubscribeResponse.FromString(last) if isinstance(last, bytes) else last
            kind = msg.WhichOneof("kind")
            if kind == "batch" and msg.batch.events:
                position = msg.batch.events[-1].position
            elif kind == "heartbeat":
                position = msg.heartbeat.position
            else:
                position = msg.started.position
            sequence, epoch = position.sequence, position.epoch or epoch
        return (
            f"the gateway is shutting down; subscribe again (here once it is back, or to "
            f"another gateway) with START_POSITION_AFTER after sequence {sequence} of epoch "
            f"{epoch} (ErrorInfo epoch and last_sequence)",
            {"last_sequence": str(sequence), "epoch": epoch},
        )


class CdrPosition:
    """Where a StreamCdrs client resumes: the greatest cursor sent."""

    def __init__(self, request: object) -> None:
        self.cursor = request.after_cursor if isinstance(request, cdrs_pb2.StreamCdrsRequest) else 0

    def seen(self, message: Any) -> None:
        if isinstance(message, EncodedResponse):
            self.cursor = max(self.cursor, message.last_cursor)
        elif isinstance(message, cdrs_pb2.StreamCdrsResponse):
            if message.cdrs:
                self.cursor = max(self.cursor, message.cdrs[-1].cursor)
            if message.HasField("gap"):
                self.cursor = max(self.cursor, message.gap.cursor)

    def resume(self) -> tuple[str, dict[str, str]]:
        return (
            f"the gateway is shutting down; stream again (here once it is back, or from "
            f"another gateway sharing the store) with after_cursor {self.cursor}",
            {"last_cursor": str(self.cursor)},
        )


class RouterPosition:
    """A router (CallRoutingService.Route) has no position: it connects again,
    and the queries it held got their fallback when its stream ended."""

    def __init__(self, _request: object) -> None:
        pass

    def seen(self, message: Any) -> None:
        pass

    def resume(self) -> tuple[str, dict[str, str]]:
        return (
            "the gateway is shutting down; connect the router again (here once it is back, "
            "or to another gateway)",
            {},
        )


class DrainedStream:
    """One open stream the shutdown may end."""

    def __init__(self, task: asyncio.Task[Any] | None, position: Position) -> None:
        self.task = task
        self.position = position
        # Set while the stream awaits its next message (safe to cancel there).
        self.waiting = False
        self.stopped = False
        # The cancellation was ours (undone by the stream), not the client's.
        self.cancelled_by_drain = False

    def stop(self) -> None:
        self.stopped = True
        if self.waiting and self.task is not None and not self.cancelled_by_drain:
            self.cancelled_by_drain = True
            self.task.cancel()


class EndWatch(Exception):
    """Raised out of a health Watch's write to end the stream (see DrainedWatch)."""


class DrainedWatch:
    """One open grpc.health.v1 Watch. The shutdown ends it once its client
    has been told NOT_SERVING (so a watcher need not hold the shutdown for
    ``shutdown.grace``): at once when the last status it was sent already
    says the service is not serving, else right after the next status is
    written (the NOT_SERVING the shutdown sets, or a new watch's first
    status)."""

    def __init__(self, task: asyncio.Task[Any] | None) -> None:
        self.task = task
        self.last_status: int | None = None
        self.stopped = False
        self.cancelled_by_drain = False

    def written(self, message: Any) -> None:
        """A status was written to the client; ends the stream when stopped."""
        self.last_status = getattr(message, "status", None)
        if self.stopped:
            raise EndWatch

    def stop(self) -> None:
        self.stopped = True
        serving = health_pb2.HealthCheckResponse.SERVING
        if (
            self.last_status is not None
            and self.last_status != serving
            and self.task is not None
            and not self.cancelled_by_drain
        ):
            # Waiting for a change that will not come: end it now.
            self.cancelled_by_drain = True
            self.task.cancel()


class Drain:
    """The API's shutdown state, shared by the interceptor and the gateway."""

    def __init__(self) -> None:
        self.draining = False
        self._streams: set[DrainedStream | DrainedWatch] = set()
        self._empty: asyncio.Event | None = None

    def add(self, stream: DrainedStream | DrainedWatch) -> None:
        self._streams.add(stream)
        if self.draining:
            stream.stop()

    def discard(self, stream: DrainedStream | DrainedWatch) -> None:
        self._streams.discard(stream)
        if not self._streams and self._empty is not None:
            self._empty.set()

    @property
    def open_streams(self) -> int:
        return len(self._streams)

    def begin(self) -> None:
        """From now on new calls are refused and open streams end."""
        self.draining = True
        for stream in list(self._streams):
            stream.stop()

    async def wait(self, timeout: float) -> bool:
        """Waits up to ``timeout`` s for the open streams to end; True when they did."""
        if not self._streams:
            return True
        self._empty = asyncio.Event()
        try:
            await asyncio.wait_for(self._empty.wait(), timeout)
        except TimeoutError:
            return False
        return True
