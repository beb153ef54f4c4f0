"""A simulator (`telgate sim`) and a gateway (`telgate serve`) in subprocesses,
as an operator runs them, for the command-line tests."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.lab import free_port
from tests.services.process import terminate

# The simulator's AMI secret, made for this run (telgate sim takes it from
# TELGATE_SIM_SECRET, as compose and the demo give it).
SIM_SECRET = secrets.token_urlsafe(18)
START_TIMEOUT = 30.0


def telgate(*args: str) -> list[str]:
    return [sys.executable, "-m", "telgate_server.cli", *args]


def wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    """Bounded poll until ``port`` accepts connections (or the process died)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited with {process.returncode}"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listened on {port} within {START_TIMEOUT:g} s")


def wait_serving(target: str, service: str, process: subprocess.Popen[bytes]) -> None:
    """Bounded poll until the gateway's health says ``service`` is SERVING."""
    deadline = time.monotonic() + START_TIMEOUT
    with grpc.insecure_channel(target) as channel:
        stub: Any = health_pb2_grpc.HealthStub(channel)  # the health stubs are untyped
        while time.monotonic() < deadline:
            assert process.poll() is None, f"exited with {process.returncode}"
            answer = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
            if answer.status == health_pb2.HealthCheckResponse.SERVING:
                return
            time.sleep(0.05)
    raise AssertionError(f"{service} not SERVING within {START_TIMEOUT:g} s")


@dataclass
class Running:
    """A simulator and a gateway in front of it."""

    ami_port: int
    grpc_port: int
    config: Path


def write_config(path: Path, ami_port: int, grpc_port: int) -> Path:
    path.write_text(
        f'default_backend = "pbx"\n[server]\nlisten = "127.0.0.1:{grpc_port}"\n'
        f'[backends.pbx]\nhost = "127.0.0.1"\nport = {ami_port}\nusername = "telgate"\n'
        f'[cdr]\ndata_dir = "{path.parent / "data"}"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def simulator() -> Iterator[int]:
    """`telgate sim` on a free port: its port."""
    port = free_port()
    process = subprocess.Popen(
        telgate("sim", "--port", str(port)),
        env={**_clean_env(), "TELGATE_SIM_SECRET": SIM_SECRET},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(port, process)
        yield port
    finally:
        terminate(process)


@pytest.fixture(scope="module")
def gateway(simulator: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """`telgate serve` linked to the simulator."""
    grpc_port = free_port()
    config = write_config(tmp_path_factory.mktemp("gw") / "telgate.toml", simulator, grpc_port)
    process = subprocess.Popen(
        telgate("serve", "--config", str(config)),
        env={**_clean_env(), "TELGATE_BACKENDS__PBX__SECRET": SIM_SECRET},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(grpc_port, process)
        wait_serving(f"127.0.0.1:{grpc_port}", "telgate.backend.pbx", process)
        yield Running(simulator, grpc_port, config)
    finally:
        terminate(process)


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.upper().startswith("TELGATE_")}
