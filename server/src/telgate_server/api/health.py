"""grpc.health.v1 with Watch streams counted like the gateway's own streams.

Health needs no token by default, so anyone who reaches the port could open
Watch streams without end (each holds a task, and a watcher entry under the
service name the caller chose): they count against the same per-caller and
total bounds as Subscribe and StreamCdrs (api/streams.py)."""

from __future__ import annotations

from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2

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
