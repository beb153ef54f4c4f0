"""A real gateway (grpc.aio on a free port) in front of the AMI simulator (a
real TCP server), for tests that go through gRPC end to end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from telgate.v1 import events_pb2
from telgate_server.app import Gateway
from telgate_server.config import load_settings
from telgate_server.simulator.server import AmiSimulator

# Lab delays (1 s ring, 4 s talk...) run 20 times faster.
TIME_SCALE = 0.05
# The fixture lab's AMI account (a value from ../shared/fixtures, not a credential).
LAB_USER, LAB_SECRET = "telgate", "telgate-secret"


def gateway_settings(port: int, **ami: Any) -> Any:
    backend = {
        "kind": "ami",
        "host": "127.0.0.1",
        "port": port,
        "username": LAB_USER,
        "secret": LAB_SECRET,
        "auth": "md5",
        "action_timeout": 2.0,
        "ping_interval": 5.0,
        "reconnect_min": 0.02,
        "reconnect_max": 0.2,
        "auth_retry": 0.5,
    }
    backend.update(ami)
    return load_settings(
        None,
        backends={"pbx": backend},
        events={"heartbeat_interval": 0.2, "subscriber_queue": 10_000},
        server={"listen": "127.0.0.1:0"},
    )


@pytest.fixture(autouse=True)
def cdr_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's gateway keeps its CDR database in the test's own directory."""
    path = tmp_path / "cdr-data"
    monkeypatch.setenv("TELGATE_CDR__DATA_DIR", str(path))
    return path


@pytest.fixture
async def sim() -> AsyncIterator[AmiSimulator]:
    simulator = AmiSimulator(time_scale=TIME_SCALE)
    await simulator.start("127.0.0.1", 0)
    try:
        yield simulator
    finally:
        await simulator.stop()


async def start_gateway(settings: Any) -> Gateway:
    gateway = Gateway(settings)
    await gateway.start()
    return gateway


@pytest.fixture
async def gateway(sim: AmiSimulator) -> AsyncIterator[Gateway]:
    gw = await start_gateway(gateway_settings(sim.port))
    backend = gw.registry.get("pbx")
    for _ in range(200):
        if backend.status.state.value == "up":
            break
        await asyncio.sleep(0.02)
    try:
        yield gw
    finally:
        await gw.stop(0)


@pytest.fixture
async def channel(gateway: Gateway) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as ch:
        yield ch


class EventReader:
    """Reads a Subscribe stream in the background into a list."""

    def __init__(self, call: Any) -> None:
        self.call = call
        self.events: list[events_pb2.Event] = []
        self.responses: list[events_pb2.SubscribeResponse] = []
        self.error: grpc.aio.AioRpcError | None = None
        self._changed = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            async for response in self.call:
                self.responses.append(response)
                self.events.extend(response.events)
                self._changed.set()
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                self.error = exc
            self._changed.set()

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        """Waits until ``predicate(self)`` holds (or the stream failed)."""

        async def loop() -> None:
            while not predicate(self):
                if self.error is not None or self.task.done():
                    raise AssertionError(f"stream ended: {self.error}")
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(loop(), timeout)

    def kinds(self) -> list[str]:
        return [e.WhichOneof("payload") or e.name for e in self.events]

    async def close(self) -> None:
        self.call.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
