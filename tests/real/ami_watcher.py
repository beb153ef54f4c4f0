"""A bare AMI client for the real-Asterisk tests (and the simulator, which
has the lab's user): logs in with Events: on, keeps every message it reads,
sends actions and places calls."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import Callable

from telgate_server.backends.ami.codec import Message, Parser

from tests.lab import LAB_SECRET, LAB_USER


class AmiWatcher:
    """Logs in (the lab's user, which the simulator has too) with Events: on,
    keeps every event, sends actions."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.messages: list[Message] = []
        self._parser = Parser()
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._closed = False
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> AmiWatcher:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        self._task = asyncio.get_running_loop().create_task(self._read())
        answer = await self.action("Login", Username=LAB_USER, Secret=LAB_SECRET, Events="on")
        assert answer.get("Response") == "Success", answer
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._writer is not None and self._task is not None
        self._writer.close()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await self._task

    async def _read(self) -> None:
        assert self._reader is not None
        try:
            while data := await self._reader.read(65536):
                self.messages += [m for m in self._parser.feed(data) if isinstance(m, Message)]
                self._changed.set()
        finally:
            self._closed = True
            self._changed.set()

    async def wait_for(self, predicate: Callable[[Message], bool], within: float = 20.0) -> Message:
        """The first message (already received or to come) for which ``predicate``
        holds; fails at once when the PBX closed the connection without one."""
        seen = 0
        async with asyncio.timeout(within):
            while True:
                for msg in self.messages[seen:]:
                    if predicate(msg):
                        return msg
                seen = len(self.messages)
                if self._closed:
                    raise AssertionError(f"{self.host}:{self.port} closed the AMI connection")
                self._changed.clear()
                await self._changed.wait()

    def send(self, name: str, **headers: str) -> str:
        """Writes the action ``name`` without waiting for its answer; its ActionID."""
        assert self._writer is not None
        action_id = f"w{next(self._ids)}"
        text = f"Action: {name}\r\nActionID: {action_id}\r\n"
        text += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._writer.write(text.encode() + b"\r\n")
        return action_id

    async def action(self, name: str, **headers: str) -> Message:
        """Sends the action ``name``; its response."""
        action_id = self.send(name, **headers)
        return await self.wait_for(
            lambda m: m.get("Response") is not None and m.action_id == action_id
        )

    async def call_agi(self, script: str, exten: str = "100", phone: str = "201") -> str:
        """Originates Local/PHONE@phones into agi-test,EXTEN with AGISCRIPT;
        the unique id of the half that runs the AGI (;1)."""
        unique_id = f"tgagi-{uuid.uuid4().hex[:12]}"
        answer = await self.action(
            "Originate",
            Channel=f"Local/{phone}@phones",
            Context="agi-test",
            Exten=exten,
            Priority="1",
            CallerID='"Telgate Test" <5550100>',
            Variable=f"AGISCRIPT={script}",
            Timeout="30000",
            Async="true",
            ChannelId=unique_id,
            OtherChannelId=f"{unique_id}-2",
        )
        assert answer.get("Response") == "Success", answer
        return unique_id

    def events(self, name: str, unique_id: str) -> list[Message]:
        return [m for m in self.messages if m.name == name and m.get("Uniqueid") == unique_id]
