"""A cluster instance that lost a link (lease expired, or given up) may win
it back later: each kind of backend starts again after a stop, against its
real-protocol fake (the simulator, the fake Simotel, the fake Sippy)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telgate_server.app import Gateway
from telgate_server.config import load_settings
from telgate_server.fakes.simotel.server import FAKE_PASSWORD, FakeSimotel
from telgate_server.fakes.sippy.server import FakeSippy
from telgate_server.gateway.model import LinkState
from telgate_server.simulator.server import AmiSimulator

from tests.integration.conftest import TIME_SCALE
from tests.lab import LAB_SECRET, LAB_USER

SIPPY_PASSWORD = secrets.token_urlsafe(16)


@pytest.fixture
async def backend_config() -> AsyncIterator[dict[str, dict[str, Any]]]:
    """One backend of each kind, each on its fake."""
    sim = AmiSimulator(time_scale=TIME_SCALE)
    await sim.start("127.0.0.1", 0)
    simotel = FakeSimotel()
    await simotel.start(port=0)
    sippy = FakeSippy(username="api-user", password=SIPPY_PASSWORD)
    await sippy.start()
    try:
        yield {
            "ami": {
                "kind": "ami",
                "host": "127.0.0.1",
                "port": sim.port,
                "username": LAB_USER,
                "secret": LAB_SECRET,
                "auth": "md5",
                "reconnect_min": 0.02,
                "reconnect_max": 0.2,
            },
            "simotel": {
                "kind": "simotel",
                "url": simotel.url,
                "username": "telgate-api",
                "password": FAKE_PASSWORD,
                "ping_interval": 0.2,
                "request_timeout": 5.0,
            },
            "sippy": {
                "kind": "sippy",
                "url": sippy.url,
                "username": "api-user",
                "password": SIPPY_PASSWORD,
                "currency": "USD",
                "poll_interval": 0.2,
                "read_timeout": 5.0,
                "sweep_interval": 0.0,
            },
        }
    finally:
        await sippy.stop()
        await simotel.stop()
        await sim.stop()


async def up(gw: Gateway, name: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while gw.registry.get(name).status.state is not LinkState.UP:
        assert time.monotonic() < deadline, f"{name}: {gw.registry.get(name).status}"
        await asyncio.sleep(0.02)


async def test_every_kind_starts_again_after_a_stop(
    backend_config: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    settings = load_settings(
        None,
        server={"listen": "127.0.0.1:0"},
        cdr={"data_dir": str(tmp_path / "cdr")},
        backends=backend_config,
    )
    gw = Gateway(settings)
    await gw.start()
    try:
        for name in backend_config:
            await up(gw, name)
            backend = gw.registry.get(name)
            await backend.stop()
            assert backend.status.state is LinkState.DOWN
            await backend.start()
            await up(gw, name)
            # And it works: the check talks to the PBX again.
            steps = await backend.check()
            assert all(step.ok for step in steps), (name, steps)
    finally:
        await gw.stop(0)
