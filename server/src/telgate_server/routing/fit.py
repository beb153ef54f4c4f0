"""Whether a decision fits the kind of query it answers, and whether its steps
hold values a PBX can carry out.

The same check runs on a router's decision (before the backend sees it) and
on each configured fallback rule (at startup), so a fallback no PBX could
carry out stops the start. What only one PBX refuses (a quote in a Simotel
argument, a sound file name Asterisk will not open) is refused when the
backend renders the decision; a fallback refused there makes the PBX take
its failure path, and is logged. Failures raise :class:`DecisionInvalid` with a
sentence the router is told (``QueryEnded.detail``)."""

from __future__ import annotations

import calendar

from telgate_server.routing.model import (
    Calendar,
    ClearUserData,
    Decision,
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

SIMOTEL_KINDS = frozenset(
    {
        RouteKind.SIMOTEL_SMART,
        RouteKind.SIMOTEL_EXTEN,
        RouteKind.SIMOTEL_TRUNK,
        RouteKind.SIMOTEL_IVR,
    }
)

# Steps only an AGI session can carry out (a Smart API has no such command).
AGI_ONLY_STEPS: tuple[type, ...] = (Dial, SetVariable, Hangup, GoTo)

# The decision each kind takes (Fail fits every kind).
TAKES: dict[RouteKind, type[Decision]] = {
    RouteKind.SIMOTEL_EXTEN: RouteToExtension,
    RouteKind.SIMOTEL_TRUNK: RouteToTrunk,
    RouteKind.SIMOTEL_IVR: ExitCase,
    RouteKind.SIMOTEL_SMART: RunSteps,
    RouteKind.ASTERISK_AGI: RunSteps,
}
# Each decision in words.
_NAMES: dict[type[Decision], str] = {
    RouteToExtension: "an extension",
    RouteToTrunk: "a trunk",
    ExitCase: "an exit case",
    RunSteps: "steps",
    Fail: "fail",
}


def expected(kind: RouteKind) -> str:
    """The decision a ``kind`` query takes, in words ("an extension")."""
    if kind is RouteKind.SIMOTEL_SMART:
        return "steps with an exit case"
    return _NAMES[TAKES[kind]]


# A day's seconds; longer durations, waits and limits are mistakes.
_DAY = 86_400
# Q.850 causes are 1..127.
_MAX_CAUSE = 127


def check_fits(kind: RouteKind, decision: Decision) -> None:
    """DecisionInvalid unless ``decision`` is one a ``kind`` query can take."""
    if isinstance(decision, Fail):
        return
    if not isinstance(decision, TAKES[kind]):
        raise DecisionInvalid(
            f"a {kind.value} query takes {expected(kind)} (or fail), not {_NAMES[type(decision)]}"
        )
    if isinstance(decision, RouteToExtension) and not decision.extension:
        raise DecisionInvalid("the extension is empty")
    if isinstance(decision, RouteToTrunk):
        if not decision.trunk or not decision.number:
            raise DecisionInvalid("a trunk decision needs both a trunk and a number")
        _seconds("the trunk's call limit", decision.call_limit)
    if isinstance(decision, ExitCase) and not decision.case:
        raise DecisionInvalid("the exit case is empty")
    if isinstance(decision, RunSteps):
        if kind is RouteKind.SIMOTEL_SMART and not decision.exit:
            raise DecisionInvalid("a Smart API decision needs an exit case after its steps")
        if kind is RouteKind.ASTERISK_AGI and decision.exit:
            raise DecisionInvalid(
                "an AGI decision has no exit case (continue with a go_to step instead)"
            )
        for number, step in enumerate(decision.steps, 1):
            if kind in SIMOTEL_KINDS and isinstance(step, AGI_ONLY_STEPS):
                raise DecisionInvalid(
                    f"step {number} ({type(step).__name__}) is for AGI only; "
                    "a Simotel Smart API cannot carry it out"
                )
            try:
                check_step(step)
            except DecisionInvalid as exc:
                raise DecisionInvalid(f"step {number}: {exc}") from None


def _seconds(what: str, value: float) -> None:
    if value < 0 or value > _DAY:
        raise DecisionInvalid(f"{what} must be between 0 and {_DAY} seconds, not {value}")


def _text(what: str, value: str) -> None:
    if not value:
        raise DecisionInvalid(f"{what} is empty")


def check_clock(step: SayClock) -> None:
    """DecisionInvalid unless the step's hours, minutes and seconds are a time of day."""
    h, m, s = step.hours, step.minutes, step.seconds
    for what, value, high in (("hours", h, 23), ("minutes", m, 59), ("seconds", s, 59)):
        if not 0 <= value <= high:
            raise DecisionInvalid(
                f"say_clock {h}:{m}:{s} is not a time of day ({what} {value} is outside 0..{high})"
            )


def check_date(step: SayDate) -> None:
    """DecisionInvalid unless the step's year, month and day are a date of its calendar
    (Jalali: months 1-6 have 31 days, the rest 30; Hijri: at most 30)."""
    y, mo, d = step.year, step.month, step.day
    for what, value, high in (("year", y, 9999), ("month", mo, 12), ("day", d, 31)):
        if not 1 <= value <= high:
            raise DecisionInvalid(
                f"say_date {y}-{mo}-{d} is not a date ({what} {value} is outside 1..{high})"
            )
    longest = {
        Calendar.GREGORIAN: calendar.monthrange(y, mo)[1],
        Calendar.JALALI: 31 if mo <= 6 else 30,
        Calendar.HIJRI: 30,
    }[step.calendar]
    if d > longest:
        raise DecisionInvalid(
            f"say_date {y}-{mo}-{d} is not a date: no {step.calendar.value} date has day {d} "
            f"in month {mo}"
        )


def check_step(step: Step) -> None:
    """DecisionInvalid unless the step's values are ones a PBX can carry out."""
    match step:
        case PlayAnnouncement(name=name):
            _text("the announcement name", name)
        case PlaySound(file=file):
            _text("the sound file", file)
        case SayNumber():
            pass
        case SayDigits(digits=digits):
            if not digits or not (digits.isascii() and digits.isdigit()):
                raise DecisionInvalid("say_digits takes the digits 0-9 only, at least one")
        case SayDuration(seconds=seconds):
            _seconds("say_duration", seconds)
        case SayClock():
            check_clock(step)
        case SayDate():
            check_date(step)
        case GetData(prompts=prompts, timeout=timeout, max_digits=max_digits):
            if any(not p for p in prompts):
                raise DecisionInvalid("get_data has an empty prompt")
            _seconds("get_data's timeout", timeout)
            if not 0 <= max_digits <= 80:
                raise DecisionInvalid("get_data's max_digits must be between 0 and 80")
        case MusicOnHold(seconds=seconds):
            _seconds("music_on_hold's duration", seconds)
        case SetExtension(extension=extension):
            _text("set_extension's extension", extension)
        case SetCallLimit(seconds=seconds):
            _seconds("set_call_limit", seconds)
        case ClearUserData():
            pass
        case Dial(endpoint=endpoint, timeout=timeout):
            _text("dial's endpoint", endpoint)
            _seconds("dial's timeout", timeout)
        case SetVariable(name=name):
            _text("set_variable's name", name)
        case Hangup(cause=cause):
            if not 1 <= cause <= _MAX_CAUSE:
                raise DecisionInvalid(f"hangup's cause must be a Q.850 cause 1-127, not {cause}")
        case GoTo(context=context, extension=extension, priority=priority):
            _text("go_to's context", context)
            _text("go_to's extension", extension)
            if priority < 1:
                raise DecisionInvalid("go_to's priority must be 1 or more")
