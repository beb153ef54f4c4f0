"""Gateway instances of one cluster as real `telgate serve` processes
(JetStream hub, PostgreSQL CDR store, link leases), for the failover test
and bench/bench_failover.py."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from telgate.v1 import backends_pb2, backends_pb2_grpc, events_pb2, events_pb2_grpc

from tests.integration.serve_process import ServeProcess
from tests.lab import LAB_SECRET, LAB_USER, free_port

_names = itertools.count(1)


@dataclass
class Link:
    """An AMI link every instance is configured with."""

    name: str
    port: int
    host: str = "127.0.0.1"
    # [backends.<name>.cdr_backfill] kind = "sqlite" path = ...
    backfill: Path | None = None


@dataclass
class Cluster:
    """What the instances share: NATS (stream, bucket), a PostgreSQL database."""

    nats_url: str
    dsn: str
    links: list[Link]
    lease_ttl: float = 3.0
    name: str = field(default_factory=lambda: f"C{next(_names)}_{int(time.time() * 1000)}")

    def config(self, instance: str, port: int) -> str:
        text = f"""
log_format = "json"

[server]
listen = "127.0.0.1:{port}"

[events]
hub = "jetstream"
heartbeat_interval = 0.2

[events.nats]
url = "{self.nats_url}"
stream = "{self.name}"
subject_prefix = "{self.name.lower()}.events"

[cdr]
store = "postgres"

[cluster]
enabled = true
instance_id = "{instance}"
advertise = "127.0.0.1:{port}"
bucket = "{self.name}_LINKS"
lease_ttl = {self.lease_ttl}
"""
        for link in self.links:
            text += f"""
[backends.{link.name}]
kind = "ami"
host = "{link.host}"
port = {link.port}
username = "{LAB_USER}"
auth = "md5"
reconnect_min = 0.02
reconnect_max = 0.2
"""
            if link.backfill is not None:
                text += f"""
[backends.{link.name}.cdr_backfill]
kind = "sqlite"
path = "{link.backfill}"
"""
        return text

    def instance(self, instance: str, folder: Path) -> Instance:
        port = free_port()
        config = folder / f"{instance}.toml"
        config.write_text(self.config(instance, port), encoding="utf-8")
        env = {"TELGATE_CDR__DSN": self.dsn}
        for link in self.links:
            env[f"TELGATE_BACKENDS__{link.name.upper()}__SECRET"] = LAB_SECRET
        process = ServeProcess(config, folder / f"{instance}.log", env)
        return Instance(instance, f"127.0.0.1:{port}", process)


@dataclass
class Instance:
    """One `telgate serve` of the cluster."""

    name: str
    address: str
    process: ServeProcess

    async def start(self) -> None:
        """Starts it and waits until its gRPC server answers health checks."""
        await self.process.start(self.address, backend=None)

    async def serving(self, service: str = "") -> bool:
        async with grpc.aio.insecure_channel(self.address) as channel:
            stub: Any = health_pb2_grpc.HealthStub(channel)
            try:
                answer = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=1)
            except grpc.aio.AioRpcError:
                return False
            return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)

    async def backends(self) -> dict[str, backends_pb2.Backend]:
        async with grpc.aio.insecure_channel(self.address) as channel:
            stub = backends_pb2_grpc.BackendServiceStub(channel)
            answer = await stub.ListBackends(backends_pb2.ListBackendsRequest(), timeout=5)
            return {b.name: b for b in answer.backends}

    async def owns(self, *links: str) -> bool:
        """Whether this instance runs each of ``links`` with its link up."""
        try:
            found = await self.backends()
        except grpc.aio.AioRpcError:
            return False
        return all(
            found[n].owned_here and found[n].link_state == backends_pb2.LINK_STATE_UP for n in links
        )


async def until(predicate: Callable[[], Any], timeout: float, what: str) -> None:
    """Polls ``predicate`` (a coroutine function) until it holds (bounded)."""
    deadline = time.monotonic() + timeout
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def new_database(admin_dsn: str, name: str) -> None:
    """Creates an empty database for one cluster."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


class Watcher:
    """A Subscribe stream read in the background: every event, in order."""

    def __init__(self, channel: grpc.aio.Channel, request: events_pb2.SubscribeRequest) -> None:
        stub = events_pb2_grpc.EventServiceStub(channel)
        self.call = stub.Subscribe(request)
        self.events: list[events_pb2.Event] = []
        # time.monotonic() when each event arrived (benchmarks).
        self.arrived: list[float] = []
        self.epoch = ""
        self.error: grpc.aio.AioRpcError | None = None
        self.task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        try:
            async for response in self.call:
                if response.HasField("started"):
                    self.epoch = response.started.position.epoch
                self.events.extend(response.batch.events)
                self.arrived.extend([time.monotonic()] * len(response.batch.events))
        except grpc.aio.AioRpcError as exc:
            self.error = exc

    async def wait_for(self, predicate: Callable[[list[events_pb2.Event]], bool], timeout: float,
                       what: str) -> None:  # fmt: skip
        deadline = time.monotonic() + timeout
        while not predicate(self.events):
            assert self.error is None, f"the stream ended: {self.error}"
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        self.call.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


def link_events(events: list[events_pb2.Event], backend: str) -> list[events_pb2.Event]:
    """The `link_state_changed` events of one backend."""
    return [
        e
        for e in events
        if e.backend == backend and e.WhichOneof("payload") == "link_state_changed"
    ]


def takeover_by(events: list[events_pb2.Event], backend: str, instance: str) -> bool:
    """Whether ``instance`` announced it runs ``backend`` now and its link came
    up with the PBX's state re-read."""
    found = link_events(events, backend)
    announced = [
        i
        for i, e in enumerate(found)
        if f"gateway instance '{instance}'" in e.link_state_changed.detail
        and "runs this link now" in e.link_state_changed.detail
    ]
    return bool(announced) and any(
        e.link_state_changed.state_reloaded for e in found[announced[-1] + 1 :]
    )
