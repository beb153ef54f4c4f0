"""The call-map component endpoint on the gateway's webhook port, asked by
the fake Simotel over real HTTP: a Smart API chain whose GetData digits
arrive in the next request, Exten / Trunk / IVR answers, fallbacks (no
router, a late one, an invalid decision), and bad requests refused."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from telgate_server.backends.simotel.backend import SimotelBackend
from telgate_server.fakes.simotel.call_map import CallMap, Component, parse_commands
from telgate_server.routing.model import (
    Answer,
    Decision,
    ExitCase,
    GetData,
    Outcome,
    PlayAnnouncement,
    RouteQuery,
    RouteToExtension,
    RouteToTrunk,
    RunSteps,
)

from tests.simotel.conftest import HOOK_PASSWORD, HOOK_USER, Env, Make
from tests.simotel.test_calls import until

AUTH = (HOOK_USER, HOOK_PASSWORD)
COMPONENTS = Path(__file__).parent / "fixtures" / "components"

Decide = Callable[[RouteQuery], Awaitable[Decision]]


@dataclass
class Desk:
    """A RouteDesk with one in-process router (``decide``) and static
    fallbacks by route: the deadline kept, a late decision discarded."""

    decide: Decide | None
    fallbacks: dict[str, Decision] = field(default_factory=dict)
    asked: list[RouteQuery] = field(default_factory=list)
    ends: list[tuple[str, Outcome, str]] = field(default_factory=list)
    late: list[tuple[str, Decision]] = field(default_factory=list)

    async def ask(self, query: RouteQuery) -> Answer:
        self.asked.append(query)
        if self.decide is None:
            return self.fallback(query, "no router serves the route")
        task = asyncio.ensure_future(self.decide(query))
        try:
            decision = await asyncio.wait_for(asyncio.shield(task), query.deadline - time.time())
        except TimeoutError:
            task.add_done_callback(lambda t: self.late.append((query.id, t.result())))
            self.ends.append((query.id, Outcome.LATE, ""))
            return self.fallback(query, "the router was late")
        return Answer(decision, router_id="r1")

    def ended(self, query: RouteQuery, outcome: Outcome, detail: str = "") -> None:
        self.ends.append((query.id, outcome, detail))

    def fallback(self, query: RouteQuery, why: str) -> Answer:
        return Answer(self.fallbacks.get(query.route), fallback=True, why=why)


async def gateway_with(simotel: Make, desk: Desk | None, **backend: Any) -> Env:
    env = await simotel(backend=backend)
    sim = env.gateway.registry.get("sim")
    assert isinstance(sim, SimotelBackend)
    # Until the gateway's own RouteDesk exists, the test's stands in for it.
    sim.components.desk = desk
    return env


def url(env: Env, kind: str) -> str:
    return f"{env.hook_url}/components/{kind}"


def call_map(env: Env, parts: dict[str, tuple[str, dict[str, str]]], **kw: Any) -> CallMap:
    return CallMap(
        {name: Component(kind, url(env, kind), exits) for name, (kind, exits) in parts.items()},  # type: ignore[arg-type]
        username=HOOK_USER,
        password=HOOK_PASSWORD,
        **kw,
    )


async def test_a_smart_chain_gets_the_digits_pressed_at_getdata_in_its_next_request(
    simotel: Make,
) -> None:
    async def decide(query: RouteQuery) -> Decision:
        if query.route == "s1":
            return RunSteps(
                (PlayAnnouncement("welcome-file"), GetData(("enter-data-file",), 10, 1)), "go-s2"
            )
        return ExitCase({"1": "go-a", "2": "go-b"}.get(query.data, "go-other"))

    desk = Desk(decide)
    env = await gateway_with(simotel, desk)
    simotel_map = call_map(env, {"s1": ("smart", {"go-s2": "s2"}), "s2": ("smart", {})})
    trace = await simotel_map.call(
        "s1", src="09155441", dst="789", unique_id="1722595000.9100", pressed={"s1": "2"}
    )
    assert [v.app_name for v in trace.visits] == ["s1", "s2"]
    first, second = trace.visits
    assert first.request["data"] == ""
    assert first.commands == [
        ("PlayAnnouncement", ("welcome-file",)),
        ("GetData", ("enter-data-file", "10", "1")),
        ("Exit", ("go-s2",)),
    ]
    assert second.request["data"] == "2"
    assert second.commands == [("Exit", ("go-b",))]
    assert trace.end == "go-b"
    # The router saw both queries of the call, the second with the digit.
    assert [(q.route, q.data, q.caller_number, q.dialed) for q in desk.asked] == [
        ("s1", "", "09155441", "789"),
        ("s2", "2", "09155441", "789"),
    ]
    assert {q.unique_id for q in desk.asked} == {"1722595000.9100"}
    assert [outcome for _, outcome, _ in desk.ends] == [Outcome.APPLIED, Outcome.APPLIED]


@pytest.mark.parametrize("encoding", ["json", "form", "query"])
async def test_exten_trunk_and_ivr_components_get_the_routers_answer(
    simotel: Make, encoding: str
) -> None:
    async def decide(query: RouteQuery) -> Decision:
        if query.route == "sticky_agent":
            return RouteToExtension({"09120000011": "215"}.get(query.caller_number, "200"))
        if query.route == "second_leg":
            return RouteToTrunk("Trunk-Main", query.dialed, 600)
        return ExitCase(query.data)

    desk = Desk(decide)
    env = await gateway_with(simotel, desk)
    for kind, name in (("exten", "exten_api"), ("trunk", "trunk_api"), ("ivr", "ivr_api")):
        sample = json.loads((COMPONENTS / f"{name}.json").read_text())
        body = sample["request_from_simotel"]["body"]
        async with httpx.AsyncClient(auth=AUTH) as client:
            if encoding == "json":
                got = await client.post(url(env, kind), json=body)
            elif encoding == "form":
                got = await client.post(url(env, kind), data=body)
            else:
                got = await client.get(url(env, kind), params=body)
        assert got.status_code == 200, got.text
        assert got.json() == sample["our_response"]["body"], (kind, encoding)
    kinds = [q.kind.value for q in desk.asked]
    assert kinds == ["simotel_exten", "simotel_trunk", "simotel_ivr"]


async def test_the_fake_drives_an_originated_call_through_smart_ivr_and_exten(
    simotel: Make,
) -> None:
    async def decide(query: RouteQuery) -> Decision:
        if query.route == "gate":
            menu = GetData(("menu",), 5, 1)
            return RunSteps((menu,), "menu" if query.originated_call_id else "closed")
        if query.route == "main ivr":  # a name with a space, routed on as it is
            return ExitCase({"1": "sales"}.get(query.data, "other"))
        return RouteToExtension("215")

    desk = Desk(decide)
    env = await gateway_with(simotel, desk)
    simotel_map = call_map(
        env,
        {
            "gate": ("smart", {"menu": "main ivr"}),
            "main ivr": ("ivr", {"sales": "agent"}),
            "agent": ("exten", {}),
        },
    )
    trace = await simotel_map.call(
        "gate",
        src="204",
        dst="0912",
        unique_id="u.2",
        originated_call_id="orig.call.1",
        pressed={"gate": "1"},
    )
    assert [v.exit for v in trace.visits] == ["menu", "sales", "S"]
    assert trace.visit("agent").answer == {"ok": "1", "extension": "215"}
    # Only Smart API requests carry originated_call_id.
    assert [q.originated_call_id for q in desk.asked] == ["orig.call.1", "", ""]
    assert [q.data for q in desk.asked] == ["", "1", "1"]


async def test_with_routing_off_every_component_takes_its_error_exit(simotel: Make) -> None:
    env = await gateway_with(simotel, None)
    simotel_map = call_map(env, {"s1": ("smart", {"e": "s2"}), "s2": ("ivr", {})})
    trace = await simotel_map.call("s1", src="1", dst="2", unique_id="u")
    assert [(v.status, v.answer, v.exit) for v in trace.visits] == [
        (200, {"ok": 0}, "e"),
        (200, {"ok": 0}, "e"),
    ]


async def test_no_router_gives_the_configured_fallback_or_ok_0(simotel: Make) -> None:
    desk = Desk(None, fallbacks={"s1": RunSteps((PlayAnnouncement("closed"),), "closed")})
    env = await gateway_with(simotel, desk)
    simotel_map = call_map(env, {"s1": ("smart", {}), "s9": ("smart", {})})
    trace = await simotel_map.call("s1", src="1", dst="2", unique_id="u")
    assert trace.visits[0].commands == [
        ("PlayAnnouncement", ("closed",)),
        ("Exit", ("closed",)),
    ]
    trace = await simotel_map.call("s9", src="1", dst="2", unique_id="u")
    assert trace.visits[0].answer == {"ok": 0} and trace.end == "e"
    # A fallback is no router's decision: none is told of it.
    assert desk.ends == []


async def test_a_router_slower_than_the_budget_gets_the_fallback_and_its_answer_is_discarded(
    simotel: Make,
) -> None:
    release = asyncio.Event()

    async def decide(query: RouteQuery) -> Decision:
        await release.wait()
        return ExitCase("late-choice")

    desk = Desk(decide, fallbacks={"s1": ExitCase("fallback")})
    env = await gateway_with(simotel, desk, component_budget=0.2)
    simotel_map = call_map(env, {"s1": ("smart", {})})
    trace = await simotel_map.call("s1", src="1", dst="2", unique_id="u")
    assert trace.visits[0].commands == [("Exit", ("fallback",))]
    release.set()
    await until(lambda: _true(bool(desk.late)), "the late decision arrives")
    assert desk.late == [(desk.asked[0].id, ExitCase("late-choice"))]
    assert [o for _, o, _ in desk.ends] == [Outcome.LATE]


async def _true(value: bool) -> bool:
    return value


async def test_a_desk_that_overruns_its_deadline_does_not_hold_simotel(simotel: Make) -> None:
    class Stuck(Desk):
        async def ask(self, query: RouteQuery) -> Answer:
            self.asked.append(query)
            await asyncio.Event().wait()
            raise AssertionError("never")

    desk = Stuck(None, fallbacks={"s1": ExitCase("guarded")})
    env = await gateway_with(simotel, desk, component_budget=0.2)
    trace = await call_map(env, {"s1": ("smart", {})}).call("s1", src="1", dst="2", unique_id="u")
    assert trace.visits[0].commands == [("Exit", ("guarded",))]


@pytest.mark.parametrize(
    "name",
    ["welcome');Hangup();PlayAnnouncement('x", "welcome;Exit('evil')", "a'b", "x)(y"],
)
async def test_an_announcement_name_cannot_add_a_command(simotel: Make, name: str) -> None:
    async def decide(query: RouteQuery) -> Decision:
        return RunSteps((PlayAnnouncement(name),), "next")

    desk = Desk(decide, fallbacks={"s1": RunSteps((PlayAnnouncement("sorry"),), "safe")})
    env = await gateway_with(simotel, desk)
    trace = await call_map(env, {"s1": ("smart", {})}).call("s1", src="1", dst="2", unique_id="u")
    visit = trace.visits[0]
    # Simotel runs the fallback: two commands, none of the router's text.
    assert visit.commands == [("PlayAnnouncement", ("sorry",)), ("Exit", ("safe",))]
    assert name[:4] not in visit.answer["commands"]
    ((_, outcome, detail),) = desk.ends
    assert outcome is Outcome.INVALID
    assert detail.startswith("play_announcement name ") and "no escape" in detail


async def test_an_invalid_decision_with_no_fallback_answers_ok_0(simotel: Make) -> None:
    async def decide(query: RouteQuery) -> Decision:
        return RouteToExtension("200")  # not an answer for a Smart API component

    desk = Desk(decide)
    env = await gateway_with(simotel, desk)
    trace = await call_map(env, {"s1": ("smart", {})}).call("s1", src="1", dst="2", unique_id="u")
    assert trace.visits[0].answer == {"ok": 0} and trace.end == "e"
    assert desk.ends[0][1] is Outcome.INVALID
    assert "smart component is answered with steps" in desk.ends[0][2]


async def test_simotels_one_second_passes_and_the_fake_takes_the_error_exit(
    simotel: Make,
) -> None:
    async def decide(query: RouteQuery) -> Decision:
        await asyncio.sleep(0.5)
        return ExitCase("too-slow-for-the-fake")

    desk = Desk(decide)
    env = await gateway_with(simotel, desk, component_budget=0.9)
    # The fake's timeout shortened to 0.2 s: the gateway answers after it.
    simotel_map = call_map(env, {"s1": ("smart", {})}, timeout=0.2)
    trace = await simotel_map.call("s1", src="1", dst="2", unique_id="u")
    assert trace.end == "e" and "no answer within" in trace.visits[0].error


@pytest.mark.parametrize(
    ("kind", "send", "status", "says"),
    [
        ("smart", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400,
         "not JSON"),
        ("smart", {"json": ["s1"]}, 400, "a list, not an object"),
        ("smart", {"json": {"src": "1", "dst": "2"}}, 400, "no `app_name`"),
        ("exten", {"json": {"app_name": {"a": 1}}}, 400, "`app_name` is a JSON dict"),
        ("ivr", {"json": {"app_name": "x\x00y"}}, 400, "control characters"),
        ("ivr", {"json": {"app_name": "a" * 300}}, 400, "longer than 256"),
        ("trunk", {"json": {"app_name": "t", **{f"k{i}": i for i in range(40)}}}, 400,
         "more than 32 fields"),
        ("smart", {"content": b"a=%ZZ&&=", "headers": {
            "Content-Type": "application/x-www-form-urlencoded"}}, 400, "form body"),
        ("fax", {"json": {"app_name": "x"}}, 404, "no component kind 'fax'"),
    ],
)  # fmt: skip
async def test_bad_requests_are_refused_with_a_sentence(
    simotel: Make, kind: str, send: dict[str, Any], status: int, says: str
) -> None:
    desk = Desk(None)
    env = await gateway_with(simotel, desk)
    async with httpx.AsyncClient(auth=AUTH) as client:
        got = await client.post(url(env, kind), **send)
    assert got.status_code == status
    assert says in got.json()["error"]
    assert desk.asked == []


async def test_components_need_the_webhooks_credentials(simotel: Make) -> None:
    desk = Desk(None)
    env = await gateway_with(simotel, desk)
    async with httpx.AsyncClient() as client:
        got = await client.post(url(env, "smart"), json={"app_name": "s1"})
        assert got.status_code == 401
        got = await client.post(
            url(env, "smart"), json={"app_name": "s1"}, auth=(HOOK_USER, "wrong")
        )
        assert got.status_code == 401
    assert desk.asked == []


def test_the_command_parser_reads_the_reference_flow() -> None:
    assert parse_commands(
        "PlayAnnouncement('welcome-file');GetData('enter-data-file', 10, 1);Exit('go-s2')"
    )[-1] == ("Exit", ("go-s2",))
