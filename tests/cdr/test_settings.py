"""The `cdr` settings section (the store kind and its secrets too) and the
AMI backend's time zone."""

from __future__ import annotations

from pathlib import Path

import pytest
from telgate_server.api.cdr_wire import CdrWire
from telgate_server.app import Gateway
from telgate_server.backends.ami.settings import AmiBackendConfig
from telgate_server.cdr.factory import build_store
from telgate_server.cdr.postgres import PostgresCdrStore, describe_dsn
from telgate_server.cdr.sqlite import SqliteCdrStore
from telgate_server.commands.check import check_data_dir
from telgate_server.config import load_settings
from telgate_server.ops.logs import configured_secrets
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


DSN = "postgresql://telgate:pg-Secret-1@db.example:5432/cdrs"


def test_the_postgres_store_takes_its_dsn_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert isinstance(build_store(load_settings(None).cdr), SqliteCdrStore)
    monkeypatch.setenv("TELGATE_CDR__STORE", "postgres")
    monkeypatch.setenv("TELGATE_CDR__DSN", DSN)
    settings = load_settings(None)
    store = build_store(settings.cdr)
    assert isinstance(store, PostgresCdrStore)
    assert store.where == "postgresql://db.example:5432/cdrs"
    assert "pg-Secret-1" not in repr(settings.cdr)
    # The log filter hides the DSN and the password inside it.
    assert {DSN, "pg-Secret-1"} <= set(configured_secrets(settings))


def test_the_dsn_and_password_from_files(tmp_path: Path) -> None:
    (tmp_path / "dsn").write_text("postgresql://telgate@db/cdrs\n", encoding="utf-8")
    (tmp_path / "pw").write_text("file-Secret-2\n", encoding="utf-8")
    cdr = load_settings(
        None,
        cdr={"store": "postgres", "dsn_file": tmp_path / "dsn", "password_file": tmp_path / "pw"},
    ).cdr
    assert (cdr.read_dsn(), cdr.read_password()) == (
        "postgresql://telgate@db/cdrs",
        "file-Secret-2",
    )
    (tmp_path / "dsn").unlink()
    with pytest.raises(ConfigError, match=r"cdr\.dsn_file: cannot read .*dsn"):
        build_store(cdr)


@pytest.mark.parametrize(
    ("cdr", "message"),
    [
        ({"store": "postgres"}, "needs cdr.dsn"),
        ({"dsn": DSN}, "cdr.store is sqlite"),
        ({"store": "postgres", "dsn": DSN, "dsn_file": "/x"}, "one of cdr.dsn"),
        ({"store": "mysql"}, "store"),
    ],
)
def test_store_settings_that_do_not_fit(cdr: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        load_settings(None, cdr=cdr)
    assert "pg-Secret-1" not in str(refused.value)


def test_check_config_names_the_database_without_the_password(tmp_path: Path) -> None:
    step = check_data_dir(load_settings(None, cdr={"store": "postgres", "dsn": DSN}))
    assert step.ok and step.detail == "PostgreSQL at postgresql://db.example:5432/cdrs"
    missing = tmp_path / "nope"
    step = check_data_dir(load_settings(None, cdr={"store": "postgres", "dsn_file": missing}))
    assert not step.ok and str(missing) in step.detail


async def test_keeping_encoded_cdrs_can_be_turned_off(tmp_path: Path) -> None:
    on = Gateway(load_settings(None, cdr={"data_dir": str(tmp_path)}))
    assert on.cdr_feed.encoded == CdrWire.version
    assert isinstance(on.cdr_store, SqliteCdrStore) and on.cdr_store.encoder is not None
    off = Gateway(load_settings(None, cdr={"data_dir": str(tmp_path), "keep_encoded": False}))
    assert off.cdr_feed.encoded is None
    assert isinstance(off.cdr_store, SqliteCdrStore) and off.cdr_store.encoder is None


def test_a_dsn_that_is_not_a_url_is_refused_without_quoting_it() -> None:
    cdr = load_settings(
        None, cdr={"store": "postgres", "dsn": "host=db password=kv-Secret-3 dbname=cdrs"}
    ).cdr
    with pytest.raises(ConfigError, match="must be a URL") as refused:
        build_store(cdr)
    assert "kv-Secret-3" not in str(refused.value)
    assert describe_dsn("host=db password=kv-Secret-3") == "postgresql (DSN not shown)"
