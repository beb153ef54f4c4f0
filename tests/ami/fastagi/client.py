"""A scripted FastAGI client over a real TCP socket: it speaks as Asterisk
does (reference/agi.md): the environment block first (by default the one a
real Asterisk sent in fixture 01), then one answer per command line, as the
test's ``answer`` function says, and `HANGUP` lines when told to."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tests.shared import SHARED

AGI_FIXTURES = SHARED / "fixtures" / "agi"


def fixture_env(name: str = "01-env-close", script: str | None = None) -> bytes:
    """The environment block a real Asterisk sent in fixture ``name`` (its
    `agi_network_script` replaced by ``script`` when given)."""
    raw = (AGI_FIXTURES / f"{name}.recv").read_bytes()
    block = raw[: raw.index(b"\n\n") + 2]
    if script is None:
        return block
    lines = [
        f"agi_network_script: {script}".encode()
        if line.startswith(b"agi_network_script:")
        else line
        for line in block.split(b"\n")
    ]
    return b"\n".join(lines)


# A function of the command line: the answer lines to send (each without its
# LF; "HANGUP" for the unsolicited notice), or None to close the socket.
Answerer = Callable[[str], list[str] | None]


def usual_answer(line: str) -> list[str]:
    """What Asterisk answers for a live channel with every sound present."""
    if line.startswith("STREAM FILE"):
        return ["200 result=0 endpos=5128"]
    if line.startswith("GET DATA"):
        return ["200 result= (timeout)"]
    if line == "CHANNEL STATUS":
        return ["200 result=6"]
    if line.startswith("SET VARIABLE"):
        return ["200 result=1"]
    if line == "HANGUP":
        return ["200 result=1", "HANGUP"]
    return ["200 result=0"]


class AgiClient:
    """One FastAGI call into the server under test."""

    def __init__(self, port: int, answer: Answerer = usual_answer) -> None:
        self.port = port
        self.answer = answer
        self.commands: list[str] = []
        # True once the server closed its side (EOF).
        self.closed_by_server = False
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self.port)

    def send(self, data: bytes) -> None:
        assert self._writer is not None
        self._writer.write(data)

    async def call(self, env: bytes | None = None, within: float = 10.0) -> list[str]:
        """Sends the environment and answers commands until the server closes
        (the commands it received, in order)."""
        if self._reader is None:
            await self.connect()
        self.send(fixture_env() if env is None else env)
        await self.serve(within)
        return self.commands

    async def serve(self, within: float = 10.0) -> None:
        """Answers commands until the server closes (or ``answer`` returns None)."""
        assert self._reader is not None and self._writer is not None
        async with asyncio.timeout(within):
            while True:
                line = await self._reader.readline()
                if not line:
                    self.closed_by_server = True
                    # Asterisk's goodbye after our close, then its own close.
                    self._writer.write(b"HANGUP\n")
                    self._writer.close()
                    return
                assert line.endswith(b"\n") and not line.endswith(b"\r\n"), line
                text = line[:-1].decode()
                self.commands.append(text)
                lines = self.answer(text)
                if lines is None:
                    self._writer.close()
                    return
                self.send(b"".join(f"{x}\n".encode() for x in lines))

    async def wait_closed(self, within: float = 10.0) -> bytes:
        """Reads until the server closes; the bytes it sent meanwhile (a reset,
        from a server that closed with our bytes unread, is a close too)."""
        assert self._reader is not None
        async with asyncio.timeout(within):
            try:
                data = await self._reader.read()
            except ConnectionResetError:
                data = b""
        self.closed_by_server = True
        return data

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
