"""`telgate token`: the token it prints is accepted by the configuration it
prints (auth/tokens.py's SHA-256 form), and the token never lands in it."""

from __future__ import annotations

import json
import os
import pty
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

from telgate_server.auth.roles import Role
from telgate_server.auth.tokens import TokenStore
from telgate_server.cli import main
from telgate_server.config import load_settings

from tests.auth.cli import run_cli


def store_from(table: str) -> TokenStore:
    """The token store a settings file holding ``table`` gives."""
    data = tomllib.loads(table)
    return TokenStore.from_config(load_settings(None, auth=data["auth"]).auth)


def with_stdin(text: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "telgate_server.cli", *args],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_the_printed_token_matches_the_printed_table() -> None:
    result = run_cli("token", "crm", "--role", "calls.control", "--role", "events.read", env={})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    token = lines[1]
    table = "\n".join(lines[lines.index("[auth.tokens.crm]") :])
    assert token not in table
    identity = store_from(table).lookup(token)
    assert identity is not None
    assert identity.name == "crm"
    assert identity.roles == {Role.CALLS_CONTROL, Role.EVENTS_READ}
    assert store_from(table).lookup(token + "x") is None
    assert "\033[" not in result.stdout  # not a terminal


def test_every_token_is_new() -> None:
    tokens = set()
    for _ in range(3):
        result = run_cli("token", "a", "--role", "admin", "--json", env={})
        tokens.add(json.loads(result.stdout)["token"])
    assert len(tokens) == 3


def test_stdin_hashes_an_existing_token_without_printing_it() -> None:
    token = "an-existing-token-of-some-length"
    result = with_stdin(token + "\n", "token", "old", "--role", "cdrs.read", "--stdin")
    assert result.returncode == 0, result.stderr
    assert token not in result.stdout
    identity = store_from(result.stdout).lookup(token)
    assert identity is not None
    assert identity.roles == {Role.CDRS_READ}


def test_a_short_stdin_token_is_refused() -> None:
    result = with_stdin("short\n", "token", "old", "--role", "admin", "--stdin")
    assert result.returncode == 2
    assert "needs 16 to 4096 characters (got 5)" in result.stderr


def test_token_file_is_private_and_never_overwritten(tmp_path: Path) -> None:
    secret = tmp_path / "crm-token"
    assert main(["token", "crm", "--role", "admin", "--token-file", str(secret), "--json"]) == 0
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    token = secret.read_text().strip()
    # The file works as a token's secret_file, too.
    auth = {"tokens": {"crm": {"roles": ["admin"], "secret_file": str(secret)}}}
    store = TokenStore.from_config(load_settings(None, auth=auth).auth)
    assert store.lookup(token) is not None
    assert main(["token", "crm", "--role", "admin", "--token-file", str(secret)]) == 1
    assert secret.read_text().strip() == token


def test_json_output() -> None:
    result = run_cli("token", "bill-ing_2", "--role", "cdrs.read", "--json", env={})
    record = json.loads(result.stdout)
    assert record["name"] == "bill-ing_2"
    assert record["roles"] == ["cdrs.read"]
    assert store_from(f'[auth.tokens.x]\nroles = ["admin"]\nsha256 = "{record["sha256"]}"').lookup(
        record["token"]
    )


def test_bad_names_and_roles_are_refused() -> None:
    bad_name = run_cli("token", "a.b", "--role", "admin", env={})
    assert bad_name.returncode == 2
    assert "may hold only letters, digits" in bad_name.stderr
    bad_role = run_cli("token", "a", "--role", "root", env={})
    assert bad_role.returncode == 2
    assert "invalid choice: 'root'" in bad_role.stderr
    no_role = run_cli("token", "a", env={})
    assert no_role.returncode == 2
    assert "--role" in no_role.stderr


def test_colours_only_on_a_terminal() -> None:
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    process = subprocess.Popen(
        [sys.executable, "-m", "telgate_server.cli", "token", "t", "--role", "admin"],
        stdout=follower,
        env={**env, "TERM": "xterm"},
    )
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert process.wait(30) == 0
    assert b"\033[32m" in output
    plain = run_cli("token", "t", "--role", "admin", env={})
    assert "\033[" not in plain.stdout
