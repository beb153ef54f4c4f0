"""deploy/compose.cluster.yaml, checked without running it: three gateway
instances whose settings (the mounted file and the environment compose sets
for each, ``${VAR}`` filled in) are valid cluster settings with distinct
instance names and the addresses their ports are published on; the NATS and
PostgreSQL services agree with them on users, passwords, database and ports;
secrets only come from the environment."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from telgate_server.config import Settings, load_settings

from tests.auth.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
FILE = ROOT / "deploy" / "compose.cluster.yaml"
COMPOSE: dict[str, Any] = yaml.safe_load(FILE.read_text(encoding="utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
GATEWAYS = ("gateway-1", "gateway-2", "gateway-3")
SETTINGS_IN_IMAGE = "/etc/telgate/telgate.toml"
VARIABLES = {
    "TELGATE_DEMO_TOKEN": "a-token-for-the-compose-test",
    "TELGATE_FAKES_PASSWORD": "a-password-for-the-fakes",
    "TELGATE_NATS_PASSWORD": "a-password-for-nats",
    "TELGATE_PG_PASSWORD": "a-password-for-postgres",
}
_VARIABLE = re.compile(r"\$\{(\w+)(?::?([?-])([^}]*))?\}")


def filled(value: object) -> str:
    def one(match: re.Match[str]) -> str:
        name, operator, default = match.groups()
        if operator == "-":
            return default
        assert name in VARIABLES, f"compose.cluster.yaml uses ${{{name}}}"
        return VARIABLES[name]

    return _VARIABLE.sub(one, str(value))


def environment(service: str) -> dict[str, str]:
    raw = SERVICES[service].get("environment") or {}
    return {str(k): filled(v) for k, v in raw.items()}


def mounted(service: str, target: str) -> Path:
    for volume in SERVICES[service]["volumes"]:
        source, _, rest = str(volume).partition(":")
        if rest.split(":")[0] == target:
            path = (FILE.parent / source).resolve()
            assert path.is_file() and path.is_relative_to(ROOT)
            return path
    raise AssertionError(f"{service} mounts nothing at {target}")


def settings_of(service: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in list(os.environ):
        if name.upper().startswith("TELGATE_"):
            monkeypatch.delenv(name)
    for name, value in environment(service).items():
        monkeypatch.setenv(name, value)
    return load_settings(mounted(service, SETTINGS_IN_IMAGE))


def test_three_instances_of_one_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(COMPOSE) == {"x-gateway", "x-gateway-env", "services", "volumes"}
    assert set(SERVICES) == {*GATEWAYS, "nats", "postgres", "simulator", "sippy"}
    seen: set[str] = set()
    for name in GATEWAYS:
        spec = SERVICES[name]
        assert spec["build"] == ".." and spec["image"] == "telgate:latest"
        s = settings_of(name, monkeypatch)
        assert s.cluster.enabled and s.events.hub == "jetstream" and s.cdr.store == "postgres"
        assert s.cluster.instance_id == name and name not in seen
        seen.add(name)
        # The advertised address is where the host publishes its gRPC port.
        grpc_port = next(p for p in spec["ports"] if str(p).endswith(":50051"))
        assert s.cluster.advertise == filled(grpc_port).rsplit(":", 1)[0]
        assert s.server.listen == "0.0.0.0:50051"
        # NATS and PostgreSQL as their services run them.
        assert s.events.nats.url == "nats://nats:4222" and s.events.nats.user == "telgate"
        assert s.events.nats.read_password() == VARIABLES["TELGATE_NATS_PASSWORD"]
        assert s.cdr.read_dsn() == "postgresql://telgate@postgres:5432/telgate"
        assert s.cdr.read_password() == VARIABLES["TELGATE_PG_PASSWORD"]
        assert set(s.backends) == {"pbx", "sippy"}
    pg = environment("postgres")
    assert (pg["POSTGRES_USER"], pg["POSTGRES_DB"]) == ("telgate", "telgate")
    assert pg["POSTGRES_PASSWORD"] == VARIABLES["TELGATE_PG_PASSWORD"]
    conf = mounted("nats", "/etc/nats/nats.conf").read_text(encoding="utf-8")
    assert "user: telgate" in conf and "password: $TELGATE_NATS_PASSWORD" in conf
    assert "jetstream" in conf and "listen: 0.0.0.0:4222" in conf
    assert environment("nats")["TELGATE_NATS_PASSWORD"] == VARIABLES["TELGATE_NATS_PASSWORD"]


def test_no_secret_is_written_in_the_files() -> None:
    # Every password and token is a ${VARIABLE}; none is in the files.
    text = FILE.read_text(encoding="utf-8")
    for name in ("PASSWORD", "SECRET"):
        for line in text.splitlines():
            key, sep, value = line.strip().partition(":")
            if sep and name in key.upper() and value.strip():
                assert value.strip().startswith("${"), line
    settings_text = (ROOT / "docker" / "cluster.toml").read_text(encoding="utf-8")
    assert "password =" not in settings_text and "secret =" not in settings_text


def test_check_config_takes_each_instance() -> None:
    path = mounted("gateway-2", SETTINGS_IN_IMAGE)
    result = run_cli(
        "check-config", "--no-connect", "--config", str(path), env=environment("gateway-2")
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "backends: pbx, sippy" in result.stdout
    assert VARIABLES["TELGATE_PG_PASSWORD"] not in result.stdout + result.stderr
