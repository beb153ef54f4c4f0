"""Typed steps rendered into Simotel's Smart API command language
(``PlayAnnouncement('welcome');GetData('menu', 10, 1);Exit('next')``).

The language has no escape: a quote, ``;``, a parenthesis or a comma inside
an argument would end it and start another command. So every text argument
is checked, never escaped: one holding such a character (or ``&`` in a
GetData prompt, the prompt separator; or ``"`` or a backslash, whose meaning
to Simotel's parser is unknown) is refused with :class:`DecisionInvalid`.
Numbers come from ints. Reference: ../shared/reference/simotel.md §3.1."""

from __future__ import annotations

import math

from telgate_server.routing.fit import check_clock, check_date
from telgate_server.routing.model import (
    ClearUserData,
    DecisionInvalid,
    Dial,
    GetData,
    GoTo,
    Hangup,
    MusicOnHold,
    PlayAnnouncement,
    PlaySound,
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

# Characters that would end an argument or a command, or whose meaning is unknown.
_FORBIDDEN = frozenset("'\";(),\\")
# The longest text argument rendered.
MAX_TEXT = 200
# The longest whole command string (the steps of one component).
MAX_COMMANDS = 8000
# SayNumber's range (Asterisk reads up to the billions; beyond is no number a caller hears).
MAX_NUMBER = 10**15
# Seconds a GetData may wait, music play, a call be limited to.
MAX_SECONDS = 24 * 3600

_AGI_ONLY: dict[type, str] = {
    Dial: "dial",
    SetVariable: "set_variable",
    Hangup: "hangup",
    GoTo: "go_to",
}


def _short(text: str) -> str:
    return repr(text[:20] + ("…" if len(text) > 20 else ""))


def text(value: str, what: str, *, also: str = "") -> str:
    """``value`` as a quoted argument, or DecisionInvalid saying why it cannot be one."""
    if not isinstance(value, str):
        raise DecisionInvalid(f"{what} must be text")
    if not value:
        raise DecisionInvalid(f"{what} is empty")
    if len(value) > MAX_TEXT:
        raise DecisionInvalid(f"{what} {_short(value)} is longer than {MAX_TEXT} characters")
    bad = next((c for c in value if c in _FORBIDDEN or c in also or not c.isprintable()), None)
    if bad is not None:
        shown = repr(bad) if bad.isprintable() else f"U+{ord(bad):04X}"
        raise DecisionInvalid(
            f"{what} {_short(value)} holds {shown}, which Simotel's Smart API cannot carry "
            "(its command language has no escape)"
        )
    return f"'{value}'"


def _int(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DecisionInvalid(f"{what} must be a whole number")
    if not low <= value <= high:
        raise DecisionInvalid(f"{what} {value} is outside {low}..{high}")
    return value


def _seconds(value: float, what: str) -> int:
    """Whole seconds (a fraction rounds up: a wait is never shortened)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DecisionInvalid(f"{what} must be a number of seconds")
    if value <= 0:
        raise DecisionInvalid(f"{what} must be more than 0 seconds")
    whole = math.ceil(value)
    if whole > MAX_SECONDS:
        raise DecisionInvalid(f"{what} {whole} s is more than {MAX_SECONDS} s")
    return whole


def command(step: Step) -> str:
    """One step as one Smart API command (DecisionInvalid when it has none)."""
    match step:
        case PlayAnnouncement(name=name):
            return f"PlayAnnouncement({text(name, 'play_announcement name')})"
        case PlaySound(file=file):
            return f"Playback({text(file, 'play_sound file')})"
        case SayNumber(number=number):
            return f"SayNumber({_int(number, 'say_number', -MAX_NUMBER, MAX_NUMBER)})"
        case SayDigits(digits=digits):
            if (
                not isinstance(digits, str)
                or not 0 < len(digits) <= 32
                or not all(c in "0123456789" for c in digits)
            ):
                raise DecisionInvalid(
                    f"say_digits {_short(str(digits))} must be 1 to 32 digits 0-9"
                )
            return f"SayDigit({digits})"
        case SayDuration(seconds=seconds):
            total = _int(seconds, "say_duration", 0, 10**9)
            days, rest = divmod(total, 86400)
            hours, rest = divmod(rest, 3600)
            minutes, secs = divmod(rest, 60)
            return f"SayDuration('{days}.{hours:02d}:{minutes:02d}:{secs:02d}')"
        case SayClock(hours=h, minutes=m, seconds=s):
            check_clock(step)
            return f"SayClock('{h:02d}:{m:02d}:{s:02d}')"
        case SayDate(year=y, month=mo, day=d, calendar=cal):
            check_date(step)
            return f"SayDate('{y:04d}-{mo:02d}-{d:02d}','{cal.value}')"
        case GetData(prompts=prompts, timeout=timeout, max_digits=max_digits):
            if not prompts:
                raise DecisionInvalid("get_data needs at least one prompt")
            files = "&".join(text(p, "get_data prompt", also="&")[1:-1] for p in prompts)
            wait = _seconds(timeout, "get_data timeout")
            count = _int(max_digits, "get_data max_digits", 1, 64)
            return f"GetData('{files}', {wait}, {count})"
        case MusicOnHold(music_class=music_class, seconds=seconds):
            moh = text(music_class, "music_on_hold class")
            return f"MusicOnHold({moh}, {_seconds(seconds, 'music_on_hold duration')})"
        case SetExtension(extension=extension):
            return f"SetExten({text(extension, 'set_extension extension')})"
        case SetCallLimit(seconds=seconds):
            return f"SetLimitOnCall({_int(seconds, 'set_call_limit', 1, MAX_SECONDS)})"
        case ClearUserData():
            return "ClearUserData()"
    agi = _AGI_ONLY.get(type(step))
    if agi is not None:
        raise DecisionInvalid(
            f"{agi} is an Asterisk (AGI) step: Simotel's Smart API has no such command"
        )
    raise DecisionInvalid(f"{type(step).__name__} is not a routing step")


def commands(steps: tuple[Step, ...], exit_case: str) -> str:
    """The steps and the exit as Simotel's ``commands`` string (``Exit`` last)."""
    parts = [command(step) for step in steps]
    parts.append(f"Exit({text(exit_case, 'the exit case')})")
    joined = ";".join(parts)
    if len(joined) > MAX_COMMANDS:
        raise DecisionInvalid(
            f"the commands are {len(joined)} characters, more than {MAX_COMMANDS}"
        )
    return joined
