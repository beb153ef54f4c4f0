"""Log formats and the redactor (ops/logs.py)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from telgate_server.config import load_settings
from telgate_server.ops import logs


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the bearer token is not known", "the bearer token is not known"),
        ("Bearer abcdefgh12345", "Bearer [redacted]"),
        ("authorization: Bearer abcdefghijk", "authorization: Bearer [redacted]"),
        ("{'Authorization': 'xyzxyzxyzxyz'}", "{'Authorization': '[redacted]'}"),
        ("Action: Login\r\nUsername: u\r\nSecret: telgate-secret", "Secret: [redacted]"),
        ("password=hunter22 host=db", "password=[redacted] host=db"),
        ("Key: 0123456789abcdef0123456789abcdef", "Key: [redacted]"),
        ("as configured: x-my-own-secret-x!", "as configured: [redacted]!"),
        ("SELECT value FROM cdr_meta WHERE key = ?", "SELECT value FROM cdr_meta WHERE key = ?"),
        ("caller token ops", "caller token ops"),
    ],
)
def test_redactor(text: str, expected: str) -> None:
    redact = logs.Redactor(["x-my-own-secret-x", "short"])
    assert redact(text).endswith(expected)
    assert "telgate-secret" not in redact(text)


def test_json_lines_carry_extra_fields_and_redacted_exceptions(restore_logging: None) -> None:
    out = io.StringIO()
    logs.configure("DEBUG", "json", ["s3cr3t-value-1234"], stream=out)
    log = logging.getLogger("telgate.test")
    log.info("rpc %s", "done", extra={"rpc_method": "/a.B/C", "duration_ms": 1.5})
    try:
        raise ValueError("login with s3cr3t-value-1234 failed")
    except ValueError:
        log.exception("it failed for s3cr3t-value-1234")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["message"] == "rpc done"
    assert (first["rpc_method"], first["duration_ms"]) == ("/a.B/C", 1.5)
    assert (first["level"], first["logger"]) == ("INFO", "telgate.test")
    assert second["message"] == "it failed for [redacted]"
    assert "ValueError: login with [redacted] failed" in second["exception"]
    assert "s3cr3t" not in out.getvalue()


def test_text_on_a_terminal_json_elsewhere(restore_logging: None) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert logs.choose("auto", Terminal()) == "text"
    assert logs.choose("auto", io.StringIO()) == "json"
    assert logs.choose("json", Terminal()) == "json"
    assert logs.choose("text", io.StringIO()) == "text"
    out = Terminal()
    logs.configure("INFO", "auto", stream=out)
    logging.getLogger("telgate.test").info("hello %s", "there")
    line = out.getvalue().strip()
    assert line.endswith("INFO    telgate.test: hello there")
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)


def test_configured_secrets_come_from_env_files_and_the_tokens_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ami_file = tmp_path / "ami"
    ami_file.write_text("ami-from-a-file\n", encoding="utf-8")
    token_file = tmp_path / "token"
    token_file.write_text("token-from-a-file-123456\n", encoding="utf-8")
    tokens = tmp_path / "tokens.toml"
    tokens.write_text(
        '[late]\nroles = ["admin"]\nsecret = "token-in-the-tokens-file"\n', encoding="utf-8"
    )
    monkeypatch.setenv("TELGATE_BACKENDS__A__SECRET", "ami-from-the-env")
    monkeypatch.setenv("TELGATE_BACKENDS__A__CDR_BACKFILL__PASSWORD", "db-password")
    monkeypatch.setenv("TELGATE_AUTH__TOKENS__OPS__SECRET", "token-from-the-env-1234")
    settings = load_settings(
        None,
        backends={
            "a": {"username": "u", "cdr_backfill": {"kind": "mysql", "user": "cdr"}},
            "b": {"username": "u", "secret_file": str(ami_file)},
        },
        auth={
            "tokens": {
                "ops": {"roles": ["admin"]},
                "file": {"roles": ["admin"], "secret_file": str(token_file)},
            },
            "tokens_file": str(tokens),
        },
    )
    assert sorted(logs.configured_secrets(settings)) == sorted(
        [
            "ami-from-the-env",
            "db-password",
            "ami-from-a-file",
            "token-from-the-env-1234",
            "token-from-a-file-123456",
            "token-in-the-tokens-file",
        ]
    )
