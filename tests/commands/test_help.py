"""`telgate --help` and every subcommand's: each option explained."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest
from telgate_server.cli import build_parser

from tests.auth.cli import run_cli

COMMANDS = ["serve", "sim", "check-config", "health", "token"]


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices)


def test_every_command_is_listed() -> None:
    assert sorted(subcommands()) == sorted(COMMANDS)
    result = run_cli("--help", env={})
    assert result.returncode == 0
    for name in COMMANDS:
        assert f"\n    {name}" in result.stdout


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_has_a_sentence(name: str) -> None:
    parser = subcommands()[name]
    assert parser.description, name
    for action in parser._actions:
        assert action.help and len(action.help) > 10, (name, action.dest)
    result = run_cli(name, "--help", env={})
    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: telgate {name}")


def test_telgate_sim_still_works_alone() -> None:
    # The console script installed beside this interpreter.
    result = subprocess.run(
        [str(Path(sys.executable).parent / "telgate-sim"), "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0
    assert "--refuse-logins" in result.stdout
