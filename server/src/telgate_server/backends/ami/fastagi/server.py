"""The FastAGI server's asyncio edge: a TCP listener, one task per connection
(Asterisk's AGI() step), the socket moved through AgiServerProtocol.

Every session is bounded: the environment block must arrive within
``env_timeout`` and within the protocol's size caps, at most
``max_sessions`` run at once (a connection beyond that is closed at once, so
the dialplan goes on), none outlives ``max_session``, and stopping the
backend closes them all. Single commands have no timeout: a Dial or hold
music lasts as long as the call, and Asterisk closes the socket when the
call ends. Connections from outside ``allow_ips`` (when set) are closed
before a byte is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telgate_server.backends.ami.fastagi.protocol import (
    AgiProtocolError,
    AgiServerProtocol,
    Answer,
    Closed,
    Environment,
    HangupNotice,
)
from telgate_server.backends.ami.fastagi.session import ChannelGone, SessionSettings, serve
from telgate_server.backends.ami.settings import FastAgiConfig
from telgate_server.routing.model import RouteDesk

log = logging.getLogger("telgate.ami.fastagi")

# After our close, Asterisk writes HANGUP and closes its side; wait this long
# for that before dropping the socket.
CLOSE_WAIT = 2.0


class AgiLink:
    """One FastAGI connection: a reader task feeds the protocol, so a HANGUP
    line or the close is seen even while no command is in flight."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.proto = AgiServerProtocol()
        loop = asyncio.get_running_loop()
        self._env: asyncio.Future[Environment] = loop.create_future()
        self._answer: asyncio.Future[Answer] | None = None
        self._gone = asyncio.Event()
        self._closed = False
        self._task = loop.create_task(self._read())

    @property
    def hung_up(self) -> bool:
        return self.proto.hung_up or self._closed

    async def gone(self) -> None:
        await self._gone.wait()

    async def environment(self) -> Environment:
        """The environment block (AgiProtocolError / ChannelGone if none came)."""
        return await asyncio.shield(self._env)

    async def _read(self) -> None:
        error: BaseException = ChannelGone("the PBX closed the session")
        try:
            while not self._closed:
                data = await self._reader.read(65536)
                self.proto.receive_data(data)
                for event in self.proto.events():
                    self._dispatch(event)
        except AgiProtocolError as exc:
            log.warning("fastagi: closing a session: %s", exc)
            broken = ChannelGone(f"the PBX broke the protocol: {exc}")
            error = exc if not self._env.done() else broken
        except (ConnectionError, OSError) as exc:
            error = ChannelGone(f"the session's socket failed: {exc}")
        finally:
            self._closed = True
            self._gone.set()
            for future in (self._env, self._answer):
                if future is not None and not future.done():
                    future.set_exception(error)
                    future.exception()  # retrieved: the waiter may be gone

    def _dispatch(self, event: Environment | Answer | HangupNotice | Closed) -> None:
        if isinstance(event, Environment):
            self._env.set_result(event)
        elif isinstance(event, Answer):
            if self._answer is not None and not self._answer.done():
                self._answer.set_result(event)
        elif isinstance(event, HangupNotice):
            self._gone.set()
        else:
            self._closed = True

    async def run(self, line: str) -> Answer:
        """Sends one command and waits for its answer (one at a time)."""
        if self._closed:
            raise ChannelGone("the PBX closed the session")
        data = self.proto.send_command(line)
        self._answer = asyncio.get_running_loop().create_future()
        try:
            self._writer.write(data)
            await self._writer.drain()
        except (ConnectionError, OSError) as exc:
            raise ChannelGone(f"the session's socket failed: {exc}") from None
        return await self._answer

    async def close(self) -> None:
        """Ends the session: FIN, then Asterisk's goodbye (HANGUP and its close)."""
        self.proto.finish()
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            if self._writer.can_write_eof():
                self._writer.write_eof()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(self._task), CLOSE_WAIT)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()


class FastAgiServer:
    """The listener of one AMI backend (``backends.NAME.fastagi``)."""

    def __init__(
        self, backend: str, config: FastAgiConfig, desk: RouteDesk, *, technology: str
    ) -> None:
        self.backend = backend
        self.config = config
        self.desk = desk
        self.settings = SessionSettings(
            backend=backend,
            budget=config.budget,
            technology=technology,
            max_follow_ups=config.max_follow_ups,
        )
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()
        # The connection handlers (each closes its socket when its session ends).
        self._handlers: set[asyncio.Task[None]] = set()
        # Sessions served since start (each accepted connection).
        self.served = 0

    @property
    def port(self) -> int:
        """The bound port (the configured one, or the one the OS chose for 0)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the FastAGI server is not listening")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        host, port = self.config.host_port
        self._server = await asyncio.start_server(self._accept, host, port)
        log.info("backend %s: FastAGI listening on %s:%d", self.backend, host, self.port)

    async def stop(self) -> None:
        """Stops listening and ends every session (closing its socket: the
        dialplan goes on), waiting until they are closed."""
        if self._server is not None:
            self._server.close()
        for task in list(self._sessions):
            task.cancel()
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=CLOSE_WAIT * 2)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5.0)
            self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # The session runs in a task of its own, which stop() cancels; this
        # handler always ends normally (asyncio logs a cancelled one as an error).
        peer = writer.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) and peer else ""
        if not self.config.allows(address):
            log.warning(
                "backend %s: FastAGI connection from %s refused (not in allow_ips)",
                self.backend,
                address or "an unknown address",
            )
            writer.close()
            return
        if len(self._sessions) >= self.config.max_sessions:
            log.warning(
                "backend %s: %d FastAGI sessions already; closing a new one (the dialplan goes on)",
                self.backend,
                len(self._sessions),
            )
            writer.close()
            return
        handler = asyncio.current_task()
        assert handler is not None
        self.served += 1
        link = AgiLink(reader, writer)
        session = asyncio.get_running_loop().create_task(self._session(link))
        self._sessions.add(session)
        self._handlers.add(handler)
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await session
        finally:
            self._sessions.discard(session)
            await link.close()
            self._handlers.discard(handler)

    async def _session(self, link: AgiLink) -> None:
        try:
            env = await asyncio.wait_for(link.environment(), self.config.env_timeout)
        except TimeoutError:
            log.warning(
                "backend %s: no FastAGI environment within %.1f s; closing",
                self.backend,
                self.config.env_timeout,
            )
            return
        except (AgiProtocolError, ChannelGone):
            return
        try:
            async with asyncio.timeout(self.config.max_session):
                await serve(env, link, self.desk, self.settings)
        except TimeoutError:
            log.warning(
                "backend %s: a FastAGI session still open after %.0f s (max_session); closing",
                self.backend,
                self.config.max_session,
            )
        except (AgiProtocolError, ChannelGone) as exc:
            log.warning("backend %s: a FastAGI session ended: %s", self.backend, exc)
        except Exception:
            log.exception("backend %s: a FastAGI session failed", self.backend)
