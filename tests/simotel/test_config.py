"""Simotel settings: credentials each auth mode needs, and every secret
(inline or by file) known to the log redaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from telgate_server.app import Gateway
from telgate_server.backends.simotel.client import SimotelClient
from telgate_server.backends.simotel.settings import SimotelBackendConfig
from telgate_server.config import load_settings
from telgate_server.ops.logs import configured_secrets
from telgate_server.settings_strict import ConfigError

BASE = {"kind": "simotel", "url": "https://pbx.example.test/api"}


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"auth": "basic", "username": "u"}, "needs `username` and `password`"),
        ({"auth": "token"}, "needs `api_key`"),
        ({"auth": "both", "username": "u", "password": "p"}, "needs `api_key`"),
        ({"auth": "token", "api_key": "k", "webhook_username": "h"}, "webhook_password"),
        ({"auth": "token", "api_key": "k", "timezone": "Mars/Base"}, "unknown time zone"),
    ],
)
def test_missing_credentials_are_named(extra: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_settings(None, backends={"sim": {**BASE, **extra}})


def test_a_url_with_credentials_in_it_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(
            None,
            backends={
                "sim": {
                    **BASE,
                    "url": "https://u:secret-pw@pbx/api",
                    "api_key": "k",
                    "auth": "token",
                }
            },
        )
    assert "secret-pw" not in str(caught.value)


def test_every_secret_is_redacted(tmp_path: Path) -> None:
    hook = tmp_path / "hook"
    hook.write_text("hook-secret-from-file\n")
    settings = load_settings(
        None,
        backends={
            "sim": {
                **BASE,
                "auth": "both",
                "username": "u",
                "password": "api-secret-inline",
                "api_key": "key-secret-inline",
                "webhook_username": "h",
                "webhook_password_file": str(hook),
            }
        },
    )
    assert set(configured_secrets(settings)) >= {
        "api-secret-inline",
        "key-secret-inline",
        "hook-secret-from-file",
    }


def test_an_unreadable_secret_file_is_named_when_the_backend_is_built(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-secret"
    settings = load_settings(
        None,
        backends={
            "sim": {
                **BASE,
                "auth": "token",
                "api_key": "k",
                "webhook_username": "h",
                "webhook_password_file": str(missing),
            }
        },
    )
    with pytest.raises(ConfigError) as caught:
        Gateway(settings)
    assert "webhook_password_file" in str(caught.value) and "no-such-secret" in str(caught.value)


async def test_secret_files_are_read_once(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("key-from-file\n")
    config = load_settings(
        None, backends={"sim": {**BASE, "auth": "token", "api_key_file": str(key)}}
    ).backends["sim"]
    assert isinstance(config, SimotelBackendConfig)
    client = SimotelClient(config)
    key.unlink()  # no request reads it again
    assert client._auth == {"X-APIKEY": "key-from-file"}
    await client.close()
