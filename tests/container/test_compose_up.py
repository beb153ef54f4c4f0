"""compose.yaml, really run: Debian's docker-compose (1.29, `make test-deps`)
against the private dockerd, with the image conftest.py built tagged as the
file's `telgate:latest` (so compose builds nothing). Compose makes its own
network, so the services reach each other by name: the gateway dials
`simulator:5038`, `simotel:8088` and `sippy:8089`, and the fake Simotel posts
its webhooks to `gateway:8081`. Then a call through the AMI simulator with the
Python client, a call through the Simotel backend whose CDR comes back by
webhook, Sippy's CDRs streaming; every service stops cleanly on its stop
signal, both calls' CDRs are in the named volume, and `down -v` leaves
nothing behind.

Only compose.yaml's variables differ from an operator's run: free published
ports (TELGATE_GRPC_PORT / TELGATE_METRICS_PORT), a fresh token and password,
and an override file that asks the image's HEALTHCHECK every second."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families
from telgate.v1 import (
    backends_pb2,
    backends_pb2_grpc,
    calls_pb2,
    calls_pb2_grpc,
    cdrs_pb2,
    cdrs_pb2_grpc,
    common_pb2,
)

from tests.container.compose_tools import DOCKER_COMPOSE, left_over, require_compose, state
from tests.container.dockerd import Dockerd, remove_tree
from tests.container.waiting import wait_for
from tests.lab import free_port

pytestmark = [pytest.mark.docker, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "clients" / "python" / "examples" / "originate_call.py"
# compose.yaml's `image:` for every service.
COMPOSE_IMAGE = "telgate:latest"
# The test-only override: the image's own HEALTHCHECK command (no `test:`
# keeps it), asked every second instead of every 15 s.
# The gateway's settings are mounted from a copy in a folder the container's
# user (10001) may enter: a checkout under a 0700 home would not be.
OVERRIDE = """services:
  gateway:
    healthcheck:
      interval: 1s
    volumes:
      - {settings}:/etc/telgate/telgate.toml:ro
"""
RPC_TIMEOUT = 60.0


@dataclass
class Project:
    """One compose project on the private daemon."""

    name: str
    override: Path
    env: dict[str, str]
    grpc_port: int
    metrics_port: int
    token: str

    def compose(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Runs docker-compose with compose.yaml and the override; raises with its output."""
        result = subprocess.run(
            [DOCKER_COMPOSE, "--no-ansi", "-p", self.name,
             "-f", str(ROOT / "compose.yaml"), "-f", str(self.override), *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(
                f"docker-compose {' '.join(args)} failed ({result.returncode}):\n"
                f"{(result.stderr + result.stdout)[-3000:]}"
            )
        return result

    def logs(self) -> str:
        try:
            return self.compose("logs", "--no-color", "--tail=60", timeout=60).stdout[-6000:]
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            return f"(no logs: {exc})"

    @property
    def auth(self) -> tuple[tuple[str, str]]:
        return (("authorization", f"Bearer {self.token}"),)


@pytest.fixture
def project(daemon: Dockerd, image: str) -> Iterator[Project]:
    require_compose()
    daemon.docker("tag", image, COMPOSE_IMAGE)
    work = Path(tempfile.mkdtemp(prefix="tgcompose-"))
    settings = work / "telgate.toml"
    shutil.copyfile(ROOT / "docker" / "compose.toml", settings)
    work.chmod(0o755)
    settings.chmod(0o644)
    override = work / "compose.test.yaml"
    override.write_text(OVERRIDE.format(settings=settings), encoding="utf-8")
    token = "compose-test-" + secrets.token_hex(12)
    grpc_port, metrics_port = free_port(), free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(work),
        "DOCKER_HOST": daemon.host,
        "TELGATE_DEMO_TOKEN": token,
        "TELGATE_FAKES_PASSWORD": secrets.token_urlsafe(16),
        "TELGATE_GRPC_PORT": str(grpc_port),
        "TELGATE_METRICS_PORT": str(metrics_port),
    }
    name = f"tgcompose{secrets.token_hex(4)}"
    proj = Project(name, override, env, grpc_port, metrics_port, token)
    try:
        yield proj
    finally:
        # Again after a failure (a no-op after the test's own `down`).
        subprocess.run(
            [DOCKER_COMPOSE, "--no-ansi", "-p", name, "-f", str(ROOT / "compose.yaml"),
             "-f", str(override), "down", "-v", "--remove-orphans", "--timeout", "10"],
            cwd=ROOT, env=env, capture_output=True, timeout=180, check=False,
        )  # fmt: skip
        daemon.docker("rmi", COMPOSE_IMAGE, check=False)
        remove_tree(work)


def container(daemon: Dockerd, proj: Project, service: str) -> str:
    (cid,) = proj.compose("ps", "-q", service, timeout=60).stdout.split()
    return cid


def metric(proj: Project, name: str, labels: dict[str, str]) -> float:
    url = f"http://127.0.0.1:{proj.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as answer:
        text = answer.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def first_cdrs(
    channel: grpc.Channel, proj: Project, backend: str, wanted: Any
) -> list[cdrs_pb2.Cdr]:
    """Follows StreamCdrs of one backend until a CDR matching ``wanted`` comes."""
    stream = cdrs_pb2_grpc.CdrServiceStub(channel).StreamCdrs(
        cdrs_pb2.StreamCdrsRequest(filter=cdrs_pb2.CdrFilter(backends=[backend]), follow=True),
        metadata=proj.auth,
        timeout=RPC_TIMEOUT,
    )
    for answer in stream:
        found = [c for c in answer.cdrs if wanted(c)]
        if found:
            stream.cancel()
            return found
    raise AssertionError(f"StreamCdrs of {backend} ended without the CDR")


def test_compose_runs_the_gateway_with_the_simulator_and_the_fakes(
    daemon: Dockerd, project: Project
) -> None:
    proj = project
    started = time.monotonic()
    # depends_on: the gateway starts once the simulator and both fakes are healthy.
    proj.compose("up", "-d", "--no-build")
    gateway = container(daemon, proj, "gateway")

    def settled() -> bool:
        status, health = state(daemon, gateway)
        return health == "healthy" or status != "running"

    wait_for("the gateway container's health", settled)
    assert state(daemon, gateway) == ("running", "healthy"), proj.logs()
    up_took = time.monotonic() - started

    with grpc.insecure_channel(f"127.0.0.1:{proj.grpc_port}") as channel:
        backends = backends_pb2_grpc.BackendServiceStub(channel)

        def links() -> dict[str, int]:
            listed = backends.ListBackends(
                backends_pb2.ListBackendsRequest(), metadata=proj.auth, timeout=10
            )
            return {b.name: b.link_state for b in listed.backends}

        # Each link crosses the compose network by service name.
        wait_for(
            "every backend link up",
            lambda: set(links().values()) == {backends_pb2.LINK_STATE_UP},
        )
        assert set(links()) == {"pbx", "simotel", "sippy"}

        # The AMI simulator (the default backend), with the Python client example.
        call = subprocess.run(
            [sys.executable, str(EXAMPLE), "--target", f"127.0.0.1:{proj.grpc_port}",
             "--max-seconds", "30"],
            env={**os.environ, "TELGATE_TOKEN": proj.token},
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert call.returncode == 0, call.stdout + call.stderr + proj.logs()
        found = re.search(r"originated: unique id (\S+),", call.stdout)
        assert found is not None, call.stdout
        linked_id = found.group(1)
        assert "call over: every channel hung up" in call.stdout
        (ami_cdr, *_) = first_cdrs(channel, proj, "pbx", lambda c: c.linked_call_id == linked_id)
        assert ami_cdr.backend == "pbx"

        # The fake Simotel: the gateway calls its API, it rings, answers, hangs
        # up and posts the call's webhooks (its Cdr last) to gateway:8081.
        hooks_before = metric(
            proj,
            "telgate_webhook_requests_total",
            {"backend": "simotel", "outcome": "accepted"},
        )
        placed = (
            calls_pb2_grpc.CallControlServiceStub(channel)
            .Originate(
                calls_pb2.OriginateRequest(
                    backend="simotel",
                    endpoint="SIP/204",
                    destination=common_pb2.Destination(
                        number=common_pb2.NumberDestination(number="09120000001")
                    ),
                    wait=calls_pb2.ORIGINATE_WAIT_RESULT,
                ),
                metadata=proj.auth,
                timeout=RPC_TIMEOUT,
            )
            .call
        )
        assert placed.outcome == calls_pb2.ORIGINATE_OUTCOME_ANSWERED, proj.logs()
        (simotel_cdr,) = first_cdrs(
            channel, proj, "simotel", lambda c: c.source_id == placed.other_unique_id
        )
        assert simotel_cdr.callee == "09120000001"
        assert simotel_cdr.disposition == cdrs_pb2.CDR_DISPOSITION_ANSWERED
        hooks_after = metric(
            proj,
            "telgate_webhook_requests_total",
            {"backend": "simotel", "outcome": "accepted"},
        )
        # The answer (and the CDR) came by webhooks across the containers.
        assert hooks_after > hooks_before

        # The fake Sippy switch makes a CDR a second; the gateway polls it.
        sippy_cdrs = first_cdrs(channel, proj, "sippy", lambda c: True)
        assert all(c.backend == "sippy" and c.source_id for c in sippy_cdrs)
    calls_took = time.monotonic() - started - up_took

    # Every service stops on its stop signal (none waits to be killed).
    stop_started = time.monotonic()
    proj.compose("stop", "--timeout", "30")
    stop_took = time.monotonic() - stop_started
    for service in ("gateway", "simulator", "simotel", "sippy"):
        cid = container(daemon, proj, service)
        code = daemon.docker("inspect", "-f", "{{.State.ExitCode}}", cid).stdout.strip()
        assert code == "0", f"{service} exited with {code}\n{proj.logs()}"
    # Both calls' CDRs are in the project's volume.
    volume = f"{proj.name}_telgate-data"
    mountpoint = daemon.docker("volume", "inspect", "-f", "{{.Mountpoint}}", volume).stdout
    with sqlite3.connect(Path(mountpoint.strip()) / "data" / "cdrs.sqlite3") as db:
        stored = {
            (backend, source_id)
            for backend, source_id in db.execute("SELECT backend, source_id FROM cdr")
        }
    assert ("pbx", ami_cdr.source_id) in stored
    assert ("simotel", simotel_cdr.source_id) in stored

    # What compose made (its labels find it), and after `down -v` none of it.
    made = {entry.split()[0] for entry in left_over(daemon, proj.name)}
    assert made == {"container", "network", "volume"}
    proj.compose("down", "-v")
    assert left_over(daemon, proj.name) == []
    # Figures for the report (pytest -s shows them); nothing asserts on them.
    print(
        f"\ncompose: up until healthy {up_took:.1f} s, calls and CDRs {calls_took:.1f} s, "
        f"stop {stop_took:.1f} s"
    )
