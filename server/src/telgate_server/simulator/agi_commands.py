"""The FastAGI commands the simulator answers, as res_agi.c in Asterisk 22 answers them
(reference/agi.md section 6 and the fixtures/agi transcripts).

Each handler gets the session and the command's words and returns the answer
line(s) and a :class:`Result` (what AGIExecEnd reports; FAILURE also makes
AGISTATUS=FAILURE). Argument checks follow res_agi.c: a wrong count or a word
that must be a number gives the 520 usage block.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .agi_dial import dial
from .agi_wire import ami_safe, escape_c, expand, split_app_args, usage_answer
from .channels import parse_callerid

if TYPE_CHECKING:
    from .agi import AgiSession

log = logging.getLogger(__name__)


class Result(enum.Enum):
    """AGIExecEnd's ResultCode and Result."""

    SUCCESS = ("200", "Success")
    FAILURE = ("-1", "Failure")
    USAGE = ("520", "Usage")
    OTHER = ("200", "Unknown Result")  # EXEC of an application that returned non-zero
    UNKNOWN_COMMAND = ("510", "Invalid or unknown command")
    NOT_PERMITTED = ("511", "Command Not Permitted on a dead channel or intercept routine")


Answer = tuple[str, Result]
Handler = Callable[["AgiSession", list[str]], Awaitable[Answer]]
USAGE: Answer = ("", Result.USAGE)


@dataclass(frozen=True)
class Command:
    """One AGI command: its words, handler, whether it runs on a dead channel, usage."""

    words: tuple[str, ...]
    handler: Handler
    dead_ok: bool
    usage: str | None


def _int(text: str) -> int | None:
    """sscanf("%d"): the leading integer of ``text``, or None."""
    text = text.strip()
    sign = ""
    if text[:1] in "+-" and text[:1]:
        sign, text = text[0], text[1:]
    digits = ""
    for ch in text:
        if not ch.isdigit():
            break
        digits += ch
    return int(sign + digits) if digits else None


def _ok(text: str) -> Answer:
    return (f"200 {text}", Result.SUCCESS)


# ------------------------------------------------------------------ channel


async def _answer(s: AgiSession, argv: list[str]) -> Answer:
    s.answer()
    return _ok("result=0")


async def _hangup(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) == 1:
        s.engine.hangup(s.ch, 16)
        return _ok("result=1")
    if len(argv) == 2:
        other = s.engine.find_channel(argv[1])
        if other is None:
            return _ok("result=-1")
        s.engine.hangup(other, 16)
        return _ok("result=1")
    return USAGE


async def _channel_status(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) == 2:
        return _ok(f"result={s.ch.state}")
    if len(argv) == 3:
        other = s.engine.find_channel(argv[2])
        return _ok(f"result={other.state if other is not None else -1}")
    return USAGE


# ----------------------------------------------------------------- playback


async def _stream_file(s: AgiSession, argv: list[str]) -> Answer:
    if not 4 <= len(argv) <= 5:
        return USAGE
    offset = 0
    if len(argv) == 5:
        parsed = _int(argv[4])
        if parsed is None:
            return USAGE
        offset = parsed
    length = s.sound(argv[2])
    if length is None:
        log.warning("File %s does not exist in any format", argv[2])
        return (f"200 result=-1 endpos={offset}", Result.FAILURE)
    played = await s.play(length, offset, argv[3])
    code = -1 if s.dead else ord(played.digit) if played.digit else 0
    # res_agi.c sets PLAYBACKSTATUS after a playback (not for a missing file).
    s.engine.varset(s.ch, "PLAYBACKSTATUS", "FAILED" if code else "SUCCESS")
    result = Result.FAILURE if code < 0 else Result.SUCCESS
    return (f"200 result={code} endpos={played.pos}", result)


async def _control_stream_file(s: AgiSession, argv: list[str]) -> Answer:
    if not 5 <= len(argv) <= 10:
        return USAGE
    skip_ms = 3000
    if len(argv) > 5 and argv[5]:
        parsed = _int(argv[5])
        if parsed is None:
            return USAGE
        skip_ms = parsed
    ff = argv[6] if len(argv) > 6 and argv[6] else "#"
    rew = argv[7] if len(argv) > 7 and argv[7] else "*"
    pause = argv[8] if len(argv) > 8 else ""
    offset_ms = 0
    if len(argv) > 9:
        parsed = _int(argv[9])
        if parsed is None:
            return USAGE
        offset_ms = parsed
    stop = argv[4]
    engine, ch = s.engine, s.ch
    length = s.sound(argv[3])
    if length is None:
        log.warning("File %s does not exist in any format", argv[3])
        engine.varset(ch, "CPLAYBACKSTATUS", "ERROR")
        engine.varset(ch, "CPLAYBACKOFFSET", str(offset_ms))
        return (f"200 result=-1 endpos={offset_ms}", Result.FAILURE)
    controls = stop + ff + rew + pause
    pos_ms = float(offset_ms)
    length_ms = length * 1000 / 8000
    stopped: str | None = None
    while not s.dead and pos_ms < length_ms:
        played = await s.play(length, int(pos_ms * 8), controls)
        pos_ms = played.pos / 8
        digit = played.digit
        if digit is None:
            break
        if digit in stop:
            stopped = digit
            break
        if digit in ff:
            pos_ms = min(length_ms, pos_ms + skip_ms)
        elif digit in rew:
            pos_ms = max(0.0, pos_ms - skip_ms)
        elif digit in pause:
            # Paused until the pause key again (or a stop key).
            while not s.dead:
                again = await s.next_digit(None)
                if again is None or again in pause:
                    break
                if again in stop:
                    stopped = again
                    break
            if stopped:
                break
    if s.dead:
        engine.varset(ch, "CPLAYBACKSTATUS", "ERROR")
        engine.varset(ch, "CPLAYBACKOFFSET", str(int(pos_ms)))
        return (f"200 result=-1 endpos={int(pos_ms)}", Result.FAILURE)
    if stopped is not None:
        engine.varset(ch, "CPLAYBACKSTATUS", "USERSTOPPED")
        engine.varset(ch, "CPLAYBACKSTOPKEY", stopped)
        engine.varset(ch, "CPLAYBACKOFFSET", str(int(pos_ms)))
        return _ok(f"result={ord(stopped)} endpos={int(pos_ms)}")
    engine.varset(ch, "CPLAYBACKSTATUS", "SUCCESS")
    engine.varset(ch, "CPLAYBACKOFFSET", "-1")
    return _ok("result=0 endpos=-1")


async def _get_option(s: AgiSession, argv: list[str]) -> Answer:
    if not 4 <= len(argv) <= 5:
        return USAGE
    timeout_ms = 5000
    if len(argv) == 5:
        timeout_ms = _int(argv[4]) or 0
    escapes = argv[3]
    length = s.sound(argv[2])
    if length is None:
        log.warning("File %s does not exist in any format", argv[2])
        return ("200 result=-1 endpos=0", Result.FAILURE)
    played = await s.play(length, 0, escapes, keep_w=True)
    if s.dead:
        return (f"200 result=-1 endpos={played.pos}", Result.FAILURE)
    digit = played.digit
    if digit is None and timeout_ms > 0:
        digit = await s.next_digit(timeout_ms / 1000)
        if s.dead:
            return (f"200 result=-1 endpos={played.pos}", Result.FAILURE)
        if digit is not None and digit not in escapes:
            digit = None
    code = ord(digit) if digit else 0
    return _ok(f"result={code} endpos={played.pos}")


async def _get_data(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) < 3:
        return USAGE
    timeout_ms = _int(argv[3]) or 0 if len(argv) >= 4 else 0
    max_digits = 1024
    if len(argv) >= 5:
        max_digits = min(_int(argv[4]) or 1024, 1024)
    # ast_app_getdata(): no timeout given -> the PBX's response (10 s) and digit (5 s)
    # timeouts.
    first = timeout_ms / 1000 if timeout_ms > 0 else 10.0
    between = timeout_ms / 1000 if timeout_ms > 0 else 5.0
    length = s.sound(argv[2])
    if length is None:
        log.warning("File %s does not exist in any format", argv[2])
        return _ok("result=-1")
    played = await s.play(length, 0, "0123456789*#ABCD", keep_w=True)
    digits = ""
    digit = played.digit
    while not s.dead:
        if digit is None:
            digit = await s.next_digit(first if not digits else between)
            if digit is None:
                if s.dead:
                    break
                return _ok(f"result={digits} (timeout)")
        if digit == "#":
            return _ok(f"result={digits}")
        digits += digit
        if len(digits) >= max_digits:
            return _ok(f"result={digits}")
        digit = None
    return ("200 result=-1", Result.FAILURE)


async def _wait_for_digit(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 4:
        return USAGE
    timeout_ms = _int(argv[3])
    if timeout_ms is None:
        return USAGE
    digit = await s.next_digit(None if timeout_ms < 0 else timeout_ms / 1000)
    if s.dead:
        return ("200 result=-1", Result.FAILURE)
    return _ok(f"result={ord(digit) if digit else 0}")


# -------------------------------------------------------------------- say


async def _say_files(s: AgiSession, files: list[str], escapes: str, *, strict: bool) -> Answer:
    """Plays the files a SAY command needs. ``strict``: a missing file fails the command
    (ast_say_number and the date/time sayers); otherwise it is skipped silently (digits,
    alpha)."""
    for n, name in enumerate(files):
        length = s.sound(name)
        if length is None:
            if strict:
                log.warning("File %s does not exist in any format", name)
                return ("200 result=-1", Result.FAILURE)
            continue
        # One listener for the whole command: a scripted "w" lasts to its last file.
        played = await s.play(length, 0, escapes, keep_w=n < len(files) - 1)
        if s.dead:
            return ("200 result=-1", Result.FAILURE)
        if played.digit is not None:
            return _ok(f"result={ord(played.digit)}")
    return _ok("result=0")


def _digit_files(text: str) -> list[str]:
    names = {"*": "star", "#": "pound", "-": "minus"}
    return [f"digits/{names.get(c, c)}" for c in text if c.isdigit() or c in names]


async def _say_number(s: AgiSession, argv: list[str]) -> Answer:
    if not 4 <= len(argv) <= 5:
        return USAGE
    number = _int(argv[2])
    if number is None:
        return USAGE
    return await _say_files(s, _digit_files(str(number)), argv[3], strict=True)


async def _say_digits(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 4 or _int(argv[2]) is None:
        return USAGE
    return await _say_files(s, _digit_files(argv[2]), argv[3], strict=False)


async def _say_alpha(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 4:
        return USAGE
    files = [f"letters/{c.lower()}" if c.isalpha() else f"digits/{c}" for c in argv[2]]
    return await _say_files(s, files, argv[3], strict=False)


def _when_files(epoch: int, parts: str) -> list[str]:
    tm = time.localtime(epoch)
    files: list[str] = []
    if "d" in parts:
        files += [f"digits/day-{tm.tm_wday}", f"digits/mon-{tm.tm_mon - 1}"]
        files += _digit_files(str(tm.tm_mday)) + _digit_files(str(tm.tm_year))
    if "t" in parts:
        files += _digit_files(str(tm.tm_hour % 12 or 12)) + _digit_files(f"{tm.tm_min:02d}")
        files.append("digits/p-m" if tm.tm_hour >= 12 else "digits/a-m")
    return files


def _say_when(parts: str, max_args: int) -> Handler:
    async def handler(s: AgiSession, argv: list[str]) -> Answer:
        if not 4 <= len(argv) <= max_args:
            return USAGE
        epoch = _int(argv[2])
        if epoch is None:
            return USAGE
        return await _say_files(s, _when_files(epoch, parts), argv[3], strict=True)

    return handler


# -------------------------------------------------------------- variables


async def _set_variable(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 4:
        return USAGE
    name, value = argv[2], argv[3]
    if "(" not in name and (escape_c(value) != value or ami_safe(name) != name):
        # The VarSet event shows the value C-escaped (fixture 06); a CR stays in a name
        # (reference/agi.md 3), and the event shows it without.
        s.ch.variables[name] = value
        s.engine.emit(
            "VarSet",
            "dialplan",
            [*s.ch.block(), ("Variable", ami_safe(name)), ("Value", escape_c(value))],
        )
    else:
        s.engine.set_var(s.ch, name, value)
    return _ok("result=1")


async def _get_variable(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 3:
        return USAGE
    value = s.engine.get_var(s.ch, argv[2])
    return _ok("result=0" if value is None else f"result=1 ({value})")


async def _get_full_variable(s: AgiSession, argv: list[str]) -> Answer:
    if not 4 <= len(argv) <= 5:
        return USAGE
    ch = s.ch
    if len(argv) == 5:
        other = s.engine.find_channel(argv[4])
        if other is None:
            return _ok("result=0")
        ch = other
    return _ok(f"result=1 ({expand(argv[3], lambda n: s.engine.get_var(ch, n))})")


async def _set_callerid(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 3:
        return USAGE
    s.engine.snapshot_update(s.ch, caller=parse_callerid(argv[2]))
    return _ok("result=1")


async def _set_context(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 3:
        return USAGE
    s.run.context = argv[2]
    return _ok("result=0")


async def _set_extension(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 3:
        return USAGE
    s.run.exten = argv[2]
    return _ok("result=0")


async def _set_priority(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 3:
        return USAGE
    prio = _int(argv[2])
    if prio is None:
        return USAGE  # the lab's [agi-test] has no priority labels
    # ast_explicit_goto(): the PBX loop adds one before it runs the next priority.
    s.run.priority = prio - 1
    return _ok("result=0")


# ------------------------------------------------------------------- misc


async def _exec(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) < 2:
        return USAGE
    # Only the third word is the application's data (reference/agi.md section 5).
    data = argv[2] if len(argv) > 2 else ""
    res = await _run_app(s, argv[1], data)
    return (f"200 result={res}", Result.SUCCESS if res == 0 else Result.OTHER)


async def _run_app(s: AgiSession, app: str, data: str) -> int:
    """An application run by EXEC; returns what the application returns."""
    engine, ch = s.engine, s.ch
    name = app.lower()
    if name == "noop":
        log.info("NoOp(%s)", data)
        return 0
    if name == "dial":
        return await dial(s, data)
    if name == "answer":
        if not s.dead:
            s.answer()
        return 0
    if name == "set":
        var, _, value = data.partition("=")
        engine.set_var(ch, var, value)
        return 0
    if name == "goto":
        parts = split_app_args(data)
        prio = _int(parts[-1])
        if prio is None or len(parts) > 3:
            log.warning("Goto (%s) rejected: the priority must be a number", data[:40])
            return -1
        if len(parts) == 3:
            s.run.context, s.run.exten = parts[0], parts[1]
        elif len(parts) == 2:
            s.run.exten = parts[0]
        s.run.priority = prio - 1
        return 0
    if name == "hangup":
        engine.hangup(ch, _int(data) or 16)
        return -1
    if name == "wait":
        try:
            seconds = float(data or 0)
        except ValueError:
            seconds = 0.0
        return 0 if await s.sleep(seconds) else -1
    if name == "playback":
        args = split_app_args(data)
        for file in args[0].split("&"):
            length = s.sound(file)
            if length is None:
                log.warning("Playback failed on %s for %s", ch.name, file)
                engine.varset(ch, "PLAYBACKSTATUS", "FAILED")
                return 0
            await s.play(length, 0, "")
            if s.dead:
                return -1
        engine.varset(ch, "PLAYBACKSTATUS", "SUCCESS")
        return 0
    if name == "musiconhold":
        args = split_app_args(data)
        duration = _int(args[1]) if len(args) > 1 else None
        return 0 if await s.sleep(duration if duration and duration > 0 else None) else -1
    log.warning("Could not find application (%s)", app[:40])
    return -2


async def _verbose(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) < 2:
        return USAGE
    log.info("%s: %s", s.ch.name, argv[2] if len(argv) > 2 else "")
    return _ok("result=1")


async def _noop(s: AgiSession, argv: list[str]) -> Answer:
    return _ok("result=0")


async def _set_music(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) not in (3, 4) or argv[2].lower() not in ("on", "off"):
        return USAGE
    return _ok("result=0")


# -------------------------------------------------------------- database


def _db_key(family: str, key: str) -> str:
    return f"/{family}/{key}"


async def _db_put(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 5:
        return USAGE
    s.engine.astdb[_db_key(argv[2], argv[3])] = argv[4]
    return _ok("result=1")


async def _db_get(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 4:
        return USAGE
    value = s.engine.astdb.get(_db_key(argv[2], argv[3]))
    return _ok("result=0" if value is None else f"result=1 ({value})")


async def _db_del(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 4:
        return USAGE
    s.engine.astdb.pop(_db_key(argv[2], argv[3]), None)
    # ast_db_del() does not report a missing key: always 1 (fixture 04).
    return _ok("result=1")


async def _db_deltree(s: AgiSession, argv: list[str]) -> Answer:
    if not 3 <= len(argv) <= 4:
        return USAGE
    prefix = f"/{argv[2]}" + (f"/{argv[3]}" if len(argv) == 4 else "")
    gone = [k for k in s.engine.astdb if k == prefix or k.startswith(prefix + "/")]
    for key in gone:
        del s.engine.astdb[key]
    # Asterisk 22 answers 0 when it deleted entries and 1 when none (inverted).
    return _ok("result=0" if gone else "result=1")


# ------------------------------------------------------------------ table

_STREAM_USAGE = (
    "Send the given file, allowing playback to be interrupted by the given digits, if any. "
    "Returns <literal>0</literal> if playback completes without a digit being pressed, or "
    "the ASCII numerical value of the digit if one was pressed, or <literal>-1</literal> on "
    "error or if the channel was disconnected. If musiconhold is playing before calling "
    "stream file it will be automatically stopped and will not be restarted after "
    "completion.\n"
    "It sets the following channel variables upon completion:\n"
    "<variable>PLAYBACKSTATUS</variable>: The status of the playback attempt as a text "
    "string.\n"
    "    <value>SUCCESS</value>\n"
    "    <value>FAILED</value>"
)
_GET_DATA_USAGE = (
    "Stream the given <replaceable>file</replaceable>, and receive DTMF data.\n"
    "Returns the digits received from the channel at the other end."
)
_SAY_NUMBER_USAGE = (
    "Say a given number, returning early if any of the given DTMF digits are received on "
    "the channel.  Returns <literal>0</literal> if playback completes without a digit being "
    "pressed, or the ASCII numerical value of the digit if one was pressed or "
    "<literal>-1</literal> on error/hangup."
)
_DB_GET_USAGE = (
    "Retrieves an entry in the Asterisk database for a given "
    "<replaceable>family</replaceable> and <replaceable>key</replaceable>.\n"
    "Returns <literal>0</literal> if <replaceable>key</replaceable> is not set. Returns "
    "<literal>1</literal> if <replaceable>key</replaceable> is set and returns the variable "
    "in parenthesis.\n"
    "Example return code: 200 result=1 (testvariable)"
)
_SET_PRIORITY_USAGE = (
    "Changes the priority for continuation upon exiting the application. The priority must "
    "be a valid priority or label."
)

COMMANDS: tuple[Command, ...] = (
    Command(("ANSWER",), _answer, False, "Answers channel if not already in answer state."),
    Command(("HANGUP",), _hangup, False, "Hangs up the specified channel."),
    Command(
        ("CHANNEL", "STATUS"),
        _channel_status,
        False,
        "Returns the status of the specified <replaceable>channelname</replaceable>.",
    ),
    Command(("STREAM", "FILE"), _stream_file, False, _STREAM_USAGE),
    Command(
        ("CONTROL", "STREAM", "FILE"),
        _control_stream_file,
        False,
        "Send the given file, allowing playback to be controlled by the given digits, if any.",
    ),
    Command(
        ("GET", "OPTION"),
        _get_option,
        False,
        "Behaves similar to STREAM FILE but used with a timeout option.",
    ),
    Command(("GET", "DATA"), _get_data, False, _GET_DATA_USAGE),
    Command(
        ("WAIT", "FOR", "DIGIT"),
        _wait_for_digit,
        False,
        "Waits up to <replaceable>timeout</replaceable> milliseconds for channel to receive a "
        "DTMF digit.",
    ),
    Command(("SAY", "NUMBER"), _say_number, False, _SAY_NUMBER_USAGE),
    Command(
        ("SAY", "DIGITS"),
        _say_digits,
        False,
        "Say a given digit string, returning early if any of the given DTMF digits are "
        "received on the channel.",
    ),
    Command(
        ("SAY", "ALPHA"),
        _say_alpha,
        False,
        "Say a given character string, returning early if any of the given DTMF digits are "
        "received on the channel.",
    ),
    Command(
        ("SAY", "DATE"),
        _say_when("d", 4),
        False,
        "Say a given date, returning early if any of the given DTMF digits are received on "
        "the channel.",
    ),
    Command(
        ("SAY", "TIME"),
        _say_when("t", 4),
        False,
        "Say a given time, returning early if any of the given DTMF digits are received on "
        "the channel.",
    ),
    Command(
        ("SAY", "DATETIME"),
        _say_when("dt", 6),
        False,
        "Say a given time, returning early if any of the given DTMF digits are received on "
        "the channel.",
    ),
    Command(("SET", "VARIABLE"), _set_variable, True, "Sets a variable to the current value."),
    Command(
        ("GET", "VARIABLE"),
        _get_variable,
        True,
        "Returns <literal>0</literal> if <replaceable>variablename</replaceable> is not set.",
    ),
    Command(
        ("GET", "FULL", "VARIABLE"),
        _get_full_variable,
        True,
        "Evaluates the given <replaceable>expression</replaceable> against the channel "
        "specified by <replaceable>channelname</replaceable>, or the current channel if "
        "<replaceable>channelname</replaceable> is not provided.",
    ),
    Command(
        ("SET", "CALLERID"), _set_callerid, False, "Changes the callerid of the current channel."
    ),
    Command(
        ("SET", "CONTEXT"),
        _set_context,
        False,
        "Sets the context for continuation upon exiting the application.",
    ),
    Command(
        ("SET", "EXTENSION"),
        _set_extension,
        False,
        "Changes the extension for continuation upon exiting the application.",
    ),
    Command(("SET", "PRIORITY"), _set_priority, False, _SET_PRIORITY_USAGE),
    Command(("SET", "MUSIC"), _set_music, False, "Enables/Disables the music on hold generator."),
    Command(
        ("EXEC",),
        _exec,
        True,
        "Executes <replaceable>application</replaceable> with "
        "given <replaceable>options</replaceable>.",
    ),
    Command(
        ("VERBOSE",),
        _verbose,
        True,
        "Sends <replaceable>message</replaceable> to the console via verbose message system.",
    ),
    Command(("NOOP",), _noop, True, "Does nothing."),
    Command(("DATABASE", "GET"), _db_get, True, _DB_GET_USAGE),
    Command(
        ("DATABASE", "PUT"),
        _db_put,
        True,
        "Adds or updates an entry in the Asterisk "
        "database for a given <replaceable>family</replaceable>, "
        "<replaceable>key</replaceable>, and <replaceable>value</replaceable>.",
    ),
    Command(
        ("DATABASE", "DEL"),
        _db_del,
        True,
        "Deletes an entry in the Asterisk database "
        "for a given <replaceable>family</replaceable> and "
        "<replaceable>key</replaceable>.",
    ),
    Command(
        ("DATABASE", "DELTREE"),
        _db_deltree,
        True,
        "Deletes a <replaceable>family"
        "</replaceable> or specific <replaceable>keytree</replaceable> within a "
        "<replaceable>family</replaceable> in the Asterisk database.",
    ),
)


def find_command(words: list[str]) -> Command | None:
    """The command whose words begin ``words`` (case-insensitive; extra words are the
    arguments), as res_agi.c find_command() matches them."""
    upper = [w.upper() for w in words]
    for command in COMMANDS:
        n = len(command.words)
        if tuple(upper[:n]) == command.words:
            return command
    return None


def usage_of(command: Command) -> str:
    """The 520 answer of ``command``."""
    return usage_answer(command.usage)


__all__ = ["COMMANDS", "Command", "Result", "find_command", "usage_of"]
