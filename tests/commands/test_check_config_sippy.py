"""`telgate check-config` against a Sippy switch (the fake, in this test's
event loop while the command runs in a thread): the XML-RPC call with
Digest auth passes, and a wrong API password is said to be one, never printed."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telgate_server.fakes.sippy.server import FakeSippy

from tests.auth.cli import run_cli

PASSWORD = secrets.token_urlsafe(12)


@pytest.fixture
async def switch() -> AsyncIterator[FakeSippy]:
    fake = FakeSippy(username="api-user", password=PASSWORD)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def write(path: Path, fake: FakeSippy) -> Path:
    path.write_text(
        f"""
[server]
listen = "127.0.0.1:0"

[cdr]
data_dir = "{path.parent / "data"}"

[backends.sw]
kind = "sippy"
url = "{fake.url}"
username = "api-user"
""",
        encoding="utf-8",
    )
    return path


async def check(config: Path, password: str) -> tuple[int, str]:
    result = await asyncio.to_thread(
        run_cli,
        "check-config", "--config", str(config), "--timeout", "10",
        env={"TELGATE_BACKENDS__SW__PASSWORD": password},
    )  # fmt: skip
    return result.returncode, result.stdout + result.stderr


async def test_a_reachable_switch_passes(switch: FakeSippy, tmp_path: Path) -> None:
    code, out = await check(write(tmp_path / "t.toml", switch), PASSWORD)
    assert code == 0, out
    assert f"backend sw (sippy, {switch.url}):" in out
    assert f"ok     xmlrpc: listAccounts answered by {switch.url}" in out
    assert switch.challenges >= 1 and switch.auth_failures == 0


async def test_a_wrong_api_password_is_said_plainly_and_never_printed(
    switch: FakeSippy, tmp_path: Path
) -> None:
    wrong = secrets.token_urlsafe(12)
    code, out = await check(write(tmp_path / "t.toml", switch), wrong)
    assert code == 1, out
    assert "FAILED xmlrpc: Sippy listAccounts: credentials rejected" in out
    assert "check the username and the API password" in out
    assert wrong not in out and PASSWORD not in out
    assert switch.auth_failures >= 1 and not switch.calls
