"""compose.yaml, checked without running it (test_compose_up.py runs it): the
file parses; every service runs a command of the image with options that
command knows; the gateway's settings as compose passes them (the mounted
file and the environment it sets, its ``${VAR}`` filled in) are valid, so
every key and every TELGATE_* variable is one the gateway accepts; and the
services agree on hosts, ports, users and passwords."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from telgate_server.config import Settings, load_settings

from tests.auth.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
SETTINGS_IN_IMAGE = "/etc/telgate/telgate.toml"
# Values for the variables compose.yaml requires (`${NAME:?...}`).
VARIABLES = {
    "TELGATE_DEMO_TOKEN": "a-token-for-the-compose-test",
    "TELGATE_FAKES_PASSWORD": "a-password-for-the-fakes",
}
_VARIABLE = re.compile(r"\$\{(\w+)(?::?([?-])([^}]*))?\}")


def filled(value: object) -> str:
    """A compose value with its ``${NAME}`` references filled in from VARIABLES
    (or their ``${NAME:-default}``)."""

    def one(match: re.Match[str]) -> str:
        name, operator, default = match.groups()
        if operator == "-":
            return default
        assert name in VARIABLES, f"compose.yaml uses ${{{name}}}"
        return VARIABLES[name]

    return _VARIABLE.sub(one, str(value))


def environment(service: str) -> dict[str, str]:
    raw = SERVICES[service].get("environment") or {}
    assert isinstance(raw, dict), "environment as a mapping"
    return {str(k): filled(v) for k, v in raw.items()}


def command(service: str) -> list[str]:
    """The service's argv after the image's entrypoint (or its own)."""
    spec = SERVICES[service]
    entry = spec.get("entrypoint", ["telgate"])
    return [*entry, *[filled(a) for a in spec.get("command", [])]]


def settings_file() -> Path:
    mounts = [str(v).split(":") for v in SERVICES["gateway"]["volumes"]]
    sources = [m[0] for m in mounts if len(m) >= 2 and m[1] == SETTINGS_IN_IMAGE]
    assert len(sources) == 1, "compose.yaml mounts the gateway's settings once"
    path = (ROOT / sources[0]).resolve()
    assert path.is_file() and path.is_relative_to(ROOT)
    return path


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The gateway's settings as compose passes them (only its TELGATE_* variables)."""
    for name in list(os.environ):
        if name.upper().startswith("TELGATE_"):
            monkeypatch.delenv(name)
    for name, value in environment("gateway").items():
        monkeypatch.setenv(name, value)
    return load_settings(settings_file())


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_the_file_parses_and_every_service_is_the_image() -> None:
    assert set(SERVICES) == {"gateway", "simulator", "simotel", "sippy"}
    for name, spec in SERVICES.items():
        # Each one builds the image, so none is pulled from a registry.
        assert spec["build"] == "." and spec["image"] == "telgate:latest", name
    # docker-compose 1.29 (what CI runs) refuses a top-level name.
    assert set(COMPOSE) == {"services", "volumes"}
    assert "telgate-data" in COMPOSE["volumes"]
    assert "telgate-data:/var/lib/telgate" in SERVICES["gateway"]["volumes"]
    depends = SERVICES["gateway"]["depends_on"]
    assert {n: d["condition"] for n, d in depends.items()} == {
        "simulator": "service_healthy",
        "simotel": "service_healthy",
        "sippy": "service_healthy",
    }
    assert SETTINGS_IN_IMAGE in (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_the_gateway_settings_validate_as_compose_passes_them() -> None:
    env = environment("gateway")
    assert env and all(name.startswith("TELGATE_") for name in env)
    result = run_cli("check-config", "--no-connect", "--config", str(settings_file()), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "backends: pbx, simotel, sippy; default: pbx; tokens: 1" in result.stdout
    # A variable the gateway does not know is refused (so the check above means something).
    wrong = run_cli(
        "check-config",
        "--no-connect",
        "--config",
        str(settings_file()),
        env={**env, "TELGATE_BACKENDS__SIPPY__PASWORD": "x"},
    )
    assert wrong.returncode == 2 and "PASWORD" in wrong.stdout + wrong.stderr


def test_the_services_agree_on_hosts_ports_and_credentials(settings: Settings) -> None:
    gateway_env = environment("gateway")
    ports = [filled(p).split(":") for p in SERVICES["gateway"]["ports"]]
    # Published on the loopback only, at the ports the settings listen on
    # (50051 and 9464 unless TELGATE_GRPC_PORT / TELGATE_METRICS_PORT say otherwise).
    assert {(host, outside) for host, outside, _ in ports} == {
        ("127.0.0.1", "50051"),
        ("127.0.0.1", "9464"),
    }
    assert {inside for _, _, inside in ports} == {
        settings.server.listen.rsplit(":", 1)[1],
        settings.metrics.listen.rsplit(":", 1)[1],
    }
    backends: dict[str, Any] = dict(settings.backends)

    pbx = backends["pbx"]
    sim = command("simulator")
    assert (pbx.host, str(pbx.port)) == ("simulator", option(sim, "--port"))

    simotel = backends["simotel"]
    fake = command("simotel")
    url = urlsplit(simotel.url)
    assert (url.hostname, str(url.port)) == ("simotel", option(fake, "--port"))
    assert simotel.username == "telgate-api"  # the fake's default --user
    hook = urlsplit(option(fake, "--webhook-url"))
    assert hook.hostname == "gateway"
    assert str(hook.port) == settings.webhooks.listen.rsplit(":", 1)[1]
    assert hook.path == (simotel.webhook_path or "/simotel/simotel")
    assert option(fake, "--webhook-user") == simotel.webhook_username
    fake_env = environment("simotel")
    assert fake_env["FAKE_SIMOTEL_PASSWORD"] == gateway_env["TELGATE_BACKENDS__SIMOTEL__PASSWORD"]
    assert (
        fake_env["FAKE_SIMOTEL_HOOK_PASSWORD"]
        == gateway_env["TELGATE_BACKENDS__SIMOTEL__WEBHOOK_PASSWORD"]
    )

    sippy = backends["sippy"]
    fake = command("sippy")
    url = urlsplit(sippy.url)
    assert (url.hostname, str(url.port), url.path) == (
        "sippy",
        option(fake, "--port"),
        "/xmlapi/xmlapi",
    )
    assert option(fake, "--username") == sippy.username
    assert environment("sippy")["FAKE_SIPPY_PASSWORD"] == sippy.read_password()


@pytest.mark.parametrize("service", ["simulator", "simotel", "sippy"])
def test_each_service_command_is_one_the_image_runs(service: str) -> None:
    argv = command(service)
    # The image's venv runs `telgate` and `python3`; here this interpreter does.
    if argv[0] == "telgate":
        program = [sys.executable, "-m", "telgate_server.cli", *argv[1:]]
    else:
        assert argv[0] == "python3"
        program = [sys.executable, *argv[1:]]
    # argparse reads every option before --help: an unknown one fails.
    result = subprocess.run(
        [*program, "--help"],
        env={**environment(service), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:")
    for arg in argv:
        if arg.startswith("--"):
            assert arg in result.stdout, (service, arg)
    healthcheck = " ".join(SERVICES[service]["healthcheck"]["test"])
    assert f'("127.0.0.1", {option(argv, "--port")})' in healthcheck
