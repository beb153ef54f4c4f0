"""The FastAGI commands that play sounds and read the caller's digits (STREAM FILE,
CONTROL STREAM FILE, GET OPTION, GET DATA, WAIT FOR DIGIT, SAY *), as res_agi.c in
Asterisk 22 answers them (reference/agi.md section 6, fixtures/agi 02 and 03)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from .agi_answers import USAGE, Answer, Handler, Result, ok, parse_int

if TYPE_CHECKING:
    from .agi import AgiSession

log = logging.getLogger(__name__)


# ----------------------------------------------------------------- playback


async def stream_file(s: AgiSession, argv: list[str]) -> Answer:
    if not 4 <= len(argv) <= 5:
        return USAGE
    offset = 0
    if len(argv) == 5:
        parsed = parse_int(argv[4])
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


async def control_stream_file(s: AgiSession, argv: list[str]) -> Answer:
    if not 5 <= len(argv) <= 10:
        return USAGE
    skip_ms = 3000
    if len(argv) > 5 and argv[5]:
        parsed = parse_int(argv[5])
        if parsed is None:
            return USAGE
        skip_ms = parsed
    ff = argv[6] if len(argv) > 6 and argv[6] else "#"
    rew = argv[7] if len(argv) > 7 and argv[7] else "*"
    pause = argv[8] if len(argv) > 8 else ""
    offset_ms = 0
    if len(argv) > 9:
        parsed = parse_int(argv[9])
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
        return ok(f"result={ord(stopped)} endpos={int(pos_ms)}")
    engine.varset(ch, "CPLAYBACKSTATUS", "SUCCESS")
    engine.varset(ch, "CPLAYBACKOFFSET", "-1")
    return ok("result=0 endpos=-1")


async def get_option(s: AgiSession, argv: list[str]) -> Answer:
    if not 4 <= len(argv) <= 5:
        return USAGE
    timeout_ms = 5000
    if len(argv) == 5:
        timeout_ms = parse_int(argv[4]) or 0
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
    return ok(f"result={code} endpos={played.pos}")


async def get_data(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) < 3:
        return USAGE
    timeout_ms = parse_int(argv[3]) or 0 if len(argv) >= 4 else 0
    max_digits = 1024
    if len(argv) >= 5:
        max_digits = min(parse_int(argv[4]) or 1024, 1024)
    # ast_app_getdata(): no timeout given -> the PBX's response (10 s) and digit (5 s)
    # timeouts.
    first = timeout_ms / 1000 if timeout_ms > 0 else 10.0
    between = timeout_ms / 1000 if timeout_ms > 0 else 5.0
    length = s.sound(argv[2])
    if length is None:
        log.warning("File %s does not exist in any format", argv[2])
        return ok("result=-1")
    played = await s.play(length, 0, "0123456789*#ABCD", keep_w=True)
    digits = ""
    digit = played.digit
    while not s.dead:
        if digit is None:
            digit = await s.next_digit(first if not digits else between)
            if digit is None:
                if s.dead:
                    break
                return ok(f"result={digits} (timeout)")
        if digit == "#":
            return ok(f"result={digits}")
        digits += digit
        if len(digits) >= max_digits:
            return ok(f"result={digits}")
        digit = None
    return ("200 result=-1", Result.FAILURE)


async def wait_for_digit(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 4:
        return USAGE
    timeout_ms = parse_int(argv[3])
    if timeout_ms is None:
        return USAGE
    digit = await s.next_digit(None if timeout_ms < 0 else timeout_ms / 1000)
    if s.dead:
        return ("200 result=-1", Result.FAILURE)
    return ok(f"result={ord(digit) if digit else 0}")


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
            return ok(f"result={ord(played.digit)}")
    return ok("result=0")


def _digit_files(text: str) -> list[str]:
    names = {"*": "star", "#": "pound", "-": "minus"}
    return [f"digits/{names.get(c, c)}" for c in text if c.isdigit() or c in names]


async def say_number(s: AgiSession, argv: list[str]) -> Answer:
    if not 4 <= len(argv) <= 5:
        return USAGE
    number = parse_int(argv[2])
    if number is None:
        return USAGE
    return await _say_files(s, _digit_files(str(number)), argv[3], strict=True)


async def say_digits(s: AgiSession, argv: list[str]) -> Answer:
    if len(argv) != 4 or parse_int(argv[2]) is None:
        return USAGE
    return await _say_files(s, _digit_files(argv[2]), argv[3], strict=False)


async def say_alpha(s: AgiSession, argv: list[str]) -> Answer:
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


def say_when(parts: str, max_args: int) -> Handler:
    async def handler(s: AgiSession, argv: list[str]) -> Answer:
        if not 4 <= len(argv) <= max_args:
            return USAGE
        epoch = parse_int(argv[2])
        if epoch is None:
            return USAGE
        return await _say_files(s, _when_files(epoch, parts), argv[3], strict=True)

    return handler


__all__ = [
    "control_stream_file",
    "get_data",
    "get_option",
    "say_alpha",
    "say_digits",
    "say_number",
    "say_when",
    "stream_file",
    "wait_for_digit",
]
