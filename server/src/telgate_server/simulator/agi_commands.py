"""The FastAGI commands the simulator answers, as res_agi.c in Asterisk 22 answers them
(reference/agi.md section 6 and the fixtures/agi transcripts).

Each handler gets the session and the command's words and returns the answer
line(s) and a :class:`Result` (what AGIExecEnd reports; FAILURE also makes
AGISTATUS=FAILURE). Argument checks follow res_agi.c: a wrong count or a word
that must be a number gives the 520 usage block.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .agi_answers import USAGE, Answer, Command, Result, ok, parse_int
from .agi_dial import dial
from .agi_media import (
    control_stream_file,
    get_data,
    get_option,
    say_alpha,
    say_digits,
    say_number,
    say_when,
    stream_file,
    wait_for_digit,
)
from .agi_wire import ami_safe, escape_c, expand, split_app_args, usage_answer
from .channels import parse_callerid

if TYPE_CHECKING:
    from .agi import AgiSession

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ channel


async def _answer(s: AgiSession, argv: list[str]) -> Answer:
    s.answer()
    return ok("result=0")


async def _hangup(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) == 1:
        s.engine.hangup(s.ch, 16)
        return ok("result=1")
    if len(argv) == 2:
        other = s.engine.find_channel(argv[1])
        if other is None:
            return ok("result=-1")
        s.engine.hangup(other, 16)
        return ok("result=1")
    return USAGE


async def _channel_status(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) == 2:
        return ok(f"result={s.ch.state}")
    if len(argv) == 3:
        other = s.engine.find_channel(argv[2])
        return ok(f"result={other.state if other is not None else -1}")
    return USAGE


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
    return ok("result=1")


async def _get_variable(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 3:
        return USAGE
    value = s.engine.get_var(s.ch, argv[2])
    return ok("result=0" if value is None else f"result=1 ({value})")


async def _get_full_variable(s: AgiSession, argv: list[str]) -> Answer:
    if not 4 <= len(argv) <= 5:
        return USAGE
    ch = s.ch
    if len(argv) == 5:
        other = s.engine.find_channel(argv[4])
        if other is None:
            return ok("result=0")
        ch = other
    return ok(f"result=1 ({expand(argv[3], lambda n: s.engine.get_var(ch, n))})")


async def _set_callerid(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 3:
        return USAGE
    s.engine.snapshot_update(s.ch, caller=parse_callerid(argv[2]))
    return ok("result=1")


async def _set_context(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 3:
        return USAGE
    s.run.context = argv[2]
    return ok("result=0")


async def _set_extension(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 3:
        return USAGE
    s.run.exten = argv[2]
    return ok("result=0")


async def _set_priority(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 3:
        return USAGE
    prio = parse_int(argv[2])
    if prio is None:
        return USAGE  # the lab's [agi-test] has no priority labels
    # ast_explicit_goto(): the PBX loop adds one before it runs the next priority.
    s.run.priority = prio - 1
    return ok("result=0")


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
        prio = parse_int(parts[-1])
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
        engine.hangup(ch, parse_int(data) or 16)
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
        duration = parse_int(args[1]) if len(args) > 1 else None
        return 0 if await s.sleep(duration if duration and duration > 0 else None) else -1
    log.warning("Could not find application (%s)", app[:40])
    return -2


async def _verbose(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) < 2:
        return USAGE
    log.info("%s: %s", s.ch.name, argv[2] if len(argv) > 2 else "")
    return ok("result=1")


async def _noop(s: AgiSession, argv: list[str]) -> Answer:
    return ok("result=0")


async def _set_music(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) not in (3, 4) or argv[2].lower() not in ("on", "off"):
        return USAGE
    return ok("result=0")


# -------------------------------------------------------------- database


def _db_key(family: str, key: str) -> str:
    return f"/{family}/{key}"


async def _db_put(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 5:
        return USAGE
    s.engine.astdb[_db_key(argv[2], argv[3])] = argv[4]
    return ok("result=1")


async def _db_get(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 4:
        return USAGE
    value = s.engine.astdb.get(_db_key(argv[2], argv[3]))
    return ok("result=0" if value is None else f"result=1 ({value})")


async def _db_del(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 4:
        return USAGE
    s.engine.astdb.pop(_db_key(argv[2], argv[3]), None)
    # ast_db_del() does not report a missing key: always 1 (fixture 04).
    return ok("result=1")


async def _db_deltree(s: AgiSession, argv: list[str]) -> Answer:
    if not 3 <= len(argv) <= 4:
        return USAGE
    prefix = f"/{argv[2]}" + (f"/{argv[3]}" if len(argv) == 4 else "")
    gone = [k for k in s.engine.astdb if k == prefix or k.startswith(prefix + "/")]
    for key in gone:
        del s.engine.astdb[key]
    # Asterisk 22 answers 0 when it deleted entries and 1 when none (inverted).
    return ok("result=0" if gone else "result=1")


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
    Command(("STREAM", "FILE"), stream_file, False, _STREAM_USAGE),
    Command(
        ("CONTROL", "STREAM", "FILE"),
        control_stream_file,
        False,
        "Send the given file, allowing playback to be controlled by the given digits, if any.",
    ),
    Command(
        ("GET", "OPTION"),
        get_option,
        False,
        "Behaves similar to STREAM FILE but used with a timeout option.",
    ),
    Command(("GET", "DATA"), get_data, False, _GET_DATA_USAGE),
    Command(
        ("WAIT", "FOR", "DIGIT"),
        wait_for_digit,
        False,
        "Waits up to <replaceable>timeout</replaceable> milliseconds for channel to receive a "
        "DTMF digit.",
    ),
    Command(("SAY", "NUMBER"), say_number, False, _SAY_NUMBER_USAGE),
    Command(
        ("SAY", "DIGITS"),
        say_digits,
        False,
        "Say a given digit string, returning early if any of the given DTMF digits are "
        "received on the channel.",
    ),
    Command(
        ("SAY", "ALPHA"),
        say_alpha,
        False,
        "Say a given character string, returning early if any of the given DTMF digits are "
        "received on the channel.",
    ),
    Command(
        ("SAY", "DATE"),
        say_when("d", 4),
        False,
        "Say a given date, returning early if any of the given DTMF digits are received on "
        "the channel.",
    ),
    Command(
        ("SAY", "TIME"),
        say_when("t", 4),
        False,
        "Say a given time, returning early if any of the given DTMF digits are received on "
        "the channel.",
    ),
    Command(
        ("SAY", "DATETIME"),
        say_when("dt", 6),
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


__all__ = ["COMMANDS", "find_command", "usage_of"]
