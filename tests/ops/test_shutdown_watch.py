"""grpc.health.v1 Watch streams at shutdown: each watcher is sent NOT_SERVING,
then its stream ends (UNAVAILABLE, reason SHUTTING_DOWN) without waiting for
the server to stop: the stock Watch never ends by itself, so one load
balancer watching held every shutdown for the whole `shutdown.grace`.
The gRPC server is not stopped here at all: the streams must end on their own."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from telgate_server.app import backend_health_name
from telgate_server.simulator.server import AmiSimulator

from tests.integration.conftest import gateway_settings, start_gateway, wait_up
from tests.integration.test_calls import error_info

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class Watcher:
    """Reads one Watch stream into a list of statuses, then its end."""

    def __init__(self, channel: grpc.aio.Channel, service: str) -> None:
        stub: Any = health_pb2_grpc.HealthStub(channel)
        self.call = stub.Watch(health_pb2.HealthCheckRequest(service=service))
        self.statuses: list[int] = []
        self.error: grpc.aio.AioRpcError | None = None
        self.task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        try:
            while (message := await self.call.read()) is not grpc.aio.EOF:
                self.statuses.append(message.status)
        except grpc.aio.AioRpcError as exc:
            self.error = exc

    async def seen(self, status: int) -> None:
        for _ in range(1000):
            if self.statuses and self.statuses[-1] == status:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"status {status} never came; got {self.statuses}")

    async def ended(self) -> grpc.aio.AioRpcError:
        await asyncio.wait_for(self.task, 15)
        assert self.error is not None, "the watch ended without a status"
        return self.error


def assert_shutting_down(exc: grpc.aio.AioRpcError) -> None:
    assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc
    assert "shutting down (health NOT_SERVING)" in (exc.details() or "")
    assert error_info(exc).reason == "ERROR_REASON_SHUTTING_DOWN"


async def test_watchers_are_told_not_serving_then_their_streams_end() -> None:
    sim = AmiSimulator()
    await sim.start("127.0.0.1", 0)
    gateway = await start_gateway(gateway_settings(sim.port))
    try:
        await wait_up(gateway)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
            overall = Watcher(channel, "")
            backend = Watcher(channel, backend_health_name("pbx"))
            await overall.seen(SERVING)
            await backend.seen(SERVING)
            # The PBX goes away: its watcher is told, the overall one is not.
            await sim.stop()
            await backend.seen(NOT_SERVING)
            assert overall.statuses == [SERVING]

            gateway.drain.begin()
            await gateway.health.enter_graceful_shutdown()
            # Serving until now: told NOT_SERVING, then ended.
            assert_shutting_down(await overall.ended())
            assert overall.statuses == [SERVING, NOT_SERVING]
            # Already not serving (nothing more to tell): ended at once.
            assert_shutting_down(await backend.ended())
            assert backend.statuses == [SERVING, NOT_SERVING]
            # A watch opened while draining: its one status, then its end.
            late = Watcher(channel, "")
            assert_shutting_down(await late.ended())
            assert late.statuses == [NOT_SERVING]
            assert gateway.drain.open_streams == 0
            assert gateway.streams.count == 0
    finally:
        await gateway.stop(0)
        await sim.stop()
