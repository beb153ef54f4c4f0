"""A small scripted AMI server for the connection tests.

A real asyncio TCP server on 127.0.0.1:0 that frames with the gateway's own
codec. It knows Login (plain and MD5), Challenge, Ping and Logoff the way
Asterisk answers them (reference/ami.md §3, §14); every other action goes to a
per-test handler, or gets Asterisk's "Invalid/unknown command" error.
It is deliberately tiny: the full simulator lives elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable, Callable

from telgate_server.backends.ami.codec import Message, Parser, encode_banner, encode_message

Handler = Callable[["ServerConn", Message], Awaitable[None]]


class ServerConn:
    """One client connection as the server sees it."""

    def __init__(self, server: ScriptedAmiServer, writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.writer = writer
        self.raw = bytearray()  # every byte the client wrote
        self.actions: list[Message] = []
        self.logged_in = False
        self.closed = asyncio.Event()

    def send(self, *headers: tuple[str, str]) -> None:
        """Writes one message."""
        self.writer.write(encode_message(headers))

    def send_raw(self, data: bytes) -> None:
        self.writer.write(data)

    def reply(self, action: Message, status: str = "Success", *headers: tuple[str, str]) -> None:
        """A Response with the action's ActionID as second header, like Asterisk."""
        out: list[tuple[str, str]] = [("Response", status)]
        if action.action_id is not None:
            out.append(("ActionID", action.action_id))
        out.extend(headers)
        self.send(*out)

    async def drain(self) -> None:
        with contextlib.suppress(ConnectionError):
            await self.writer.drain()

    def close(self) -> None:
        self.writer.close()


class ScriptedAmiServer:
    """Speaks just enough AMI; tests script the rest with ``handlers``."""

    def __init__(
        self,
        *,
        users: dict[str, str] | None = None,
        banner: bytes = encode_banner("11.0.0"),
        challenge: str = "504421193",
    ) -> None:
        self.users = users if users is not None else {"telgate": "telgate-secret"}
        self.banner = banner
        self.challenge = challenge
        # Per-action handlers (lower-case names); they take precedence over the
        # built-in answers, so a test can make Challenge or Login misbehave.
        self.handlers: dict[str, Handler] = {}
        # Sent right after the banner (e.g. garbage: a server that is not AMI).
        self.after_banner = b""
        self.answer_ping = True
        self.connections: list[ServerConn] = []
        self.login_attempts = 0
        self._server: asyncio.Server | None = None
        self._changed = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def actions(self) -> list[Message]:
        """Every action received, over all connections, in order."""
        return [a for conn in self.connections for a in conn.actions]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in self.connections:
            conn.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
        if self._server is not None:
            await self._server.wait_closed()

    async def wait_for(self, predicate: Callable[[], bool], within: float = 10.0) -> None:
        """Waits until ``predicate()`` holds (checked after each connection/action)."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(predicate)

    async def wait_action(self, name: str, count: int = 1, within: float = 10.0) -> Message:
        """Waits for the ``count``-th action called ``name``; returns it."""

        def matching() -> list[Message]:
            return [a for a in self.actions if a.name.lower() == name.lower()]

        await self.wait_for(lambda: len(matching()) >= count, within)
        return matching()[count - 1]

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = ServerConn(self, writer)
        self.connections.append(conn)
        await self._notify()
        parser = Parser(expect_banner=False)
        try:
            writer.write(self.banner + self.after_banner)
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                conn.raw += data
                for msg in parser.feed(data):
                    assert isinstance(msg, Message)
                    conn.actions.append(msg)
                    await self._notify()
                    await self._answer(conn, msg)
                    await conn.drain()
                    if writer.is_closing():
                        return
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            conn.closed.set()
            self._tasks.discard(task)
            await self._notify()

    async def _answer(self, conn: ServerConn, msg: Message) -> None:
        name = msg.name.lower()
        if name in self.handlers:
            await self.handlers[name](conn, msg)
        elif name == "login":
            self.login_attempts += 1
            user = msg.get("Username") or ""
            secret = self.users.get(user)
            if (msg.get("AuthType") or "").lower() == "md5":
                expected = (
                    hashlib.md5((self.challenge + secret).encode()).hexdigest()
                    if secret is not None
                    else None
                )
                good = expected is not None and msg.get("Key") == expected
            else:
                good = secret is not None and msg.get("Secret") == secret
            if good:
                conn.logged_in = True
                conn.reply(msg, "Success", ("Message", "Authentication accepted"))
                conn.send(("Event", "FullyBooted"), ("Privilege", "system,all"), ("Status", "OK"))
            else:
                # Asterisk answers, then closes the socket.
                conn.reply(msg, "Error", ("Message", "Authentication failed"))
                await conn.drain()
                conn.close()
        elif name == "challenge":
            if (msg.get("AuthType") or "").lower() == "md5":
                conn.reply(msg, "Success", ("Challenge", self.challenge))
            else:
                conn.reply(msg, "Error", ("Message", "Must specify AuthType"))
        elif name == "ping":
            if self.answer_ping:
                conn.reply(msg, "Success", ("Ping", "Pong"), ("Timestamp", "1795380110.000000"))
        elif name == "logoff":
            conn.reply(msg, "Goodbye", ("Message", "Thanks for all the fish."))
            await conn.drain()
            conn.close()
        else:
            conn.reply(
                msg,
                "Error",
                (
                    "Message",
                    f"Invalid/unknown command: {msg.name}. "
                    "Use Action: ListCommands to show available commands.",
                ),
            )
