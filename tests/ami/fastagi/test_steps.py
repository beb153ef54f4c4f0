"""Decisions rendered into AGI commands: what each step becomes, and what is
refused (before anything is sent) because Asterisk would interpret it."""

from __future__ import annotations

import pytest
from telgate_server.backends.ami.fastagi.steps import Check, Collect, Forget, Op, Plan, render
from telgate_server.routing import model as m


def _lines(*steps: m.Step, call_limit: int = 0) -> list[str]:
    plan = render(m.RunSteps(tuple(steps)), technology="PJSIP", call_limit=call_limit)
    return [item.line for item in plan.items if isinstance(item, Op)]


def test_each_step_as_agi_commands() -> None:
    assert _lines(m.PlayAnnouncement("custom/reminder")) == ['STREAM FILE "custom/reminder" ""']
    assert _lines(m.PlaySound("en/beep")) == ['STREAM FILE "en/beep" ""']
    assert _lines(m.SayNumber(-42)) == ['SAY NUMBER "-42" ""']
    assert _lines(m.SayDigits("0123")) == ['SAY DIGITS "0123" ""']
    assert _lines(m.SayDuration(3725)) == [
        'SAY NUMBER "1" ""',
        'STREAM FILE "hour" ""',
        'SAY NUMBER "2" ""',
        'STREAM FILE "minutes" ""',
        'SAY NUMBER "5" ""',
        'STREAM FILE "seconds" ""',
    ]
    assert _lines(m.SayDuration(0)) == ['SAY NUMBER "0" ""', 'STREAM FILE "seconds" ""']
    assert _lines(m.SayClock(13, 5)) == ['SAY DATETIME "47100" "" "HM" "UTC"']
    assert _lines(m.SayDate(2024, 3, 20)) == ['SAY DATETIME "1710892800" "" "ABdY" "UTC"']
    assert _lines(m.MusicOnHold("default", 2.5)) == ['EXEC MusicOnHold "default,3"']
    assert _lines(m.SetExtension("200")) == ['SET EXTENSION "200"', 'SET PRIORITY "1"']
    assert _lines(m.Dial("201", 20)) == ['EXEC Dial "PJSIP/201,20"']
    assert _lines(m.Dial("Local/202@phones/n")) == ['EXEC Dial "Local/202@phones/n,"']
    assert _lines(m.SetVariable("CUSTOMER", 'owes "100"')) == [
        'SET VARIABLE "CUSTOMER" "owes \\"100\\""'
    ]
    assert _lines(m.Hangup()) == ["HANGUP"]
    assert _lines(m.Hangup(17)) == ['EXEC Hangup "17"']
    assert _lines(m.GoTo("agi-test", "200", 2)) == [
        'SET CONTEXT "agi-test"',
        'SET EXTENSION "200"',
        'SET PRIORITY "2"',
    ]


def test_a_call_limit_goes_to_the_variable_and_every_later_dial() -> None:
    plan = render(
        m.RunSteps((m.Dial("201", 5), m.SetCallLimit(60), m.Dial("202", 5))),
        technology="PJSIP",
    )
    assert [i.line for i in plan.items if isinstance(i, Op)] == [
        'EXEC Dial "PJSIP/201,5"',
        'SET VARIABLE "TELGATE_CALL_LIMIT" "60"',
        'EXEC Dial "PJSIP/202,5,L(60000)"',
    ]
    assert plan.call_limit == 60
    # A later decision of the same session still dials with it.
    assert _lines(m.Dial("203"), call_limit=60) == ['EXEC Dial "PJSIP/203,,L(60000)"']


def test_get_data_and_clear_user_data_are_session_work() -> None:
    plan = render(
        m.RunSteps((m.GetData(("a", "b"), 3.0, 4), m.ClearUserData())), technology="PJSIP"
    )
    assert plan.items == (
        Collect(("a", "b"), 3000, 4, "step 1 (get_data)"),
        Forget("step 2 (clear_user_data)"),
    )
    assert plan.collects and not plan.ends


def test_fail_is_an_empty_plan_and_the_ends_are_marked() -> None:
    assert render(m.Fail("no"), technology="PJSIP") == Plan(())
    assert render(m.RunSteps((m.Hangup(),)), technology="PJSIP").ends == "hangup"
    plan = render(m.RunSteps((m.GoTo("c", "1"),)), technology="PJSIP")
    assert plan.ends == "go_to"
    assert all(isinstance(i, Op) and i.check is Check.PLAIN for i in plan.items)


@pytest.mark.parametrize(
    ("step", "why"),
    [
        (m.SetVariable("SHELL(rm -rf /)", "x"), "not a plain variable name"),
        (m.SetVariable("CDR(userfield)", "x"), "not a plain variable name"),
        (m.SetVariable("AGIEXECFULL", "yes"), "AGI\\* settings"),
        (m.SetVariable("X", "a\nHANGUP"), "newline"),
        (m.Dial("PJSIP/201,,G(evil)"), "neither an extension nor a dial string"),
        (m.Dial("PJSIP/201&PJSIP/202"), "neither an extension"),
        (m.Dial("PJSIP/${SHELL(id)}"), "neither an extension"),
        (m.Dial("PJSIP/$[1+1]"), "neither an extension"),
        (m.Dial("201", -1), "outside"),
        (m.PlaySound('x" ; HANGUP ; "'), "not a sound file name"),
        (m.PlayAnnouncement("/etc/passwd"), "no absolute path"),
        (m.PlayAnnouncement("../../etc/passwd"), "no absolute path"),
        (m.SayDigits("12a"), "not 1-64 digits"),
        (m.SayNumber(2**40), "beyond"),
        (m.SayDate(1403, 1, 1, m.Calendar.JALALI), "gregorian dates only, not jalali"),
        (m.SayDate(2024, 2, 30), "not a date"),
        (m.SayClock(24, 0), "not a time of day"),
        (m.MusicOnHold("x,y", 10), "not a music class"),
        (m.MusicOnHold("default", 0), "outside"),
        (m.GoTo("ctx,1", "200"), "not a context name"),
        (m.GoTo("ctx", "2${X}"), "not an extension"),
        (m.SetExtension("1 2"), "not an extension"),
        (m.Hangup(300), "not a Q.850 cause"),
        (m.GetData(("ok", 'bad"'), 3, 4), "not a sound file name"),
        (m.GetData(("ok",), 3, 500), "max_digits"),
    ],
)
def test_steps_asterisk_would_interpret_are_refused(step: m.Step, why: str) -> None:
    with pytest.raises(m.DecisionInvalid, match=why):
        render(m.RunSteps((m.PlaySound("en/beep"), step)), technology="PJSIP")


def test_nothing_may_follow_a_hangup_or_go_to() -> None:
    with pytest.raises(m.DecisionInvalid, match=r"step 2 .* after a go_to step"):
        render(m.RunSteps((m.GoTo("c", "1"), m.PlaySound("x"))), technology="PJSIP")
    with pytest.raises(m.DecisionInvalid, match="after a hangup step"):
        render(m.RunSteps((m.Hangup(), m.Hangup())), technology="PJSIP")


def test_decisions_of_other_kinds_are_refused() -> None:
    with pytest.raises(m.DecisionInvalid, match="RouteToExtension"):
        render(m.RouteToExtension("200"), technology="PJSIP")
