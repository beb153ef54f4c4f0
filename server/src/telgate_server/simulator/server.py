"""The TCP edge: a fake Asterisk 22 manager interface on a real port, plus fault injection.

Only this module does socket I/O (asyncio). Calls live in the sans-I/O
:class:`~.engine.Engine`; each connection is an :class:`~.session.AmiSession`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
from collections.abc import Coroutine, Iterable
from typing import Any

from ..backends.ami.codec import HeaderError, Message, ProtocolError, encode_banner
from .agi import install as install_agi
from .channels import event
from .clock import LoopClock
from .engine import Engine, OriginateRequest
from .session import AmiSession, Faults
from .wire import ActionReader
from .world import World, lab_world

log = logging.getLogger(__name__)

ACTIONS_KEPT = 10_000
# A half-written event, for drop_connections(mid_message=True).
_HALF_MESSAGE = b"Event: Newchannel\r\nPrivilege: call,all\r\nChannel: Local/2"


class _Connection:
    """One accepted socket and its session."""

    def __init__(
        self, sim: AmiSimulator, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.reader = reader
        self.writer = writer
        local = writer.get_extra_info("sockname") or ("127.0.0.1", 0)
        remote = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        self.session = AmiSession(
            sim,
            self._write,
            self._close,
            local=(str(local[0]), int(local[1])),
            remote=(str(remote[0]), int(remote[1])),
        )

    def _write(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)

    def _close(self) -> None:
        if not self.writer.is_closing():
            self.writer.close()

    def abort(self, partial: bytes = b"") -> None:
        """Drops the socket now, optionally after writing ``partial`` bytes."""
        self.session.closed = True
        if partial and not self.writer.is_closing():
            self.writer.write(partial)
        transport = self.writer.transport
        if partial:
            transport.close()  # flush the half message, then FIN
        else:
            transport.abort()


class AmiSimulator:
    """A simulated Asterisk 22 speaking AMI on a TCP port.

    ``time_scale`` multiplies every lab delay (ring 1 s, talk times, the 1 s
    failed-login delay): 0.05 runs a whole lab call in a fraction of a second.
    """

    def __init__(self, world: World | None = None, *, time_scale: float = 1.0) -> None:
        self.world = world or lab_world()
        self.time_scale = time_scale
        self.faults = Faults()
        # A fixed MD5 challenge (tests replaying a transcript whose Key answers it).
        self.fixed_challenge: str | None = None
        # Login actions received (a client that hammers the PBX shows here).
        self.login_attempts = 0
        # Every action received, in order, on any session (the latest
        # ACTIONS_KEPT): tests assert on what reached the PBX.
        self.actions: collections.deque[Message] = collections.deque(maxlen=ACTIONS_KEPT)
        self._server: asyncio.Server | None = None
        self._engine: Engine | None = None
        self._connections: set[_Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._serving: set[asyncio.Task[object]] = set()
        self._port = 0

    # ------------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        """The bound TCP port (0 before start)."""
        return self._port

    @property
    def engine(self) -> Engine:
        """The call engine (created by :meth:`start`)."""
        if self._engine is None:
            raise RuntimeError("the simulator is not started")
        return self._engine

    @property
    def sessions(self) -> list[AmiSession]:
        """The AMI sessions of the connected clients."""
        return [c.session for c in self._connections]

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Starts listening; returns the bound port."""
        self._engine = Engine(self.world, LoopClock(), self._broadcast, time_scale=self.time_scale)
        install_agi(self._engine, self._tasks)
        self._server = await asyncio.start_server(self._serve, host, port)
        self._port = int(self._server.sockets[0].getsockname()[1])
        log.info("AMI simulator listening on %s:%d", host, self._port)
        return self._port

    async def stop(self) -> None:
        """Stops listening, drops every client and stops every call and background task."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections):
            conn.abort()
        # Let each connection handler see its socket closed and finish.
        for serving in list(self._serving):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(serving), 1.0)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
            self._server = None
        if self._engine is not None:
            self._engine.shutdown()

    async def __aenter__(self) -> AmiSimulator:
        if self._server is None:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------ connection

    def _broadcast(self, message: Message, cls: str) -> None:
        for conn in list(self._connections):
            conn.session.deliver(message, cls)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Connection(self, reader, writer)
        self._connections.add(conn)
        me = asyncio.current_task()
        if me is not None:
            self._serving.add(me)
            me.add_done_callback(self._serving.discard)
        parser = ActionReader()
        try:
            writer.write(encode_banner(self.world.ami_version))
            while not conn.session.closed:
                data = await reader.read(65536)
                if not data:
                    break
                try:
                    messages = parser.feed(data)
                except ProtocolError:
                    log.warning("client sent an endless message; dropping it")
                    break
                for msg in messages:
                    if conn.session.closed:
                        break
                    try:
                        await conn.session.handle(msg)
                    except HeaderError:
                        # An echoed value holding a bare CR: it cannot be written back.
                        log.warning("dropped an answer that would break the framing")
                with contextlib.suppress(ConnectionError):
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._connections.discard(conn)
            conn.session.closed = True
            if not writer.is_closing():
                writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    # ------------------------------------------------------------ faults

    def drop_connections(self, *, mid_message: bool = False) -> int:
        """Drops every client socket now; with ``mid_message`` half a message is written
        first. Returns how many sockets were dropped."""
        conns = list(self._connections)
        for conn in conns:
            conn.abort(_HALF_MESSAGE if mid_message else b"")
            self._connections.discard(conn)
        log.info("dropped %d connection(s)%s", len(conns), " mid-message" if mid_message else "")
        return len(conns)

    def set_slow(self, seconds: float) -> None:
        """Delays every action's response by ``seconds`` (0 turns it off)."""
        self.faults.slow_seconds = max(0.0, seconds)

    def set_never_answer(self, actions: Iterable[str] | None = ()) -> None:
        """Never answers the given actions (``()`` = every action; ``None`` = back to normal)."""
        self.faults.never_answer = (
            None if actions is None else frozenset(a.lower() for a in actions)
        )

    def set_refuse_logins(self, refuse: bool = True) -> None:
        """Makes every Login fail (``Authentication failed`` + disconnect)."""
        self.faults.refuse_logins = refuse

    def send_garbage(self, data: bytes | None = None) -> int:
        """Writes bytes that are not AMI to every client; returns how many got them."""
        payload = data if data is not None else b"\x00\xff garbage \x1b[31m\r\n:::\r\n\r\n"
        conns = [c for c in self._connections if not c.session.closed]
        for conn in conns:
            conn._write(payload)
        return len(conns)

    async def flood(self, count: int, rate: float = 0.0, *, kind: str = "UserEvent") -> int:
        """Sends ``count`` synthetic events (``UserEvent`` or ``VarSet``) to every session,
        ``rate`` per second (0 = as fast as possible). Returns how many were sent."""
        engine = self.engine
        for n in range(count):
            if kind.lower() == "varset":
                msg = event(
                    "VarSet",
                    "dialplan,all",
                    [("Variable", "FLOOD"), ("Value", str(n))],
                )
                engine.emit_message(msg, "dialplan")
            else:
                msg = event(
                    "UserEvent",
                    "user,all",
                    [("UserEvent", "Flood"), ("Sequence", str(n))],
                )
                engine.emit_message(msg, "user")
            if rate > 0:
                await asyncio.sleep(1.0 / rate)
            elif n % 256 == 255:
                await asyncio.sleep(0)  # let writers drain
        return count

    def start_flood(self, rate: float, count: int = 0, *, kind: str = "UserEvent") -> None:
        """Floods in the background (``count`` 0 = until stop)."""

        async def run() -> None:
            n = 0
            while count == 0 or n < count:
                await self.flood(1, 0.0, kind=kind)
                n += 1
                await asyncio.sleep(1.0 / rate if rate > 0 else 0)

        self._spawn(run())

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def start_periodic_faults(
        self,
        *,
        drop_every: float = 0.0,
        garbage_every: float = 0.0,
        mid_message: bool = False,
    ) -> None:
        """Drops all sockets / sends garbage every N wall-clock seconds (the CLI flags)."""

        async def every(seconds: float, what: str) -> None:
            while True:
                await asyncio.sleep(seconds)
                if what == "drop":
                    self.drop_connections(mid_message=mid_message)
                else:
                    self.send_garbage()

        if drop_every > 0:
            self._spawn(every(drop_every, "drop"))
        if garbage_every > 0:
            self._spawn(every(garbage_every, "garbage"))

    # ------------------------------------------------------------ traffic

    def start_traffic(self, interval: float = 5.0, *, seed: int | None = None) -> None:
        """Background calls so a demo is alive: every ``interval`` lab seconds (scaled),
        a random agent calls a random customer (who hangs up after their talk time)."""
        rng = random.Random(seed)
        agents = sorted(p for p, ph in self.world.phones.items() if ph.kind.value == "agent")
        customers = sorted(p for p, ph in self.world.phones.items() if ph.kind.value == "customer")

        async def run() -> None:
            while True:
                engine = self.engine
                busy = {c.device for c in engine.channels.values()}
                free = [a for a in agents if f"Local/{a}@phones" not in busy]
                if free and customers:
                    agent = rng.choice(free)
                    customer = rng.choice(customers)
                    engine.originate(
                        OriginateRequest(
                            channel=f"Local/{agent}@phones",
                            context="from-internal",
                            exten=customer,
                            priority="1",
                            callerid=f'"Agent {agent}" <{agent}>',
                            # Not async: no OriginateResponse for calls nobody asked for.
                            is_async=False,
                        )
                    )
                await asyncio.sleep(interval * self.time_scale)

        self._spawn(run())


__all__ = ["AmiSimulator"]
