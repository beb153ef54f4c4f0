"""Link ownership between gateway instances (in one process here, each with
its own NATS connections), on a real nats-server and the simulator: a clean
stop hands the link over at once; an owner that cannot reach its PBX gives
the lease up to one that can; an owner whose lease was taken stops its link;
a non-owner refuses webhooks with 503; the settings that must go together."""

from __future__ import annotations

import itertools
import time
from typing import Any

import grpc
import httpx
import pytest
from telgate.v1 import backends_pb2, backends_pb2_grpc
from telgate_server.app import Gateway
from telgate_server.cluster.lease import LeaseStore
from telgate_server.cluster.ownership import Holder, lease_key
from telgate_server.config import NatsConfig, load_settings
from telgate_server.gateway.model import LinkState
from telgate_server.settings_strict import ConfigError
from telgate_server.simulator.server import AmiSimulator

from tests.cluster.harness import until
from tests.lab import LAB_SECRET, LAB_USER, free_port
from tests.services.nats import NatsServer

TTL = 2.0
_names = itertools.count(1)


@pytest.fixture
def names() -> tuple[str, str]:
    """A stream and a bucket of the test's own."""
    n = f"OWN{next(_names)}_{int(time.time() * 1000)}"
    return n, f"{n}_LINKS"


def ami(port: int) -> dict[str, Any]:
    return {
        "kind": "ami",
        "host": "127.0.0.1",
        "port": port,
        "username": LAB_USER,
        "secret": LAB_SECRET,
        "auth": "md5",
        "reconnect_min": 0.02,
        "reconnect_max": 0.2,
    }


def settings(
    instance: str,
    nats: NatsServer,
    names: tuple[str, str],
    backends: dict[str, Any],
    **cluster: Any,
) -> Any:
    stream, bucket = names
    return load_settings(
        None,
        backends=backends,
        server={"listen": "127.0.0.1:0"},
        events={
            "hub": "jetstream",
            "heartbeat_interval": 0.2,
            "nats": {"url": nats.url, "stream": stream, "subject_prefix": stream.lower()},
        },
        cdr={"enabled": False},
        cluster={
            "enabled": True,
            "instance_id": instance,
            "advertise": f"{instance}.example:50051",
            "bucket": bucket,
            "lease_ttl": TTL,
            **cluster,
        },
    )


async def started(s: Any) -> Gateway:
    gw = Gateway(s)
    await gw.start()
    return gw


def owned(gw: Gateway, backend: str = "pbx") -> bool:
    assert gw.ownership is not None
    return gw.ownership.runs_here(backend)


async def up_here(gw: Gateway, backend: str = "pbx") -> bool:
    return owned(gw, backend) and gw.registry.get(backend).status.state is LinkState.UP


async def test_a_clean_stop_hands_the_link_over_before_the_lease_expires(
    sim: AmiSimulator, nats_server: NatsServer, names: tuple[str, str]
) -> None:
    # A long lease: B can only have it this soon because A released it.
    long = {"lease_ttl": 60.0, "check_interval": 0.2}
    a = await started(settings("a", nats_server, names, {"pbx": ami(sim.port)}, **long))
    b: Gateway | None = None
    try:
        await until(lambda: up_here(a), 20, "A to run the link")
        b = await started(settings("b", nats_server, names, {"pbx": ami(sim.port)}, **long))

        async def b_sees_a() -> bool:
            assert b is not None and b.ownership is not None
            return b.ownership.owner("pbx") == ("a", "a.example:50051")

        await until(b_sees_a, 10, "B to read A's lease")
        assert not owned(b)
        assert b.registry.status(b.registry.get("pbx")).state is LinkState.UP
        assert len(sim.sessions) == 1  # only A is connected
        await a.stop(0)
        # A bounded wait shorter than the 60 s lease: only A's release can
        # have freed it this soon.
        await until(lambda: up_here(b), 20, "B to take the link")
        assert b.ownership is not None and b.ownership.owner("pbx")[0] == "b"
    finally:
        if b is not None:
            await b.stop(0)
        await a.stop(0)


async def test_an_owner_that_cannot_reach_its_pbx_gives_the_link_up(
    sim: AmiSimulator, nats_server: NatsServer, names: tuple[str, str]
) -> None:
    # A's route to the PBX is broken (nothing listens where it dials); B's works.
    dead = free_port()
    give_up = {"give_up_after": 1.0}
    a = await started(settings("a", nats_server, names, {"pbx": ami(dead)}, **give_up))
    b: Gateway | None = None
    try:
        await until(lambda: _true(owned(a)), 10, "A to take the lease")
        b = await started(settings("b", nats_server, names, {"pbx": ami(sim.port)}, **give_up))
        await until(lambda: up_here(b), 30, "B to take the link A gave up")
        assert not owned(a)

        async def a_names_b() -> bool:
            return a.ownership is not None and a.ownership.owner("pbx")[0] == "b"

        # A reads who runs it even while it stays out of the contention.
        await until(a_names_b, 10, "A to name B")
        # A reports B's state, and refuses call control naming B.
        assert a.registry.status(a.registry.get("pbx")).state is LinkState.UP
        assert a.ownership is not None
        refused = a.ownership.refusal("pbx", "Originate")
        assert refused is not None and "'b' (b.example:50051)" in refused.message
    finally:
        if b is not None:
            await b.stop(0)
        await a.stop(0)


async def _true(value: bool) -> bool:
    return value


async def test_an_owner_whose_lease_was_taken_stops_its_link(
    sim: AmiSimulator, nats_server: NatsServer, names: tuple[str, str]
) -> None:
    a = await started(settings("a", nats_server, names, {"pbx": ami(sim.port)}))
    intruder = LeaseStore(NatsConfig(url=nats_server.url), names[1], TTL, name="intruder")
    await intruder.open()
    try:
        await until(lambda: up_here(a), 20, "A to run the link")
        assert len(sim.sessions) == 1
        # The lease changes hands behind A's back (as when A was paused past
        # its TTL and another instance took over).
        key = lease_key("pbx")
        await intruder.kv.purge(key)
        revision = await intruder.acquire(key, Holder("z", "z.example:1").encode())
        assert revision is not None
        await until(lambda: _true(not owned(a)), 10, "A to notice it lost the lease")

        async def a_disconnected() -> bool:
            return len(sim.sessions) == 0

        await until(a_disconnected, 10, "A to close its AMI session")
        assert a.registry.get("pbx").status.state is LinkState.DOWN
        assert a.ownership is not None
        await until(
            lambda: _true(a.ownership is not None and a.ownership.owner("pbx")[0] == "z"),
            10,
            "A to name the new owner",
        )
        # The intruder's lease is untouched by A.
        held = await intruder.read(key)
        assert held is not None and held.revision == revision
    finally:
        await intruder.close()
        await a.stop(0)


async def test_backend_service_names_the_owner(
    sim: AmiSimulator, nats_server: NatsServer, names: tuple[str, str]
) -> None:
    a = await started(settings("a", nats_server, names, {"pbx": ami(sim.port)}))
    b: Gateway | None = None
    try:
        await until(lambda: up_here(a), 20, "A to run the link")
        b = await started(settings("b", nats_server, names, {"pbx": ami(sim.port)}))
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{a.port}") as on_a,
            grpc.aio.insecure_channel(f"127.0.0.1:{b.port}") as on_b,
        ):

            async def listed(channel: grpc.aio.Channel) -> backends_pb2.Backend:
                stub = backends_pb2_grpc.BackendServiceStub(channel)
                answer = await stub.ListBackends(backends_pb2.ListBackendsRequest())
                return answer.backends[0]

            async def b_knows() -> bool:
                return (await listed(on_b)).owner == "a"

            await until(b_knows, 10, "B to name A")
            here, there = await listed(on_a), await listed(on_b)
            assert (here.owner, here.owner_address, here.owned_here) == (
                "a",
                "a.example:50051",
                True,
            )
            assert (there.owner, there.owner_address, there.owned_here) == (
                "a",
                "a.example:50051",
                False,
            )
            assert there.link_state == here.link_state == backends_pb2.LINK_STATE_UP
            stub = backends_pb2_grpc.BackendServiceStub(on_b)
            check = await stub.CheckBackend(backends_pb2.CheckBackendRequest(backend="pbx"))
            assert check.ok
            assert [c.name for c in check.checks] == ["owner"]
            assert "run by gateway instance 'a'" in check.checks[0].detail
    finally:
        if b is not None:
            await b.stop(0)
        await a.stop(0)


async def test_a_non_owner_answers_webhooks_503(
    nats_server: NatsServer, names: tuple[str, str]
) -> None:
    simotel = {
        "kind": "simotel",
        "url": f"http://127.0.0.1:{free_port()}/api",
        "auth": "token",
        "api_key": "k",
        "webhook_allow_ips": ["127.0.0.1"],
    }
    backends = {"simotel": simotel}
    # A keeps the lease although its API does not answer (it gives up late).
    late = {"give_up_after": 600.0}
    a_settings = settings("a", nats_server, names, backends, **late)
    a_settings.webhooks.listen = "127.0.0.1:0"
    a = await started(a_settings)
    b: Gateway | None = None
    try:
        await until(lambda: _true(owned(a, "simotel")), 10, "A to take the lease")
        b_settings = settings("b", nats_server, names, backends, **late)
        b_settings.webhooks.listen = "127.0.0.1:0"
        b = await started(b_settings)
        body = {"event_name": "NewState", "exten": "201", "state": "Ringing"}
        async with httpx.AsyncClient() as client:
            refused = await client.post(
                f"http://127.0.0.1:{b.webhook_port}/simotel/simotel", json=body
            )
            rest = await client.post(
                f"http://127.0.0.1:{b.webhook_port}/simotel/simotel/NewState", json=body
            )
            taken = await client.post(
                f"http://127.0.0.1:{a.webhook_port}/simotel/simotel", json=body
            )
        assert refused.status_code == rest.status_code == 503
        assert refused.headers["Retry-After"] == "1"
        assert "another gateway instance" in refused.json()["error"]
        assert taken.status_code == 200
    finally:
        if b is not None:
            await b.stop(0)
        await a.stop(0)


def test_a_cluster_needs_the_shared_hub_and_store(nats_server: NatsServer) -> None:
    base: dict[str, Any] = {"cluster": {"enabled": True}}
    with pytest.raises(ConfigError, match=r"events\.hub = jetstream"):
        load_settings(None, **base)
    with pytest.raises(ConfigError, match=r"cdr\.store = postgres"):
        load_settings(None, events={"hub": "jetstream"}, **base)
    load_settings(None, events={"hub": "jetstream"}, cdr={"enabled": False}, **base)
    with pytest.raises(ConfigError, match="renew_interval"):
        load_settings(
            None,
            events={"hub": "jetstream"},
            cdr={"enabled": False},
            cluster={"enabled": True, "lease_ttl": 4, "renew_interval": 2},
        )


async def test_a_restarted_instance_waits_for_its_previous_lease(
    sim: AmiSimulator, nats_server: NatsServer, names: tuple[str, str]
) -> None:
    # A previous process of instance "a" holds the lease (killed: never released).
    previous = LeaseStore(NatsConfig(url=nats_server.url), names[1], TTL, name="previous")
    await previous.open()
    revision = await previous.acquire(lease_key("pbx"), Holder("a", "a.example:50051").encode())
    assert revision is not None
    await previous.close()
    a = await started(settings("a", nats_server, names, {"pbx": ami(sim.port)}))
    try:
        assert a.ownership is not None
        link = a.ownership.links["pbx"]
        await until(lambda: _true(link.holder is not None), 10, "A to read the lease")
        refused = link.refusal("Hangup")
        assert refused is not None and "same cluster.instance_id" in refused.message
        assert refused.metadata["owner"] == ""
        # Taken once the old lease expired (nobody renews it).
        await until(lambda: up_here(a), 20, "A to take the link after its old lease expired")
    finally:
        await a.stop(0)
