"""The fake Sippy switch and gateways linked to it."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from telgate_server.app import Gateway
from telgate_server.config import load_settings
from telgate_server.fakes.sippy.server import FakeSippy

USER = "api-user"
PASSWORD = secrets.token_urlsafe(12)


@pytest.fixture(autouse=True)
def cdr_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's gateway keeps its CDR database in the test's own directory."""
    data = tmp_path / "data"
    monkeypatch.setenv("TELGATE_CDR__DATA_DIR", str(data))
    return data


@pytest.fixture
async def fake() -> AsyncIterator[FakeSippy]:
    switch = FakeSippy(username=USER, password=PASSWORD)
    await switch.start()
    try:
        yield switch
    finally:
        await switch.stop()


def sippy_backend(fake: FakeSippy, **over: Any) -> dict[str, Any]:
    """A sippy backend section pointing at ``fake``."""
    backend: dict[str, Any] = {
        "kind": "sippy",
        "url": fake.url,
        "username": USER,
        "password": PASSWORD,
        "currency": "USD",
        "poll_interval": 0.2,
        "overlap": 120.0,
        "page_size": 50,
        "first_lookback": 3600.0,
        "backoff_max": 0.5,
        "read_timeout": 5.0,
        # No sweep unless a test asks (its window would be one more read).
        "sweep_interval": 0.0,
    }
    backend.update(over)
    return backend


def settings_for(fake: FakeSippy, **over: Any) -> Any:
    return load_settings(
        None,
        backends={"sippy": sippy_backend(fake, **over)},
        server={"listen": "127.0.0.1:0"},
    )


@pytest.fixture
async def gateway_for(
    fake: FakeSippy,
) -> AsyncIterator[Callable[..., Any]]:
    """Starts gateways linked to the fake (stopped at the end)."""
    started: list[Gateway] = []

    async def start(**over: Any) -> Gateway:
        gateway = Gateway(settings_for(fake, **over))
        await gateway.start()
        started.append(gateway)
        return gateway

    try:
        yield start
    finally:
        for gateway in started:
            await gateway.stop(0)


async def until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Waits (bounded) until ``condition()`` holds."""
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition did not come true in time")
