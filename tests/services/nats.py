"""A throw-away NATS server with JetStream for tests: Debian's `nats-server`
package (`make test-deps` installs it), storing in a temporary folder and
listening on loopback on a port it picks itself (``-p -1``, read back from
its log), stopped at the end.

A missing binary is a failure that says how to install it, never a silent
skip; only ``TELGATE_SKIP_NATS=1`` (for a quick local run) skips."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.services import process as services

SKIP_VARIABLE = "TELGATE_SKIP_NATS"
START_TIMEOUT = 30.0
_LISTENING = re.compile(r"Listening for client connections on 127\.0\.0\.1:(\d+)")


def skip_requested() -> bool:
    return services.skip_requested(SKIP_VARIABLE)


@dataclass
class NatsServer:
    """A running ``nats-server -js``: clients connect to :attr:`url`."""

    dir: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL: the server gets no word out to its clients."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def stop(self) -> None:
        services.terminate(self.process)


def nats_binary() -> str:
    """The nats-server binary; RuntimeError saying how to install it when missing."""
    return services.installed_binary(
        "nats-server", package="nats-server", skip_variable=SKIP_VARIABLE, tests="JetStream"
    )


def start_nats(
    directory: Path, *, user: str = "", password: str = "", port: int = -1
) -> NatsServer:
    """Starts ``nats-server -js`` on loopback, storing in ``directory``
    (clients log in as ``user`` / ``password`` when given), on ``port`` (-1:
    one it picks; a server started again on the same folder and port is
    the same server to its clients)."""
    log = directory / "nats.log"
    log.unlink(missing_ok=True)
    store = directory / "jetstream"
    store.mkdir(parents=True, exist_ok=True)
    auth = ["--user", user, "--pass", password] if user else []
    command = [nats_binary(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store)]
    process = subprocess.Popen(
        [*command, "-l", str(log), *auth],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + START_TIMEOUT
    text = ""
    while time.monotonic() < deadline and process.poll() is None:
        text = log.read_text(errors="replace") if log.exists() else ""
        found = _LISTENING.search(text)
        if found and "Server is ready" in text:
            return NatsServer(directory, int(found.group(1)), process)
        time.sleep(0.02)
    NatsServer(directory, 0, process).stop()
    raise RuntimeError(f"nats-server did not start: {text[-1500:]}")


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """One ``nats-server -js`` for the session (tests use streams of their own)."""
    if skip_requested():
        pytest.skip(f"{SKIP_VARIABLE} is set")
    server = start_nats(tmp_path_factory.mktemp("nats"))
    try:
        yield server
    finally:
        server.stop()
