"""The gateway's HTTP/2 keepalive (``[server] keepalive_*``) drops a router
whose connection went silent (no FIN, no RST): its waiting query gets the
fallback at once instead of waiting out its deadline. A TCP relay between
the router and the gateway plays the dead network."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import grpc
from telgate.v1 import events_pb2, events_pb2_grpc
from telgate_server.api.keepalive import server_options
from telgate_server.app import Gateway
from telgate_server.config import load_settings
from telgate_server.routing import model as m
from telgate_server.routing.hub import FALLBACK_ROUTER_GONE, FALLBACK_TIMEOUT

from tests.routing.conftest import Router, eventually, route_query, routing_server
from tests.routing.relay import relay_to
from tests.routing.test_example_router import router_process

FALLBACK = {"fallback": [{"route": "*", "decision": {"extension": "100"}}]}


def settings(**server: Any) -> Any:
    return load_settings(None, server=server, routing=FALLBACK)


async def test_a_router_gone_silent_is_dropped_and_its_query_falls_back_at_once() -> None:
    # Pings after 1 s of quiet, 1 s for the answer; the query may wait 60 s.
    config = settings(keepalive_time=1, keepalive_timeout=1)
    async with (
        routing_server(config.routing, server_options(config.server)) as routing,
        relay_to(routing.address) as relay,
    ):
        router = await routing.router(["sales"], address=relay.address)
        assert relay.connections == 1 and [link.id for link in routing.hub.routers] == [
            router.router_id
        ]
        relay.blackhole()
        asking = asyncio.create_task(routing.hub.ask(route_query("sales", within=60)))
        # Bounded only so a broken keepalive fails instead of hanging: the
        # answer comes from the router leaving, its reason says so.
        answer = await asyncio.wait_for(asking, 50)
        assert answer == m.Answer(
            m.RouteToExtension("100"),
            fallback=True,
            why=f"router {router.router_id} disconnected before deciding",
        )
        assert routing.observed[-1][:2] == ("pbx", FALLBACK_ROUTER_GONE)
        assert routing.hub.routers == []
        # The query (and the gateway's pings) went into the dead link, never to the router.
        assert relay.swallowed_from_gateway > 0
        assert router.queries.empty()


async def test_without_keepalive_a_silent_router_holds_its_query_to_the_deadline() -> None:
    config = settings(keepalive_time=0)
    async with (
        routing_server(config.routing, server_options(config.server)) as routing,
        relay_to(routing.address) as relay,
    ):
        router = await routing.router(["sales"], address=relay.address)
        relay.blackhole()
        answer = await routing.hub.ask(route_query("sales", within=2))
        assert answer == m.Answer(
            m.RouteToExtension("100"),
            fallback=True,
            why=f"router {router.router_id} gave no decision by the deadline",
        )
        assert routing.observed[-1][:2] == ("pbx", FALLBACK_TIMEOUT)
        # Still registered: the next query would go to it (and wait) as well.
        assert [link.id for link in routing.hub.routers] == [router.router_id]
        await eventually(lambda: relay.swallowed_from_gateway > 0, "the query was swallowed")


async def test_the_example_router_notices_a_gateway_gone_silent() -> None:
    # The gateway lets clients ping each second; the router pings after 2 s.
    config = settings(keepalive_min_client_interval=1)
    async with (
        routing_server(config.routing, server_options(config.server)) as routing,
        relay_to(routing.address) as relay,
        router_process(relay.address, "--keepalive", "2", "--keepalive-timeout", "1") as router,
    ):
        await router.line_with("registered as router-1")
        relay.blackhole()
        # Nothing reaches the router any more: only its own pings can tell.
        line = await router.line_with("stream broke")
        assert line.startswith("stream broke: UNAVAILABLE") and "ping timeout" in line.lower()


async def test_the_gateway_frees_the_streams_of_a_client_gone_silent(tmp_path: Path) -> None:
    # The whole gateway (app.py's server): its keepalive comes from [server].
    settings = load_settings(
        None,
        server={"listen": "127.0.0.1:0", "keepalive_time": 1, "keepalive_timeout": 1},
        cdr={"data_dir": str(tmp_path / "cdr")},
        routing=FALLBACK,
    )
    gateway = Gateway(settings, backends={})
    await gateway.start()
    try:
        async with relay_to(f"127.0.0.1:{gateway.port}") as relay:
            channel = grpc.aio.insecure_channel(relay.address)
            router = Router(channel)
            subscription = events_pb2_grpc.EventServiceStub(channel).Subscribe(
                events_pb2.SubscribeRequest()
            )
            try:
                await router.register(["sales"])
                await eventually(lambda: gateway.streams.count == 2, "Route and Subscribe open")
                relay.blackhole()
                answer = await gateway.routes.ask(route_query("sales", within=60))
                assert answer.fallback and answer.why == (
                    f"router {router.router_id} disconnected before deciding"
                )
                await eventually(lambda: gateway.streams.count == 0, "both streams freed")
                assert gateway.routes.routers == []
            finally:
                subscription.cancel()
                await router.close()
    finally:
        await gateway.stop(0)
