"""Typed decisions rendered as Simotel component answers: each Smart API
command in the reference's format, read back by the fake Simotel's command
parser; every character that could end an argument refused (never escaped);
AGI-only steps and decisions of the wrong kind refused with a sentence."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from telgate_server.backends.simotel.components import render
from telgate_server.backends.simotel.smart_commands import MAX_TEXT, command, commands
from telgate_server.fakes.simotel.call_map import CommandError, parse_commands
from telgate_server.routing.model import (
    Calendar,
    ClearUserData,
    DecisionInvalid,
    Dial,
    ExitCase,
    Fail,
    GetData,
    GoTo,
    Hangup,
    MusicOnHold,
    PlayAnnouncement,
    PlaySound,
    RouteKind,
    RouteToExtension,
    RouteToTrunk,
    RunSteps,
    SayClock,
    SayDate,
    SayDigits,
    SayDuration,
    SayNumber,
    SetCallLimit,
    SetExtension,
    SetVariable,
    Step,
)

from tests.shared import SIMOTEL_FIXTURES

# The reference's samples, read from ../shared.
COMPONENTS = SIMOTEL_FIXTURES / "components"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((COMPONENTS / name).read_text())
    return data


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (PlayAnnouncement("welcome"), "PlayAnnouncement('welcome')"),
        (PlayAnnouncement("id:65f0a1b2c3d4e5f6"), "PlayAnnouncement('id:65f0a1b2c3d4e5f6')"),
        (PlayAnnouncement("خوش آمدید"), "PlayAnnouncement('خوش آمدید')"),
        (PlaySound("hello-world"), "Playback('hello-world')"),
        (SayNumber(5201), "SayNumber(5201)"),
        (SayDigits("0912"), "SayDigit(0912)"),
        (SayDuration(6 * 86400 + 16 * 3600 + 51), "SayDuration('6.16:00:51')"),
        (SayDuration(0), "SayDuration('0.00:00:00')"),
        (SayClock(12, 14, 9), "SayClock('12:14:09')"),
        (SayDate(1395, 2, 21, Calendar.JALALI), "SayDate('1395-02-21','jalali')"),
        (SayDate(2024, 2, 29), "SayDate('2024-02-29','gregorian')"),
        (SayDate(1445, 9, 30, Calendar.HIJRI), "SayDate('1445-09-30','hijri')"),
        (GetData(("file1", "file2"), 10, 1), "GetData('file1&file2', 10, 1)"),
        # A fraction of a second rounds up: the caller is never given less time.
        (GetData(("menu",), 2.5, 4), "GetData('menu', 3, 4)"),
        (MusicOnHold("default", 60), "MusicOnHold('default', 60)"),
        (SetExtension("200"), "SetExten('200')"),
        (SetCallLimit(150), "SetLimitOnCall(150)"),
        (ClearUserData(), "ClearUserData()"),
    ],
)
def test_each_step_is_rendered_and_read_back_by_simotels_parser(step: Step, expected: str) -> None:
    rendered = command(step)
    assert rendered == expected
    parsed = parse_commands(rendered + ";Exit('x')")
    assert len(parsed) == 2 and parsed[-1] == ("Exit", ("x",))


def test_the_reference_samples_are_rendered_byte_for_byte() -> None:
    collect = fixture("smart_api.collect_digit.json")["our_response"]["body"]
    got = render(
        RouteKind.SIMOTEL_SMART,
        RunSteps(
            (PlayAnnouncement("welcome"), GetData(("press-1-sales-2-support",), 10, 1)), "next"
        ),
    )
    assert got == collect
    originated = fixture("smart_api.originated.json")["our_response"]["body"]
    got = render(
        RouteKind.SIMOTEL_SMART,
        RunSteps((SetCallLimit(600), ClearUserData(), SetExtension("204")), "go"),
    )
    assert got == originated
    exten = fixture("exten_api.json")["our_response"]["body"]
    assert render(RouteKind.SIMOTEL_EXTEN, RouteToExtension("215")) == exten
    trunk = fixture("trunk_api.json")["our_response"]["body"]
    assert render(RouteKind.SIMOTEL_TRUNK, RouteToTrunk("Trunk-Main", "09120000001", 600)) == trunk
    ivr = fixture("ivr_api.json")["our_response"]["body"]
    assert render(RouteKind.SIMOTEL_IVR, ExitCase("3")) == ivr
    failed = fixture("smart_api.fail.json")["our_response"]["body"]
    assert render(RouteKind.SIMOTEL_SMART, Fail("no such customer")) == failed
    assert render(RouteKind.SIMOTEL_EXTEN, Fail()) == failed
    # The second step's sample ends in a separator; the same commands without it.
    step2 = fixture("smart_api.route_on_digit.json")["our_response"]["body"]["commands"]
    assert parse_commands(commands((), "support")) == parse_commands(step2)


ARGUMENTS: dict[str, Callable[[str], Step]] = {
    "play_announcement": PlayAnnouncement,
    "play_sound": PlaySound,
    "get_data prompt": lambda v: GetData(("ok", v), 5, 1),
    "music_on_hold": lambda v: MusicOnHold(v, 10),
    "set_extension": SetExtension,
}


@pytest.mark.parametrize("where", sorted(ARGUMENTS))
@pytest.mark.parametrize(
    "value",
    [
        "a');Exit('evil",
        "a;Hangup()",
        "x(1)",
        "x)",
        "a,b",
        "back\\slash",
        'dq"',
        "new\nline",
        "tab\there",
        "nul\x00",
        "\u200bzero-width",
        "",
        "l" * (MAX_TEXT + 1),
    ],
)
def test_a_text_that_could_end_its_argument_is_refused(where: str, value: str) -> None:
    step = ARGUMENTS[where](value)
    with pytest.raises(DecisionInvalid) as info:
        commands((PlayAnnouncement("welcome"), step), "next")
    message = str(info.value)
    # A sentence naming the argument, quoting at most a short prefix.
    assert where.split(maxsplit=1)[0] in message
    assert len(message) < 200 and "l" * 30 not in message


def test_an_ampersand_is_refused_only_where_it_separates_prompts() -> None:
    assert command(PlayAnnouncement("sales&support")) == "PlayAnnouncement('sales&support')"
    with pytest.raises(DecisionInvalid, match="get_data prompt 'sales&support' holds '&'"):
        command(GetData(("sales&support",), 5, 1))


@pytest.mark.parametrize("case", ["go');PlayAnnouncement('x", "a;b", "", "c(", "e\r"])
def test_an_exit_case_that_could_end_its_argument_is_refused(case: str) -> None:
    with pytest.raises(DecisionInvalid):
        render(RouteKind.SIMOTEL_SMART, RunSteps((), case))
    with pytest.raises(DecisionInvalid):
        render(RouteKind.SIMOTEL_IVR, ExitCase(case))


@pytest.mark.parametrize(
    ("step", "name"),
    [
        (Dial("PJSIP/201"), "dial"),
        (SetVariable("A", "b"), "set_variable"),
        (Hangup(), "hangup"),
        (GoTo("phones", "201"), "go_to"),
    ],
)
def test_agi_only_steps_are_refused_for_simotel(step: Step, name: str) -> None:
    with pytest.raises(DecisionInvalid, match=f"^{name} is an Asterisk \\(AGI\\) step"):
        render(RouteKind.SIMOTEL_SMART, RunSteps((PlayAnnouncement("a"), step), "next"))


@pytest.mark.parametrize(
    ("step", "why"),
    [
        (SayNumber(True), "whole number"),
        (SayNumber(10**16), "outside"),
        (SayDigits("12a"), "digits 0-9"),
        (SayDigits(""), "digits 0-9"),
        (SayDuration(-1), "outside"),
        (SayClock(24, 0), "hours 24"),
        (SayClock(1, 60), "minutes 60"),
        (SayDate(2023, 2, 29), "no gregorian date"),
        (SayDate(1402, 7, 31, Calendar.JALALI), "no jalali date"),
        (SayDate(1445, 13, 1, Calendar.HIJRI), "month 13"),
        (GetData((), 5, 1), "at least one prompt"),
        (GetData(("a",), 0, 1), "more than 0"),
        (GetData(("a",), float("nan"), 1), "number of seconds"),
        (GetData(("a",), 5, 0), "max_digits 0"),
        (MusicOnHold("default", -3), "more than 0"),
        (SetCallLimit(0), "set_call_limit 0"),
    ],
)
def test_numbers_out_of_range_are_refused(step: Step, why: str) -> None:
    with pytest.raises(DecisionInvalid, match=why):
        command(step)


@pytest.mark.parametrize(
    ("kind", "decision", "why"),
    [
        (RouteKind.SIMOTEL_SMART, RunSteps((PlayAnnouncement("a"),)), "needs an exit case"),
        (RouteKind.SIMOTEL_SMART, RouteToExtension("200"), "smart component is answered with"),
        (RouteKind.SIMOTEL_EXTEN, ExitCase("1"), "exten component is answered with"),
        (RouteKind.SIMOTEL_TRUNK, RouteToExtension("200"), "trunk component is answered with"),
        (RouteKind.SIMOTEL_IVR, RunSteps((), "1"), "ivr component is answered with"),
        (RouteKind.SIMOTEL_EXTEN, RouteToExtension(""), "the extension is empty"),
        (RouteKind.SIMOTEL_EXTEN, RouteToExtension("2\n0"), "printable"),
        (RouteKind.SIMOTEL_TRUNK, RouteToTrunk("T", "0912", -1), "0 or more"),
        (RouteKind.SIMOTEL_TRUNK, RouteToTrunk("", "0912"), "the trunk is empty"),
        (RouteKind.ASTERISK_AGI, RunSteps((), "x"), "not a Simotel component"),
    ],
)
def test_a_decision_of_the_wrong_shape_is_refused(kind: RouteKind, decision: Any, why: str) -> None:
    with pytest.raises(DecisionInvalid, match=why):
        render(kind, decision)


def test_an_exit_case_answers_a_smart_component_with_exit_alone() -> None:
    assert render(RouteKind.SIMOTEL_SMART, ExitCase("go-b")) == {
        "ok": "1",
        "commands": "Exit('go-b')",
    }


@pytest.mark.parametrize(
    "text",
    [
        "PlayAnnouncement('a');Hangup()",
        "PlayAnnouncement('a')",
        "Exit('a');Exit('b')",
        "GetData('a', 'x', 1);Exit('b')",
        "PlayAnnouncement('a'b');Exit('c')",
    ],
)
def test_the_fake_simotel_refuses_commands_it_cannot_run(text: str) -> None:
    with pytest.raises(CommandError):
        parse_commands(text)
