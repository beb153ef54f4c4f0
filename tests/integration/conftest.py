"""A real gateway (grpc.aio on a free port) in front of the AMI simulator (a
real TCP server), for tests that go through gRPC end to end; and, through
``pbx_channel``, in front of either the simulator or the real Asterisk lab
(tests/lab.py), so that one scenario runs against both with the same
assertions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from telgate.v1 import events_pb2
from telgate_server.app import Gateway
from telgate_server.config import load_settings
from telgate_server.simulator.server import AmiSimulator

from tests.lab import LAB_SECRET, LAB_USER, Lab

# Lab delays (1 s ring, 4 s talk...) run 20 times faster.
TIME_SCALE = 0.05


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


async def wait_up(gateway: Gateway, what: str = "the PBX") -> None:
    """Waits (up to 10 s) until the gateway's link to backend `pbx` is up."""
    backend = gateway.registry.get("pbx")
    for _ in range(1000):
        if backend.status.state.value == "up":
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the gateway's link to {what} did not come up: {backend.status}")


@pytest.fixture
async def gateway(sim: AmiSimulator) -> AsyncIterator[Gateway]:
    gw = await start_gateway(gateway_settings(sim.port))
    await wait_up(gw)
    try:
        yield gw
    finally:
        await gw.stop(0)


@pytest.fixture
async def channel(gateway: Gateway) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as ch:
        yield ch


# -- one scenario, two PBXs ------------------------------------------------------


@dataclass
class Pbx:
    """The PBX a ``pbx_channel`` test runs against: the simulator or the real lab."""

    kind: str  # "sim" or "asterisk"
    port: int
    sim: AmiSimulator | None = None
    lab: Lab | None = None

    @property
    def real(self) -> bool:
        return self.lab is not None

    async def wait_idle(self, timeout: float = 10.0) -> None:
        """Hangs up whatever is left (a test's calls, a phone still talking) and
        waits until the PBX has no channel, so the next test starts from nothing.
        (A simulator lives for one test only.)"""
        if self.lab is not None:
            lab = self.lab
            await asyncio.to_thread(lab.cli, "channel request hangup all")
            deadline = time.monotonic() + timeout
            while True:
                out = await asyncio.to_thread(lab.cli, "core show channels count")
                if out.lstrip().startswith("0 active channels"):
                    return
                if time.monotonic() > deadline:
                    raise AssertionError(f"the lab still has channels: {out.strip()}")
                await asyncio.sleep(0.05)


@pytest.fixture(params=["sim", "asterisk"])
async def pbx(request: pytest.FixtureRequest) -> AsyncIterator[Pbx]:
    """Each test that takes it runs twice: against the simulator (lab delays 20
    times faster) and against the real Asterisk lab (real time). The real one
    is left idle before and after the test."""
    if request.param == "sim":
        simulator = AmiSimulator(time_scale=TIME_SCALE)
        await simulator.start("127.0.0.1", 0)
        try:
            yield Pbx("sim", simulator.port, sim=simulator)
        finally:
            await simulator.stop()
        return
    lab: Lab = request.getfixturevalue("asterisk_lab")
    pbx = Pbx("asterisk", lab.port, lab=lab)
    await pbx.wait_idle()
    try:
        yield pbx
    finally:
        await pbx.wait_idle()


@pytest.fixture
async def pbx_gateway(pbx: Pbx) -> AsyncIterator[Gateway]:
    gw = await start_gateway(gateway_settings(pbx.port))
    await wait_up(gw, f"the {pbx.kind} PBX")
    try:
        yield gw
    finally:
        await gw.stop(0)


@pytest.fixture
async def pbx_channel(pbx_gateway: Gateway) -> AsyncIterator[grpc.aio.Channel]:
    """A gRPC channel to a gateway in front of the simulator or the real lab."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{pbx_gateway.port}") as ch:
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
                self.events.extend(response.batch.events)
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


# Typed events that make up a channel's life; the others (dialplan steps,
# variables, caller id updates) follow the dialplan and are left out, and so is
# originate_result and the originate's own dial events (those with no caller):
# Asterisk sends them from the originating thread, so where they fall among the
# channel's own events varies from run to run on the real PBX.
LIFE = frozenset(
    {
        "channel_created",
        "channel_state_changed",
        "dial_started",
        "dial_state_changed",
        "dial_ended",
        "bridge_entered",
        "bridge_left",
        "hangup_requested",
        "channel_hung_up",
        "hold",
        "unhold",
        "blind_transfer",
        "attended_transfer",
    }
)


def life_step(event: events_pb2.Event) -> str:
    """One event as `kind` plus what tells it apart (state, dial status, cause)."""
    kind = event.WhichOneof("payload") or event.name
    if kind == "channel_state_changed":
        return f"{kind}:{event.channel_state_changed.channel.state_description}"
    if kind == "dial_ended":
        return f"{kind}:{event.dial_ended.status_text}"
    if kind == "channel_hung_up":
        return f"{kind}:{event.channel_hung_up.cause}"
    return kind


def channel_shape(name: str) -> str:
    """A channel name without its per-run counter: `Local/201@phones;1`."""
    base, sep, half = name.rpartition(";")
    if not sep:
        return name
    return f"{base.rpartition('-')[0]};{half}"


def lives(events: list[events_pb2.Event], kinds: frozenset[str] = LIFE) -> dict[str, list[str]]:
    """Each channel's typed events in order, by channel shape (one call's events).

    A HangupRequest is sent by the thread that asks for the hang-up (another
    channel's, or the AMI session's), so on the real PBX it may come before or
    after the channel's own last state change: each is listed just before the
    channel's hang-up (one that comes after it stays where it is, and shows)."""
    out: dict[str, list[str]] = {}
    requested: dict[str, int] = {}
    for event in events:
        kind = event.WhichOneof("payload") or ""
        if kind not in kinds or not event.channel:
            continue
        if kind.startswith("dial_") and not getattr(event, kind).caller.name:
            continue
        shape = channel_shape(event.channel)
        steps = out.setdefault(shape, [])
        hung_up = any(s.startswith("channel_hung_up") for s in steps)
        if kind == "hangup_requested" and not hung_up:
            requested[shape] = requested.get(shape, 0) + 1
            continue
        if kind == "channel_hung_up":
            steps.extend(["hangup_requested"] * requested.pop(shape, 0))
        steps.append(life_step(event))
    for shape, count in requested.items():  # requested, never hung up
        out[shape].extend(["hangup_requested"] * count)
    return out
