"""Fallback rules and budgets from the `[routing]` settings: how they are
read, refused when wrong, and which one a query gets."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from telgate.v1 import routing_pb2
from telgate_server.config import load_settings
from telgate_server.routing import model as m
from telgate_server.routing.hub import RouterHub
from telgate_server.routing.model import Registration, RouteKind
from telgate_server.routing.settings import RoutingConfig
from telgate_server.settings_strict import ConfigError

from tests.routing.conftest import route_query, routing_server

RULES = """
[routing.budget]
simotel_exten = 0.5

[[routing.fallback]]
route = "debt check"
kind = "simotel_smart"
decision = { steps = { steps = [
  { play_announcement = "debt-reminder" },
  { say_number = 1200 },
  { say_date = { year = 1403, month = 9, day = 12, calendar = "jalali" } },
  { get_data = { prompts = ["menu"], timeout = 5, max_digits = 1 } },
  { clear_user_data = true },
], exit = "1" } }

[[routing.fallback]]
backend = "simotel"
kind = "simotel_trunk"
decision = { trunk = { trunk = "mci", number = "02188", call_limit = 600 } }

[[routing.fallback]]
kind = "simotel_ivr"
decision = { exit = "9" }

[[routing.fallback]]
route = "*"
decision = { extension = "100" }

[[routing.fallback]]
kind = "asterisk_agi"
decision = { steps = { steps = [
  { play_sound = "ss-noservice" },
  { go_to = { context = "phones", extension = "200" } },
] } }
"""


def settings_from(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "telgate.toml"
    path.write_text(text)
    return load_settings(path)


def test_rules_are_read_and_the_first_matching_one_fitting_the_kind_wins(
    tmp_path: Path,
) -> None:
    settings = settings_from(tmp_path, RULES)
    hub = RouterHub(settings.routing)
    assert hub.budget(RouteKind.SIMOTEL_EXTEN) == 0.5
    assert hub.budget(RouteKind.SIMOTEL_SMART) == 0.7
    assert hub.budget(RouteKind.ASTERISK_AGI) == 3.0
    find = hub.rules.find
    assert find(route_query("debt check", RouteKind.SIMOTEL_SMART)) == m.RunSteps(
        (
            m.PlayAnnouncement("debt-reminder"),
            m.SayNumber(1200),
            m.SayDate(1403, 9, 12, m.Calendar.JALALI),
            m.GetData(("menu",), 5, 1),
            m.ClearUserData(),
        ),
        "1",
    )
    # Another route's Smart API query: the `*` extension rule does not fit it.
    assert find(route_query("other", RouteKind.SIMOTEL_SMART)) is None
    assert find(route_query("x", RouteKind.SIMOTEL_TRUNK, backend="simotel")) == m.RouteToTrunk(
        "mci", "02188", 600
    )
    assert find(route_query("x", RouteKind.SIMOTEL_TRUNK, backend="pbx")) is None
    assert find(route_query("x", RouteKind.SIMOTEL_IVR)) == m.ExitCase("9")
    assert find(route_query("x", RouteKind.SIMOTEL_EXTEN)) == m.RouteToExtension("100")
    assert find(route_query("x", RouteKind.ASTERISK_AGI)) == m.RunSteps(
        (m.PlaySound("ss-noservice"), m.GoTo("phones", "200", 1))
    )


async def test_a_query_nobody_decides_gets_its_fallback(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, RULES)
    async with routing_server(settings.routing) as routing:
        answer = await routing.hub.ask(route_query("sales", RouteKind.SIMOTEL_EXTEN))
        assert answer == m.Answer(
            m.RouteToExtension("100"),
            fallback=True,
            why="no router serves route 'sales' (simotel_exten on backend 'pbx')",
        )
        # A router's invalid decision: the same fallback, and the reason.
        router = await routing.router(["sales"])
        asking = asyncio.create_task(routing.hub.ask(route_query("sales", RouteKind.SIMOTEL_IVR)))
        sent = await router.query()
        await router.decide(sent.id, extension=routing_pb2.RouteToExtension(extension="1"))
        answer = await asking
        assert answer.decision == m.ExitCase("9") and answer.fallback
        assert "a simotel_ivr query takes an exit case" in answer.why
        # A backend that could not render a decision asks for the fallback itself.
        query = route_query("sales", RouteKind.SIMOTEL_EXTEN)
        assert routing.hub.fallback(query, "cannot render") == m.Answer(
            m.RouteToExtension("100"), fallback=True, why="cannot render"
        )
        assert routing.observed[-1] == ("pbx", "fallback_invalid", None)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            'kind = "simotel_exten"\ndecision = { exit = "1" }',
            "`routing.fallback.0`: a simotel_exten query takes an extension (or fail), "
            "not an exit case",
        ),
        (
            "decision = {}",
            "`routing.fallback.0.decision`: a fallback decision needs exactly one of "
            "extension, trunk, exit, steps, fail",
        ),
        (
            'decision = { extension = "1", exit = "2" }',
            "(got extension, exit)",
        ),
        (
            'decision = { steps = { steps = [{ shout = "x" }], exit = "1" } }',
            "step 1: unknown step 'shout'",
        ),
        (
            'decision = { steps = { steps = [{ say_digits = "12a" }], exit = "1" } }',
            "step 1 (say_digits): say_digits takes the digits 0-9 only",
        ),
        (
            'decision = { steps = { steps = [{ say_number = "many" }], exit = "1" } }',
            "step 1 (say_number): number must be a whole number",
        ),
        (
            "decision = { steps = { steps = [{ say_date = { year = 2023, month = 2, day = 29 } }]"
            ', exit = "1" } }',
            "step 1 (say_date): say_date 2023-2-29 is not a date: no gregorian date has day 29",
        ),
        (
            "decision = { steps = { steps = [{ say_clock = { hours = 7, minutes = 60 } }]"
            ', exit = "1" } }',
            "step 1 (say_clock): say_clock 7:60:0 is not a time of day (minutes 60",
        ),
        (
            'kind = "simotel_smart"\n'
            'decision = { steps = { steps = [{ hangup = 16 }], exit = "1" } }',
            "step 1 (Hangup) is for AGI only",
        ),
        (
            'kind = "simotel_smart"\ndecision = { steps = { steps = [] } }',
            "needs an exit case",
        ),
        (
            'kind = "nonsense"\ndecision = { extension = "1" }',
            "`routing.fallback.0.kind`",
        ),
        (
            'decision = { trunk = { trunk = "mci", number = "" } }',
            "`routing.fallback.0.decision.trunk.number`",
        ),
        (
            'decision = { extension = "1" }\ncolour = "red"',
            "unknown key `routing.fallback.0.colour`",
        ),
    ],
)
def test_a_bad_rule_stops_the_start_naming_it(tmp_path: Path, rule: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings_from(tmp_path, f"[[routing.fallback]]\n{rule}\n")
    assert message in str(info.value)


def test_simotel_budgets_stay_under_its_one_second(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        settings_from(tmp_path, "[routing.budget]\nsimotel_smart = 1.0\n")
    assert "`routing.budget.simotel_smart`: Input should be less than 1" in str(info.value)
    with pytest.raises(ConfigError):
        settings_from(tmp_path, "[routing.budget]\nasterisk_agi = 0\n")


async def test_a_router_that_does_not_read_is_skipped() -> None:
    # No servicer drains these outboxes: each holds one message at most.
    hub = RouterHub(RoutingConfig(router_queue=1))
    stuck = hub.register(Registration(frozenset({"sales"})))
    spare = hub.register(Registration(frozenset({"*"})))
    first = asyncio.create_task(hub.ask(route_query("sales")))
    await asyncio.sleep(0)
    assert stuck.outbox.qsize() == 1  # the query the stuck router never reads
    second = asyncio.create_task(hub.ask(route_query("sales")))
    await asyncio.sleep(0)
    # The named router's outbox is full: the wildcard one takes the query.
    sent = spare.outbox.get_nowait()
    assert isinstance(sent, m.RouteQuery)
    hub.decide(spare, sent.id, m.RouteToExtension("7"))
    assert (await second).router_id == spare.id
    # Both full now: a third query falls back without waiting for its deadline.
    spare.outbox.put_nowait(sent)
    third = await hub.ask(route_query("sales"))
    assert third.decision is None
    assert third.why == "every router serving route 'sales' is not reading its stream"
    hub.unregister(stuck)
    assert (await first).why == f"router {stuck.id} disconnected before deciding"
