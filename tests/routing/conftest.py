"""A RouterHub behind a real grpc.aio server (CallRoutingService only), and
routers that are real gRPC clients of it, for the routing tests. A test
drives ``hub.ask`` itself, as a backend would."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import grpc
import pytest
from telgate.v1 import routing_pb2, routing_pb2_grpc
from telgate_server.api.decode import DecodeInterceptor
from telgate_server.api.routing import RoutingServicer
from telgate_server.routing.hub import RouterHub
from telgate_server.routing.model import RouteKind, RouteQuery, new_query_id
from telgate_server.routing.settings import RoutingConfig


class Router:
    """A router: one Route stream, its queries and notices in queues."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.channel = channel
        self.call: Any = routing_pb2_grpc.CallRoutingServiceStub(channel).Route()
        self.router_id = ""
        self.queries: asyncio.Queue[routing_pb2.RoutingQuery] = asyncio.Queue()
        self.ended: asyncio.Queue[routing_pb2.QueryEnded] = asyncio.Queue()
        self._pump: asyncio.Task[None] | None = None

    async def register(
        self,
        routes: list[str],
        backends: list[str] | None = None,
        kinds: list[routing_pb2.RouteKind.ValueType] | None = None,
    ) -> str:
        await self.call.write(
            routing_pb2.RouteRequest(
                registration=routing_pb2.RouterRegistration(
                    routes=routes, backends=backends or [], kinds=kinds or []
                )
            )
        )
        first = await self.call.read()
        assert first.WhichOneof("message") == "registered", first
        self.router_id = first.registered.router_id
        self._pump = asyncio.create_task(self._read())
        return self.router_id

    async def _read(self) -> None:
        while True:
            message = await self.call.read()
            if message is grpc.aio.EOF:
                return
            if message.WhichOneof("message") == "query":
                await self.queries.put(message.query)
            else:
                await self.ended.put(message.ended)

    async def query(self) -> routing_pb2.RoutingQuery:
        """The next query sent to this router (10 s at most)."""
        return await asyncio.wait_for(self.queries.get(), 10)

    async def notice(self) -> routing_pb2.QueryEnded:
        """The next QueryEnded sent to this router (10 s at most)."""
        return await asyncio.wait_for(self.ended.get(), 10)

    async def decide(self, query_id: str, **action: Any) -> None:
        await self.call.write(
            routing_pb2.RouteRequest(
                decision=routing_pb2.RoutingDecision(query_id=query_id, **action)
            )
        )

    async def close(self) -> None:
        self.call.cancel()
        if self._pump is not None:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
        await self.channel.close()


def route_query(
    route: str = "sales",
    kind: RouteKind = RouteKind.SIMOTEL_EXTEN,
    *,
    backend: str = "pbx",
    within: float = 30.0,
    **fields: Any,
) -> RouteQuery:
    """A query as a backend builds it, due ``within`` seconds from now."""
    return RouteQuery(
        id=new_query_id(),
        backend=backend,
        kind=kind,
        route=route,
        deadline=time.time() + within,
        **fields,
    )


class RoutingServer:
    """The hub, the address of its gRPC server, and routers connected to it."""

    def __init__(
        self,
        hub: RouterHub,
        address: str,
        channel: grpc.aio.Channel,
        observed: list[tuple[str, str, float | None]],
    ) -> None:
        self.hub = hub
        # (backend, outcome, seconds) for each decision the hub counted.
        self.observed = observed
        self.address = address
        self.channel = channel
        self.routers: list[Router] = []

    async def router(
        self,
        routes: list[str],
        backends: list[str] | None = None,
        kinds: list[routing_pb2.RouteKind.ValueType] | None = None,
        *,
        address: str | None = None,
    ) -> Router:
        """A registered router (on its own channel, so it can be cut alone),
        connected to ``address`` (a relay in front of the server) if given."""
        channel = grpc.aio.insecure_channel(address or self.address)
        router = Router(channel)
        self.routers.append(router)
        await router.register(routes, backends, kinds)
        return router

    async def wait_routers(self, count: int) -> None:
        """Waits (bounded) until the hub has ``count`` routers registered."""
        for _ in range(1000):
            if len(self.hub.routers) == count:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{len(self.hub.routers)} routers registered, not {count}")


@asynccontextmanager
async def routing_server(
    config: RoutingConfig | None = None, options: list[tuple[str, int]] | None = None
) -> AsyncIterator[RoutingServer]:
    """A grpc.aio server on a free port with the Route servicer over a new hub
    (``options``: its channel arguments, as the gateway's keepalive ones)."""
    observed: list[tuple[str, str, float | None]] = []
    hub = RouterHub(config, lambda *sample: observed.append(sample))
    server = grpc.aio.server(interceptors=[DecodeInterceptor()], options=options)
    routing_pb2_grpc.add_CallRoutingServiceServicer_to_server(RoutingServicer(hub), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    address = f"127.0.0.1:{port}"
    channel = grpc.aio.insecure_channel(address)
    served = RoutingServer(hub, address, channel, observed)
    try:
        yield served
    finally:
        for router in served.routers:
            await router.close()
        await channel.close()
        await server.stop(0)


@pytest.fixture
async def routing() -> AsyncIterator[RoutingServer]:
    async with routing_server() as served:
        yield served


async def eventually(check: Callable[[], Awaitable[bool] | bool], what: str) -> None:
    """Polls ``check`` (bounded, 10 s) until it holds."""
    for _ in range(1000):
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")
