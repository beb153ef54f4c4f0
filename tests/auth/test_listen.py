"""With nobody configured, the gateway serves anonymous callers on loopback
only, unless the configuration allows more (and then it warns)."""

from __future__ import annotations

import logging
from pathlib import Path

import grpc
import pytest
from telgate.v1 import backends_pb2, backends_pb2_grpc, calls_pb2, calls_pb2_grpc
from telgate_server.app import Gateway
from telgate_server.auth.listen import is_local
from telgate_server.settings_strict import ConfigError
from telgate_server.simulator.server import AmiSimulator

from tests.auth.cli import run_cli
from tests.auth.conftest import settings_with, token_auth


@pytest.mark.parametrize(
    ("address", "local"),
    [
        ("127.0.0.1:50051", True),
        ("127.0.0.2:0", True),
        ("localhost:50051", True),
        ("[::1]:50051", True),
        ("unix:/run/telgate.sock", True),
        ("0.0.0.0:50051", False),
        ("[::]:50051", False),
        (":50051", False),
        ("10.0.0.5:50051", False),
        ("gateway.example.internal:50051", False),
    ],
)
def test_local_addresses(address: str, local: bool) -> None:
    assert is_local(address) is local


async def test_no_tokens_refuses_every_interface(sim: AmiSimulator) -> None:
    gateway = Gateway(settings_with(sim.port, server={"listen": "0.0.0.0:0"}))
    with pytest.raises(ConfigError, match=r"refusing to listen on 0\.0\.0\.0:0 without auth"):
        await gateway.start()
    assert gateway.port == 0  # nothing was bound
    await gateway.stop(0)


async def test_allow_unauthenticated_serves_and_warns(
    sim: AmiSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_with(
        sim.port, server={"listen": "0.0.0.0:0"}, auth={"allow_unauthenticated": True}
    )
    gateway = Gateway(settings)
    with caplog.at_level(logging.WARNING, logger="telgate.auth"):
        await gateway.start()
    try:
        assert "with no authentication" in caplog.text
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as ch:
            # ListBackends answers whatever the PBX link is doing.
            stub = backends_pb2_grpc.BackendServiceStub(ch)
            answer = await stub.ListBackends(backends_pb2.ListBackendsRequest(), timeout=5)
            assert [b.name for b in answer.backends] == ["pbx"]
    finally:
        await gateway.stop(0)


async def test_tokens_may_listen_everywhere_and_refuse_anonymous(sim: AmiSimulator) -> None:
    gateway = Gateway(settings_with(sim.port, server={"listen": "0.0.0.0:0"}, auth=token_auth()))
    await gateway.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as ch:
            stub = calls_pb2_grpc.CallControlServiceStub(ch)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.ListChannels(calls_pb2.ListChannelsRequest(), timeout=5)
            assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
    finally:
        await gateway.stop(0)


def test_serve_and_check_config_refuse_every_interface_without_tokens(tmp_path: Path) -> None:
    config = tmp_path / "gw.toml"
    config.write_text(
        '[server]\nlisten = "0.0.0.0:50051"\n[backends.pbx]\nusername = "u"\nport = 1\n'
    )
    env = {"TELGATE_BACKENDS__PBX__SECRET": "lab-secret-value"}
    for args in (["check-config"], ["serve"]):
        result = run_cli(*args, "--config", str(config), env=env)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "refusing to listen on 0.0.0.0:50051 without authentication" in result.stderr
