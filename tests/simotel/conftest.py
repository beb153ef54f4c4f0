"""A fake Simotel (real HTTP) and a gateway linked to it on real ports: the
gateway's gRPC port, its webhook port, and the fake's API port."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from telgate_server.app import Gateway
from telgate_server.config import load_settings
from telgate_server.fakes.simotel.server import (
    FAKE_PASSWORD,
    CallPlan,
    Encoding,
    FakeSimotel,
    Style,
    WebhookTarget,
)

HOOK_USER = "simotel-hook"
HOOK_PASSWORD = secrets.token_urlsafe(12)


@dataclass
class Env:
    fake: FakeSimotel
    gateway: Gateway
    channel: grpc.aio.Channel

    @property
    def hook_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway.webhook_port}/simotel/sim"


Make = Callable[..., Awaitable[Env]]


@pytest.fixture
async def simotel(tmp_path: Path) -> AsyncIterator[Make]:
    """Makes a fake and a gateway: ``backend`` overrides the backend's settings,
    ``fake`` the fake's, ``style`` / ``encoding`` its webhook delivery,
    ``routing`` the [routing] section (budgets, fallback rules)."""
    made: list[Env] = []

    async def make(
        *,
        backend: dict[str, Any] | None = None,
        fake: dict[str, Any] | None = None,
        style: Style = "G",
        encoding: Encoding = "json",
        plan: CallPlan | None = None,
        data_dir: Path | None = None,
        fake_port: int = 0,
        existing: FakeSimotel | None = None,
        routing: dict[str, Any] | None = None,
    ) -> Env:
        sim = existing or FakeSimotel(plan=plan, **(fake or {}))
        if existing is None:
            await sim.start(port=fake_port)
        config: dict[str, Any] = {
            "kind": "simotel",
            "url": sim.url,
            "username": "telgate-api",
            "password": FAKE_PASSWORD,
            "ping_interval": 0.2,
            "originate_margin": 0.3,
            "webhook_username": HOOK_USER,
            "webhook_password": HOOK_PASSWORD,
            # Generous: a ping timing out on a loaded machine would drop the link.
            "request_timeout": 5.0,
        }
        config.update(backend or {})
        settings = load_settings(
            None,
            server={"listen": "127.0.0.1:0"},
            cdr={"data_dir": str(data_dir or tmp_path / "cdr")},
            events={"heartbeat_interval": 0.2},
            webhooks={"listen": "127.0.0.1:0"},
            backends={"sim": config},
            routing=routing or {},
        )
        gateway = Gateway(settings)
        port = await gateway.start()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        env = Env(sim, gateway, channel)
        sim.webhook = WebhookTarget(
            env.hook_url,
            style=style,
            encoding=encoding,
            username=HOOK_USER,
            password=HOOK_PASSWORD,
        )
        made.append(env)
        return env

    yield make
    for env in made:
        await env.fake.stop()
        await env.channel.close()
        await env.gateway.stop(0)
