"""The compose file's gateway settings are valid as compose passes them (its
file and the environment compose.yaml sets), and name the simulator service."""

from __future__ import annotations

from pathlib import Path

from tests.auth.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]


def test_the_compose_settings_validate() -> None:
    compose = (ROOT / "compose.yaml").read_text()
    assert "./docker/compose.toml:/etc/telgate/telgate.toml:ro" in compose
    assert "TELGATE_BACKENDS__PBX__SECRET: telgate-secret" in compose
    env = {
        "TELGATE_BACKENDS__PBX__SECRET": "telgate-secret",
        "TELGATE_AUTH__TOKENS__DEMO__SECRET": "a-token-for-the-compose-test",
    }
    result = run_cli(
        "check-config", "--no-connect", "--config", str(ROOT / "docker" / "compose.toml"), env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "backends: pbx; default: pbx; tokens: 1; listen: 0.0.0.0:50051" in result.stdout
    assert 'host = "simulator"' in (ROOT / "docker" / "compose.toml").read_text()
    assert "\n  simulator:\n" in compose
