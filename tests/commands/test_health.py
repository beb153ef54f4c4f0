"""`telgate health`: the grpc.health.v1 probe the container's HEALTHCHECK runs."""

from __future__ import annotations

import pytest
from telgate_server.commands.health import probe_address

from tests.auth.cli import run_cli
from tests.commands.conftest import SIM_SECRET, Running
from tests.lab import free_port


@pytest.mark.parametrize(
    ("listen", "probe"),
    [
        ("0.0.0.0:50051", "127.0.0.1:50051"),
        (":50051", "127.0.0.1:50051"),
        ("[::]:7000", "[::1]:7000"),
        ("10.1.2.3:50051", "10.1.2.3:50051"),
        ("127.0.0.1:9", "127.0.0.1:9"),
        ("unix:/run/telgate.sock", "unix:/run/telgate.sock"),
    ],
)
def test_a_wildcard_listen_address_is_probed_on_loopback(listen: str, probe: str) -> None:
    assert probe_address(listen) == probe


def test_serving_gateway_from_its_settings_file(gateway: Running) -> None:
    # The settings as the gateway has them (its file and its environment).
    env = {"TELGATE_BACKENDS__PBX__SECRET": SIM_SECRET}
    result = run_cli("health", "--config", str(gateway.config), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"127.0.0.1:{gateway.grpc_port}: SERVING"


def test_a_backend_link_is_asked_by_name(gateway: Running) -> None:
    target = f"127.0.0.1:{gateway.grpc_port}"
    up = run_cli("health", "--address", target, "--backend", "pbx", env={})
    assert up.returncode == 0, up.stdout + up.stderr
    assert up.stdout.strip() == f"{target} (telgate.backend.pbx): SERVING"
    unknown = run_cli("health", "--address", target, "--backend", "nope", env={})
    assert unknown.returncode == 1
    assert "NOT_FOUND" in unknown.stderr


def test_nothing_listening_is_unhealthy() -> None:
    target = f"127.0.0.1:{free_port()}"
    result = run_cli("health", "--address", target, "--timeout", "2", env={})
    assert result.returncode == 1
    assert result.stderr.startswith(f"{target}: UNAVAILABLE")


def test_a_wrong_configuration_exits_2() -> None:
    result = run_cli("health", env={"TELGATE_SERVER__NOPE": "1"})
    assert result.returncode == 2
    assert "unknown environment variable: TELGATE_SERVER__NOPE" in result.stderr
