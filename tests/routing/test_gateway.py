"""The gateway's own wiring: its hub is what backends are given, Route needs
the calls.route role, and a shutdown ends routers' streams at once."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from telgate_server.app import Gateway
from telgate_server.config import load_settings
from telgate_server.routing.model import RouteKind

from tests.routing.conftest import Router, route_query

# Made per run: nothing that looks like a credential is committed.
ROUTER_TOKEN = secrets.token_urlsafe(24)
ADMIN_TOKEN = secrets.token_urlsafe(24)


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    settings = load_settings(
        None,
        server={"listen": "127.0.0.1:0"},
        cdr={"data_dir": str(tmp_path / "cdr")},
        auth={
            "tokens": {
                "crm": {"secret": ROUTER_TOKEN, "roles": ["calls.route"]},
                "ops": {"secret": ADMIN_TOKEN, "roles": ["admin"]},
            }
        },
        shutdown={"grace": 30},
        routing={"fallback": [{"decision": {"extension": "100"}}]},
    )
    gw = Gateway(settings, backends={})
    await gw.start()
    try:
        yield gw
    finally:
        if not gw.drain.draining:  # a test may have stopped it
            await gw.stop(0)


def channel_with(gateway: Gateway, token: str) -> grpc.aio.Channel:
    def bearer(context: object, callback: object) -> None:
        callback((("authorization", f"Bearer {token}"),), None)  # type: ignore[operator]

    return grpc.aio.secure_channel(
        f"localhost:{gateway.port}",
        grpc.composite_channel_credentials(
            grpc.local_channel_credentials(),
            grpc.metadata_call_credentials(bearer),  # type: ignore[arg-type]
        ),
    )


async def test_route_needs_the_calls_route_role(gateway: Gateway) -> None:
    async with channel_with(gateway, ADMIN_TOKEN) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await Router(channel).register(["sales"])
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "calls.route" in (info.value.details() or "")
    assert gateway.routes.routers == []


async def test_a_shutdown_ends_routers_at_once_and_their_queries_fall_back(
    gateway: Gateway,
) -> None:
    async with channel_with(gateway, ROUTER_TOKEN) as channel:
        router = Router(channel)
        await router.register(["sales"])
        asking = asyncio.create_task(
            gateway.routes.ask(route_query("sales", RouteKind.SIMOTEL_EXTEN, within=30))
        )
        await router.query()
        # With 30 s of grace, only the drain ends the stream before the grace does.
        await gateway.stop(30)
        assert await router.call.code() == grpc.StatusCode.UNAVAILABLE
        assert "connect the router again" in await router.call.details()
        answer = await asking
        assert answer.fallback and answer.why.endswith("disconnected before deciding")
        await router.close()
