"""grpc.health.v1 and server reflection with their streams counted like the
gateway's own.

Both need no token by default, so anyone who reaches the port could open
health Watch and ServerReflectionInfo streams without end (each holds a
task; a Watch also a watcher entry under a service name the caller chose):
they count against the same per-caller and total bounds as Subscribe and
StreamCdrs (api/streams.py)."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2
from grpc_reflection.v1alpha import reflection, reflection_pb2

from telgate_server import errors
from telgate_server.api.status import abort
from telgate_server.api.streams import StreamLimits

Ctx = grpc.aio.ServicerContext[Any, Any]


class BoundedHealthServicer(health.aio.HealthServicer):
    """The stock aio HealthServicer; Watch takes a stream slot first."""

    def __init__(self, streams: StreamLimits) -> None:
        super().__init__()
        self.streams = streams

    async def Watch(self, request: health_pb2.HealthCheckRequest, context: Ctx) -> None:
        try:
            slot = self.streams.open(context)
        except errors.ResourceExhausted as exc:
            await abort(context, exc)
        with slot:
            await super().Watch(request, context)


class BoundedReflectionServicer(reflection.aio.ReflectionServicer):
    """The stock aio ReflectionServicer; each stream takes a slot first."""

    def __init__(self, service_names: list[str], streams: StreamLimits) -> None:
        super().__init__(service_names)
        self.streams = streams

    # The base method is an async generator typed as a coroutine (grpcio-reflection).
    async def ServerReflectionInfo(  # type: ignore[override]
        self,
        request_iterator: AsyncIterable[reflection_pb2.ServerReflectionRequest],
        context: Ctx,
    ) -> AsyncIterator[reflection_pb2.ServerReflectionResponse]:
        try:
            slot = self.streams.open(context)
        except errors.ResourceExhausted as exc:
            await abort(context, exc)
        with slot:
            responses: Any = super().ServerReflectionInfo(request_iterator, context)
            async for response in responses:
                yield response
