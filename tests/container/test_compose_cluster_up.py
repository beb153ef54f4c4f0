"""deploy/compose.cluster.yaml, really run: Debian's docker-compose (1.29)
against the private dockerd, three gateway instances, NATS with JetStream,
PostgreSQL, the AMI simulator and the fake Sippy switch.

- Each link (pbx = the simulator, sippy) is run by exactly one instance, and
  ListBackends on every instance names that owner at the address its gRPC
  port is published on (the metrics agree: one `telgate_backend_link_owned`).
- A subscriber on an instance that runs no link sees the owner's link events.
- Call control on a non-owner is UNAVAILABLE naming the owner.
- `docker kill` (SIGKILL) of the pbx link's owner: another instance takes it
  over (its announcement reaches the subscriber); a subscriber whose stream
  died with the owner resumes from its last position against a survivor and
  gets exactly the events the first subscriber saw, none missing, none twice,
  no gap; the CDRs the dead instance served come from the survivors from the
  same cursors, none stored twice.
- `down -v` leaves no container, network or volume.

What differs from an operator's run, all in the test-only override file or
the variables:
- `nats` and `postgres` run local stand-ins built from the test base image
  with Debian's packages (service_images.py: nats-server 2.9 instead of
  nats:2.10.24-alpine, PostgreSQL 15 instead of postgres:16.6-bookworm);
  their commands, volumes, environment and healthchecks are the file's own.
- Each gateway's settings (docker/cluster.toml, unchanged) are mounted from a
  copy in a folder the container's user (10001) may enter, and the image's
  HEALTHCHECK is asked every second instead of every 15 s.
- Free published ports (TELGATE_GRPC_PORT_1..3, TELGATE_METRICS_PORT_1..3)
  and fresh secrets.
- `up` in two steps: NATS, PostgreSQL, the simulator and the fake Sippy,
  waited for until their healthchecks say healthy, then the gateways with
  `--no-deps`. One CI run failed the single `up` with docker-compose 1.29's
  "Container ... is unhealthy" for the third gateway, after it had started
  the first two on the same services; the cause was not found (the failure
  now prints every container's health log: Cluster.health)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from prometheus_client.parser import text_string_to_metric_families
from telgate.v1 import (
    backends_pb2,
    backends_pb2_grpc,
    calls_pb2,
    calls_pb2_grpc,
    cdrs_pb2,
    cdrs_pb2_grpc,
    common_pb2,
    events_pb2,
    events_pb2_grpc,
)

from tests.cluster.harness import link_events
from tests.container.compose_tools import DOCKER_COMPOSE, left_over, require_compose, state
from tests.container.dockerd import Dockerd, remove_tree
from tests.container.service_images import ServiceImages, ensure_service_images
from tests.container.waiting import wait_for
from tests.lab import free_port

pytestmark = [pytest.mark.docker, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
FILE = ROOT / "deploy" / "compose.cluster.yaml"
# The file's `image:` of the gateways, the simulator and the fake Sippy.
COMPOSE_IMAGE = "telgate:latest"
GATEWAYS = ("gateway-1", "gateway-2", "gateway-3")
# What the gateways depend on (`depends_on` in the file).
SERVICES = ("nats", "postgres", "simulator", "sippy")
LINKS = ("pbx", "sippy")
GATEWAY_OVERRIDE = """  {name}:
    healthcheck:
      interval: 1s
    volumes:
      - {settings}:/etc/telgate/telgate.toml:ro
"""
SERVICES_OVERRIDE = """  nats:
    image: {nats}
  postgres:
    image: {postgres}
"""
RPC_TIMEOUT = 20.0
# docker/cluster.toml's lease_ttl is 10 s: a takeover after a SIGKILL comes
# within about 12 s; the bound is generous for a loaded 2-core machine.
TAKEOVER_WAIT = 90.0


@dataclass
class Cluster:
    """One compose project of compose.cluster.yaml on the private daemon."""

    daemon: Dockerd
    name: str
    override: Path
    env: dict[str, str]
    grpc_ports: dict[str, int]
    metrics_ports: dict[str, int]
    token: str
    channels: dict[str, grpc.Channel] = field(default_factory=dict)

    def compose(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Runs docker-compose with the file and the override; raises with its output."""
        result = subprocess.run(
            [DOCKER_COMPOSE, "--no-ansi", "-p", self.name,
             "-f", str(FILE), "-f", str(self.override), *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(
                f"docker-compose {' '.join(args)} failed ({result.returncode}):\n"
                f"{(result.stderr + result.stdout)[-3000:]}\n{self.health()}"
            )
        return result

    def health(self) -> str:
        """Each container of the project: id, name, state and its last health
        checks (what a failed `up` needs to be understood)."""
        listed = self.daemon.docker(
            "ps", "-aq", "--filter", f"label=com.docker.compose.project={self.name}", check=False
        )
        ids = listed.stdout.split()
        if not ids:
            return "(no containers)"
        shown = self.daemon.docker(
            "inspect",
            "--format",
            "{{.Id}} {{.Name}} {{.State.Status}} {{json .State.Health}}",
            *ids,
            check=False,
        )
        return (shown.stdout + shown.stderr)[-6000:]

    def logs(self) -> str:
        try:
            return self.compose("logs", "--no-color", "--tail=40", timeout=60).stdout[-8000:]
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            return f"(no logs: {exc})"

    def container(self, service: str) -> str:
        (cid,) = self.compose("ps", "-q", service, timeout=60).stdout.split()
        return cid

    def address(self, gateway: str) -> str:
        """Where the host reaches the instance (and what it advertises)."""
        return f"127.0.0.1:{self.grpc_ports[gateway]}"

    def channel(self, gateway: str) -> grpc.Channel:
        if gateway not in self.channels:
            self.channels[gateway] = grpc.insecure_channel(self.address(gateway))
        return self.channels[gateway]

    @property
    def auth(self) -> tuple[tuple[str, str]]:
        return (("authorization", f"Bearer {self.token}"),)

    def backends(self, gateway: str) -> dict[str, backends_pb2.Backend]:
        listed = backends_pb2_grpc.BackendServiceStub(self.channel(gateway)).ListBackends(
            backends_pb2.ListBackendsRequest(), metadata=self.auth, timeout=RPC_TIMEOUT
        )
        return {b.name: b for b in listed.backends}

    def links_owned(self, gateway: str) -> dict[str, float]:
        """telgate_backend_link_owned of each backend, from the instance's metrics."""
        url = f"http://127.0.0.1:{self.metrics_ports[gateway]}/metrics"
        with urllib.request.urlopen(url, timeout=10) as answer:
            text = answer.read().decode()
        return {
            sample.labels["backend"]: sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "telgate_backend_link_owned"
        }

    def cdrs(self, gateway: str) -> list[cdrs_pb2.Cdr]:
        """Every stored CDR, from the instance at ``gateway``."""
        stream = cdrs_pb2_grpc.CdrServiceStub(self.channel(gateway)).StreamCdrs(
            cdrs_pb2.StreamCdrsRequest(follow=False), metadata=self.auth, timeout=RPC_TIMEOUT
        )
        return [cdr for answer in stream for cdr in answer.cdrs]


class Subscriber:
    """A Subscribe stream read in a thread: every event in order, the gaps
    announced, and how the stream ended."""

    def __init__(self, cluster: Cluster, gateway: str, request: events_pb2.SubscribeRequest):
        self.gateway = gateway
        stub = events_pb2_grpc.EventServiceStub(cluster.channel(gateway))
        self.call = stub.Subscribe(request, metadata=cluster.auth)
        self.events: list[events_pb2.Event] = []
        self.gaps: list[events_pb2.EventGap] = []
        self.epoch = ""
        self.error: grpc.RpcError | None = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for answer in self.call:
                if answer.HasField("started"):
                    self.epoch = answer.started.position.epoch
                if answer.HasField("gap"):
                    self.gaps.append(answer.gap)
                self.events.extend(answer.batch.events)
        except grpc.RpcError as exc:
            self.error = exc

    def wait_for(
        self, what: str, ready: Callable[[list[events_pb2.Event]], bool], timeout: float = 60
    ) -> None:
        """Until ``ready(events so far)``; fails at once when the stream ended."""

        def done() -> bool:
            assert self.error is None, f"the stream on {self.gateway} ended: {self.error}"
            return ready(list(self.events))

        wait_for(f"{what} (subscriber on {self.gateway})", done, timeout)

    def close(self) -> None:
        self.call.cancel()
        self.thread.join(10)


def announcement(events: list[events_pb2.Event], backend: str, instance: str) -> int | None:
    """The sequence of ``instance``'s "runs this link now" event for ``backend``."""
    for event in link_events(events, backend):
        detail = event.link_state_changed.detail
        if f"gateway instance '{instance}'" in detail and "runs this link now" in detail:
            return event.position.sequence
    return None


def up_after(events: list[events_pb2.Event], backend: str, sequence: int) -> int | None:
    """The sequence of the first event after ``sequence`` saying the link is up."""
    for event in link_events(events, backend):
        if event.position.sequence > sequence and event.link_state_changed.state == (
            backends_pb2.LINK_STATE_UP
        ):
            return event.position.sequence
    return None


def agreed_owners(cluster: Cluster, gateways: list[str]) -> dict[str, str] | None:
    """Each link's owner when every instance in ``gateways`` names the same
    one, that one (and no other) says it runs it, and the link is up."""
    views = {g: cluster.backends(g) for g in gateways}
    owners: dict[str, str] = {}
    for link in LINKS:
        named = {view[link].owner for view in views.values()}
        here = [g for g, view in views.items() if view[link].owned_here]
        states = {view[link].link_state for view in views.values()}
        if len(named) != 1 or here != list(named) or states != {backends_pb2.LINK_STATE_UP}:
            return None
        owners[link] = here[0]
    return owners


def refusal(cluster: Cluster, gateway: str) -> grpc.RpcError:
    """An Originate on the pbx link sent to ``gateway``, which must refuse it."""
    calls = calls_pb2_grpc.CallControlServiceStub(cluster.channel(gateway))
    request = calls_pb2.OriginateRequest(
        backend="pbx",
        endpoint="PJSIP/201",
        destination=common_pb2.Destination(
            number=common_pb2.NumberDestination(number="09120000001")
        ),
    )
    with pytest.raises(grpc.RpcError) as refused:
        calls.Originate(request, metadata=cluster.auth, timeout=RPC_TIMEOUT)
    return refused.value


def assert_refused_naming(cluster: Cluster, gateway: str, owner: str) -> None:
    """Call control on ``gateway`` is UNAVAILABLE naming ``owner`` and its address."""
    exc = refusal(cluster, gateway)
    assert isinstance(exc, grpc.Call)
    assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc.details()
    assert f"gateway instance '{owner}'" in (exc.details() or ""), exc.details()
    status = rpc_status.from_call(exc)
    assert status is not None, "no google.rpc.Status in the trailers"
    infos = []
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            infos.append(info)
    assert [i.reason for i in infos] == [
        common_pb2.ErrorReason.Name(common_pb2.ERROR_REASON_LINK_OWNED_ELSEWHERE)
    ]
    assert dict(infos[0].metadata) == {
        "backend": "pbx",
        "owner": owner,
        "owner_address": cluster.address(owner),
    }


def distinct_free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


@pytest.fixture(scope="module")
def service_images(daemon: Dockerd, base: str) -> Iterator[ServiceImages]:
    work = Path(tempfile.mkdtemp(prefix="tgsvc-"))
    try:
        started = time.monotonic()
        images = ensure_service_images(daemon, work, base)
        print(f"\nNATS and PostgreSQL stand-ins ready in {time.monotonic() - started:.1f} s")
        yield images
    finally:
        remove_tree(work)


@pytest.fixture
def cluster(daemon: Dockerd, image: str, service_images: ServiceImages) -> Iterator[Cluster]:
    require_compose()
    daemon.docker("tag", image, COMPOSE_IMAGE)
    work = Path(tempfile.mkdtemp(prefix="tgcluster-"))
    settings = work / "cluster.toml"
    shutil.copyfile(ROOT / "docker" / "cluster.toml", settings)
    work.chmod(0o755)
    settings.chmod(0o644)
    override = work / "compose.cluster.test.yaml"
    override.write_text(
        "services:\n"
        + "".join(GATEWAY_OVERRIDE.format(name=g, settings=settings) for g in GATEWAYS)
        + SERVICES_OVERRIDE.format(nats=service_images.nats, postgres=service_images.postgres),
        encoding="utf-8",
    )
    ports = distinct_free_ports(2 * len(GATEWAYS))
    grpc_ports = dict(zip(GATEWAYS, ports[: len(GATEWAYS)], strict=True))
    metrics_ports = dict(zip(GATEWAYS, ports[len(GATEWAYS) :], strict=True))
    token = "cluster-test-" + secrets.token_hex(12)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(work),
        "DOCKER_HOST": daemon.host,
        "TELGATE_DEMO_TOKEN": token,
        "TELGATE_FAKES_PASSWORD": secrets.token_urlsafe(16),
        "TELGATE_NATS_PASSWORD": secrets.token_urlsafe(16),
        "TELGATE_PG_PASSWORD": secrets.token_urlsafe(16),
    }
    for number, gateway in enumerate(GATEWAYS, start=1):
        env[f"TELGATE_GRPC_PORT_{number}"] = str(grpc_ports[gateway])
        env[f"TELGATE_METRICS_PORT_{number}"] = str(metrics_ports[gateway])
    name = f"tgcluster{secrets.token_hex(4)}"
    made = Cluster(daemon, name, override, env, grpc_ports, metrics_ports, token)
    try:
        yield made
    finally:
        for channel in made.channels.values():
            channel.close()
        # Again after a failure (a no-op after the test's own `down`).
        subprocess.run(
            [DOCKER_COMPOSE, "--no-ansi", "-p", name, "-f", str(FILE), "-f", str(override),
             "down", "-v", "--remove-orphans", "--timeout", "10"],
            cwd=ROOT, env=env, capture_output=True, timeout=180, check=False,
        )  # fmt: skip
        daemon.docker("rmi", COMPOSE_IMAGE, check=False)
        remove_tree(work)


def test_three_instances_run_each_link_once_and_survive_a_killed_owner(
    daemon: Dockerd, cluster: Cluster
) -> None:
    started = time.monotonic()
    # The services the gateways depend on first, each until its own
    # healthcheck (the file's) says healthy; then the gateways. The file's
    # `depends_on: condition: service_healthy` says the same order, but
    # docker-compose 1.29 once failed a CI run with "Container ... is
    # unhealthy" for the third gateway after starting the other two on the
    # same, healthy, services (see the module docstring).
    cluster.compose("up", "-d", "--no-build", *SERVICES)
    for service in SERVICES:
        cid = cluster.container(service)

        def service_settled(cid: str = cid) -> bool:
            status, health = state(daemon, cid)
            return health in ("healthy", "unhealthy") or status != "running"

        wait_for(f"{service}'s health", service_settled)
        assert state(daemon, cid) == ("running", "healthy"), cluster.health()
    cluster.compose("up", "-d", "--no-build", "--no-deps", *GATEWAYS)
    containers = {g: cluster.container(g) for g in GATEWAYS}
    for gateway, cid in containers.items():

        def settled(cid: str = cid) -> bool:
            status, health = state(daemon, cid)
            return health == "healthy" or status != "running"

        wait_for(f"{gateway}'s health", settled)
        assert state(daemon, cid) == ("running", "healthy"), cluster.logs()
    up_took = time.monotonic() - started

    # Each link is run by one instance; every instance names it, at its address.
    owners: dict[str, str] = {}

    def agreed() -> bool:
        owners.update(agreed_owners(cluster, list(GATEWAYS)) or {})
        return bool(owners)

    wait_for("every instance naming one owner per link, up", agreed)
    for gateway in GATEWAYS:
        for link, backend in cluster.backends(gateway).items():
            assert backend.owner_address == cluster.address(owners[link])
        owned = cluster.links_owned(gateway)
        assert owned == {link: float(owners[link] == gateway) for link in LINKS}
    agreed_took = time.monotonic() - started - up_took

    owner = owners["pbx"]
    bystanders = [g for g in GATEWAYS if g != owner]
    # A subscriber on an instance that does not run the link, one on the owner.
    oldest = events_pb2.SubscribeRequest(start=events_pb2.START_POSITION_OLDEST)
    watcher = Subscriber(cluster, bystanders[0], oldest)
    on_owner = Subscriber(cluster, owner, oldest)
    subscribers = [watcher, on_owner]
    try:

        def owner_link_up(events: list[events_pb2.Event]) -> bool:
            announced = announcement(events, "pbx", owner)
            return announced is not None and up_after(events, "pbx", announced) is not None

        watcher.wait_for(f"{owner}'s pbx link events", owner_link_up)
        on_owner.wait_for(f"{owner}'s pbx link events", owner_link_up)
        # Call control on a non-owner is refused, naming the owner.
        assert_refused_naming(cluster, bystanders[1], owner)

        # CDRs the owner stored of the simulator's background calls.
        before: list[cdrs_pb2.Cdr] = []

        def pbx_cdrs_stored() -> bool:
            before[:] = cluster.cdrs(owner)
            return any(c.backend == "pbx" for c in before)

        wait_for(f"a CDR of the simulator's calls stored by {owner}", pbx_cdrs_stored)

        # The owner dies: its subscriber's stream ends with it.
        killed = time.monotonic()
        daemon.docker("kill", containers[owner])
        wait_for(f"the stream on {owner} to end", lambda: on_owner.error is not None)
        assert on_owner.error is not None
        assert isinstance(on_owner.error, grpc.Call)
        assert on_owner.error.code() == grpc.StatusCode.UNAVAILABLE, on_owner.error

        # A survivor takes the link over; the subscriber on a bystander sees it.
        taken: dict[str, int] = {}

        def taken_over(events: list[events_pb2.Event]) -> bool:
            for survivor in bystanders:
                announced = announcement(events, "pbx", survivor)
                if announced is not None:
                    up = up_after(events, "pbx", announced)
                    if up is not None:
                        taken[survivor] = up
            return bool(taken)

        watcher.wait_for("a survivor's takeover of the pbx link", taken_over, TAKEOVER_WAIT)
        failover_took = time.monotonic() - killed
        ((successor, last),) = taken.items()

        # The subscriber of the dead instance resumes against the other survivor.
        resumed_on = bystanders[1]
        seen = list(on_owner.events)
        resumed = Subscriber(
            cluster,
            resumed_on,
            events_pb2.SubscribeRequest(
                start=events_pb2.START_POSITION_AFTER,
                after=seen[-1].position,
            ),
        )
        subscribers.append(resumed)
        resumed.wait_for(
            "the takeover's events",
            lambda events: bool(events) and events[-1].position.sequence >= last,
        )
        both = seen + list(resumed.events)
        reference = [e for e in watcher.events if e.position.sequence <= last]
        # Every event once, in order, the same events the bystander served.
        assert both[: len(reference)] == reference
        assert [e.position.sequence for e in both] == list(range(1, len(both) + 1))
        assert resumed.gaps == [] and watcher.gaps == [] and on_owner.gaps == []

        # The survivors agree on the new owners (also of the dead instance's
        # other links), and refuse call control naming the new owner.
        survivors = bystanders
        new_owners: dict[str, str] = {}

        def survivors_agreed() -> bool:
            new_owners.update(agreed_owners(cluster, survivors) or {})
            return bool(new_owners)

        wait_for("the survivors naming one owner per link, up", survivors_agreed, TAKEOVER_WAIT)
        assert new_owners["pbx"] == successor
        assert set(new_owners.values()) <= set(survivors)
        (other,) = [g for g in survivors if g != successor]
        assert_refused_naming(cluster, other, successor)

        # The CDRs the dead instance stored stream from both survivors from
        # the same cursors; none is stored twice (the new owners' pollers and
        # backfills read some of them again).
        for survivor in survivors:
            after = cluster.cdrs(survivor)
            assert after[: len(before)] == before
            keys = [(c.backend, c.source_id) for c in after]
            assert len(keys) == len(set(keys))
    finally:
        for subscriber in subscribers:
            subscriber.close()
    checks_took = time.monotonic() - started - up_took - agreed_took

    down_started = time.monotonic()
    assert {entry.split()[0] for entry in left_over(daemon, cluster.name)} == {
        "container",
        "network",
        "volume",
    }
    cluster.compose("down", "-v", "--timeout", "30")
    assert left_over(daemon, cluster.name) == []
    down_took = time.monotonic() - down_started
    # Figures for the report (pytest -s shows them); nothing asserts on them.
    print(
        f"\ncompose cluster: up until healthy {up_took:.1f} s, owners agreed "
        f"{agreed_took:.1f} s, SIGKILL to takeover seen {failover_took:.1f} s, "
        f"checks {checks_took:.1f} s, down -v {down_took:.1f} s; owners {owners} then "
        f"{new_owners}; {len(seen)} events before the kill, {len(reference)} through the "
        f"takeover; {len(before)} CDRs stored before the kill"
    )
