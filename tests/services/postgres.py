"""A throw-away PostgreSQL cluster for tests: Debian's `postgresql` package
(`make test-deps` installs it), initialised in a temporary folder, listening
on loopback on a free port (and a socket in the same folder), with fsync off,
stopped and removed at the end of the session.

`initdb` refuses to run as root, so as root every server command runs as the
`postgres` user (`runuser`); as any other user they run as that user.

A missing server is a failure that says how to install it, never a silent
skip; only ``TELGATE_SKIP_POSTGRES=1`` (for a quick local run) skips."""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.lab import free_port
from tests.services import process as services

SKIP_VARIABLE = "TELGATE_SKIP_POSTGRES"
SERVER_USER = "postgres"
START_TIMEOUT = 30


def skip_requested() -> bool:
    return services.skip_requested(SKIP_VARIABLE)


def find_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb (Debian puts
    the server binaries there, not on PATH), else the folder of an `initdb`
    found on PATH."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parts[-3].split(".")],
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise FileNotFoundError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin "
        "or on PATH: run `make test-deps` as root (Debian package postgresql), or set "
        f"{SKIP_VARIABLE}=1 to skip the PostgreSQL tests locally"
    )


@dataclass
class PostgresCluster:
    """A running cluster: superuser `postgres` without a password (trust) on
    ``127.0.0.1:port``."""

    dir: Path
    bin_dir: Path
    port: int
    as_other_user: bool

    host = "127.0.0.1"
    user = "postgres"

    def dsn(self, database: str = "postgres", **settings: str) -> str:
        """A libpq-style URL; extra keywords become server settings (asyncpg
        passes unknown query parameters on), e.g. ``search_path``."""
        query = "&".join(f"{k}={v}" for k, v in settings.items())
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}" + (
            f"?{query}" if query else ""
        )

    def run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Runs a server binary (as `postgres` when we are root)."""
        command = [str(self.bin_dir / tool), *args]
        if self.as_other_user:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=60, check=False, cwd=self.dir
        )
        if check and result.returncode != 0:
            log = self.dir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{tool} failed ({result.returncode}): {result.stderr.strip()[-1000:]}\n{tail}"
            )
        return result

    def stop(self) -> None:
        self.run(
            "pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop", check=False
        )


def start_postgres(directory: Path, *, durable: bool = False) -> PostgresCluster:
    """Initialises a cluster in ``directory`` and starts it on a free loopback
    port; ``durable`` keeps fsync and synchronous commits on (benchmarks:
    the figures of a real server), else both are off (tests: speed)."""
    bin_dir = find_bin_dir()
    as_other_user = os.geteuid() == 0
    if as_other_user:
        entry = pwd.getpwnam(SERVER_USER)  # KeyError: the package creates this user
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    cluster = PostgresCluster(directory, bin_dir, 0, as_other_user)
    data = str(directory / "data")
    cluster.run("initdb", "-D", data, "-A", "trust", "-U", cluster.user, "-E", "UTF8", "--no-sync")
    # A free port can be taken between the probe and the bind: try a few.
    for attempt in itertools.count(1):
        cluster.port = free_port()
        options = f"-c listen_addresses={cluster.host} -p {cluster.port} -k {directory}"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        started = cluster.run(
            "pg_ctl", "-D", data, "-l", str(directory / "server.log"), "-w",
            "-t", str(START_TIMEOUT), "-o", options, "start",
            check=attempt >= 3,
        )  # fmt: skip
        if started.returncode == 0:
            return cluster
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """One PostgreSQL cluster for the whole session (tests take a schema or a
    database of their own in it). Skipped only with TELGATE_SKIP_POSTGRES=1."""
    if skip_requested():
        pytest.skip(f"{SKIP_VARIABLE}=1")
    try:
        find_bin_dir()
    except FileNotFoundError as exc:
        pytest.fail(str(exc), pytrace=False)
    directory = Path(tempfile.mkdtemp(prefix="tgpg-"))
    try:
        cluster = start_postgres(directory)
        try:
            yield cluster
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
