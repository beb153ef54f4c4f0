"""What the throw-away test servers (tests/services/nats.py, tests/mariadb.py,
tests/services/postgres.py) share: the variable that skips them for a quick
local run, finding a Debian package's binary (a missing one is a failure that
says how to install it), and stopping a server process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path


def skip_requested(variable: str) -> bool:
    """Whether ``variable`` asks to skip the tests of a server (set, not 0)."""
    return os.environ.get(variable, "") not in ("", "0")


def installed_binary(name: str, *, package: str, skip_variable: str, tests: str) -> str:
    """The path of ``name`` (on PATH or in /usr/sbin); RuntimeError saying
    how to install ``package`` (or skip the ``tests`` tests) when missing."""
    found = shutil.which(name) or (
        f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None
    )
    if found is None:
        raise RuntimeError(
            f"{name} is not installed: run `make test-deps` as root (Debian package "
            f"{package}), or set {skip_variable}=1 to skip the {tests} tests locally"
        )
    return found


def terminate(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if the server has not exited after 15 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
