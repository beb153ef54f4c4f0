"""The real Asterisk 22 lab from ../shared/asterisk, for tests.

One lab per test session (``asterisk_lab`` in tests/conftest.py), started in a
temporary folder on a free loopback port and stopped at the end. A missing or
broken lab is a failure that says what is wrong, never a silent skip; only
``TELGATE_SKIP_REAL_ASTERISK=1`` (documented in the README, for a quick local
run) skips the real-PBX tests."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.shared import SHARED

LAB_SH = SHARED / "asterisk" / "lab.sh"
SKIP_VARIABLE = "TELGATE_SKIP_REAL_ASTERISK"
# The lab's AMI accounts (values from ../shared/asterisk/README.md, lab-only, not credentials).
LAB_USER, LAB_SECRET = "telgate", "telgate-secret"


@dataclass(frozen=True)
class Lab:
    """A running lab: where its AMI listens and the folder it runs in."""

    host: str
    port: int
    dir: Path

    @property
    def log(self) -> Path:
        return self.dir / "var" / "log" / "asterisk" / "messages.log"

    def cli(self, command: str) -> str:
        """Runs one Asterisk CLI command in the lab and returns its output."""
        result = _lab("cli", str(self.dir), command)
        return result.stdout

    def running(self) -> bool:
        return _lab("status", str(self.dir)).returncode == 0

    def pid(self) -> int | None:
        result = _lab("status", str(self.dir))
        if result.returncode != 0:
            return None
        return int(result.stdout.split()[1])

    def start(self, extra_conf_dir: Path | None = None) -> None:
        """(Re)starts the lab on its port (after ``stop`` or a SIGKILL)."""
        env = dict(os.environ)
        if extra_conf_dir is not None:
            env["LAB_EXTRA_CONF_DIR"] = str(extra_conf_dir)
        for _ in range(3):
            result = _lab("start", str(self.dir), str(self.port), env=env)
            said = f"{result.stdout[-2000:]}{result.stderr[-2000:]}"
            # lab.sh reads Asterisk's pid file as soon as it exists; on a loaded
            # machine it can find it still empty and say "exited during start"
            # while Asterisk runs on. Stop whatever runs from the folder, retry.
            if result.returncode == 1 and "exited during start" in said:
                _lab("stop", str(self.dir))
                continue
            break
        if result.returncode != 0:
            raise RuntimeError(
                f"lab.sh start {self.dir} {self.port} failed ({result.returncode}): {said}"
            )

    def stop(self) -> None:
        _lab("stop", str(self.dir))


def skip_requested() -> bool:
    return os.environ.get(SKIP_VARIABLE, "") not in ("", "0")


def _lab(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(LAB_SH), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


# Ports handed out to be bound later come from below the kernel's ephemeral
# range, so no outgoing connection made in between can take one (one did, in
# CI: a FastAGI listener got EADDRINUSE after the lab had started).
_PORTS = random.Random()


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A loopback TCP port nobody holds now, outside the ephemeral range."""
    low = _ephemeral_low()
    for _ in range(200 if low > 11000 else 0):
        port = _PORTS.randrange(10000, low)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        found: int = s.getsockname()[1]
        return found


def start_lab(directory: Path, extra_conf_dir: Path | None = None) -> Lab:
    """Starts a lab in ``directory`` on a free port (retrying when the port was
    taken meanwhile: lab.sh exit 3). Raises with lab.sh's own words on failure."""
    if not LAB_SH.is_file():
        raise RuntimeError(
            f"the Asterisk lab is not at {LAB_SH}: put the project's shared/ folder beside "
            f"this repository (or set TELGATE_SHARED), or set {SKIP_VARIABLE}=1 to skip "
            "the real-Asterisk tests locally"
        )
    last = ""
    for _ in range(5):
        lab = Lab("127.0.0.1", free_port(), directory)
        try:
            lab.start(extra_conf_dir)
        except RuntimeError as exc:
            last = str(exc)
            if "failed (3)" in last:
                continue
            raise
        return lab
    raise RuntimeError(last)


@contextmanager
def running_lab(prefix: str, extra_conf: dict[str, str] | None = None) -> Iterator[Lab]:
    """A lab of its own in a new temporary folder (``extra_conf``: config files
    by name, written over the lab's, see LAB_EXTRA_CONF_DIR), stopped and
    removed at the end; the test is skipped when the real-PBX tests are."""
    if skip_requested():
        pytest.skip(f"{SKIP_VARIABLE}=1: real-Asterisk tests skipped on request")
    # A short folder: Asterisk's control socket path must stay under 108 bytes.
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    extra = None
    if extra_conf:
        extra = directory / "extra-conf"
        extra.mkdir()
        for name, text in extra_conf.items():
            (extra / name).write_text(text, encoding="utf-8")
    lab = start_lab(directory / "lab", extra)
    try:
        yield lab
    finally:
        lab.stop()
        shutil.rmtree(directory, ignore_errors=True)
