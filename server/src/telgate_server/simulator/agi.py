"""The simulator's FastAGI client: ``AGI(agi://...)`` as Asterisk 22's res_agi.c runs it.

Asterisk is the TCP client (reference/agi.md). A session connects (2 s
timeout; on failure AGISTATUS=FAILURE), writes the environment block one line
per write, then reads one command line at a time and answers it, with an
``AGIExecStart``/``AGIExecEnd`` AMI pair around each command. Lines are read
the way Asterisk's stdio buffer reads them: after a command, the next one is
taken only when more bytes arrive on the socket (a pipelined second command
waits; reference/agi.md section 3). When the channel hangs up, ``HANGUP`` is
written (after the running command's answer) and the session goes on in
"dead" mode; when the server closes, ``HANGUP`` is written again and the
socket closed. ``AGISIGHUP=no`` silences both, ``AGIEXITONHANGUP=yes`` ends the
session on the hang-up.

Digits the simulated caller presses: DTMF the channel receives (AMI
``PlayDTMF`` on its Local partner, or with ``Receive`` on the channel), and a
script in the channel variable :data:`DTMF_VARIABLE` (e.g. set with the
Originate's ``Variable:``). The script's digits are pressed as soon as the
channel listens; ``w`` means "press nothing until this listener gives up" (a
digit wait times out, a playback plays to its end).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
from dataclasses import dataclass

from .agi_answers import Result
from .agi_commands import find_command, usage_of
from .agi_dial import ChannelRunner, DialRunner
from .agi_dialplan import AgiRun
from .agi_wire import (
    NOT_PERMITTED,
    UNKNOWN_COMMAND,
    AgiEnv,
    ami_safe,
    env_block,
    parse_args,
    parse_url,
)
from .channels import UP, Channel
from .engine import Engine

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 2.0  # MAX_AGI_CONNECT, ms in res_agi.c; network time, not lab time
DTMF_VARIABLE = "TELGATE_SIM_DTMF"
DTMF_CHARS = frozenset("0123456789*#ABCDw")
SAMPLE_RATE = 8000
MAX_LINE = 8191  # res_agi.c reads commands into a buffer of 8192 bytes


@dataclass
class Played:
    """How a playback ended: the digit that stopped it (None: it ran out or the channel
    hung up) and the position reached, in samples."""

    digit: str | None
    pos: int


class AgiSession(ChannelRunner):
    """One FastAGI session for one ``AGI()`` step."""

    def __init__(self, engine: Engine, run: AgiRun) -> None:
        super().__init__(engine, run)
        self.failed = False  # a command failed (AGISTATUS=FAILURE)
        self.busy = False  # a command is running
        self._hangup_pending = False
        self._writer: asyncio.StreamWriter | None = None
        script = self.ch.variables.get(DTMF_VARIABLE, "")
        self.digits: collections.deque[str] = collections.deque(
            c for c in script if c in DTMF_CHARS
        )
        self._exit_on_hangup = _yes(self.ch.variables.get("AGIEXITONHANGUP", ""))
        self._sighup = not _no(self.ch.variables.get("AGISIGHUP", ""))

    # ------------------------------------------------------------ lifecycle

    async def main(self) -> None:
        """Runs the session; reports AGISTATUS to the dialplan at the end."""
        status = "FAILURE"
        cancelled = False
        self.engine.dtmf_observers.append(self._dtmf)
        self.run.on_hangup = self._channel_hung_up
        try:
            status = await self._session()
        except asyncio.CancelledError:
            cancelled = True  # the simulator stops: the call goes with it
            raise
        except Exception:  # a bug must not leave the call waiting forever
            log.exception("FastAGI session on %s failed", self.ch.name)
        finally:
            with contextlib.suppress(ValueError):
                self.engine.dtmf_observers.remove(self._dtmf)
            self.run.on_hangup = None
            if self._writer is not None and not self._writer.is_closing():
                self._writer.close()
            if self.run.finish is not None and not self.run.status and not cancelled:
                self.run.finish(status)

    async def _session(self) -> str:
        url = parse_url(self.run.url)
        if url is None:
            log.warning("simulator AGI: only agi:// URLs are supported, not %.40r", self.run.url)
            return "NOTFOUND"
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(url.host, url.port), CONNECT_TIMEOUT
            )
        except (OSError, TimeoutError) as exc:
            log.warning(
                "Connecting to '%s:%d' failed for url '%s': %s",
                url.host,
                url.port,
                url.request,
                exc,
            )
            log.warning("Couldn't connect to any host.  FastAGI failed.")
            return "FAILURE"
        self._writer = writer
        for env_line in env_block(url, self._env(), self.run.args):
            writer.write(env_line)
        if self.dead:
            self._channel_hung_up_now()
        buf = b""
        eof = False
        while not (self.dead and self._exit_on_hangup):
            # Asterisk polls the socket, then reads one line through its stdio buffer:
            # a command is taken only when new bytes arrived since the last one.
            data = await self._read(reader)
            eof = not data
            buf += data
            while not _has_line(buf) and not eof:
                data = await self._read(reader)
                eof = not data
                buf += data
            if _has_line(buf):
                line, buf = _take_line(buf)
                await self._command(line)
            if eof:
                # Lines still in the buffer are answered before Asterisk sees the EOF.
                while _has_line(buf) and not (self.dead and self._exit_on_hangup):
                    line, buf = _take_line(buf)
                    await self._command(line)
                break
        if self._sighup:
            self._write("HANGUP")
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()
        if self.dead:
            return "HANGUP"
        return "FAILURE" if self.failed else "SUCCESS"

    async def _read(self, reader: asyncio.StreamReader) -> bytes:
        """The next bytes from the server; b"" at EOF, or when AGIEXITONHANGUP ends it."""
        read = asyncio.ensure_future(reader.read(8192))
        while not read.done():
            if self.dead and self._exit_on_hangup:
                read.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                    await read
                return b""
            self._changed.clear()
            changed = asyncio.ensure_future(self._changed.wait())
            await asyncio.wait({read, changed}, return_when=asyncio.FIRST_COMPLETED)
            changed.cancel()
        try:
            return read.result()
        except ConnectionError:
            return b""

    def _env(self) -> AgiEnv:
        ch = self.ch
        tech = ch.name.split("/", 1)[0]
        return AgiEnv(
            channel=ch.name,
            language=ch.language,
            tech=tech,
            uniqueid=ch.uniqueid,
            version=self.engine.world.asterisk_version,
            callerid=ch.cid_num if ch.cid_num != "<unknown>" else "unknown",
            calleridname=ch.cid_name if ch.cid_name != "<unknown>" else "unknown",
            context=ch.context,
            extension=ch.exten,
            priority=ch.priority,
            accountcode=ch.account,
            threadid=str(random.randrange(10**14, 10**15)),
        )

    # ------------------------------------------------------------- commands

    async def _command(self, line: str) -> None:
        engine = self.engine
        command_id = str(random.randrange(1, 2**31))
        head = [("CommandId", command_id), ("Command", ami_safe(line))]
        engine.emit("AGIExecStart", "agi", [*self.ch.block(), *head])
        words = parse_args(line)
        spec = find_command(words)
        self.busy = True
        try:
            if spec is None:
                answer, result = UNKNOWN_COMMAND, Result.UNKNOWN_COMMAND
            elif self.dead and not spec.dead_ok:
                answer, result = NOT_PERMITTED, Result.NOT_PERMITTED
            else:
                answer, result = await spec.handler(self, words)
                if result is Result.USAGE:
                    answer = usage_of(spec)
        finally:
            self.busy = False
        if result is Result.FAILURE:
            self.failed = True
        self._write(answer)
        code, text = result.value
        engine.emit(
            "AGIExecEnd",
            "agi",
            [*self.ch.block(), *head, ("ResultCode", code), ("Result", text)],
        )
        if self._hangup_pending:
            self._hangup_pending = False
            self._channel_hung_up_now()

    def _write(self, text: str) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(f"{text}\n".encode("latin-1", "replace"))

    # -------------------------------------------------------------- hang-up

    def _channel_hung_up(self) -> None:
        """The dialplan says the channel hung up."""
        if self.dead:
            return
        self.dead = True
        self._changed.set()
        if self.busy:
            self._hangup_pending = True  # written after the command's answer
        else:
            self._channel_hung_up_now()

    def _channel_hung_up_now(self) -> None:
        if self._writer is None:
            return
        if self._sighup:
            self._write("HANGUP")

    # --------------------------------------------------------------- digits

    def answer(self) -> None:
        """Answers the channel (the dialplan knows what else answering it starts)."""
        if self.run.answer is not None:
            self.run.answer()
        elif self.ch.state != UP:
            self.engine.newstate(self.ch, UP)

    def _dtmf(self, ch: Channel, digit: str) -> None:
        if ch is self.ch:
            self.digits.append(digit)
            self._changed.set()

    async def sleep(self, seconds: float | None) -> bool:
        """Sleeps ``seconds`` lab seconds (None: until the hang-up); False if the channel
        hung up meanwhile."""
        deadline = None if seconds is None else self.lab_now() + seconds
        while not self.dead:
            if not await self.wait_change(deadline) and deadline is not None:
                return True
        return False

    async def next_digit(self, timeout: float | None) -> str | None:
        """The next digit pressed within ``timeout`` lab seconds (None = no limit); None on
        a timeout or a hang-up."""
        deadline = None if timeout is None else self.lab_now() + timeout
        while not self.dead:
            if self.digits:
                digit = self.digits.popleft()
                if digit != "w":
                    return digit
                await self.sleep(None if deadline is None else deadline - self.lab_now())
                return None
            if not await self.wait_change(deadline):
                return None
        return None

    async def play(self, length: int, offset: int, escapes: str, *, keep_w: bool = False) -> Played:
        """Plays ``length`` samples from ``offset``; a digit in ``escapes`` stops it, other
        digits are ignored. ``keep_w``: a ``w`` at the head of the script is left for the
        digit wait that follows (GET DATA's prompt)."""
        start = self.lab_now()
        offset = min(max(offset, 0), length)

        def pos() -> int:
            return min(length, offset + int((self.lab_now() - start) * SAMPLE_RATE))

        end = start + (length - offset) / SAMPLE_RATE
        held = len(self.digits)
        while not self.dead:
            if escapes and self.digits and not (keep_w and self.digits[0] == "w"):
                digit = self.digits.popleft()
                if digit == "w":
                    await self.sleep(end - self.lab_now())
                    return Played(None, pos() if self.dead else length)
                if digit in escapes:
                    return Played(digit, pos())
                continue
            if not await self.wait_change(end):
                return Played(None, length)
            while not escapes and len(self.digits) > held:
                self.digits.pop()  # digits pressed during a plain playback are dropped
        return Played(None, pos())

    def sound(self, name: str) -> int | None:
        """The length in samples of a sound file (``en/`` is the language), or None."""
        sounds = self.engine.world.sounds
        if name in sounds:
            return sounds[name]
        lang = f"{self.ch.language}/"
        if name.startswith(lang):
            return sounds.get(name[len(lang) :])
        return None


def _has_line(buf: bytes) -> bool:
    """Whether ``buf`` holds a whole command (or fills Asterisk's line buffer)."""
    return b"\n" in buf[:MAX_LINE] or len(buf) >= MAX_LINE


def _take_line(buf: bytes) -> tuple[str, bytes]:
    """The first command in ``buf`` (a longer line is cut at the buffer size, and the
    rest is read as the next command, as fgets() does) and what is left."""
    end = buf.find(b"\n", 0, MAX_LINE)
    if end < 0:
        return buf[:MAX_LINE].decode("latin-1"), buf[MAX_LINE:]
    return buf[:end].decode("latin-1"), buf[end + 1 :]


def _yes(text: str) -> bool:
    return text.strip().lower() in {"yes", "true", "y", "t", "1", "on"}


def _no(text: str) -> bool:
    return text.strip().lower() in {"no", "false", "n", "f", "0", "off"}


def install(engine: Engine, tasks: set[asyncio.Task[None]]) -> None:
    """Lets ``engine`` run FastAGI sessions as asyncio tasks kept in ``tasks`` (the
    simulator cancels them when it stops)."""

    def launch(run: AgiRun) -> None:
        runner = DialRunner(engine, run) if run.kind == "dial" else AgiSession(engine, run)
        task = asyncio.ensure_future(runner.main())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    engine.agi_launcher = launch


__all__ = ["DTMF_VARIABLE", "AgiSession", "Played", "install"]
