"""The [metrics], [shutdown] and log settings."""

from __future__ import annotations

import pytest
from telgate_server.config import load_settings
from telgate_server.settings_strict import ConfigError


@pytest.mark.parametrize("listen", ["9464", "localhost:", "127.0.0.1:http", "[::1]:70000"])
def test_a_metrics_address_that_is_not_host_port_is_refused(listen: str) -> None:
    with pytest.raises(ConfigError, match=r"metrics\.listen"):
        load_settings(None, metrics={"listen": listen})


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(None)
    assert (settings.metrics.listen, settings.log_format, settings.log_rpcs) == ("", "auto", True)
    assert (settings.shutdown.grace, settings.shutdown.timeout) == (5.0, 30.0)
    monkeypatch.setenv("TELGATE_LOG_FORMAT", "text")
    monkeypatch.setenv("TELGATE_METRICS__LISTEN", "0.0.0.0:9464")
    monkeypatch.setenv("TELGATE_SHUTDOWN__TIMEOUT", "7")
    settings = load_settings(None)
    assert (settings.log_format, settings.metrics.listen) == ("text", "0.0.0.0:9464")
    assert settings.shutdown.timeout == 7.0
    monkeypatch.setenv("TELGATE_LOG_FORMAT", "xml")
    with pytest.raises(ConfigError, match="log_format"):
        load_settings(None)
