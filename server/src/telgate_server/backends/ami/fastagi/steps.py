"""A routing decision rendered into AGI commands, all of it checked before the
first command goes out (DecisionInvalid names the step and what is wrong).

Every value reaches Asterisk as one quoted argument (protocol.quote), and
every value that Asterisk would *interpret* (a dial string, a variable name,
a dialplan place, an application's data) is held to a plain form, so a router
can neither add a command nor make the PBX expand `${...}` / call a dialplan
function such as SHELL().
"""

from __future__ import annotations

import calendar
import datetime
import enum
import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from telgate_server.backends.ami.actions import dial_string
from telgate_server.backends.ami.fastagi.protocol import CommandRefused, command
from telgate_server.routing import model as m
from telgate_server.routing.fit import check_clock, check_date

__all__ = [
    "MAX_STEPS",
    "Check",
    "Collect",
    "Forget",
    "Op",
    "Plan",
    "render",
]

MAX_STEPS = 64
# Sound files: no absolute paths and no `..` (Asterisk opens any path it is given).
_SOUND = re.compile(r"^[\w\-.+@:/ ]{1,200}$")
_DIGITS = re.compile(r"^[0-9]{1,64}$")
_EXTENSION = re.compile(r"^[A-Za-z0-9_\-+*#.]{1,80}$")
_CONTEXT = re.compile(r"^[A-Za-z0-9_\-+.]{1,79}$")
# A plain variable name: no `(`, so no dialplan function (SHELL(), SYSTEM(), ...).
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,79}$")
# A dial string after dial_string(): TECH/resource with no `,` `&` `$` `(`
# quotes or spaces (Dial's separators, expressions and our quoting).
_DIAL = re.compile(r"^[A-Za-z0-9_\-]{1,20}/[A-Za-z0-9_\-+*#.@:/=~]{1,200}$")
_MOH_CLASS = re.compile(r"^[A-Za-z0-9_\-]{0,80}$")
MAX_VALUE_CHARS = 4000
MAX_WAIT_SECONDS = 3600.0
# Written for the dialplan that runs after the session (a Dial there can use
# L(${TELGATE_CALL_LIMIT}000)); Dials in the decision get L() themselves.
CALL_LIMIT_VARIABLE = "TELGATE_CALL_LIMIT"


class Check(enum.Enum):
    """How an answer is judged (besides 511 = hung up, 510/520 = refused)."""

    # Playback-like: result -1 is a failure, or the hang-up that caused it.
    MEDIA = "media"
    # EXEC: -2 is an unknown application; -1 ends the application (Dial after
    # a bridged call, Hangup) and may mean the channel has gone.
    EXEC = "exec"
    # Any 200 answer is fine.
    PLAIN = "plain"
    # The hang-up we asked for: any 200 is fine, and so is the HANGUP after it.
    HANGUP = "hangup"


@dataclass(frozen=True, slots=True)
class Op:
    """One AGI command of a step."""

    line: str
    step: str
    check: Check = Check.MEDIA


@dataclass(frozen=True, slots=True)
class Collect:
    """GetData: the prompts (all but the last with STREAM FILE, interruptible
    by a digit), then GET DATA with the last one."""

    prompts: tuple[str, ...]
    timeout_ms: int
    max_digits: int
    step: str


@dataclass(frozen=True, slots=True)
class Forget:
    """ClearUserData: the digits collected so far are dropped."""

    step: str


Item = Op | Collect | Forget


@dataclass(frozen=True, slots=True)
class Plan:
    """The rendered decision."""

    items: tuple[Item, ...]
    # "hangup" or "go_to" when the decision ends the call's AGI; "" otherwise.
    ends: str = ""
    # The call limit (seconds, 0 none) after the decision, for later Dials.
    call_limit: int = 0

    @property
    def collects(self) -> bool:
        return any(isinstance(item, Collect) for item in self.items)


def _sound(value: str, what: str) -> str:
    if not _SOUND.match(value) or value.startswith("/") or ".." in value.split("/"):
        raise m.DecisionInvalid(
            f"{what}: {value[:40]!r} is not a sound file name (1-200 letters, digits, "
            "_-.+@:/ and spaces; no absolute path, no `..`)"
        )
    return value


def _seconds(value: float, what: str, *, low: float = 0.0, high: float = MAX_WAIT_SECONDS) -> float:
    if not math.isfinite(value) or not low <= value <= high:
        raise m.DecisionInvalid(f"{what}: {value!r} s is outside {low:g}-{high:g} s")
    return value


def _cmd(verb: str, *arguments: str, step: str) -> str:
    try:
        return command(verb, *arguments)
    except CommandRefused as exc:
        raise m.DecisionInvalid(f"{step}: {exc}") from None


def _checked(check: Callable[[], None], name: str) -> None:
    """Runs ``check``; its DecisionInvalid names the step."""
    try:
        check()
    except m.DecisionInvalid as exc:
        raise m.DecisionInvalid(f"{name}: {exc}") from None


def _say_duration(seconds: int, step: str) -> list[Item]:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(hours, "hour"), (minutes, "minute"), (secs, "second")]
    said = [(n, unit) for n, unit in parts if n] or [(0, "second")]
    out: list[Item] = []
    for n, unit in said:
        out.append(Op(_cmd("SAY NUMBER", str(n), "", step=step), step))
        out.append(Op(_cmd("STREAM FILE", unit if n == 1 else f"{unit}s", "", step=step), step))
    return out


def render(decision: m.Decision, *, technology: str, call_limit: int = 0) -> Plan:
    """The AGI commands that carry out ``decision``; DecisionInvalid when any
    step cannot be (nothing is sent then). ``technology`` is the backend's
    ``endpoint_technology`` (a bare extension dials on it); ``call_limit`` is
    the limit set by an earlier decision of the same session."""
    if isinstance(decision, m.Fail):
        return Plan((), call_limit=call_limit)
    if not isinstance(decision, m.RunSteps):
        raise m.DecisionInvalid(
            f"an AGI route is answered with steps (RunSteps) or Fail, not {type(decision).__name__}"
        )
    if len(decision.steps) > MAX_STEPS:
        raise m.DecisionInvalid(f"{len(decision.steps)} steps; at most {MAX_STEPS}")
    items: list[Item] = []
    ends = ""
    for index, step in enumerate(decision.steps, 1):
        name = f"step {index} ({_step_name(step)})"
        if ends:
            raise m.DecisionInvalid(f"{name} comes after a {ends} step, which ends the session")
        match step:
            case m.PlayAnnouncement(name=file) | m.PlaySound(file=file):
                items.append(Op(_cmd("STREAM FILE", _sound(file, name), "", step=name), name))
            case m.SayNumber(number=number):
                if not -(2**31) < number < 2**31:
                    raise m.DecisionInvalid(f"{name}: {number} is beyond what SAY NUMBER reads")
                items.append(Op(_cmd("SAY NUMBER", str(number), "", step=name), name))
            case m.SayDigits(digits=digits):
                if not _DIGITS.match(digits):
                    raise m.DecisionInvalid(f"{name}: {digits[:40]!r} is not 1-64 digits 0-9")
                items.append(Op(_cmd("SAY DIGITS", digits, "", step=name), name))
            case m.SayDuration(seconds=seconds):
                if not 0 <= seconds <= 10**7:
                    raise m.DecisionInvalid(f"{name}: {seconds} s is outside 0-10000000 s")
                items += _say_duration(seconds, name)
            case m.SayClock(hours=h, minutes=mi, seconds=s):
                _checked(functools.partial(check_clock, step), name)
                # A moment on 1970-01-01 read in UTC: only the time is said.
                fmt = "HMS" if s else "HM"
                moment = str(h * 3600 + mi * 60 + s)
                line = _cmd("SAY DATETIME", moment, "", fmt, "UTC", step=name)
                items.append(Op(line, name))
            case m.SayDate(year=y, month=mo, day=d, calendar=cal):
                if cal is not m.Calendar.GREGORIAN:
                    raise m.DecisionInvalid(
                        f"{name}: Asterisk reads gregorian dates only, not {cal.value}"
                    )
                _checked(functools.partial(check_date, step), name)
                moment = str(calendar.timegm(datetime.date(y, mo, d).timetuple()))
                items.append(Op(_cmd("SAY DATETIME", moment, "", "ABdY", "UTC", step=name), name))
            case m.GetData(prompts=prompts, timeout=timeout, max_digits=max_digits):
                for prompt in prompts:
                    _sound(prompt, name)
                    _cmd("STREAM FILE", prompt, "", step=name)
                _seconds(timeout, f"{name} timeout", high=600.0)
                if not 0 <= max_digits <= 128:
                    raise m.DecisionInvalid(f"{name}: max_digits {max_digits} is outside 0-128")
                items.append(Collect(tuple(prompts), round(timeout * 1000), max_digits, name))
            case m.MusicOnHold(music_class=klass, seconds=secs):
                if not _MOH_CLASS.match(klass):
                    raise m.DecisionInvalid(
                        f"{name}: {klass[:40]!r} is not a music class (letters, digits, _-)"
                    )
                _seconds(secs, name, low=0.001)
                data = f"{klass},{math.ceil(secs)}"
                items.append(Op(_cmd("EXEC MusicOnHold", data, step=name), name, Check.EXEC))
            case m.SetExtension(extension=exten):
                if not _EXTENSION.match(exten):
                    raise m.DecisionInvalid(f"{name}: {exten[:40]!r} is not an extension")
                # Priority 1 of that extension once the session ends (SET
                # PRIORITY n lands on n: ast_explicit_goto, fixture 05b).
                items.append(Op(_cmd("SET EXTENSION", exten, step=name), name, Check.PLAIN))
                items.append(Op(_cmd("SET PRIORITY", "1", step=name), name, Check.PLAIN))
            case m.SetCallLimit(seconds=limit):
                if not 0 <= limit <= 86_400:
                    raise m.DecisionInvalid(f"{name}: {limit} s is outside 0-86400 s")
                call_limit = limit
                value = str(limit) if limit else ""
                line = _cmd("SET VARIABLE", CALL_LIMIT_VARIABLE, value, step=name)
                items.append(Op(line, name, Check.PLAIN))
            case m.ClearUserData():
                items.append(Forget(name))
            case m.Dial(endpoint=endpoint, timeout=timeout):
                target = dial_string(endpoint, technology)
                if not _DIAL.match(target):
                    raise m.DecisionInvalid(
                        f"{name}: endpoint {endpoint[:40]!r} is neither an extension nor a dial "
                        "string TECH/resource (no `,` `&` `$` `(` quotes or spaces)"
                    )
                _seconds(timeout, f"{name} timeout")
                data = f"{target},{math.ceil(timeout) if timeout else ''}"
                if call_limit:
                    data += f",L({call_limit * 1000})"
                items.append(Op(_cmd("EXEC Dial", data, step=name), name, Check.EXEC))
            case m.SetVariable(name=var, value=value):
                if not _VARIABLE.match(var) or var.upper().startswith("AGI"):
                    raise m.DecisionInvalid(
                        f"{name}: {var[:40]!r} is not a plain variable name (letters, digits, _; "
                        "no function call such as SHELL(...); AGI* settings are the gateway's)"
                    )
                if len(value) > MAX_VALUE_CHARS:
                    raise m.DecisionInvalid(
                        f"{name}: the value has {len(value)} characters; at most {MAX_VALUE_CHARS}"
                    )
                items.append(Op(_cmd("SET VARIABLE", var, value, step=name), name, Check.PLAIN))
            case m.Hangup(cause=cause):
                if not 0 <= cause <= 127:
                    raise m.DecisionInvalid(f"{name}: cause {cause} is not a Q.850 cause (0-127)")
                if cause in (0, 16):
                    items.append(Op(_cmd("HANGUP", step=name), name, Check.HANGUP))
                else:
                    line = _cmd("EXEC Hangup", str(cause), step=name)
                    items.append(Op(line, name, Check.HANGUP))
                ends = "hangup"
            case m.GoTo(context=context, extension=exten, priority=priority):
                if not _CONTEXT.match(context):
                    raise m.DecisionInvalid(f"{name}: {context[:40]!r} is not a context name")
                if not _EXTENSION.match(exten):
                    raise m.DecisionInvalid(f"{name}: {exten[:40]!r} is not an extension")
                if not 0 <= priority <= 99_999:
                    raise m.DecisionInvalid(f"{name}: priority {priority} is outside 1-99999")
                for verb, value in (
                    ("SET CONTEXT", context),
                    ("SET EXTENSION", exten),
                    ("SET PRIORITY", str(priority or 1)),
                ):
                    items.append(Op(_cmd(verb, value, step=name), name, Check.PLAIN))
                ends = "go_to"
            case _:
                raise m.DecisionInvalid(f"{name}: not a step an AGI session can carry out")
    return Plan(tuple(items), ends, call_limit)


def _step_name(step: m.Step) -> str:
    """`play_sound` for PlaySound (the proto's field names)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(step).__name__).lower()
