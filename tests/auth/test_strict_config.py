"""An unknown key anywhere (file or TELGATE_* variable) is an error naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
from telgate_server.config import Settings, load_settings
from telgate_server.settings_strict import ConfigError, check_strict

from tests import lab, mariadb
from tests.auth.cli import run_cli
from tests.container import dockerd
from tests.services import nats, postgres

BACKEND = '[backends.pbx]\nusername = "u"\nsecret_file = "/run/secrets/x"\n'


def test_every_section_refuses_unknown_keys() -> None:
    # A section added later as a plain BaseModel would ignore typos again.
    assert check_strict(Settings) == []


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ('auth_token = "abc"\n' + BACKEND, "unknown key `auth_token`"),
        ('[server]\ntls_cert = "/x.pem"\n' + BACKEND, "unknown key `server.tls_cert`"),
        (BACKEND + "hostname = 'pbx'\n", "unknown key `backends.pbx.hostname`"),
        ("[events]\nmax_batchs = 5\n", "unknown key `events.max_batchs`"),
        ("[cdr]\nretention = 5\n", "unknown key `cdr.retention`"),
        (
            '[server.tls]\ncert_file = "a"\nkey_file = "b"\nca_file = "c"\n',
            "unknown key `server.tls.ca_file`",
        ),
        (
            '[auth.tokens.crm]\nroles = ["admin"]\nsha256 = "' + "0" * 64 + '"\nrole = "x"\n',
            "unknown key `auth.tokens.crm.role`",
        ),
        ("[auth]\nallow_anonymous = true\n", "unknown key `auth.allow_anonymous`"),
    ],
)
def test_unknown_key_in_the_file(tmp_path: Path, toml: str, named: str) -> None:
    config = tmp_path / "telgate.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError) as refused:
        load_settings(config)
    assert named in str(refused.value)
    result = run_cli("check-config", "--config", str(config), env={})
    assert result.returncode == 2
    assert named in result.stderr
    assert "configuration OK" not in result.stdout


@pytest.mark.parametrize(
    ("variable", "named"),
    [
        ("TELGATE_AUTH_TOKEN", "no setting `auth_token`"),
        ("TELGATE_SERVER__TLS_CERT", "no setting `server.tls_cert`"),
        # (`password` is a Simotel and a Sippy setting: a key no kind has.)
        ("TELGATE_BACKENDS__PBX__PASSPHRASE", "no setting `backends.pbx.passphrase`"),
        ("TELGATE_AUTH__TOKENS__CRM__TOKEN", "no setting `auth.tokens.crm.token`"),
        ("TELGATE_SERVER__LISTEN__PORT", "no setting `server.listen.port`"),
        ("TELGATE_SERVER____LISTEN", "empty part"),
    ],
)
def test_unknown_environment_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, named: str
) -> None:
    monkeypatch.setenv(variable, "value")
    with pytest.raises(ConfigError) as refused:
        load_settings(None)
    assert variable in str(refused.value)
    assert named in str(refused.value)
    assert "value" not in str(refused.value).replace(variable, "")


def test_known_and_reserved_variables_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELGATE_SERVER__LISTEN", "127.0.0.1:6000")
    monkeypatch.setenv("telgate_events__max_batch", "7")  # names are case-insensitive
    monkeypatch.setenv("TELGATE_AUTH__TOKENS__CRM__SECRET", "a-crm-token-of-some-length")
    monkeypatch.setenv("TELGATE_AUTH__TOKENS__CRM__ROLES", '["events.read"]')
    # Not settings: the client's token, the demo's, the simulator's secret and
    # the test suite's switches (each taken from the helper that reads it, so
    # a new one cannot be left out).
    for reserved in (
        "TELGATE_TOKEN",
        "TELGATE_DEMO_TOKEN",
        "TELGATE_SHARED",
        "TELGATE_SIM_SECRET",
        lab.SKIP_VARIABLE,
        mariadb.SKIP_VARIABLE,
        postgres.SKIP_VARIABLE,
        nats.SKIP_VARIABLE,
        dockerd.SKIP_VARIABLE,
    ):
        monkeypatch.setenv(reserved, "x")
    settings = load_settings(None)
    assert settings.server.listen == "127.0.0.1:6000"
    assert settings.events.max_batch == 7
    assert [r.value for r in settings.auth.tokens["crm"].roles] == ["events.read"]


def test_client_certs_need_mutual_tls() -> None:
    with pytest.raises(ConfigError, match="needs mutual TLS"):
        load_settings(None, auth={"client_certs": [{"common_name": "x", "roles": ["admin"]}]})


def test_the_example_documents_every_auth_setting() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "telgate.example.toml"
    settings = load_settings(example)
    assert settings.server.tls is not None and settings.server.tls.client_ca_file is not None
    assert set(settings.auth.tokens) == {"crm", "billing"}
    assert settings.auth.tokens_file is not None
    assert [c.common_name or c.subject for c in settings.auth.client_certs] == [
        "supervisor-console",
        "CN=wallboard,O=Example Ltd",
    ]
