"""The gateway side of call routing (RouterHub behind a real Route servicer on
a grpc.aio server) with the example router (clients/python/examples/router.py)
connected to it as a process of its own."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
from telgate.v1 import routing_pb2_grpc
from telgate_server.api.decode import DecodeInterceptor
from telgate_server.api.routing import RoutingServicer
from telgate_server.routing.hub import RouterHub

ROUTER = Path(__file__).resolve().parents[1] / "clients" / "python" / "examples" / "router.py"


@asynccontextmanager
async def example_router(*router_args: str) -> AsyncIterator[RouterHub]:
    """The hub, once the example router (started with ``router_args``) registered."""
    hub = RouterHub()
    server = grpc.aio.server(interceptors=[DecodeInterceptor()])
    routing_pb2_grpc.add_CallRoutingServiceServicer_to_server(RoutingServicer(hub), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    router = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROUTER),
        "--target",
        f"127.0.0.1:{port}",
        *router_args,
        stdout=asyncio.subprocess.DEVNULL,
    )
    try:
        for _ in range(2000):
            if hub.routers:
                break
            await asyncio.sleep(0.01)
        else:
            raise SystemExit("the example router did not register")
        yield hub
    finally:
        router.kill()
        await router.wait()
        await server.stop(0)
