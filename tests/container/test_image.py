"""The project's Dockerfile, really built and run: a private dockerd, the image
built on a debootstrapped bookworm with python3 (base_image.py), the
simulator and the gateway each in a container of that image (host network),
until the gateway's own HEALTHCHECK says healthy; then a call through it
with the Python client, SIGTERM, and the call's CDR read from the volume."""

from __future__ import annotations

import os
import re
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from telgate.v1 import cdrs_pb2, cdrs_pb2_grpc

from tests.container.dockerd import Dockerd, remove_tree
from tests.container.waiting import wait_for
from tests.lab import free_port

pytestmark = [pytest.mark.docker, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "clients" / "python" / "examples" / "originate_call.py"
# The simulator's AMI secret, made for this run (TELGATE_SIM_SECRET).
SIM_SECRET = secrets.token_urlsafe(18)
DATA = "/var/lib/telgate"


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def start_simulator(daemon: Dockerd, image: str, name: str) -> int:
    """`telgate sim` in a container of the image; its AMI port once it listens."""
    port = free_port()
    daemon.docker(
        "run", "-d", "--name", name, "--network=host", "--no-healthcheck",
        "-e", f"TELGATE_SIM_SECRET={SIM_SECRET}",
        image, "sim", "--host", "127.0.0.1", "--port", str(port),
    )  # fmt: skip
    wait_for("the simulator's port", lambda: port_open(port) or not running(daemon, name))
    assert running(daemon, name), daemon.docker("logs", name, check=False).stderr
    return port


def running(daemon: Dockerd, name: str) -> bool:
    return daemon.docker("inspect", "-f", "{{.State.Running}}", name).stdout.strip() == "true"


def health(daemon: Dockerd, name: str) -> str:
    return daemon.docker("inspect", "-f", "{{.State.Health.Status}}", name).stdout.strip()


def write_config(folder: Path, grpc_port: int, ami_port: int) -> Path:
    """The mounted settings file; the secrets come from the environment."""
    path = folder / "telgate.toml"
    path.write_text(
        f"""default_backend = "pbx"
[server]
listen = "127.0.0.1:{grpc_port}"
[backends.pbx]
host = "127.0.0.1"
port = {ami_port}
username = "telgate"
[auth.tokens.test]
roles = ["calls.control", "events.read", "cdrs.read"]
""",
        encoding="utf-8",
    )
    # The container's user (10001) reads it through the bind mount.
    folder.chmod(0o755)
    path.chmod(0o644)
    return path


@pytest.fixture
def workdir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="tgcfg-"))
    try:
        yield folder
    finally:
        remove_tree(folder)


def test_image_runs_as_a_numeric_non_root_user_with_volume_and_healthcheck(
    daemon: Dockerd, image: str
) -> None:
    config = daemon.docker(
        "image", "inspect", "-f",
        "{{.Config.User}}|{{json .Config.Volumes}}|{{json .Config.Healthcheck.Test}}", image,
    ).stdout.strip()  # fmt: skip
    user, volumes, check = config.split("|")
    assert user == "10001:10001"
    assert DATA in volumes
    assert '"telgate","health"' in check
    ids = daemon.docker("run", "--rm", "--entrypoint", "id", image).stdout
    assert ids.startswith("uid=10001(telgate) gid=10001(telgate)"), ids


def test_check_config_in_the_image_tests_the_backend_link(
    daemon: Dockerd, image: str, workdir: Path
) -> None:
    ami = start_simulator(daemon, image, "tg-check-sim")
    config = write_config(workdir, free_port(), ami)

    def check_config(secret: str) -> subprocess.CompletedProcess[str]:
        return daemon.docker(
            "run", "--rm", "--network=host", "-v", f"{config}:/etc/telgate/telgate.toml:ro",
            "-e", f"TELGATE_BACKENDS__PBX__SECRET={secret}",
            "-e", "TELGATE_AUTH__TOKENS__TEST__SECRET=0123456789abcdef-check",
            image, "check-config", "--config", "/etc/telgate/telgate.toml",
            check=False,
        )  # fmt: skip

    good = check_config(SIM_SECRET)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "ok     ping: Pong" in good.stdout
    assert f"writable: {DATA}/data/cdrs.sqlite3" in good.stdout
    wrong = check_config("not-the-secret")
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    assert "FAILED link: auth_failed" in wrong.stdout
    assert "refused the login of user 'telgate'" in wrong.stdout
    assert "not-the-secret" not in wrong.stdout + wrong.stderr


def test_container_turns_healthy_places_a_call_and_keeps_its_cdr_after_sigterm(
    daemon: Dockerd, image: str, workdir: Path
) -> None:
    ami = start_simulator(daemon, image, "tg-sim")
    grpc_port = free_port()
    config = write_config(workdir, grpc_port, ami)
    token = "container-test-" + os.urandom(12).hex()
    daemon.docker("volume", "create", "tg-data")
    daemon.docker(
        "run", "-d", "--name", "tg-gateway", "--network=host",
        "-v", f"{config}:/etc/telgate/telgate.toml:ro", "-v", f"tg-data:{DATA}",
        "-e", f"TELGATE_BACKENDS__PBX__SECRET={SIM_SECRET}",
        "-e", f"TELGATE_AUTH__TOKENS__TEST__SECRET={token}",
        # The image's own HEALTHCHECK command, asked every second instead of 15 s.
        "--health-interval=1s",
        image,
    )  # fmt: skip

    def logs() -> str:
        out = daemon.docker("logs", "tg-gateway", check=False)
        return (out.stdout + out.stderr)[-4000:]

    def settled() -> bool:
        return health(daemon, "tg-gateway") == "healthy" or not running(daemon, "tg-gateway")

    wait_for("the gateway container's health", settled)
    assert health(daemon, "tg-gateway") == "healthy", logs()
    target = f"127.0.0.1:{grpc_port}"
    auth = (("authorization", f"Bearer {token}"),)
    with grpc.insecure_channel(target) as channel:
        # The health stubs are untyped.
        probe: Any = health_pb2_grpc.HealthStub(channel)

        def link_up() -> bool:
            answer = probe.Check(
                health_pb2.HealthCheckRequest(service="telgate.backend.pbx"), timeout=5
            )
            return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)

        wait_for("the gateway's AMI link", link_up)
        call = subprocess.run(
            [sys.executable, str(EXAMPLE), "--target", target, "--max-seconds", "30"],
            env={**os.environ, "TELGATE_TOKEN": token},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert call.returncode == 0, call.stdout + call.stderr + logs()
        found = re.search(r"originated: unique id (\S+),", call.stdout)
        assert found is not None, call.stdout
        linked_id = found.group(1)
        assert "call over: every channel hung up" in call.stdout
        # Stored CDRs (replayed, then live): the call's first one once committed.
        stream = cdrs_pb2_grpc.CdrServiceStub(channel).StreamCdrs(
            cdrs_pb2.StreamCdrsRequest(follow=True), metadata=auth, timeout=60
        )
        source_ids: set[str] = set()
        for answer in stream:
            source_ids.update(c.source_id for c in answer.cdrs if c.linked_call_id == linked_id)
            if source_ids:
                stream.cancel()
                break
    assert source_ids, logs()

    daemon.docker("kill", "--signal=TERM", "tg-gateway")
    status = daemon.docker("wait", "tg-gateway", timeout=60).stdout.strip()
    assert status == "0", f"exit status {status}\n{logs()}"

    mountpoint = daemon.docker("volume", "inspect", "-f", "{{.Mountpoint}}", "tg-data").stdout
    volume = Path(mountpoint.strip())
    database = volume / "data" / "cdrs.sqlite3"
    assert database.stat().st_uid == 10001
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT source_id FROM cdr WHERE linked_call_id = ?", (linked_id,))
        stored = {row[0] for row in rows}
    assert source_ids <= stored
