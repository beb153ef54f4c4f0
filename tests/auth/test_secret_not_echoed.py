"""A configuration that fails validation is reported without its secrets:
`telgate check-config` and `telgate serve` run as an operator runs them, and
no output of theirs holds the secret."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from tests.auth.cli import run_cli

SECRET = "s3cret-" + secrets.token_hex(12)

# (file contents, environment, a phrase the error must contain). The file
# and the environment hold SECRET; each case fails validation.
CASES = {
    # The case: pydantic's input_value used to echo the whole backend.
    "backend without username, secret from env": (
        "[backends.pbx]\nhost = '127.0.0.1'\n",
        {"TELGATE_BACKENDS__PBX__SECRET": SECRET},
        "`backends.pbx.username`: Field required",
    ),
    "backend without username, secret in the file": (
        f"[backends.pbx]\nsecret = '{SECRET}'\n",
        {},
        "`backends.pbx.username`: Field required",
    ),
    "backend with a bad port beside its secret": (
        "[backends.pbx]\nusername = 'u'\nport = 'five'\n",
        {"TELGATE_BACKENDS__PBX__SECRET": SECRET},
        "`backends.pbx.port`",
    ),
    "token with an unknown role": (
        "[auth.tokens.crm]\nroles = ['calls.everything']\n",
        {"TELGATE_AUTH__TOKENS__CRM__SECRET": SECRET},
        "`auth.tokens.crm.roles.0`",
    ),
    "token secret too short": (
        "[auth.tokens.crm]\nroles = ['admin']\n",
        {"TELGATE_AUTH__TOKENS__CRM__SECRET": SECRET[:10]},
        "at least 16 characters",
    ),
    "token with two secrets": (
        f"[auth.tokens.crm]\nroles = ['admin']\nsecret = '{SECRET}'\nsha256 = '{'a' * 64}'\n",
        {},
        "exactly one of",
    ),
    "broken TOML right after a secret": (
        f"[backends.pbx]\nusername = 'u'\nsecret = '{SECRET}\nport = 5038\n",
        {},
        "is not valid TOML",
    ),
    "unknown key beside a secret": (
        f"[backends.pbx]\nusername = 'u'\nsecret = '{SECRET}'\npasword = '{SECRET}'\n",
        {},
        "unknown key `backends.pbx.pasword`",
    ),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("command", ["check-config", "serve"])
def test_failing_validation_never_prints_the_secret(
    tmp_path: Path, case: str, command: str
) -> None:
    toml, env, phrase = CASES[case]
    config = tmp_path / "telgate.toml"
    config.write_text(toml)
    args = [command, "--config", str(config)]
    if command == "serve":
        args += ["--listen", "127.0.0.1:0"]
    result = run_cli(*args, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert phrase in result.stderr
    secret = env.get("TELGATE_AUTH__TOKENS__CRM__SECRET", SECRET)
    assert secret not in output
    assert SECRET[len("s3cret-") :][:12] not in output  # nor its random part alone


def test_tokens_file_errors_never_print_the_secret(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.toml"
    tokens.write_text(f"[crm]\nsecret = '{SECRET}'\nroles = ['calls.control', 'everything']\n")
    config = tmp_path / "telgate.toml"
    config.write_text(f"[auth]\ntokens_file = '{tokens}'\n")
    for command in ("check-config", "serve"):
        result = run_cli(command, "--config", str(config), env={})
        output = result.stdout + result.stderr
        assert result.returncode == 2, output
        assert f"tokens_file {tokens}: `crm.roles.1`" in result.stderr
        assert SECRET not in output
