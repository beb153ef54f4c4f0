"""Replays a FastAGI transcript's server side (shared/fixtures/agi) against the simulator.

The test side is a raw FastAGI server of its own (not the gateway's): it reads the
environment block, then writes the fixture's ``sent`` chunks in order. Before each
chunk it waits until the simulator has written as many answer lines as the real
Asterisk had written before that chunk (so a pipelined command, which Asterisk
answers only when more bytes arrive, is paced the same way), and ``close`` is a
half-close, as the recorder did. Hooks can act at a chunk (hang a channel up
over AMI). What the simulator wrote is returned for comparison with ``.recv``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tests.shared import SHARED

FIXTURES = SHARED / "fixtures" / "agi"

Hook = Callable[[], Awaitable[None]]


def fixture(name: str) -> dict[str, object]:
    """The fixture's chunk list and metadata (``NAME.json``)."""
    data: dict[str, object] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def recv_bytes(name: str) -> bytes:
    """What the real Asterisk wrote (``NAME.recv``)."""
    return (FIXTURES / f"{name}.recv").read_bytes()


def first_local_seq(name: str) -> int:
    """The number in the fixture's AGI channel name (``Local/201@phones-0000000d;1``)."""
    data = fixture(name)
    m = re.search(r"-([0-9a-f]{8});\d$", str(data["agi_channel"]))
    assert m is not None
    return int(m.group(1), 16)


def normalise(data: bytes, *, endpos: bool = False) -> str:
    """A transcript with what changes from run to run replaced: uniqueid, thread id,
    the FastAGI port; with ``endpos``, the positions of playbacks a digit or a hang-up
    stopped (those depend on when the digit came)."""
    text = data.decode("latin-1")
    text = re.sub(r"(?m)^agi_uniqueid: .*$", "agi_uniqueid: <uid>", text)
    text = re.sub(r"(?m)^agi_threadid: .*$", "agi_threadid: <tid>", text)
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", text)
    if endpos:
        text = re.sub(r"(?m)^(200 result=(?!0 )-?\d+ endpos=)\d+$", r"\1<pos>", text)
    return text


def answer_lines_before(chunks: list[dict[str, object]], index: int, env_size: int) -> int:
    """How many answer lines the real Asterisk had written before chunk ``index``."""
    seen = b"".join(str(c["data"]).encode("latin-1") for c in chunks[:index] if c["dir"] == "recv")
    return seen[env_size:].count(b"\n")


@dataclass
class AgiServer:
    """A raw FastAGI server that plays one fixture's server side."""

    name: str
    # Run before / after writing the N-th ``sent`` chunk (0-based).
    before: dict[int, Hook] = field(default_factory=dict)
    after: dict[int, Hook] = field(default_factory=dict)
    got: bytes = b""
    env_size: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0
    _server: asyncio.Server | None = None

    async def start(self) -> int:
        """Listens on a free port; returns it."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        """Stops listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._play(reader, writer)
        finally:
            writer.close()
            self.done.set()

    async def _play(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while b"\n\n" not in self.got:
            data = await asyncio.wait_for(reader.read(4096), 10)
            assert data, "the simulator closed before the end of the environment block"
            self.got += data
        self.env_size = self.got.index(b"\n\n") + 2
        real_env = recv_bytes(self.name)
        real_env_size = real_env.index(b"\n\n") + 2
        chunks: list[dict[str, object]] = list(fixture(self.name)["chunks"])  # type: ignore[call-overload]
        sent_index = 0
        for i, chunk in enumerate(chunks):
            if chunk["dir"] not in ("sent", "close"):
                continue
            want = answer_lines_before(chunks, i, real_env_size)
            await self._wait_lines(reader, want)
            hook = self.before.get(sent_index)
            if hook is not None:
                await hook()
            if chunk["dir"] == "close":
                writer.write_eof()
                break
            writer.write(str(chunk["data"]).encode("latin-1"))
            await writer.drain()
            hook = self.after.get(sent_index)
            sent_index += 1
            if hook is not None:
                await hook()
        while True:  # until the simulator closes
            data = await asyncio.wait_for(reader.read(4096), 10)
            if not data:
                break
            self.got += data

    async def _wait_lines(self, reader: asyncio.StreamReader, want: int) -> None:
        while self.got[self.env_size :].count(b"\n") < want:
            data = await asyncio.wait_for(reader.read(4096), 10)
            assert data, f"the simulator closed early: {self.got[self.env_size :]!r}"
            self.got += data


__all__ = [
    "FIXTURES",
    "AgiServer",
    "answer_lines_before",
    "first_local_seq",
    "fixture",
    "normalise",
    "recv_bytes",
]
