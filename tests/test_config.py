"""Settings from a TOML file with environment overrides; secrets from env or file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from telgate_server.api.keepalive import server_options
from telgate_server.backends.ami.settings import AmiBackendConfig
from telgate_server.cli import main
from telgate_server.config import load_settings
from telgate_server.settings_strict import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_example_config_loads_with_placeholders(tmp_path: Path) -> None:
    settings = load_settings(REPO / "examples" / "telgate.example.toml")
    pbx = settings.backends["pbx"]
    assert isinstance(pbx, AmiBackendConfig)
    assert pbx.secret is None and pbx.secret_file == Path("/run/secrets/ami-secret")
    assert settings.default_backend_name == "pbx"


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELGATE_BACKENDS__PBX__SECRET", "from-env")
    monkeypatch.setenv("TELGATE_SERVER__LISTEN", "0.0.0.0:6000")
    monkeypatch.setenv("TELGATE_AUTH__TOKENS__DEMO__SECRET", "demo-token-from-env")
    monkeypatch.setenv("TELGATE_BACKENDS__SIPPY__PASSWORD", "sippy-from-env")
    monkeypatch.setenv("TELGATE_BACKENDS__SIMOTEL__PASSWORD", "simotel-from-env")
    monkeypatch.setenv("TELGATE_BACKENDS__SIMOTEL__WEBHOOK_PASSWORD", "hook-from-env")
    settings = load_settings(REPO / "examples" / "demo.toml")
    assert settings.server.listen == "0.0.0.0:6000"
    pbx = settings.backends["pbx"]
    assert isinstance(pbx, AmiBackendConfig)
    assert pbx.read_secret() == "from-env"
    assert pbx.port == 15038  # from the file
    assert "from-env" not in repr(settings)  # secrets never show in logs or reprs
    assert len(settings.auth.tokens["demo"].roles) == 7


def test_secret_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "ami-secret"
    secret.write_text("s3cret-from-file\n")
    settings = load_settings(None, backends={"pbx": {"username": "u", "secret_file": str(secret)}})
    pbx = settings.backends["pbx"]
    assert isinstance(pbx, AmiBackendConfig) and pbx.read_secret() == "s3cret-from-file"


def test_a_backend_without_a_secret_is_refused() -> None:
    with pytest.raises(ConfigError, match="needs `secret`"):
        load_settings(None, backends={"pbx": {"username": "u"}})


def test_unknown_default_backend_is_refused() -> None:
    with pytest.raises(ConfigError, match="not a configured backend"):
        load_settings(None, default_backend="x", backends={"pbx": {"username": "u", "secret": "p"}})


def test_check_config_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELGATE_BACKENDS__PBX__SECRET", "lab-secret")
    monkeypatch.setenv("TELGATE_AUTH__TOKENS__DEMO__SECRET", "a-demo-token-for-this-test")
    monkeypatch.setenv("TELGATE_BACKENDS__SIPPY__PASSWORD", "sippy-demo-password")
    monkeypatch.setenv("TELGATE_BACKENDS__SIMOTEL__PASSWORD", "simotel-demo-password")
    monkeypatch.setenv("TELGATE_BACKENDS__SIMOTEL__WEBHOOK_PASSWORD", "hook-demo-password")
    # Validation only here; tests/commands test the backend links.
    demo = str(REPO / "examples" / "demo.toml")
    assert main(["check-config", "--no-connect", "--config", demo]) == 0
    # The demo's other backends (Simotel...) are listed after pbx.
    out = capsys.readouterr().out
    assert "backends: pbx" in out and "default: pbx; tokens: 1" in out
    bad = main(["check-config", "--config", str(REPO / "nope.toml")])
    assert bad == 2


def test_check_config_reads_the_files_serve_would_read(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The example's paths are placeholders: check-config says which is missing.
    assert main(["check-config", "--config", str(REPO / "examples" / "telgate.example.toml")]) == 2
    assert "/run/secrets/" in capsys.readouterr().err


def test_the_tools_own_variables_are_not_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # The demo and compose set these beside the gateway's own in one shell.
    for name in ("TELGATE_SIM_SECRET", "TELGATE_DEMO_TOKEN", "TELGATE_TOKEN"):
        monkeypatch.setenv(name, "x")
    assert load_settings(None).backends == {}
    monkeypatch.setenv("TELGATE_SIM_SECRETS", "x")
    with pytest.raises(ConfigError, match="TELGATE_SIM_SECRETS"):
        load_settings(None)


@pytest.mark.parametrize(
    ("server", "key", "says"),
    [
        ({"keepalive_time": 0.5}, "server.keepalive_time", "0 (no pings) or seconds from 1"),
        ({"keepalive_time": 86400}, "server.keepalive_time", "from 1 to 7200"),
        ({"keepalive_timeout": 0}, "server.keepalive_timeout", "greater than or equal to 1"),
        ({"keepalive_timeout": 301}, "server.keepalive_timeout", "less than or equal to 300"),
        (
            {"keepalive_min_client_interval": 0.1},
            "server.keepalive_min_client_interval",
            "greater than or equal to 1",
        ),
    ],
)
def test_keepalive_settings_out_of_range_are_refused(
    server: dict[str, float], key: str, says: str
) -> None:
    with pytest.raises(ConfigError, match=f"`{key}`.*{re.escape(says)}"):
        load_settings(None, server=server)


def test_keepalive_settings_become_the_servers_channel_arguments() -> None:
    options = dict(server_options(load_settings(None).server))
    assert options == {
        "grpc.keepalive_time_ms": 30_000,
        "grpc.keepalive_timeout_ms": 10_000,
        "grpc.http2.ping_timeout_ms": 10_000,
        "grpc.keepalive_permit_without_calls": 1,
        "grpc.http2.max_pings_without_data": 0,
        "grpc.http2.min_recv_ping_interval_without_data_ms": 10_000,
    }
    off = dict(server_options(load_settings(None, server={"keepalive_time": 0}).server))
    # gRPC core's "never" (INT_MAX ms).
    assert off["grpc.keepalive_time_ms"] == 2**31 - 1
