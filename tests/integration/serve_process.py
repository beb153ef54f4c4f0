"""`telgate serve` as a real process, with its stderr (the logs) in a file,
for the tests of signals, shutdown and log contents."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

REPO = Path(__file__).resolve().parents[2]
TELGATE = Path(sys.executable).with_name("telgate")


class ServeProcess:
    """One `telgate serve --config <file>` with the given environment."""

    def __init__(self, config: Path, log_file: Path, env: dict[str, str]) -> None:
        self.config = config
        self.log_file = log_file
        base = {k: v for k, v in os.environ.items() if not k.startswith("TELGATE_")}
        self.env = {**base, **env}
        self.proc: asyncio.subprocess.Process | None = None
        self.address = ""

    async def start(self, address: str, backend: str | None = "pbx") -> None:
        """Starts it and waits (up to 15 s) until ``backend``'s link is SERVING
        (None: until the gateway as a whole is)."""
        service = f"telgate.backend.{backend}" if backend is not None else ""
        self.address = address
        with self.log_file.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                str(TELGATE),
                "serve",
                "--config",
                str(self.config),
                env=self.env,
                cwd=REPO,
                stdout=log,
                stderr=log,
            )
        async with grpc.aio.insecure_channel(address) as channel:
            stub: Any = health_pb2_grpc.HealthStub(channel)
            for _ in range(300):
                assert self.proc.returncode is None, f"the gateway exited: {self.log_text()}"
                try:
                    answer = await stub.Check(
                        health_pb2.HealthCheckRequest(service=service),
                        timeout=1,
                    )
                    if answer.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.aio.AioRpcError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"the gateway did not come up: {self.log_text()}")

    def signal(self, sig: int = signal.SIGTERM) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def wait(self, timeout: float = 30.0) -> int:
        """The exit status, once it exited (fails after ``timeout`` s)."""
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), timeout)

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await asyncio.wait_for(self.proc.wait(), 10)

    def log_text(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def log_records(self) -> list[dict[str, Any]]:
        """Every log line, parsed (each must be one JSON object)."""
        return [json.loads(line) for line in self.log_text().splitlines() if line.strip()]

    async def wait_for_log(self, text: str, timeout: float = 15.0) -> None:
        """Waits until a log line holds ``text``."""

        async def poll() -> None:
            while text not in self.log_text():
                assert self.proc is not None and self.proc.returncode is None, self.log_text()
                await asyncio.sleep(0.02)

        await asyncio.wait_for(poll(), timeout)
