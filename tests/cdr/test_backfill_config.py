"""`[backends.<name>.cdr_backfill]` settings: what each kind needs, names that
go into SQL, and a password from the environment that is never shown."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from telgate_server.backends.ami.cdr_backfill import build_backfill
from telgate_server.backends.ami.settings import AmiBackendConfig
from telgate_server.config import Settings, load_settings
from telgate_server.settings_strict import ConfigError

AMI = {"kind": "ami", "username": "telgate", "secret": "s"}


def test_the_password_comes_from_the_environment_and_is_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    password = secrets.token_hex(8)
    monkeypatch.setenv("TELGATE_BACKENDS__PBX__CDR_BACKFILL__PASSWORD", password)
    settings = load_settings(
        None,
        backends={"pbx": {**AMI, "cdr_backfill": {"kind": "mysql", "user": "cdr", "port": 3307}}},
    )
    config = ami(settings).cdr_backfill
    assert config is not None
    assert config.read_password() == password
    assert password not in repr(settings) + str(settings.model_dump())
    backfill = build_backfill("pbx", config, None)
    assert backfill.description == "mysql cdr@127.0.0.1:3307/asteriskcdrdb.cdr"


def test_a_password_file_is_read_when_used(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    password = secrets.token_hex(8)
    secret.write_text(f"{password}\n", encoding="utf-8")
    settings = load_settings(
        None,
        backends={
            "pbx": {**AMI, "cdr_backfill": {"kind": "mysql", "user": "u", "password_file": secret}}
        },
    )
    config = ami(settings).cdr_backfill
    assert config is not None and config.read_password() == password


@pytest.mark.parametrize(
    ("backfill", "message"),
    [
        ({"kind": "sqlite"}, "needs `path`"),
        ({"kind": "mysql"}, "needs `user`"),
        ({"kind": "mysql", "user": "u", "table": "cdr; DROP TABLE cdr"}, "not a plain SQL name"),
        ({"kind": "mysql", "user": "u", "database": "a`b"}, "not a plain SQL name"),
        ({"kind": "csv"}, "needs `path`"),
        ({"kind": "odbc", "path": "/x"}, "kind"),
        ({"kind": "sqlite", "path": "/x", "overlap": -1}, "overlap"),
    ],
)
def test_incomplete_or_unsafe_settings_are_refused(
    backfill: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, backends={"pbx": {**AMI, "cdr_backfill": backfill}})
    assert message in str(info.value)


def test_no_backfill_by_default() -> None:
    settings = load_settings(None, backends={"pbx": AMI})
    assert ami(settings).cdr_backfill is None


def ami(settings: Settings) -> AmiBackendConfig:
    """The AMI backend `pbx` of ``settings``."""
    pbx = settings.backends["pbx"]
    assert isinstance(pbx, AmiBackendConfig)
    return pbx
