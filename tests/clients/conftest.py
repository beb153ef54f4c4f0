"""One live gateway (token auth) for the client tests of every language, run
twice: with the AMI simulator behind it and with the real Asterisk lab
(tests/integration's ``pbx`` fixture); each test runs its language's own test
runner as a child process, pointed at the gateway through the environment:

    TELGATE_TARGET   host:port of the gateway (plaintext)
    TELGATE_TOKEN    a bearer token holding every role
    TELGATE_ENDPOINT, TELGATE_CONTEXT, TELGATE_EXTEN
                     a call the simulator answers and bridges
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from telgate.v1 import cdrs_pb2, cdrs_pb2_grpc
from telgate_server.app import Gateway
from telgate_server.simulator.server import AmiSimulator

from tests.auth.conftest import running, settings_with, token, token_auth
from tests.integration.conftest import Pbx
from tests.integration.conftest import pbx as pbx  # noqa: PLC0414 (re-exported: the fixture live_gateway takes)

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class LiveGateway:
    """Where a client test finds the gateway, and how it authenticates."""

    target: str
    token: str

    def env(self, **extra: str) -> dict[str, str]:
        """The process environment for a client test run."""
        return {
            **os.environ,
            "TELGATE_TARGET": self.target,
            "TELGATE_TOKEN": self.token,
            "TELGATE_ENDPOINT": "Local/201@phones",
            "TELGATE_CONTEXT": "from-internal",
            "TELGATE_EXTEN": "202",
            **extra,
        }


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


@pytest.fixture
async def live_gateway(pbx: Pbx) -> AsyncIterator[LiveGateway]:
    """A gateway that requires tokens, its link up to the simulator or to the
    real Asterisk lab (the same dialplan: 201 answers, then 202 is dialled)."""
    gw: Gateway = await running(settings_with(pbx.port, auth=token_auth()))
    try:
        yield LiveGateway(target=f"127.0.0.1:{gw.port}", token=token("everything"))
    finally:
        await gw.stop(0)


async def run_client(
    argv: Sequence[str], *, cwd: Path, env: dict[str, str], timeout: float = 240
) -> tuple[int, str]:
    """Runs a client test runner without blocking the gateway's event loop;
    returns its exit code and its output (stdout and stderr together)."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        output, _ = await process.communicate()
        return -1, output.decode(errors="replace") + f"\n(killed after {timeout} s)"
    return process.returncode or 0, output.decode(errors="replace")


async def stored_cdrs(channel: grpc.aio.Channel, token: str, after: int) -> list[cdrs_pb2.Cdr]:
    """The CDRs the gateway holds with a cursor above ``after`` (a replay, not
    followed): what a test checks an example's printed cursor against."""
    return [
        cdr
        async for response in cdrs_pb2_grpc.CdrServiceStub(channel).StreamCdrs(
            cdrs_pb2.StreamCdrsRequest(after_cursor=after),
            metadata=(("authorization", f"Bearer {token}"),),
            timeout=30,
        )
        for cdr in response.cdrs
    ]
