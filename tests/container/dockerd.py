"""A private Docker daemon for one test session: Debian's `docker.io` package
(`make test-deps` installs it), its data and exec roots in a temporary folder,
its own unix socket, no iptables and no default bridge (a container uses the
host's network, or a network of its own that compose makes: a bridge on a
subnet no host route uses, no NAT), so it touches nothing of the machine and
leaves nothing behind: `stop()` removes its containers and networks (their
bridges), stops the daemon (and the containerd it started), unmounts whatever
is still mounted under its folder and deletes it.

Needs root (CI runs as root). A missing package or a non-root run is a
failure saying what to do; only ``TELGATE_SKIP_DOCKER=1`` (for a quick local
run) skips."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

SKIP_VARIABLE = "TELGATE_SKIP_DOCKER"
DOCKERD = "/usr/sbin/dockerd"
# Debian's client, matching its daemon (a newer docker CLI may be first on PATH).
DOCKER = "/usr/bin/docker"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def skip_requested() -> bool:
    return os.environ.get(SKIP_VARIABLE, "") not in ("", "0")


def require_docker() -> None:
    """Skips on request; fails (never skips) when the daemon cannot run here."""
    if skip_requested():
        pytest.skip(f"{SKIP_VARIABLE}=1: the container test is skipped on request")
    missing = [p for p in (DOCKERD, DOCKER, "/usr/sbin/debootstrap") if not Path(p).exists()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: install the docker.io and debootstrap packages "
            f"(`make test-deps` as root), or set {SKIP_VARIABLE}=1 to skip"
        )
    if os.geteuid() != 0:
        pytest.fail(
            f"the container test starts its own dockerd and needs root ({SKIP_VARIABLE}=1 skips)"
        )


def mounts_under(folder: Path) -> list[str]:
    """Mount points inside ``folder``, deepest first (the order to unmount them)."""
    prefix = str(folder.resolve()) + "/"
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point.startswith(prefix):
            points.append(point)
    return sorted(points, key=lambda p: p.count("/"), reverse=True)


def unmount_all(folder: Path) -> None:
    """Unmounts (lazily, if busy) everything mounted under ``folder``."""
    for point in mounts_under(folder):
        subprocess.run(["umount", point], capture_output=True, check=False)
    for point in mounts_under(folder):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


def remove_tree(folder: Path) -> None:
    """Deletes a folder of this test after unmounting anything in it."""
    if folder.exists():
        unmount_all(folder)
        shutil.rmtree(folder, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop_pid(pid: int, timeout: float) -> None:
    """SIGTERM, then SIGKILL when it is still there after ``timeout`` (for a
    process that is not our child: ours are waited for instead)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@dataclass
class Dockerd:
    """A running private daemon; ``docker(...)`` talks to it only."""

    dir: Path
    process: subprocess.Popen[bytes]

    @property
    def socket(self) -> Path:
        return self.dir / "docker.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    def docker(
        self,
        *args: str,
        input: bytes | None = None,
        timeout: float = 120,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Runs the docker client against this daemon; raises with its stderr on failure."""
        result = subprocess.run(
            [DOCKER, "--host", self.host, *args],
            input=input.decode() if input is not None else None,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"docker {' '.join(args[:3])} ... failed ({result.returncode}): "
                f"{(result.stderr or result.stdout).strip()[-2000:]}"
            )
        return result

    def docker_stream(
        self, args: Sequence[str], *, stdin: int | None = None, log: Path, timeout: float
    ) -> None:
        """A long docker command (build, load) with its output kept in ``log``."""
        with log.open("wb") as out:
            result = subprocess.run(
                [DOCKER, "--host", self.host, *args],
                stdin=stdin,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        if result.returncode != 0:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"docker {args[0]} failed ({result.returncode}):\n{tail}")

    def log_tail(self, chars: int = 3000) -> str:
        return (self.dir / "dockerd.log").read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        """Removes every container and network, stops the daemon and its
        containerd, and deletes its folder (images and volumes with it)."""
        if self.process.poll() is None:
            listed = self.docker("ps", "-aq", check=False, timeout=30).stdout.split()
            if listed:
                self.docker("rm", "-f", "-v", *listed, check=False, timeout=60)
            # A network's bridge is a host interface: it outlives the daemon
            # unless the daemon removes it.
            self.docker("network", "prune", "-f", check=False, timeout=60)
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process.wait()
        self._stop_containerd()
        remove_tree(self.dir)

    def _stop_containerd(self) -> None:
        """The containerd this daemon started, if it outlived it (a killed
        dockerd); only a process whose command line names this folder."""
        pid_file = self.dir / "exec" / "containerd" / "containerd.pid"
        with contextlib.suppress(OSError, ValueError):
            pid = int(pid_file.read_text().strip())
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"containerd" in command and str(self.dir).encode() in command:
                _stop_pid(pid, 10)


def start_dockerd(folder: Path) -> Dockerd:
    """Starts a daemon whose every file lives in ``folder``; waits until it answers."""
    folder.mkdir(parents=True, exist_ok=True)
    log = (folder / "dockerd.log").open("wb")
    process = subprocess.Popen(
        [
            DOCKERD,
            f"--host=unix://{folder / 'docker.sock'}",
            f"--data-root={folder / 'data'}",
            f"--exec-root={folder / 'exec'}",
            f"--pidfile={folder / 'dockerd.pid'}",
            "--iptables=false",
            "--ip-masq=false",
            "--bridge=none",
            "--storage-driver=overlay2",
            # Its own containerd namespaces: nothing shared with another daemon.
            "--containerd-namespace=telgate-test",
            "--containerd-plugins-namespace=telgate-test-plugins",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    daemon = Dockerd(folder, process)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = daemon.log_tail()
            daemon.stop()
            raise RuntimeError(f"dockerd exited ({process.returncode}):\n{tail}")
        if daemon.socket.exists() and daemon.docker("version", check=False).returncode == 0:
            return daemon
        time.sleep(0.2)
    tail = daemon.log_tail()
    daemon.stop()
    raise RuntimeError(f"dockerd did not answer within {START_TIMEOUT:g} s:\n{tail}")


@contextlib.contextmanager
def running_dockerd(folder: Path) -> Iterator[Dockerd]:
    """A private daemon for the ``with`` block, stopped and removed after it."""
    daemon = start_dockerd(folder)
    try:
        yield daemon
    finally:
        daemon.stop()
