"""hub.ask, as a backend calls it, answered by routers over real Route streams."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from google.protobuf import duration_pb2
from telgate.v1 import routing_pb2, routing_pb2_grpc
from telgate_server.api.routing import RoutingServicer
from telgate_server.api.streams import StreamLimits
from telgate_server.routing import model as m
from telgate_server.routing.hub import SUSPECT_MISSES, RouterHub
from telgate_server.routing.model import Outcome, RouteKind

from tests.routing.conftest import Router, RoutingServer, eventually, route_query


async def test_a_query_reaches_its_router_and_the_decision_comes_back(
    routing: RoutingServer,
) -> None:
    router = await routing.router(["debt check"])
    query = route_query(
        "debt check",
        RouteKind.SIMOTEL_EXTEN,
        caller_number="09121234567",
        caller_name="Sara",
        dialed="2000",
        unique_id="1700000000.12",
        variables={"app_name": "debt check"},
    )
    asking = asyncio.create_task(routing.hub.ask(query))
    sent = await router.query()
    assert sent.id == query.id
    assert sent.route == "debt check"
    assert sent.kind == routing_pb2.ROUTE_KIND_SIMOTEL_EXTEN
    assert (sent.caller.number, sent.caller.name) == ("09121234567", "Sara")
    assert (sent.dialed, sent.unique_id, sent.backend) == ("2000", "1700000000.12", "pbx")
    assert dict(sent.variables) == {"app_name": "debt check"}
    assert abs(sent.deadline.ToMicroseconds() / 1e6 - query.deadline) < 1e-3
    await router.decide(sent.id, extension=routing_pb2.RouteToExtension(extension="205"))
    answer = await asking
    assert answer == m.Answer(m.RouteToExtension("205"), router_id=router.router_id)
    assert routing.observed[-1][:2] == ("pbx", "answered")
    # The backend says how it went; the router hears it.
    routing.hub.ended(query, Outcome.APPLIED)
    notice = await router.notice()
    assert (notice.query_id, notice.outcome) == (query.id, routing_pb2.QUERY_OUTCOME_APPLIED)


async def test_every_decision_shape_arrives_typed(routing: RoutingServer) -> None:
    router = await routing.router(["*"])
    cases: list[tuple[RouteKind, dict[str, Any], m.Decision]] = [
        (
            RouteKind.SIMOTEL_TRUNK,
            {
                "trunk": routing_pb2.RouteToTrunk(
                    trunk="mci", number="02188", call_limit=duration_pb2.Duration(seconds=90)
                )
            },
            m.RouteToTrunk("mci", "02188", 90),
        ),
        (RouteKind.SIMOTEL_IVR, {"exit": routing_pb2.ExitCase(case="2")}, m.ExitCase("2")),
        (
            RouteKind.SIMOTEL_SMART,
            {
                "steps": routing_pb2.RunSteps(
                    steps=[
                        routing_pb2.RoutingStep(
                            play_announcement=routing_pb2.PlayAnnouncement(name="debt")
                        ),
                        routing_pb2.RoutingStep(say_number=routing_pb2.SayNumber(number=1200)),
                        routing_pb2.RoutingStep(
                            say_date=routing_pb2.SayDate(
                                year=1403, month=9, day=12, calendar=routing_pb2.CALENDAR_JALALI
                            )
                        ),
                        routing_pb2.RoutingStep(
                            get_data=routing_pb2.GetData(
                                prompts=["menu"],
                                timeout=duration_pb2.Duration(seconds=5),
                                max_digits=4,
                            )
                        ),
                        routing_pb2.RoutingStep(clear_user_data=routing_pb2.ClearUserData()),
                    ],
                    exit="1",
                )
            },
            m.RunSteps(
                (
                    m.PlayAnnouncement("debt"),
                    m.SayNumber(1200),
                    m.SayDate(1403, 9, 12, m.Calendar.JALALI),
                    m.GetData(("menu",), 5.0, 4),
                    m.ClearUserData(),
                ),
                "1",
            ),
        ),
        (
            RouteKind.ASTERISK_AGI,
            {
                "steps": routing_pb2.RunSteps(
                    steps=[
                        routing_pb2.RoutingStep(
                            set_variable=routing_pb2.SetVariable(name="CRM", value="a;b'c")
                        ),
                        routing_pb2.RoutingStep(
                            dial=routing_pb2.Dial(
                                endpoint="PJSIP/201", timeout=duration_pb2.Duration(seconds=20)
                            )
                        ),
                        routing_pb2.RoutingStep(hangup=routing_pb2.Hangup()),
                        routing_pb2.RoutingStep(
                            go_to=routing_pb2.GoTo(context="phones", extension="201")
                        ),
                    ]
                )
            },
            m.RunSteps(
                (
                    m.SetVariable("CRM", "a;b'c"),
                    m.Dial("PJSIP/201", 20.0),
                    m.Hangup(16),
                    m.GoTo("phones", "201", 1),
                )
            ),
        ),
        (RouteKind.SIMOTEL_EXTEN, {"fail": routing_pb2.Fail(reason="closed")}, m.Fail("closed")),
    ]
    for kind, action, expected in cases:
        asking = asyncio.create_task(routing.hub.ask(route_query("any", kind)))
        sent = await router.query()
        await router.decide(sent.id, **action)
        answer = await asking
        assert answer.decision == expected, kind
        assert not answer.fallback


async def test_a_router_naming_the_route_beats_a_wildcard_one(routing: RoutingServer) -> None:
    wildcard = await routing.router(["*"])
    named = await routing.router(["sales"])
    for _ in range(3):
        asking = asyncio.create_task(routing.hub.ask(route_query("sales")))
        sent = await named.query()
        await named.decide(sent.id, extension=routing_pb2.RouteToExtension(extension="1"))
        assert (await asking).router_id == named.router_id
    asking = asyncio.create_task(routing.hub.ask(route_query("support")))
    sent = await wildcard.query()
    await wildcard.decide(sent.id, extension=routing_pb2.RouteToExtension(extension="2"))
    assert (await asking).router_id == wildcard.router_id
    assert named.queries.empty()


async def test_backend_and_kind_filters(routing: RoutingServer) -> None:
    agi_only = await routing.router(["*"], kinds=[routing_pb2.ROUTE_KIND_ASTERISK_AGI])
    simotel_only = await routing.router(["*"], backends=["simotel"])
    asking = asyncio.create_task(
        routing.hub.ask(route_query("ivr", RouteKind.ASTERISK_AGI, backend="lab"))
    )
    sent = await agi_only.query()
    await agi_only.decide(sent.id, steps=routing_pb2.RunSteps())
    assert (await asking).router_id == agi_only.router_id
    asking = asyncio.create_task(
        routing.hub.ask(route_query("ivr", RouteKind.SIMOTEL_IVR, backend="simotel"))
    )
    sent = await simotel_only.query()
    await simotel_only.decide(sent.id, exit=routing_pb2.ExitCase(case="1"))
    assert (await asking).router_id == simotel_only.router_id
    # Neither serves a Simotel query from another backend.
    answer = await routing.hub.ask(route_query("ivr", RouteKind.SIMOTEL_IVR, backend="other"))
    assert answer.decision is None and "no router serves route 'ivr'" in answer.why
    assert agi_only.queries.empty() and simotel_only.queries.empty()


async def test_routers_serving_the_same_route_share_its_queries(routing: RoutingServer) -> None:
    first = await routing.router(["sales"])
    second = await routing.router(["sales"])
    served: dict[str, int] = {first.router_id: 0, second.router_id: 0}

    async def answer(router: Router) -> None:
        while True:
            sent = await router.queries.get()
            await router.decide(sent.id, extension=routing_pb2.RouteToExtension(extension="1"))

    answering = [asyncio.create_task(answer(r)) for r in (first, second)]
    try:
        for _ in range(6):
            result = await routing.hub.ask(route_query("sales"))
            served[result.router_id] += 1
    finally:
        for task in answering:
            task.cancel()
    assert served == {first.router_id: 3, second.router_id: 3}


async def test_no_router_gives_none_without_a_fallback(routing: RoutingServer) -> None:
    answer = await routing.hub.ask(route_query("sales", RouteKind.SIMOTEL_SMART))
    assert answer.decision is None
    assert not answer.fallback
    assert answer.why == "no router serves route 'sales' (simotel_smart on backend 'pbx')"
    assert routing.observed[-1][:2] == ("pbx", "fallback_no_router")


async def test_a_late_decision_is_discarded_and_the_router_told(routing: RoutingServer) -> None:
    router = await routing.router(["sales"])
    query = route_query("sales", within=0.2)
    asking = asyncio.create_task(routing.hub.ask(query))
    sent = await router.query()
    # The router answers only once the gateway has given up on it.
    answer = await asking
    assert answer.decision is None
    assert answer.why == f"router {router.router_id} gave no decision by the deadline"
    assert routing.observed[-1][:2] == ("pbx", "fallback_timeout")
    notice = await router.notice()
    assert (notice.query_id, notice.outcome) == (sent.id, routing_pb2.QUERY_OUTCOME_LATE)
    assert "the fallback was used" in notice.detail
    await router.decide(sent.id, extension=routing_pb2.RouteToExtension(extension="205"))
    notice = await router.notice()
    assert (notice.query_id, notice.outcome) == (sent.id, routing_pb2.QUERY_OUTCOME_LATE)
    assert "came after the deadline and was discarded" in notice.detail
    assert routing.hub.late_discarded == 1
    assert routing.observed[-1][:2] == ("pbx", "late_discarded")


async def test_a_decision_for_no_waiting_query_is_told_invalid(routing: RoutingServer) -> None:
    router = await routing.router(["sales"])
    await router.decide("nobody", extension=routing_pb2.RouteToExtension(extension="1"))
    notice = await router.notice()
    assert notice.query_id == "nobody"
    assert notice.outcome == routing_pb2.QUERY_OUTCOME_INVALID
    assert notice.detail == "no query 'nobody' is waiting for a decision from this router"


async def test_a_second_decision_for_a_query_is_discarded(routing: RoutingServer) -> None:
    router = await routing.router(["sales"])
    asking = asyncio.create_task(routing.hub.ask(route_query("sales")))
    sent = await router.query()
    await router.decide(sent.id, extension=routing_pb2.RouteToExtension(extension="1"))
    await router.decide(sent.id, extension=routing_pb2.RouteToExtension(extension="2"))
    assert (await asking).decision == m.RouteToExtension("1")
    notice = await router.notice()
    assert notice.outcome == routing_pb2.QUERY_OUTCOME_INVALID
    assert "already ended (its decision was given)" in notice.detail


async def test_a_decision_that_does_not_fit_its_kind_falls_back(routing: RoutingServer) -> None:
    router = await routing.router(["sales"])
    query = route_query("sales", RouteKind.SIMOTEL_TRUNK)
    asking = asyncio.create_task(routing.hub.ask(query))
    sent = await router.query()
    await router.decide(sent.id, extension=routing_pb2.RouteToExtension(extension="205"))
    answer = await asking
    assert answer.decision is None
    assert answer.why == (
        f"router {router.router_id}'s decision is invalid: a simotel_trunk query takes "
        "a trunk (or fail), not an extension"
    )
    assert routing.observed[-1][:2] == ("pbx", "fallback_invalid")
    notice = await router.notice()
    assert (notice.query_id, notice.outcome) == (query.id, routing_pb2.QUERY_OUTCOME_INVALID)
    assert notice.detail.startswith("a simotel_trunk query takes a trunk")


async def test_decisions_no_pbx_can_carry_out_fall_back(routing: RoutingServer) -> None:
    router = await routing.router(["*"])
    bad: list[tuple[RouteKind, dict[str, object], str]] = [
        (RouteKind.SIMOTEL_SMART, {"steps": routing_pb2.RunSteps()}, "needs an exit case"),
        (
            RouteKind.SIMOTEL_SMART,
            {
                "steps": routing_pb2.RunSteps(
                    steps=[routing_pb2.RoutingStep(dial=routing_pb2.Dial(endpoint="PJSIP/1"))],
                    exit="1",
                )
            },
            "step 1 (Dial) is for AGI only",
        ),
        (RouteKind.ASTERISK_AGI, {"steps": routing_pb2.RunSteps(exit="1")}, "has no exit case"),
        (
            RouteKind.ASTERISK_AGI,
            {"steps": routing_pb2.RunSteps(steps=[routing_pb2.RoutingStep()])},
            "step 1: a step has none of its kinds set",
        ),
        (
            RouteKind.ASTERISK_AGI,
            {
                "steps": routing_pb2.RunSteps(
                    steps=[routing_pb2.RoutingStep(say_digits=routing_pb2.SayDigits(digits="12a"))]
                )
            },
            "say_digits takes the digits 0-9 only",
        ),
        (RouteKind.SIMOTEL_EXTEN, {}, "the decision has no action set"),
        (
            RouteKind.SIMOTEL_EXTEN,
            {"extension": routing_pb2.RouteToExtension(extension="20\n5")},
            "control character",
        ),
        (
            RouteKind.SIMOTEL_IVR,
            {"exit": routing_pb2.ExitCase(case="")},
            "the exit case is empty",
        ),
    ]
    for kind, action, reason in bad:
        asking = asyncio.create_task(routing.hub.ask(route_query("x", kind)))
        sent = await router.query()
        await router.decide(sent.id, **action)
        answer = await asking
        assert answer.decision is None and reason in answer.why, (reason, answer.why)
        notice = await router.notice()
        assert notice.outcome == routing_pb2.QUERY_OUTCOME_INVALID
        assert reason in notice.detail


async def test_a_backend_that_stops_waiting_tells_the_router(routing: RoutingServer) -> None:
    router = await routing.router(["sales"])
    asking = asyncio.create_task(routing.hub.ask(route_query("sales")))
    sent = await router.query()
    asking.cancel()
    notice = await router.notice()
    assert (notice.query_id, notice.outcome) == (sent.id, routing_pb2.QUERY_OUTCOME_HUNG_UP)
    await eventually(asking.done, "the ask ended")


async def test_a_router_cut_mid_query_falls_back_at_once(routing: RoutingServer) -> None:
    router = await routing.router(["sales"])
    # Far away: an answer now cannot be the deadline's.
    query = route_query("sales", within=30)
    asking = asyncio.create_task(routing.hub.ask(query))
    await router.query()
    router.call.cancel()
    answer = await asking
    assert answer.decision is None
    assert answer.why == f"router {router.router_id} disconnected before deciding"
    assert routing.observed[-1][:2] == ("pbx", "fallback_router_gone")


async def test_a_query_already_past_its_deadline_is_sent_to_no_router(
    routing: RoutingServer,
) -> None:
    router = await routing.router(["sales"])
    answer = await routing.hub.ask(route_query("sales", within=-1))
    assert answer.decision is None
    assert answer.why == "the query's deadline had passed before a router was asked"
    # The next query is the first the router sees.
    asking = asyncio.create_task(routing.hub.ask(route_query("sales")))
    sent = await router.query()
    await router.decide(sent.id, extension=routing_pb2.RouteToExtension(extension="1"))
    assert (await asking).router_id == router.router_id
    assert router.ended.empty()


async def test_routers_count_against_the_stream_bounds() -> None:
    hub = RouterHub()
    server = grpc.aio.server()
    limits = StreamLimits(1, 10, lambda _context: "crm")
    routing_pb2_grpc.add_CallRoutingServiceServicer_to_server(RoutingServicer(hub, limits), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            first = Router(channel)
            await first.register(["sales"])
            second = Router(channel)
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await second.register(["sales"])
            assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "server.max_streams_per_caller" in (info.value.details() or "")
            first.call.cancel()
            await eventually(lambda: limits.held_by("crm") == 0, "the slot was given back")
    finally:
        await server.stop(0)


async def test_a_backend_that_stops_waiting_as_the_decision_comes_tells_the_router(
    routing: RoutingServer,
) -> None:
    router = await routing.router(["sales"])
    query = route_query("sales")
    asking = asyncio.create_task(routing.hub.ask(query))
    await router.query()
    link = routing.hub.routers[0]
    # The decision is handed over, and the backend gives up before it resumes.
    routing.hub.decide(link, query.id, m.RouteToExtension("1"))
    asking.cancel()
    notice = await router.notice()
    assert (notice.query_id, notice.outcome) == (query.id, routing_pb2.QUERY_OUTCOME_HUNG_UP)
    await eventually(asking.cancelled, "the ask was cancelled")


async def test_a_calls_next_query_goes_to_the_router_that_decided_it(
    routing: RoutingServer,
) -> None:
    first = await routing.router(["*"])
    second = await routing.router(["*"])
    wanted = {first.router_id: first, second.router_id: second}

    async def decided(query: m.RouteQuery) -> str:
        asking = asyncio.create_task(routing.hub.ask(query))
        # Whichever router was sent it answers.
        for _ in range(1000):
            for router in wanted.values():
                if not router.queries.empty():
                    sent = router.queries.get_nowait()
                    await router.decide(sent.id, exit=routing_pb2.ExitCase(case="1"))
                    return (await asking).router_id
            await asyncio.sleep(0.01)
        raise AssertionError("no router was sent the query")

    call = "1700000000.7"
    owner = await decided(route_query("s1", RouteKind.SIMOTEL_IVR, unique_id=call))
    # Another call's query first on each route: turns alone would give the
    # call's query on s2 and s3 to the other router.
    for route in ("s1", "s2", "s3"):
        await decided(route_query(route, RouteKind.SIMOTEL_IVR, unique_id="another"))
        again = await decided(route_query(route, RouteKind.SIMOTEL_IVR, unique_id=call))
        assert again == owner, route
    # A router naming the route still beats the call's wildcard router.
    named = await routing.router(["s4"])
    wanted[named.router_id] = named
    assert await decided(route_query("s4", RouteKind.SIMOTEL_IVR, unique_id=call)) == (
        named.router_id
    )


async def test_a_router_that_keeps_missing_deadlines_is_asked_last(
    routing: RoutingServer,
) -> None:
    silent = await routing.router(["sales"])
    good = await routing.router(["sales"])
    silent_link = next(r for r in routing.hub.routers if r.id == silent.router_id)

    async def answer() -> None:
        while True:
            sent = await good.queries.get()
            await good.decide(sent.id, extension=routing_pb2.RouteToExtension(extension="1"))

    answering = asyncio.create_task(answer())
    try:
        for _ in range(20):
            if silent_link.misses >= SUSPECT_MISSES:
                break
            await routing.hub.ask(route_query("sales", within=0.5))
        assert silent_link.misses == SUSPECT_MISSES
        # Turns would give every other query to the silent router: none goes there.
        for _ in range(4):
            assert (await routing.hub.ask(route_query("sales"))).router_id == good.router_id
        assert silent.queries.qsize() == SUSPECT_MISSES
        # Alone, it is asked again; a decision in time clears its record.
        await good.close()
        await routing.wait_routers(1)
        asking = asyncio.create_task(routing.hub.ask(route_query("sales")))
        for _ in range(SUSPECT_MISSES):
            await silent.queries.get()
        sent = await silent.query()
        await silent.decide(sent.id, extension=routing_pb2.RouteToExtension(extension="2"))
        assert (await asking).router_id == silent.router_id
        assert silent_link.misses == 0
    finally:
        answering.cancel()
