"""Runs the `telgate` command in a subprocess, as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """`telgate ARGS` with only ``env``'s TELGATE_* variables set."""
    base = {k: v for k, v in os.environ.items() if not k.upper().startswith("TELGATE_")}
    return subprocess.run(
        [sys.executable, "-m", "telgate_server.cli", *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
