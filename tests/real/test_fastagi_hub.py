"""Real calls from the real Asterisk 22 lab routed by a Python router over
gRPC through the gateway's RouterHub (CallRoutingService.Route): the lab's
`agi-test` context calls the AMI backend's FastAGI port, the hub sends the
query to the router's stream, its decision is carried out, and it is told
how the query ended (QueryEnded)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from telgate.v1 import routing_pb2 as pb
from telgate_server.backends.ami.codec import Message
from telgate_server.routing.settings import RoutingConfig
from telgate_server.simulator import AmiSimulator

from tests.lab import Lab
from tests.real.agi_lab import agi_lab, fastagi_backend
from tests.real.ami_watcher import AmiWatcher
from tests.routing.conftest import RoutingServer, routing_server

# When no router decides: the call goes on at agi-test,200,1.
FALLBACK = RoutingConfig.model_validate(
    {
        "fallback": [
            {
                "route": "*",
                "kind": "asterisk_agi",
                "decision": {
                    "steps": {"steps": [{"go_to": {"context": "agi-test", "extension": "200"}}]}
                },
            }
        ]
    }
)


@dataclass
class Setup:
    lab: Lab
    routing: RoutingServer


@pytest.fixture
async def setup(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Setup]:
    async with routing_server(FALLBACK) as routing:
        with agi_lab(monkeypatch) as (lab, agi_port):
            backend = fastagi_backend("lab", lab.port, f"127.0.0.1:{agi_port}", routing.hub)
            await backend.start()
            try:
                yield Setup(lab, routing)
            finally:
                await backend.stop()


def _landed(uid: str, exten: str) -> Callable[[Message], bool]:
    """A Newexten of the channel ``uid`` at agi-test,``exten``."""
    return lambda e: (
        e.name == "Newexten"
        and e.get("Uniqueid") == uid
        and (e.get("Context"), e.get("Extension")) == ("agi-test", exten)
    )


async def test_a_grpc_router_routes_a_real_call(setup: Setup) -> None:
    router = await setup.routing.router(["billing desk"])
    async with AmiWatcher(setup.lab.host, setup.lab.port) as ami:
        uid = await ami.call_agi("billing%20desk?tier=gold")
        query = await router.query()
        assert query.kind == pb.ROUTE_KIND_ASTERISK_AGI
        assert (query.route, query.backend, query.unique_id) == ("billing desk", "lab", uid)
        assert query.variables["tier"] == "gold" and query.caller.number == "5550100"
        # The hub gave the query its asterisk_agi budget (3 s by default).
        assert query.deadline.seconds > 0
        await router.decide(
            query.id,
            steps=pb.RunSteps(
                steps=[
                    pb.RoutingStep(play_sound=pb.PlaySound(file="en/beep")),
                    pb.RoutingStep(set_variable=pb.SetVariable(name="ROUTED", value="grpc")),
                    pb.RoutingStep(go_to=pb.GoTo(context="agi-test", extension="300")),
                ]
            ),
        )
        ended = await router.notice()
        assert (ended.query_id, ended.outcome) == (query.id, pb.QUERY_OUTCOME_APPLIED)
        await ami.wait_for(_landed(uid, "300"))


async def test_a_hang_up_mid_script_is_told_to_the_grpc_router(setup: Setup) -> None:
    router = await setup.routing.router(["*"])
    async with AmiWatcher(setup.lab.host, setup.lab.port) as ami:
        await ami.call_agi("long", phone="291")  # hangs up after 4 s
        query = await router.query()
        await router.decide(
            query.id,
            steps=pb.RunSteps(
                steps=[
                    pb.RoutingStep(play_sound=pb.PlaySound(file="custom/telgate-demo")),
                    pb.RoutingStep(go_to=pb.GoTo(context="agi-test", extension="300")),
                ]
            ),
        )
        ended = await router.notice()
        assert ended.outcome == pb.QUERY_OUTCOME_HUNG_UP, ended
        assert "play_sound" in ended.detail


async def test_a_router_killed_mid_query_does_not_hang_the_call(setup: Setup) -> None:
    router = await setup.routing.router(["*"])
    async with AmiWatcher(setup.lab.host, setup.lab.port) as ami:
        uid = await ami.call_agi("killed")
        await router.query()
        await router.close()  # gone without deciding: the fallback at once
        await ami.wait_for(_landed(uid, "200"))


async def test_one_router_serves_the_real_lab_and_the_simulator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same gRPC router routes a FastAGI call from the real Asterisk and
    one from the simulator (which calls FastAGI as Asterisk does), each
    through its own AMI backend's FastAGI server."""
    sim = AmiSimulator()
    await sim.start()
    try:
        await _route_both(sim, monkeypatch)
    finally:
        await sim.stop()


async def _route_both(sim: AmiSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    async with routing_server() as routing:
        router = await routing.router(["crm"])
        with agi_lab(monkeypatch) as (lab, agi_port):
            backends = [
                fastagi_backend("lab", lab.port, f"127.0.0.1:{agi_port}", routing.hub),
                fastagi_backend("sim", sim.port, "127.0.0.1:0", routing.hub),
            ]
            for backend in backends:
                await backend.start()
            try:
                fastagi = backends[1].fastagi
                assert fastagi is not None
                sim.world.agi_addr = f"127.0.0.1:{fastagi.port}"
                async with (
                    AmiWatcher(lab.host, lab.port) as lab_ami,
                    AmiWatcher("127.0.0.1", sim.port) as sim_ami,
                ):
                    for ami, name in ((lab_ami, "lab"), (sim_ami, "sim")):
                        uid = await ami.call_agi("crm")
                        query = await router.query()
                        assert (query.backend, query.unique_id, query.route) == (name, uid, "crm")
                        assert query.caller.number == "5550100"
                        await router.decide(
                            query.id,
                            steps=pb.RunSteps(
                                steps=[
                                    pb.RoutingStep(play_sound=pb.PlaySound(file="en/beep")),
                                    pb.RoutingStep(
                                        go_to=pb.GoTo(context="agi-test", extension="300")
                                    ),
                                ]
                            ),
                        )
                        ended = await router.notice()
                        assert (ended.query_id, ended.outcome) == (
                            query.id,
                            pb.QUERY_OUTCOME_APPLIED,
                        ), ended
                        await ami.wait_for(_landed(uid, "300"))
            finally:
                for backend in backends:
                    await backend.stop()
