"""A real gateway (grpc.aio on a free port) with tokens configured, in front
of the AMI simulator; and helpers that call any RPC by its full name."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from telgate_server.app import Gateway
from telgate_server.auth.roles import Role
from telgate_server.config import Settings, load_settings
from telgate_server.simulator.server import AmiSimulator

from tests.integration.conftest import wait_up
from tests.lab import LAB_SECRET, LAB_USER

# Tokens made for this test run: one holding each role alone, one holding
# every role but that one, and one holding all.
TOKENS: dict[str, tuple[str, list[Role]]] = {
    **{f"only-{r.name.lower()}": (secrets.token_urlsafe(24), [r]) for r in Role},
    **{
        f"all-but-{r.name.lower()}": (secrets.token_urlsafe(24), [o for o in Role if o is not r])
        for r in Role
    },
    "everything": (secrets.token_urlsafe(24), list(Role)),
}


def token(name: str) -> str:
    """The secret of one of TOKENS."""
    return TOKENS[name][0]


def only(role: Role) -> str:
    return token(f"only-{role.name.lower()}")


def all_but(role: Role) -> str:
    return token(f"all-but-{role.name.lower()}")


def settings_with(sim_port: int, **sections: Any) -> Settings:
    """Settings for a gateway on 127.0.0.1:0 in front of the simulator."""
    backend = {
        "kind": "ami",
        "host": "127.0.0.1",
        "port": sim_port,
        "username": LAB_USER,
        "secret": LAB_SECRET,
        "action_timeout": 2.0,
        "reconnect_min": 0.02,
        "reconnect_max": 0.2,
    }
    server = {"listen": "127.0.0.1:0", **sections.pop("server", {})}
    return load_settings(
        None,
        backends={"pbx": backend},
        events={"heartbeat_interval": 0.2},
        server=server,
        **sections,
    )


def token_auth(**auth: Any) -> dict[str, Any]:
    """An [auth] section holding every token of TOKENS."""
    tokens = {
        name: {"secret": s, "roles": [r.value for r in roles]}
        for name, (s, roles) in TOKENS.items()
    }
    return {"tokens": tokens, **auth}


@pytest.fixture(autouse=True)
def cdr_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's gateway keeps its CDR database in the test's own directory."""
    path = tmp_path / "cdr-data"
    monkeypatch.setenv("TELGATE_CDR__DATA_DIR", str(path))
    return path


@pytest.fixture
async def sim() -> AsyncIterator[AmiSimulator]:
    simulator = AmiSimulator(time_scale=0.05)
    await simulator.start("127.0.0.1", 0)
    try:
        yield simulator
    finally:
        await simulator.stop()


async def running(settings: Settings) -> Gateway:
    """A started gateway whose backend link is up."""
    gateway = Gateway(settings)
    await gateway.start()
    await wait_up(gateway)
    return gateway


@pytest.fixture
async def gateway(sim: AmiSimulator) -> AsyncIterator[Gateway]:
    gw = await running(settings_with(sim.port, auth=token_auth()))
    try:
        yield gw
    finally:
        await gw.stop(0)


def bearer(secret: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {secret}"),)


async def call(
    channel: grpc.aio.Channel,
    method: str,
    *,
    request_streaming: bool,
    response_streaming: bool,
    metadata: tuple[tuple[str, str], ...] = (),
) -> tuple[grpc.StatusCode, str]:
    """Calls ``method`` with an empty request (the empty message encodes as
    no bytes) and returns its status code and message; a response stream
    counts as OK once its first message arrived."""

    def raw(data: bytes) -> bytes:
        return data

    try:
        if response_streaming:
            if request_streaming:
                stream: Any = channel.stream_stream(method, raw, raw)(
                    iter(()), metadata=metadata, timeout=5
                )
            else:
                stream = channel.unary_stream(method, raw, raw)(b"", metadata=metadata, timeout=5)
            async for _ in stream:
                stream.cancel()
                return grpc.StatusCode.OK, ""
            return grpc.StatusCode.OK, ""
        if request_streaming:
            await channel.stream_unary(method, raw, raw)(iter(()), metadata=metadata, timeout=5)
        else:
            await channel.unary_unary(method, raw, raw)(b"", metadata=metadata, timeout=5)
    except grpc.aio.AioRpcError as exc:
        return exc.code(), exc.details() or ""
    return grpc.StatusCode.OK, ""
