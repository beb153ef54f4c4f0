"""The call-map component endpoint on the gateway's webhook port, asked by
the fake Simotel over real HTTP and decided by a Python router over real
gRPC (CallRoutingService.Route, the gateway's RouterHub): a Smart API chain
whose GetData digits arrive in the next request, Exten / Trunk / IVR
answers, fallbacks (no router, a late one, an invalid decision), and bad
requests refused."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from telgate.v1 import routing_pb2
from telgate_server.backends.simotel.backend import SimotelBackend
from telgate_server.fakes.simotel.call_map import (
    CallMap,
    Component,
    demo_map,
    describe,
    parse_commands,
)
from telgate_server.routing.model import Answer, ExitCase, RouteKind, RouteQuery

from tests.shared import SIMOTEL_FIXTURES
from tests.simotel.conftest import HOOK_PASSWORD, HOOK_USER, Env, Make
from tests.simotel.router import (
    Decide,
    Router,
    exit_case,
    extension,
    get_data,
    play,
    steps,
    trunk,
)
from tests.simotel.test_calls import until

AUTH = (HOOK_USER, HOOK_PASSWORD)
COMPONENTS = SIMOTEL_FIXTURES / "components"
APPLIED = routing_pb2.QUERY_OUTCOME_APPLIED
INVALID = routing_pb2.QUERY_OUTCOME_INVALID
LATE = routing_pb2.QUERY_OUTCOME_LATE

Start = Callable[..., Awaitable[tuple[Env, Router | None]]]


@pytest.fixture
async def routed(simotel: Make) -> AsyncIterator[Start]:
    """A gateway with the fake Simotel and (``decide`` given) a router serving ``routes``."""
    routers: list[Router] = []

    async def start(
        decide: Decide | None, routes: list[str] | None = None, **gateway: Any
    ) -> tuple[Env, Router | None]:
        env = await simotel(**gateway)
        if decide is None:
            return env, None
        router = await Router(env.channel, routes or ["*"], decide).start()
        routers.append(router)
        return env, router

    yield start
    for router in routers:
        await router.stop()


def counted(env: Env, outcome: str) -> float:
    """Component requests counted with ``outcome`` (telgate_webhook_requests_total)."""
    value = env.gateway.metrics.registry.get_sample_value(
        "telgate_webhook_requests_total", {"backend": "sim", "outcome": outcome}
    )
    return value or 0.0


def url(env: Env, kind: str) -> str:
    return f"{env.hook_url}/components/{kind}"


def call_map(env: Env, parts: dict[str, tuple[str, dict[str, str]]], **kw: Any) -> CallMap:
    return CallMap(
        {name: Component(kind, url(env, kind), exits) for name, (kind, exits) in parts.items()},  # type: ignore[arg-type]
        username=HOOK_USER,
        password=HOOK_PASSWORD,
        **kw,
    )


async def told(router: Router, count: int) -> list[tuple[str, int, str]]:
    """The router's first ``count`` QueryEnded notices, once they arrived."""

    async def arrived() -> bool:
        return len(router.ended) >= count

    await until(arrived, f"{count} QueryEnded notices")
    return router.outcomes()[:count]


async def test_a_smart_chain_gets_the_digits_pressed_at_getdata_in_its_next_request(
    routed: Start,
) -> None:
    async def decide(query: routing_pb2.RoutingQuery) -> routing_pb2.RoutingDecision:
        if query.route == "s1":
            return steps(play("welcome-file"), get_data("enter-data-file", 10, 1), exit="go-s2")
        return steps(exit={"1": "go-a", "2": "go-b"}.get(query.data, "go-other"))

    env, router = await routed(decide, ["s1", "s2"])
    assert router is not None
    simotel_map = call_map(env, {"s1": ("smart", {"go-s2": "s2"}), "s2": ("smart", {})})
    trace = await simotel_map.call(
        "s1", src="09155441", dst="789", unique_id="1722595000.9100", pressed={"s1": "2"}
    )
    assert [v.app_name for v in trace.visits] == ["s1", "s2"]
    first, second = trace.visits
    assert first.request["data"] == ""
    assert first.answer["commands"] == (
        "PlayAnnouncement('welcome-file');GetData('enter-data-file', 10, 1);Exit('go-s2')"
    )
    assert second.request["data"] == "2"
    assert second.commands == [("Exit", ("go-b",))]
    assert trace.end == "go-b"
    # The router saw both queries of the call, the second with the digit.
    assert [
        (q.route, q.data, q.caller.number, q.dialed, q.unique_id, q.kind) for q in router.queries
    ] == [
        ("s1", "", "09155441", "789", "1722595000.9100", routing_pb2.ROUTE_KIND_SIMOTEL_SMART),
        ("s2", "2", "09155441", "789", "1722595000.9100", routing_pb2.ROUTE_KIND_SIMOTEL_SMART),
    ]
    assert [(route, outcome) for route, outcome, _ in await told(router, 2)] == [
        ("s1", APPLIED),
        ("s2", APPLIED),
    ]


@pytest.mark.parametrize("encoding", ["json", "form", "query"])
async def test_exten_trunk_and_ivr_components_get_the_routers_answer(
    routed: Start, encoding: str
) -> None:
    async def decide(query: routing_pb2.RoutingQuery) -> routing_pb2.RoutingDecision:
        if query.route == "sticky_agent":
            return extension({"09120000011": "215"}.get(query.caller.number, "200"))
        if query.route == "second_leg":
            return trunk("Trunk-Main", query.dialed, 600)
        return exit_case(query.data)

    env, router = await routed(decide)
    assert router is not None
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
    assert [q.kind for q in router.queries] == [
        routing_pb2.ROUTE_KIND_SIMOTEL_EXTEN,
        routing_pb2.ROUTE_KIND_SIMOTEL_TRUNK,
        routing_pb2.ROUTE_KIND_SIMOTEL_IVR,
    ]
    assert {outcome for _, outcome, _ in await told(router, 3)} == {APPLIED}
    assert counted(env, "component_ok") == 3


async def test_the_fake_drives_an_originated_call_through_smart_ivr_and_exten(
    routed: Start,
) -> None:
    async def decide(query: routing_pb2.RoutingQuery) -> routing_pb2.RoutingDecision:
        if query.route == "gate":
            exit = "menu" if query.originated_call_id else "closed"
            return steps(get_data("menu", 5, 1), exit=exit)
        if query.route == "main ivr":  # a name with a space, routed on as it is
            return exit_case({"1": "sales"}.get(query.data, "other"))
        return extension("215")

    env, router = await routed(decide, ["gate", "main ivr", "agent"])
    assert router is not None
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
    assert [(q.route, q.originated_call_id, q.data) for q in router.queries] == [
        ("gate", "orig.call.1", ""),
        ("main ivr", "", "1"),
        ("agent", "", "1"),
    ]


async def test_no_router_gives_the_configured_fallback_or_ok_0(routed: Start) -> None:
    fallback = {
        "route": "s1",
        "decision": {"steps": {"steps": [{"play_announcement": "closed"}], "exit": "closed"}},
    }
    env, _ = await routed(None, routing={"fallback": [fallback]})
    simotel_map = call_map(
        env, {"s1": ("smart", {}), "s9": ("smart", {"e": "i9"}), "i9": ("ivr", {})}
    )
    trace = await simotel_map.call("s1", src="1", dst="2", unique_id="u")
    assert trace.visits[0].commands == [
        ("PlayAnnouncement", ("closed",)),
        ("Exit", ("closed",)),
    ]
    # No rule for s9 and i9: each answers {"ok": 0} and Simotel takes its error exit.
    trace = await simotel_map.call("s9", src="1", dst="2", unique_id="u")
    assert [(v.answer, v.exit) for v in trace.visits] == [({"ok": 0}, "e"), ({"ok": 0}, "e")]
    assert (counted(env, "component_ok"), counted(env, "component_failed")) == (1, 2)


async def test_a_router_slower_than_the_budget_gets_the_fallback_and_its_answer_is_discarded(
    routed: Start,
) -> None:
    release = asyncio.Event()

    async def decide(query: routing_pb2.RoutingQuery) -> routing_pb2.RoutingDecision:
        await release.wait()
        return steps(exit="late-choice")

    routing = {
        "budget": {"simotel_smart": 0.2},
        "fallback": [{"route": "*", "decision": {"steps": {"exit": "fallback"}}}],
    }
    env, router = await routed(decide, routing=routing)
    assert router is not None
    trace = await call_map(env, {"s1": ("smart", {})}).call("s1", src="1", dst="2", unique_id="u")
    assert trace.visits[0].commands == [("Exit", ("fallback",))]
    # Told LATE at the deadline; then its decision comes and is discarded.
    ((_, outcome, detail),) = await told(router, 1)
    assert outcome == LATE and "fallback was used" in detail
    release.set()
    (_, (_, outcome, detail)) = await told(router, 2)
    assert outcome == LATE and "discarded" in detail
    # The next call gets the fallback again at once: nothing stays applied.
    release.clear()
    trace = await call_map(env, {"s1": ("smart", {})}).call("s1", src="1", dst="2", unique_id="v")
    assert trace.visits[0].commands == [("Exit", ("fallback",))]
    release.set()


async def test_a_router_killed_mid_request_gives_the_call_its_fallback_at_once(
    routed: Start,
) -> None:
    routers: list[Router] = []

    async def decide(query: routing_pb2.RoutingQuery) -> None:
        routers[0].kill()  # dies holding the query, never answering

    routing = {
        "budget": {"simotel_ivr": 0.9},
        "fallback": [{"route": "*", "decision": {"exit": "gone"}}],
    }
    env, router = await routed(decide, routing=routing)
    assert router is not None
    routers.append(router)
    trace = await call_map(env, {"i1": ("ivr", {})}).call("i1", src="1", dst="2", unique_id="u")
    assert trace.visits[0].answer == {"ok": "1", "case": "gone"}
    # The fallback came because the router left, not because its budget ran out.
    counted = env.gateway.metrics.registry.get_sample_value(
        "telgate_routing_decisions_total", {"backend": "sim", "outcome": "fallback_router_gone"}
    )
    assert counted == 1


@pytest.mark.parametrize(
    "name",
    ["welcome');Hangup();PlayAnnouncement('x", "welcome;Exit('evil')", "a'b", "x)(y"],
)
async def test_an_announcement_name_cannot_add_a_command(routed: Start, name: str) -> None:
    async def decide(query: routing_pb2.RoutingQuery) -> routing_pb2.RoutingDecision:
        return steps(play(name), exit="next")

    routing = {
        "fallback": [
            {
                "route": "s1",
                "decision": {"steps": {"steps": [{"play_announcement": "sorry"}], "exit": "safe"}},
            }
        ]
    }
    env, router = await routed(decide, routing=routing)
    assert router is not None
    trace = await call_map(env, {"s1": ("smart", {})}).call("s1", src="1", dst="2", unique_id="u")
    visit = trace.visits[0]
    # Simotel runs the fallback: two commands, none of the router's text.
    assert visit.commands == [("PlayAnnouncement", ("sorry",)), ("Exit", ("safe",))]
    assert name[:4] not in visit.answer["commands"]
    ((_, outcome, detail),) = await told(router, 1)
    assert outcome == INVALID
    assert detail.startswith("play_announcement name ") and "no escape" in detail


async def test_an_invalid_decision_with_no_fallback_answers_ok_0(routed: Start) -> None:
    async def decide(query: routing_pb2.RoutingQuery) -> routing_pb2.RoutingDecision:
        return extension("200")  # not an answer for a Smart API component

    env, router = await routed(decide)
    assert router is not None
    trace = await call_map(env, {"s1": ("smart", {})}).call("s1", src="1", dst="2", unique_id="u")
    assert trace.visits[0].answer == {"ok": 0} and trace.end == "e"
    ((_, outcome, detail),) = await told(router, 1)
    assert outcome == INVALID and "takes steps with an exit case" in detail


async def test_simotels_one_second_passes_and_the_fake_takes_the_error_exit(
    routed: Start,
) -> None:
    async def decide(query: routing_pb2.RoutingQuery) -> routing_pb2.RoutingDecision:
        await asyncio.sleep(0.5)
        return steps(exit="too-slow-for-the-fake")

    env, _ = await routed(decide)
    # The fake's timeout shortened to 0.2 s: the gateway answers after it.
    simotel_map = call_map(env, {"s1": ("smart", {})}, timeout=0.2)
    trace = await simotel_map.call("s1", src="1", dst="2", unique_id="u")
    assert trace.end == "e" and "no answer within" in trace.visits[0].error


async def test_a_desk_that_overruns_its_deadline_does_not_hold_simotel(routed: Start) -> None:
    class Stuck:
        """A RouteDesk that never answers (the endpoint's own guard is what is tested)."""

        asked = 0

        async def ask(self, query: RouteQuery) -> Answer:
            self.asked += 1
            await asyncio.Event().wait()
            raise AssertionError("never")

        def ended(self, query: RouteQuery, outcome: object, detail: str = "") -> None:
            raise AssertionError("no decision was applied")

        def fallback(self, query: RouteQuery, why: str) -> Answer:
            return Answer(ExitCase("guarded"), fallback=True, why=why)

        def budget(self, kind: RouteKind) -> float:
            return 0.1

    env, _ = await routed(None)
    sim = env.gateway.registry.get("sim")
    assert isinstance(sim, SimotelBackend)
    stuck = Stuck()
    sim.components.desk = stuck
    trace = await call_map(env, {"s1": ("smart", {})}).call("s1", src="1", dst="2", unique_id="u")
    assert trace.visits[0].commands == [("Exit", ("guarded",))] and stuck.asked == 1


async def test_with_routing_off_every_component_takes_its_error_exit(routed: Start) -> None:
    env, _ = await routed(None)
    sim = env.gateway.registry.get("sim")
    assert isinstance(sim, SimotelBackend)
    sim.components.desk = None  # a backend built without a RouteDesk (embedding)
    trace = await call_map(env, {"s1": ("smart", {"e": "s2"}), "s2": ("ivr", {})}).call(
        "s1", src="1", dst="2", unique_id="u"
    )
    assert [(v.status, v.answer, v.exit) for v in trace.visits] == [
        (200, {"ok": 0}, "e"),
        (200, {"ok": 0}, "e"),
    ]


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
    routed: Start, kind: str, send: dict[str, Any], status: int, says: str
) -> None:
    async def decide(query: routing_pb2.RoutingQuery) -> routing_pb2.RoutingDecision:
        return exit_case("1")

    env, router = await routed(decide)
    assert router is not None
    async with httpx.AsyncClient(auth=AUTH) as client:
        got = await client.post(url(env, kind), **send)
    assert got.status_code == status
    assert says in got.json()["error"]
    assert router.queries == []
    assert counted(env, "bad_request") == 1


async def test_components_need_the_webhooks_credentials(routed: Start) -> None:
    async def decide(query: routing_pb2.RoutingQuery) -> routing_pb2.RoutingDecision:
        return exit_case("1")

    env, router = await routed(decide)
    assert router is not None
    async with httpx.AsyncClient() as client:
        got = await client.post(url(env, "ivr"), json={"app_name": "s1"})
        assert got.status_code == 401
        got = await client.post(url(env, "ivr"), json={"app_name": "s1"}, auth=(HOOK_USER, "x"))
        assert got.status_code == 401
        got = await client.post(url(env, "ivr"), json={"app_name": "s1"}, auth=AUTH)
        assert got.json() == {"ok": "1", "case": "1"}
    assert len(router.queries) == 1


async def test_the_demo_call_map_is_routed_by_the_example_router(simotel: Make) -> None:
    env = await simotel()
    example = Path(__file__).parents[2] / "clients" / "python" / "examples" / "router.py"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(example),
        "--target",
        f"127.0.0.1:{env.gateway.port}",
        "--debtor",
        "09121234567=1200000",
        stdout=asyncio.subprocess.DEVNULL,
    )
    try:

        async def registered() -> bool:
            return bool(env.gateway.routes.routers)

        await until(registered, "the example router registered")
        calls = demo_map(env.hook_url + "/components", username=HOOK_USER, password=HOOK_PASSWORD)
        debtor = await calls.call("debt check", src="09121234567", dst="021", unique_id="d")
        other = await calls.call("debt check", src="09350000000", dst="021", unique_id="o")
    finally:
        process.kill()
        await process.wait()
    assert describe(debtor) == [
        "debt check (data ''): PlayAnnouncement('debt-reminder');SayNumber(1200000);Exit('1')"
        " -> exit 1",
        "billing desk (data ''): extension=300 -> exit S",
    ]
    assert describe(other) == [
        "debt check (data ''): Exit('2') -> exit 2",
        "sales desk (data ''): extension=200 -> exit S",
    ]


def test_the_command_parser_reads_the_reference_flow() -> None:
    assert parse_commands(
        "PlayAnnouncement('welcome-file');GetData('enter-data-file', 10, 1);Exit('go-s2')"
    )[-1] == ("Exit", ("go-s2",))
