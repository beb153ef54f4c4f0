"""The FastAGI server protocol, sans-I/O: bytes in, the environment block,
answers and ``HANGUP`` notices out; commands rendered to bytes.

No sockets, no asyncio, no clock (the asyncio edge is ``server.py``). Facts it
relies on (reference/agi.md, transcripts in fixtures/agi/):

- Asterisk is the client and speaks first: ``name: value`` lines, LF only, a
  blank line ends the environment block (§2);
- one command line at a time, LF only, never pipelined (§3): a second
  command before the first's answer is refused here;
- answers are ``200 result=R [(data)] [endpos=N]``, ``510 ...``, ``511 ...``
  or a ``520-`` block that ends with a line starting ``520 `` (§3); the data
  is not escaped, so it runs from the first `` (`` to the *last* ``)``;
- ``HANGUP`` comes unsolicited between answers when the channel hangs up,
  and also after our close (§4): only a ``HANGUP`` while the session runs
  says that the call has gone;
- arguments are quoted as Asterisk's parse_args reads them (§5): wrapped in
  ``"`` with ``\\`` before every ``"`` and ``\\``; a newline cannot be sent.

Use::

    proto = AgiServerProtocol()
    proto.receive_data(sock.recv(4096))           # b"" when Asterisk closed
    for ev in proto.events():                     # Environment | Answer | HangupNotice | Closed
        ...
    sock.send(proto.send_command(command("STREAM FILE", "hello", "")))
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

__all__ = [
    "MAX_ANSWER_LINES",
    "MAX_COMMAND_BYTES",
    "MAX_ENV_BYTES",
    "MAX_ENV_LINES",
    "MAX_LINE_BYTES",
    "AgiProtocolError",
    "AgiServerProtocol",
    "Answer",
    "Closed",
    "CommandRefused",
    "Environment",
    "HangupNotice",
    "command",
    "parse_answer",
    "parse_environment",
    "quote",
]

# Bounds on what a client may make us hold. A real environment block is about
# 600 bytes in 23 lines plus one per AGI() argument (fixtures 01-08).
MAX_ENV_BYTES = 16_384
MAX_ENV_LINES = 256
# One answer line: GET VARIABLE data can be long, but Asterisk's own buffers
# are a few KiB. A 520 usage block is a dozen lines.
MAX_LINE_BYTES = 65_536
MAX_ANSWER_LINES = 512
# Asterisk reads a command into an 8192-byte buffer and splits it into at most
# 128 words (res_agi.c, AGI_BUF_LEN / MAX_ARGS).
MAX_COMMAND_BYTES = 8192
MAX_COMMAND_WORDS = 128

_RESULT = re.compile(r"^200 result=(\S*)")
_ENDPOS = re.compile(r"\bendpos=(-?\d+)\s*$")


class AgiProtocolError(ValueError):
    """The client broke the protocol (or a bound); the message says how."""


class CommandRefused(ValueError):
    """A command that must not be written (nothing was): the text says why."""


@dataclass(frozen=True, slots=True)
class Environment:
    """The environment block: ``agi_*`` names to values, in the order sent."""

    values: Mapping[str, str]

    def get(self, name: str, default: str = "") -> str:
        """The value of ``agi_<name>`` (``name`` without the prefix)."""
        return self.values.get(f"agi_{name}", default)

    @property
    def arguments(self) -> tuple[str, ...]:
        """``agi_arg_1`` ... ``agi_arg_N`` in order (stops at the first gap)."""
        out: list[str] = []
        while (value := self.values.get(f"agi_arg_{len(out) + 1}")) is not None:
            out.append(value)
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Answer:
    """Asterisk's answer to one command."""

    code: int
    # `200 result=<result>`: an integer, or digits for GET DATA (possibly
    # empty); "" for 510/511/520.
    result: str = ""
    # The text in parentheses (None when there was none): `(timeout)`,
    # a variable's value, `()` gives "".
    data: str | None = None
    endpos: int | None = None
    # Every line as received (a 520 block has several).
    lines: tuple[str, ...] = ()

    @property
    def value(self) -> int | None:
        """``result`` as an integer, or None when it is not one (GET DATA digits such as `1*2`)."""
        try:
            return int(self.result)
        except ValueError:
            return None

    @property
    def ok(self) -> bool:
        return self.code == 200

    @property
    def dead_channel(self) -> bool:
        """511: the command needs a live channel and this one has hung up."""
        return self.code == 511

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True, slots=True)
class HangupNotice:
    """An unsolicited ``HANGUP`` line while the session ran: the channel has hung up."""


@dataclass(frozen=True, slots=True)
class Closed:
    """Asterisk closed its side of the socket."""


Event = Environment | Answer | HangupNotice | Closed


def parse_environment(block: bytes) -> Environment:
    """The environment from the block's bytes (without or with its blank line)."""
    values: dict[str, str] = {}
    lines = block.decode("utf-8", "replace").split("\n")
    for line in lines:
        if line == "":
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or " " in name:
            raise AgiProtocolError(
                f"environment line {line[:40]!r} is not `name: value` (is this a FastAGI client?)"
            )
        values[name] = value[1:] if value.startswith(" ") else value
    if "agi_network" not in values and "agi_request" not in values:
        raise AgiProtocolError("the environment block has neither agi_network nor agi_request")
    return Environment(values)


def parse_answer(lines: list[str]) -> Answer:
    """One answer from its line(s): one line, or a whole ``520-`` ... ``520 `` block."""
    first = lines[0]
    code_text = first[:3]
    if not code_text.isdigit():
        raise AgiProtocolError(f"answer {first[:40]!r} does not start with a 3-digit code")
    code = int(code_text)
    if code != 200:
        return Answer(code, lines=tuple(lines))
    match = _RESULT.match(first)
    if match is None:
        raise AgiProtocolError(f"answer {first[:40]!r} has no `result=`")
    result = match.group(1)
    rest = first[match.end() :]
    data: str | None = None
    open_at = rest.find(" (")
    close_at = rest.rfind(")")
    if open_at >= 0 and close_at > open_at:
        data = rest[open_at + 2 : close_at]
        rest = rest[:open_at] + rest[close_at + 1 :]
    ends = _ENDPOS.search(rest)
    endpos = int(ends.group(1)) if ends else None
    return Answer(200, result, data, endpos, tuple(lines))


# Characters that can never cross the line-based protocol.
_UNSENDABLE = re.compile(r"[\n\r\x00]")


def quote(value: str) -> str:
    """``value`` as one argument Asterisk's parse_args reads back unchanged."""
    if _UNSENDABLE.search(value):
        raise CommandRefused(
            f"argument {value[:24]!r} holds a newline, carriage return or NUL, which AGI "
            "cannot carry"
        )
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def command(verb: str, *arguments: str) -> str:
    """A command line (without its LF): ``verb`` as is (our own words: `EXEC Dial`), each
    argument quoted (see :func:`quote`)."""
    if not re.fullmatch(r"[A-Za-z]+( [A-Za-z]+)*", verb):
        raise CommandRefused(f"{verb[:24]!r} is not an AGI command word")
    line = " ".join([verb, *(quote(a) for a in arguments)])
    if len(verb.split()) + len(arguments) > MAX_COMMAND_WORDS:
        raise CommandRefused(
            f"{verb} with {len(arguments)} arguments: Asterisk reads at most "
            f"{MAX_COMMAND_WORDS} words"
        )
    if len(line.encode()) + 1 > MAX_COMMAND_BYTES:
        raise CommandRefused(
            f"{verb} would be a {len(line.encode()) + 1}-byte line; Asterisk reads at most "
            f"{MAX_COMMAND_BYTES}"
        )
    return line


class _State(enum.Enum):
    ENVIRONMENT = "environment"
    IDLE = "idle"
    WAITING = "waiting"
    CLOSED = "closed"


@dataclass(slots=True)
class AgiServerProtocol:
    """One FastAGI session, server side (see the module docstring)."""

    _state: _State = _State.ENVIRONMENT
    _buffer: bytearray = field(default_factory=bytearray)
    _out: list[Event] = field(default_factory=list)
    _block: list[str] = field(default_factory=list)
    _env_lines: int = 0
    # True once a HANGUP line arrived while the session ran.
    hung_up: bool = False
    # True once we ended the session (a HANGUP after that means nothing).
    finished: bool = False

    @property
    def waiting(self) -> bool:
        """A command is in flight (its answer has not arrived)."""
        return self._state is _State.WAITING

    @property
    def ready(self) -> bool:
        """The environment arrived and no command is in flight."""
        return self._state is _State.IDLE

    @property
    def closed(self) -> bool:
        return self._state is _State.CLOSED

    def receive_data(self, data: bytes) -> None:
        """Bytes from the socket; ``b""`` when Asterisk closed its side.
        Raises AgiProtocolError on bytes that break the protocol or a bound."""
        if self._state is _State.CLOSED:
            return
        if not data:
            self._state = _State.CLOSED
            self._out.append(Closed())
            return
        self._buffer += data
        if self._state is _State.ENVIRONMENT:
            self._read_environment()
        if self._state in (_State.IDLE, _State.WAITING):
            self._read_lines()

    def _read_environment(self) -> None:
        if self._buffer.startswith(b"\n"):
            raise AgiProtocolError("the environment block is empty")
        end = self._buffer.find(b"\n\n")
        if end < 0:
            if len(self._buffer) > MAX_ENV_BYTES or self._buffer.count(b"\n") > MAX_ENV_LINES:
                raise AgiProtocolError(
                    f"no end of the environment block within {MAX_ENV_BYTES} bytes / "
                    f"{MAX_ENV_LINES} lines"
                )
            return
        block = bytes(self._buffer[: end + 1])
        if len(block) > MAX_ENV_BYTES or block.count(b"\n") > MAX_ENV_LINES:
            raise AgiProtocolError(
                f"the environment block is longer than {MAX_ENV_BYTES} bytes / "
                f"{MAX_ENV_LINES} lines"
            )
        del self._buffer[: end + 2]
        self._out.append(parse_environment(block))
        self._state = _State.IDLE

    def _read_lines(self) -> None:
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > MAX_LINE_BYTES:
                    raise AgiProtocolError(f"an answer line longer than {MAX_LINE_BYTES} bytes")
                return
            line = self._buffer[:end].decode("utf-8", "replace")
            del self._buffer[: end + 1]
            self._line(line)

    def _line(self, line: str) -> None:
        if not self._block and line == "HANGUP":
            if not self.finished:
                self.hung_up = True
                self._out.append(HangupNotice())
            return
        if self._state is not _State.WAITING:
            raise AgiProtocolError(f"line {line[:40]!r} came with no command in flight")
        self._block.append(line)
        if line.startswith("520-"):
            return
        if self._block[0].startswith("520-") and not line.startswith("520 "):
            if len(self._block) > MAX_ANSWER_LINES:
                raise AgiProtocolError(f"a 520 usage block longer than {MAX_ANSWER_LINES} lines")
            return
        lines, self._block = self._block, []
        self._state = _State.IDLE
        self._out.append(parse_answer(lines))

    def send_command(self, line: str) -> bytes:
        """The bytes of one command (from :func:`command`); only when :attr:`ready`."""
        if self._state is not _State.IDLE:
            raise CommandRefused(
                f"a command cannot be sent now (session {self._state.value}): Asterisk "
                "takes one command at a time, after the environment block"
            )
        if _UNSENDABLE.search(line):
            raise CommandRefused("a command line may not hold a newline, CR or NUL")
        self._state = _State.WAITING
        return line.encode() + b"\n"

    def finish(self) -> None:
        """We are ending the session (closing our side): later HANGUP lines are Asterisk's
        goodbye, not a hang-up."""
        self.finished = True

    def events(self) -> Iterator[Event]:
        """What arrived since the last call, in wire order."""
        out, self._out = self._out, []
        yield from out
