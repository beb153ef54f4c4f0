"""The `cdr` settings section and the AMI backend's time zone."""

from __future__ import annotations

from pathlib import Path

import pytest
from telgate_server.backends.ami.settings import AmiBackendConfig
from telgate_server.config import load_settings
from telgate_server.settings_strict import ConfigError

PBX = {"kind": "ami", "username": "u", "secret": "s"}


def test_defaults_and_a_file(tmp_path: Path) -> None:
    settings = load_settings(None)
    assert settings.cdr.enabled and settings.cdr.synchronous == "FULL"
    assert settings.cdr.retention_days is None and settings.cdr.retention_count is None
    toml = tmp_path / "t.toml"
    toml.write_text(
        '[cdr]\ndata_dir = "/var/lib/telgate"\nretention_days = 90\nretention_count = 1000000\n',
        encoding="utf-8",
    )
    cdr = load_settings(toml).cdr
    assert cdr.path == Path("/var/lib/telgate/cdrs.sqlite3")
    assert (cdr.retention_days, cdr.retention_count) == (90, 1_000_000)


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELGATE_CDR__DATA_DIR", "/data")
    monkeypatch.setenv("TELGATE_CDR__RETENTION_COUNT", "5")
    cdr = load_settings(None).cdr
    assert (cdr.data_dir, cdr.retention_count) == (Path("/data"), 5)


def test_time_zone_is_checked() -> None:
    pbx = load_settings(None, backends={"pbx": {**PBX, "timezone": "Asia/Tehran"}})
    ami = pbx.backends["pbx"]
    assert isinstance(ami, AmiBackendConfig) and ami.timezone == "Asia/Tehran"
    ami = load_settings(None, backends={"pbx": PBX}).backends["pbx"]
    assert isinstance(ami, AmiBackendConfig) and ami.timezone is None
    with pytest.raises(ConfigError, match="unknown time zone"):
        load_settings(None, backends={"pbx": {**PBX, "timezone": "Mars/Olympus"}})


@pytest.mark.parametrize("bad", [{"retention_days": 0}, {"retention_count": 0}, {"batch_size": 0}])
def test_bad_values(bad: dict[str, int]) -> None:
    with pytest.raises(ConfigError):
        load_settings(None, cdr=bad)
