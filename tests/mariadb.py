"""A throw-away MariaDB server for tests: Debian's `mariadb-server` package
(`make test-deps` installs it), initialised in a temporary folder and
listening on loopback on a free port, stopped at the end.

A missing server is a failure that says how to install it, never a silent
skip; only ``TELGATE_SKIP_MARIADB=1`` (for a quick local run) skips."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.lab import free_port
from tests.services import process as services

SKIP_VARIABLE = "TELGATE_SKIP_MARIADB"
START_TIMEOUT = 30.0


def skip_requested() -> bool:
    return services.skip_requested(SKIP_VARIABLE)


@dataclass
class MariaDb:
    """A running server: root (no password) on the socket, TCP on ``port``."""

    dir: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def socket(self) -> Path:
        return self.dir / "mysqld.sock"

    def sql(self, statements: str) -> str:
        """Runs SQL as root through the `mariadb` client; returns its output."""
        result = subprocess.run(
            ["mariadb", "--no-defaults", f"--socket={self.socket}", "-u", "root", "-N", "-B"],
            input=statements,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"mariadb: {result.stderr.strip()[:500]}")
        return result.stdout

    def stop(self) -> None:
        services.terminate(self.process)


def _binary(name: str) -> str:
    return services.installed_binary(
        name, package="mariadb-server", skip_variable=SKIP_VARIABLE, tests="MariaDB"
    )


def start_mariadb(directory: Path) -> MariaDb:
    """Initialises a data folder in ``directory`` and starts the server on a
    free loopback port (run as root: ``--user=root``)."""
    install, server = _binary("mariadb-install-db"), _binary("mariadbd")
    _binary("mariadb")
    data = directory / "data"
    # A temporary folder of its own: in the shared /tmp another server's (or a
    # cleanup's) files raced ours ("Error on delete of '/tmp/#sql-temptable...'").
    tmp = directory / "tmp"
    tmp.mkdir(exist_ok=True)
    result = subprocess.run(
        [
            install,
            "--no-defaults",
            f"--datadir={data}",
            f"--tmpdir={tmp}",
            "--user=root",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"mariadb-install-db failed: {result.stdout[-1500:]}{result.stderr[-1500:]}"
        )
    last = ""
    for _ in range(5):
        port = free_port()
        log = directory / "error.log"
        process = subprocess.Popen(
            [
                server,
                "--no-defaults",
                f"--datadir={data}",
                f"--tmpdir={tmp}",
                f"--socket={directory / 'mysqld.sock'}",
                f"--port={port}",
                "--bind-address=127.0.0.1",
                "--user=root",
                f"--pid-file={directory / 'mysqld.pid'}",
                f"--log-error={log}",
                "--skip-log-bin",
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=16M",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        db = MariaDb(directory, port, process)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            try:
                db.sql("SELECT 1")
                return db
            except RuntimeError:
                time.sleep(0.05)
        db.stop()
        last = log.read_text(errors="replace")[-1500:] if log.exists() else ""
        if "Address already in use" not in last:
            break
    raise RuntimeError(f"mariadbd did not start: {last}")
