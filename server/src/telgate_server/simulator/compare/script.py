"""Scenario scripts and the client that plays one over a raw AMI socket.

A :class:`Script` is data: actions to send, raw bytes, and waits (for an
event, for a quiet spell). The same script runs against the real lab and
the simulator; each side resolves channel references itself, so a script
names channels by what they are, not by their run-dependent names:
``{Local/201@phones;1}`` is the first channel seen named
``Local/201@phones-<8 hex>;1``, ``{Local/201@phones;1#2}`` the second.
Waits are scaled by ``time_scale`` on the simulator side.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field

from ...backends.ami.codec import Message, Parser

_REF = re.compile(r"\{([^{}#]+?)(?:;([12]))?(?:#(\d+))?\}")
_SUFFIX = r"-[0-9a-f]{8}"
# Lab-only account (../shared/asterisk/README.md): not a credential.
LAB_USER, LAB_SECRET = "telgate", "telgate-secret"


@dataclass(frozen=True)
class Send:
    """An action (headers in order; values may hold channel references)."""

    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Raw:
    """Bytes written as they are (protocol edge cases), references resolved."""

    text: str


@dataclass(frozen=True)
class WaitFor:
    """Waits until ``count`` events named ``event`` whose headers match ``match``
    (values may hold references) arrived since the last action was sent."""

    event: str
    match: tuple[tuple[str, str], ...] = ()
    count: int = 1
    timeout: float = 30.0


@dataclass(frozen=True)
class Quiet:
    """Waits until nothing arrived for ``seconds`` (at most ``limit`` seconds)."""

    seconds: float
    limit: float = 60.0


@dataclass(frozen=True)
class Sleep:
    """Waits ``seconds`` whatever arrives."""

    seconds: float


Step = Send | Raw | WaitFor | Quiet | Sleep


@dataclass
class Script:
    """A named scenario: its steps, built with the chaining methods below."""

    name: str
    description: str
    steps: list[Step] = field(default_factory=list)
    _ids: int = 0

    def action(self, name: str, *pairs: tuple[str, str], **headers: str) -> Script:
        """Sends ``Action: name`` with an ActionID ``aNNN``, then ``pairs`` and ``headers``."""
        self._ids += 1
        return self.bare(name, ("ActionID", f"a{self._ids:03d}"), *pairs, **headers)

    def bare(self, name: str, *pairs: tuple[str, str], **headers: str) -> Script:
        """Sends ``Action: name`` then ``pairs`` and ``headers`` (no ActionID of its own)."""
        self.steps.append(Send((("Action", name), *pairs, *headers.items())))
        return self

    def login(self, events: str | None = "on", **headers: str) -> Script:
        """The lab user's plain Login (``events`` None: no Events header)."""
        extra = {"Events": events} if events is not None else {}
        return self.action("Login", Username=LAB_USER, Secret=LAB_SECRET, **extra, **headers)

    def raw(self, text: str) -> Script:
        """Writes ``text`` as it is."""
        self.steps.append(Raw(text))
        return self

    def wait(self, event: str, count: int = 1, timeout: float = 30.0, **match: str) -> Script:
        """Waits for ``count`` ``event`` events matching ``match`` since the last action."""
        self.steps.append(WaitFor(event, tuple(match.items()), count, timeout))
        return self

    def quiet(self, seconds: float = 1.5, limit: float = 60.0) -> Script:
        """Waits for ``seconds`` without a message."""
        self.steps.append(Quiet(seconds, limit))
        return self

    def sleep(self, seconds: float) -> Script:
        """Waits ``seconds``."""
        self.steps.append(Sleep(seconds))
        return self

    def key(self) -> str:
        """A text that changes whenever the steps do (for cached real captures)."""
        return repr((self.name, self.steps))


@dataclass
class Capture:
    """What one side sent back, and what went wrong while playing the script."""

    messages: list[Message] = field(default_factory=list)
    eof: bool = False
    notes: list[str] = field(default_factory=list)


_CHANNEL_KEYS = re.compile(r"(?:^|[A-Za-z])Channel$|^Value$|^Peer$")


class _Player:
    """One side playing a script: reads messages, resolves references, waits."""

    def __init__(self, reader: asyncio.StreamReader, time_scale: float) -> None:
        self.reader = reader
        self.scale = time_scale
        self.cap = Capture()
        self.changed = asyncio.Event()
        self.last_rx = 0.0
        self.mark = 0  # index of the first message after the last action sent
        self.names: list[str] = []  # channel names in order of first appearance

    async def read(self) -> None:
        parser = Parser(expect_banner=True)
        loop = asyncio.get_running_loop()
        while True:
            data = await self.reader.read(65536)
            if not data:
                self.cap.eof = True
                self.changed.set()
                return
            for item in parser.feed(data):
                if isinstance(item, Message):
                    self.cap.messages.append(item)
                    for key, value in item.headers:
                        if _CHANNEL_KEYS.search(key) and value not in self.names:
                            self.names.append(value)
            self.last_rx = loop.time()
            self.changed.set()

    def resolve(self, text: str) -> str:
        """``text`` with each ``{Local/NNN@ctx;N#k}`` replaced by the channel name."""

        def one(m: re.Match[str]) -> str:
            base, half, nth = m.group(1), m.group(2), int(m.group(3) or 1)
            rx = re.compile(re.escape(base) + _SUFFIX + (f";{half}" if half else r"(?=;|$)"))
            seen: list[str] = []
            for name in self.names:
                hit = rx.match(name)
                if hit and hit.group(0) not in seen:
                    seen.append(hit.group(0))
            if len(seen) >= nth:
                return seen[nth - 1]
            self.cap.notes.append(f"no channel for {m.group(0)}")
            return m.group(0)

        return _REF.sub(one, text)

    def matches(self, msg: Message, step: WaitFor) -> bool:
        if not msg.is_event or msg.name != step.event:
            return False
        return all(msg.get(k) == self.resolve(v) for k, v in step.match)

    async def until(self, done: object, limit: float) -> bool:
        """Waits until ``done()`` is true, the socket closes or ``limit`` seconds pass."""
        assert callable(done)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while not done():
            if self.cap.eof or loop.time() >= deadline:
                return bool(done())
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(0.05, deadline - loop.time()))
        return True

    async def wait_for(self, step: WaitFor) -> None:
        def done() -> bool:
            found = sum(1 for m in self.cap.messages[self.mark :] if self.matches(m, step))
            return found >= step.count

        if not await self.until(done, step.timeout * self.scale + 2.0):
            self.cap.notes.append(f"timed out waiting for {step.event} x{step.count}")

    async def quiet(self, step: Quiet) -> None:
        loop = asyncio.get_running_loop()
        gap = step.seconds * self.scale
        self.last_rx = max(self.last_rx, loop.time())
        await self.until(lambda: loop.time() - self.last_rx >= gap, step.limit * self.scale + gap)


def encode_action(headers: tuple[tuple[str, str], ...]) -> str:
    """An action's wire text (no header checks: scripts send malformed ones on purpose)."""
    return "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"


async def play(
    script: Script, host: str, port: int, *, time_scale: float = 1.0, connect_timeout: float = 10
) -> Capture:
    """Plays ``script`` against the AMI server at ``host:port``; returns what came back."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), connect_timeout)
    player = _Player(reader, time_scale)
    task = asyncio.create_task(player.read())
    try:
        for step in script.steps:
            if player.cap.eof:
                break
            if isinstance(step, Send | Raw):
                if isinstance(step, Send):
                    text = encode_action(tuple((k, player.resolve(v)) for k, v in step.headers))
                else:
                    text = player.resolve(step.text)
                player.mark = len(player.cap.messages)
                writer.write(text.encode("latin-1"))
                await writer.drain()
            elif isinstance(step, WaitFor):
                await player.wait_for(step)
            elif isinstance(step, Quiet):
                await player.quiet(step)
            else:
                await asyncio.sleep(step.seconds * time_scale)
    except ConnectionError as exc:
        player.cap.notes.append(f"connection error: {exc}")
    finally:
        writer.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await task
    return player.cap
