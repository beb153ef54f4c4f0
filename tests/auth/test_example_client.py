"""The Python example authenticates with TELGATE_TOKEN: it places and hangs
up a call through a gateway that requires tokens (over TLS here, with its
--ca-file option), and without the token it is refused."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from telgate_server.simulator.server import AmiSimulator

from tests.auth.certs import Authority
from tests.auth.conftest import running, settings_with, token, token_auth

EXAMPLE = Path(__file__).resolve().parents[2] / "clients/python/examples/originate_call.py"


async def run_example(target: str, ca: Path, token_value: str | None) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k != "TELGATE_TOKEN"}
    if token_value is not None:
        env["TELGATE_TOKEN"] = token_value
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLE),
        "--target",
        target,
        "--ca-file",
        str(ca),
        "--max-seconds",
        "20",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 40)
    return process.returncode or 0, output.decode()


async def test_example_uses_telgate_token(sim: AmiSimulator, tmp_path: Path) -> None:
    ca = Authority(tmp_path)
    server = ca.issue("server", "telgate", server=True)
    tls = {"cert_file": str(server.cert_path), "key_file": str(server.key_path)}
    gw = await running(settings_with(sim.port, server={"tls": tls}, auth=token_auth()))
    target = f"localhost:{gw.port}"
    try:
        code, output = await run_example(target, ca.cert_path, None)
        assert code == 2, output
        assert "error: UNAUTHENTICATED" in output
        code, output = await run_example(target, ca.cert_path, token("only-calls_control"))
        assert code == 2, output
        assert "needs the role `events.read`" in output  # Subscribe, after Originate
        code, output = await run_example(target, ca.cert_path, token("everything"))
        assert code == 0, output
        assert "call over: every channel hung up" in output
    finally:
        await gw.stop(0)
