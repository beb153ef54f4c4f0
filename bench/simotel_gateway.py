"""A real `telgate serve` with one Simotel backend (``sim``) linked to a fake
Simotel, its webhooks on a port of their own and Basic auth on them."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from telgate_server.fakes.simotel.server import FAKE_PASSWORD, FakeSimotel

from tests.integration.serve_process import ServeProcess
from tests.lab import free_port

# What Simotel sends as Basic auth on webhooks.
USER, PASSWORD = "simotel-hook", secrets.token_urlsafe(16)


@dataclass(frozen=True)
class SimotelGateway:
    """Where the running gateway listens."""

    grpc_address: str
    hook_port: int

    @property
    def hooks(self) -> str:
        """The base URL of backend ``sim``'s webhooks."""
        return f"http://127.0.0.1:{self.hook_port}/simotel/sim"


@asynccontextmanager
async def simotel_gateway() -> AsyncIterator[SimotelGateway]:
    """Starts the fake Simotel and the gateway; kills and stops both at the end."""
    fake = FakeSimotel()
    await fake.start()
    with tempfile.TemporaryDirectory() as tmp:
        grpc_address = f"127.0.0.1:{free_port()}"
        hook_port = free_port()
        config = Path(tmp) / "telgate.toml"
        config.write_text(
            f'log_format = "json"\nlog_level = "WARNING"\nlog_rpcs = false\n'
            f'[server]\nlisten = "{grpc_address}"\n[cdr]\ndata_dir = "{tmp}/cdr"\n'
            f'[webhooks]\nlisten = "127.0.0.1:{hook_port}"\n'
            f'[backends.sim]\nkind = "simotel"\nurl = "{fake.url}"\nusername = "telgate-api"\n'
            f'webhook_username = "{USER}"\n'
        )
        env = {
            "TELGATE_BACKENDS__SIM__PASSWORD": FAKE_PASSWORD,
            "TELGATE_BACKENDS__SIM__WEBHOOK_PASSWORD": PASSWORD,
        }
        gateway = ServeProcess(config, Path(tmp) / "gateway.log", env)
        await gateway.start(grpc_address, backend="sim")
        try:
            yield SimotelGateway(grpc_address, hook_port)
        finally:
            await gateway.kill()
            await fake.stop()
