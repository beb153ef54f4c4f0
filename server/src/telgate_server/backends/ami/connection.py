"""The asyncio link from the gateway to one Asterisk PBX over AMI.

One :class:`AmiConnection` owns one TCP session at a time and keeps it alive:
connect, read the banner, log in (plain or MD5 challenge), ping, and reconnect
when anything goes wrong: fast jittered retries for the first minute of an
outage (the link is back within about a second of the PBX), then capped
exponential backoff with full jitter. Every attempt is kept in
:attr:`AmiConnection.attempts`.

While the link is down its status stays DOWN (or AUTH_FAILED) with the last
real cause as detail ("could not connect ...: Connection refused", "... sent
data that is not AMI: after its banner it sent ...", "... sent its banner but no
answer to Challenge within 10 s", "the PBX refused the login ...") until a login
succeeds: retries do not replace it with "connecting", nor publish a change each.
A link that stayed up less than ``reconnect_stable`` seconds does not start a
new fast minute: a flapping link is slowed down like one that stays down.

Two tasks and one FIFO cooperate (reference/ami.md §1-§5):

- the **reader** (one task per TCP session) only awaits the socket. Asterisk
  drops a manager client that does not read for ~100 ms, so the reader never
  waits for anyone: it feeds the codec and appends every message to one FIFO
  (a deque), then drains it once per socket read.
- **draining** (:meth:`AmiConnection._drain`, plain synchronous code) takes
  the FIFO in wire order, at most ``_DISPATCH_SLICE`` messages at a time,
  matches responses and list items to pending actions by ActionID and hands
  every other event to ``on_event``, which must not block. What is left after
  a slice is drained by a callback on the next loop iteration, so that a long
  burst never keeps the socket unread for long. No task hand-off per read:
  at tens of thousands of events per second, each wake-up of a dispatcher
  task cost a measurable share of the CPU (as asyncio.Queue's per-message
  put / get did before).
- the **supervisor** (``_run``) connects, logs in, pings, and reconnects.

Responses and list items of pending actions share the FIFO with events so that
an action's result is never seen before the events that preceded it on the
wire. Only *uncorrelated* events count against ``event_queue_size``: when that
many wait, further events are dropped (counted, then reported to ``on_event``
as a synthetic ``telgate.EventsDropped`` event), while responses are never
dropped. Their number is bounded by the actions in flight.

The secret is read at each login, written to the socket (plain auth only) and
never logged nor put into a status detail or an error.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import itertools
import logging
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from telgate_server.backends.ami.codec import (
    Banner,
    HeaderError,
    Message,
    Parser,
    ProtocolError,
    encode_message,
)
from telgate_server.config import AmiBackendConfig
from telgate_server.errors import DeadlineExceeded, GatewayError, InvalidArgument, Unavailable
from telgate_server.gateway.model import LinkState, LinkStatus

__all__ = ["DROPPED_EVENT", "ActionResult", "AmiConnection", "LinkAttempt"]

log = logging.getLogger("telgate.ami")

#: Name of the synthetic event that reports events dropped on queue overflow.
DROPPED_EVENT = "telgate.EventsDropped"

_BANNER_PREFIX = "Asterisk Call Manager/"
_READ_SIZE = 1 << 16
# Let the reader run after this many dispatched messages, so that a long burst
# handed to on_event never keeps the socket unread for long.
_DISPATCH_SLICE = 256
# Late list answers of actions that timed out are swallowed; remember this many ids.
_MAX_ABANDONED = 1024
_LOGOFF_TIMEOUT = 1.0
_OK_RESPONSES = frozenset({"success", "goodbye", "follows"})
# Attempts kept in AmiConnection.attempts.
_ATTEMPTS_KEPT = 1000
# Fast retries wait reconnect_fast times a factor in this range.
_FAST_JITTER = (0.5, 1.25)
_LINK_LOST = "LINK_LOST"


@dataclass(frozen=True, slots=True)
class ActionResult:
    """The PBX's answer to one action."""

    response: Message
    # The list items (EventList: start ... ) without the Complete event; [] otherwise.
    events: list[Message]
    # The `...Complete` event of a list action, else None.
    complete: Message | None

    @property
    def ok(self) -> bool:
        """True for ``Response: Success`` (or ``Goodbye`` / ``Follows``)."""
        return self.response.name.lower() in _OK_RESPONSES

    @property
    def message(self) -> str:
        """The response's ``Message`` header, ``""`` if it has none."""
        return self.response.get("Message") or ""


# Asterisk reads an action line by line into a 1024-byte buffer and drops a
# message with a longer line ("line too long"), and takes at most 128 lines
# (manager.c inbuf[1025], AST_MAX_MANHEADERS): an action beyond either would
# be refused after the fact, or its echo in events could exceed the frame cap.
AMI_MAX_LINE = 1024
AMI_MAX_HEADERS = 128


def check_ami_limits(name: str, headers: Sequence[tuple[str, str]], *, backend: str) -> None:
    """InvalidArgument, before anything is written, for an action Asterisk would not take."""
    if len(headers) + 2 > AMI_MAX_HEADERS:
        raise InvalidArgument(
            f"action {name!r} would have {len(headers) + 2} header lines; Asterisk takes at "
            f"most {AMI_MAX_HEADERS}",
            metadata={"backend": backend},
        )
    for header, value in headers:
        size = len(header.encode()) + len(value.encode()) + 4  # ": " and CRLF
        if size > AMI_MAX_LINE:
            raise InvalidArgument(
                f"header {header!r} of action {name!r} would be a {size}-byte line; Asterisk "
                f"takes lines of at most {AMI_MAX_LINE} bytes",
                metadata={"backend": backend, "header": header[:40]},
            )


@dataclass(frozen=True, slots=True)
class LinkAttempt:
    """One connection attempt: when it started and how it ended."""

    #: 1, 2, ... over the connection's life.
    number: int
    #: time.time() and time.monotonic() when it started.
    started: float
    started_mono: float
    #: time.monotonic() when it ended: logged in (state UP) or failed.
    ended_mono: float
    state: LinkState
    detail: str
    #: How long the link waited after it before the next attempt (None: logged in).
    next_delay: float | None


# ---------------------------------------------------------------- internals


@dataclass(slots=True)
class _Pending:
    action: str
    generation: int
    future: asyncio.Future[ActionResult]
    response: Message | None = None
    is_list: bool = False
    events: list[Message] = field(default_factory=list)


# Not frozen: a frozen dataclass's __init__ sets each field through
# object.__setattr__, several times the cost of this plain one, and one is
# made per event.
@dataclass(slots=True)
class _Counted:
    """An uncorrelated event: it occupies one of the event_queue_size slots."""

    message: Message
    # time.monotonic() when the reader got it from the socket.
    received: float


@dataclass(frozen=True, slots=True)
class _Dropped:
    """This many events were dropped here in the stream."""

    count: int


@dataclass(frozen=True, slots=True)
class _Lost:
    """The TCP session ``generation`` ended; fail the actions still waiting on it."""

    generation: int
    reason: str


_Item = Message | _Counted | _Dropped | _Lost


class _Session:
    """One TCP session: its writer, reader task and the futures of its life."""

    __slots__ = ("banner", "generation", "lost", "reader_task", "writer")

    def __init__(self, generation: int, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        self.generation = generation
        self.writer = writer
        self.banner: asyncio.Future[Banner] = loop.create_future()
        # Result: why the session ended (a sentence for LinkStatus.detail).
        self.lost: asyncio.Future[str] = loop.create_future()
        self.reader_task: asyncio.Task[None] | None = None

    @property
    def alive(self) -> bool:
        return not self.lost.done()


@dataclass(frozen=True, slots=True)
class _Outcome:
    """How one connection attempt ended."""

    state: LinkState
    detail: str
    logged_in: bool = False


def _is_list_start(msg: Message) -> bool:
    return (msg.get("EventList") or "").lower() == "start"


def _is_list_complete(msg: Message) -> bool:
    return (msg.get("EventList") or "").lower() == "complete" or msg.name.endswith("Complete")


def _seconds(value: float) -> str:
    return f"{value:g} s"


# ---------------------------------------------------------------- the connection


class AmiConnection:
    """The gateway's link to one Asterisk PBX over AMI.

    ``on_event`` receives every event that is not an item of a pending list
    action, in wire order; ``on_link`` receives each change of the link's
    state or detail. Both are synchronous and must be cheap.
    """

    def __init__(
        self,
        name: str,
        config: AmiBackendConfig,
        *,
        on_event: Callable[[Message], None],
        on_link: Callable[[LinkStatus], None],
        rng: random.Random | None = None,
    ) -> None:
        self.name = name
        self._config = config
        self._on_event = on_event
        self._on_link = on_link
        self._rng = rng if rng is not None else random.Random()
        self._status = LinkStatus(LinkState.DOWN, "not started", since=time.time())
        self._banner = ""
        self._version = ""
        self._ids = itertools.count(1)
        self._generations = itertools.count(1)
        self._session: _Session | None = None
        self._pending: dict[str, _Pending] = {}
        # ActionIDs of list actions whose caller gave up: their late items are swallowed.
        self._abandoned: dict[str, None] = {}
        # The FIFO from the reader to draining (see the module docstring).
        self._queue: collections.deque[_Item] = collections.deque()
        # A drain is running / is scheduled for the next loop iteration.
        self._draining = False
        self._drain_handle: asyncio.Handle | None = None
        self._queued_events = 0
        self._dropped = 0
        self._up = asyncio.Event()
        self._run_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._attempts: collections.deque[LinkAttempt] = collections.deque(maxlen=_ATTEMPTS_KEPT)
        # The attempt in progress: (number, time.time(), time.monotonic()) at its start.
        self._attempt: tuple[int, float, float] = (0, 0.0, 0.0)
        # time.monotonic() when the last login succeeded.
        self._up_mono = 0.0
        #: time.monotonic() when the event being handed to ``on_event`` was read
        #: from the socket (for latency figures).
        self.received_mono = 0.0

    # ------------------------------------------------------------ public

    @property
    def status(self) -> LinkStatus:
        """The link's current state and why it is in it."""
        return self._status

    @property
    def attempts(self) -> list[LinkAttempt]:
        """The last connection attempts (at most 1,000), oldest first."""
        return list(self._attempts)

    @property
    def banner(self) -> str:
        """The PBX's greeting, e.g. ``Asterisk Call Manager/11.0.0`` (``""`` before one)."""
        return self._banner

    async def start(self) -> None:
        """Starts the connect / login / reconnect loop in the background; returns at once."""
        if self._run_task is not None:
            return
        self._stopping = False
        self._run_task = asyncio.create_task(self._run(), name=f"ami-link-{self.name}")

    async def stop(self) -> None:
        """Logs off (best effort), closes the socket and ends the tasks.

        Actions still in flight fail with Unavailable (reason LINK_LOST).
        """
        if self._stopping:
            return
        self._stopping = True
        session = self._session
        if session is not None and session.alive and self._status.state is LinkState.UP:
            # Best effort: a polite Logoff spares the PBX a "connection lost" log line.
            with contextlib.suppress(GatewayError, OSError):
                timeout = min(_LOGOFF_TIMEOUT, self._config.action_timeout)
                await self._request(session, "Logoff", (), timeout)
        task = self._run_task
        if task is not None:
            task.cancel()
            # asyncio.wait does not re-raise the task's CancelledError, so a
            # cancellation of stop() itself still propagates.
            await asyncio.wait({task})
        self._run_task = None
        if self._drain_handle is not None:
            self._drain_handle.cancel()
            self._drain_handle = None
        self._queue.clear()
        self._queued_events = 0
        for pending in self._pending.values():
            self._fail(pending, "the gateway closed the link")
        self._pending.clear()
        self._set_status(LinkState.DOWN, "stopped by the gateway")

    async def wait_up(self, timeout: float) -> bool:
        """Waits until the link is UP; False if it is not within ``timeout`` seconds."""
        if self._status.state is LinkState.UP:
            return True
        try:
            async with asyncio.timeout(timeout):
                await self._up.wait()
        except TimeoutError:
            return False
        return True

    async def action(
        self,
        name: str,
        headers: Sequence[tuple[str, str]] = (),
        *,
        timeout: float | None = None,
        on_action_id: Callable[[str], None] | None = None,
    ) -> ActionResult:
        """Sends one action and returns the PBX's answer.

        ``Response: Error`` is returned (``ok`` is False), not raised. Raises
        InvalidArgument for a header that cannot be sent (nothing is written),
        Unavailable when the link is not UP or drops before the answer (reason
        LINK_LOST: the action may or may not have run), DeadlineExceeded when
        no answer comes within ``timeout`` (default ``config.action_timeout``).

        ``on_action_id`` is called with the ActionID before the action is
        written: events the action causes (OriginateResponse) may be dispatched
        before this coroutine resumes, so a caller that correlates them must
        know the id first.
        """
        if not name:
            raise InvalidArgument("an AMI action needs a name", metadata={"backend": self.name})
        for header, _ in headers:
            if header.lower() in ("action", "actionid"):
                raise InvalidArgument(
                    f"header {header!r} of action {name!r} is set by the gateway's AMI "
                    "connection and cannot be passed",
                    metadata={"backend": self.name, "header": header},
                )
        if timeout is not None and timeout <= 0:
            raise InvalidArgument(f"the timeout of action {name!r} must be positive")
        action_id, data = self._encode(name, headers)
        session = self._session
        if self._status.state is not LinkState.UP or session is None or not session.alive:
            raise self._unavailable_now()
        wait = self._config.action_timeout if timeout is None else timeout
        if on_action_id is not None:
            on_action_id(action_id)
        return await self._exchange(session, name, action_id, data, wait)

    def check_sendable(self, name: str, headers: Sequence[tuple[str, str]]) -> None:
        """InvalidArgument if :meth:`action` would refuse these headers; writes nothing
        (for a caller about to send several actions that must all go or none)."""
        self._encode(name, headers)

    # ------------------------------------------------------------ actions

    def _encode(self, name: str, headers: Sequence[tuple[str, str]]) -> tuple[str, bytes]:
        """Assigns an ActionID and encodes; InvalidArgument before anything is written."""
        action_id = f"tg-{next(self._ids)}"
        try:
            data = encode_message([("Action", name), ("ActionID", action_id), *headers])
        except HeaderError as exc:
            raise InvalidArgument(
                f"cannot send action {name!r} to {self.name}: {exc}",
                metadata={"backend": self.name},
            ) from None
        check_ami_limits(name, headers, backend=self.name)
        return action_id, data

    async def _request(
        self,
        session: _Session,
        name: str,
        headers: Sequence[tuple[str, str]],
        limit: float,
    ) -> ActionResult:
        """An action on a given session whatever the link state (login, ping, logoff)."""
        action_id, data = self._encode(name, headers)
        return await self._exchange(session, name, action_id, data, limit)

    async def _exchange(
        self, session: _Session, name: str, action_id: str, data: bytes, limit: float
    ) -> ActionResult:
        if not session.alive:
            raise self._unavailable_now()
        pending = _Pending(name, session.generation, asyncio.get_running_loop().create_future())
        # Registered before the write: the answer may arrive before drain() returns.
        self._pending[action_id] = pending
        # Never log the headers: a plain Login carries the secret.
        log.debug("%s: sending %s (%s)", self.name, name, action_id)
        try:
            async with asyncio.timeout(limit):
                session.writer.write(data)
                await session.writer.drain()
                return await pending.future
        except TimeoutError:
            raise DeadlineExceeded(
                f"the PBX behind {self.name} did not answer {name} within {_seconds(limit)}",
                metadata={"backend": self.name, "action": name},
            ) from None
        except OSError as exc:
            self._lose(session, f"writing to the PBX failed: {exc.strerror or exc}")
            raise self._link_lost(name, f"writing failed: {exc.strerror or exc}") from None
        finally:
            if self._pending.pop(action_id, None) is not None and pending.is_list:
                # Gave up in the middle of a list: swallow the items still to come.
                self._abandon(action_id)

    def _abandon(self, action_id: str) -> None:
        self._abandoned[action_id] = None
        if len(self._abandoned) > _MAX_ABANDONED:
            del self._abandoned[next(iter(self._abandoned))]

    def _unavailable_now(self) -> Unavailable:
        status = self._status
        session = self._session
        if status.state is LinkState.UP and session is not None and session.lost.done():
            # The socket is gone but the supervisor has not said so yet.
            state, detail = LinkState.DOWN, session.lost.result()
        else:
            state, detail = status.state, status.detail
        return Unavailable(
            f"the AMI link to {self.name} is {state.value}: {detail}",
            metadata={"backend": self.name, "link_state": state.value},
        )

    def _link_lost(self, action: str, why: str) -> Unavailable:
        return Unavailable(
            f"the AMI link to {self.name} dropped while {action} was in flight ({why}); "
            "the action may or may not have run on the PBX",
            reason=_LINK_LOST,
            metadata={"backend": self.name, "action": action},
        )

    def _fail(self, pending: _Pending, why: str) -> None:
        if not pending.future.done():
            pending.future.set_exception(self._link_lost(pending.action, why))

    # ------------------------------------------------------------ status

    def _set_status(self, state: LinkState, detail: str) -> None:
        if state is self._status.state and detail == self._status.detail:
            return
        # `since` is when the state began: a new cause within it keeps the time.
        since = self._status.since if state is self._status.state else time.time()
        self._status = LinkStatus(state, detail, since=since, version=self._version)
        if state is LinkState.UP:
            self._up.set()
        else:
            self._up.clear()
        level = {
            LinkState.UP: logging.INFO,
            LinkState.CONNECTING: logging.DEBUG,
            LinkState.DOWN: logging.WARNING,
            LinkState.AUTH_FAILED: logging.ERROR,
        }[state]
        log.log(level, "%s: AMI link %s: %s", self.name, state.value, detail)
        try:
            self._on_link(self._status)
        except Exception:
            log.exception("%s: on_link callback failed", self.name)

    # ------------------------------------------------------------ supervisor

    def _backoff(self, outage_for: float, slow_failures: int) -> float:
        """The wait before the next attempt, ``outage_for`` seconds into an outage.

        Fast retries (``reconnect_fast`` x 0.5-1.25) for the first
        ``reconnect_fast_for`` seconds; then full jitter, uniform(0, min(max,
        min * 2^n)) for the n-th failure after that."""
        cfg = self._config
        if outage_for < cfg.reconnect_fast_for:
            low, high = _FAST_JITTER
            return self._rng.uniform(cfg.reconnect_fast * low, cfg.reconnect_fast * high)
        # Cap the exponent too: 2.0**2000 would overflow a float.
        cap = min(cfg.reconnect_max, cfg.reconnect_min * 2.0 ** min(slow_failures, 60))
        return self._rng.uniform(0.0, cap)

    async def _run(self) -> None:
        cfg = self._config
        # The gateway starts with the link down: that is the first outage.
        outage_since = time.monotonic()
        slow_failures = 0
        numbers = itertools.count(1)
        self._set_status(LinkState.CONNECTING, f"connecting to {cfg.address}")
        while not self._stopping:
            self._attempt = (next(numbers), time.time(), time.monotonic())
            try:
                outcome = await self._connect_once()
            except Exception as exc:
                # A bug must not end the link for good: report it and retry.
                log.exception("%s: AMI connection attempt failed unexpectedly", self.name)
                outcome = _Outcome(LinkState.DOWN, f"internal error: {exc!r}")
            if self._stopping:
                break
            now = time.monotonic()
            if outcome.logged_in and now - self._up_mono >= cfg.reconnect_stable:
                # The link had recovered: a new outage begins, fast retries first.
                outage_since, slow_failures = now, 0
            if outcome.state is LinkState.AUTH_FAILED:
                # A wrong secret must not hammer the PBX (it logs, and may ban us).
                delay = cfg.auth_retry
            else:
                outage_for = now - outage_since
                delay = self._backoff(outage_for, slow_failures)
                if outage_for >= cfg.reconnect_fast_for:
                    slow_failures += 1
            if not outcome.logged_in:
                number, started, started_mono = self._attempt
                self._attempts.append(
                    LinkAttempt(
                        number, started, started_mono, now, outcome.state, outcome.detail, delay
                    )
                )
            self._set_status(outcome.state, outcome.detail)
            log.debug("%s: next AMI connection attempt in %.3f s", self.name, delay)
            await asyncio.sleep(delay)

    async def _connect_once(self) -> _Outcome:
        cfg = self._config
        try:
            async with asyncio.timeout(cfg.connect_timeout):
                reader, writer = await asyncio.open_connection(cfg.host, cfg.port)
        except TimeoutError:
            return _Outcome(
                LinkState.DOWN,
                f"could not connect to {cfg.address} within {_seconds(cfg.connect_timeout)}",
            )
        except OSError as exc:
            # asyncio words it "Connect call failed (addr)": the errno says why.
            why = os.strerror(exc.errno) if exc.errno else str(exc)
            return _Outcome(LinkState.DOWN, f"could not connect to {cfg.address}: {why}")
        session = _Session(next(self._generations), writer)
        session.reader_task = asyncio.create_task(
            self._read_loop(session, reader), name=f"ami-reader-{self.name}"
        )
        self._session = session
        try:
            return await self._serve(session)
        finally:
            self._lose(session, "the gateway closed the connection")
            session.reader_task.cancel()
            await asyncio.wait({session.reader_task})
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                async with asyncio.timeout(1.0):
                    await writer.wait_closed()
            if self._session is session:
                self._session = None

    async def _serve(self, session: _Session) -> _Outcome:
        """Banner, login, then keepalive until the session ends."""
        cfg = self._config
        greeting: set[asyncio.Future[Any]] = {session.banner, session.lost}
        await asyncio.wait(
            greeting,
            timeout=cfg.connect_timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if not session.banner.done():
            if session.lost.done():
                return _Outcome(LinkState.DOWN, f"{session.lost.result()} before its greeting")
            return _Outcome(
                LinkState.DOWN,
                f"{cfg.address} sent no AMI greeting within {_seconds(cfg.connect_timeout)}",
            )
        banner = session.banner.result()
        if not banner.text.startswith(_BANNER_PREFIX):
            return _Outcome(
                LinkState.DOWN,
                f"{cfg.address} is not an Asterisk manager interface: it greeted with "
                f"{banner.text[:80]!r}",
            )
        self._banner, self._version = banner.text, banner.version
        if session.lost.done():  # e.g. garbage right after the banner
            return _Outcome(LinkState.DOWN, session.lost.result())
        refused = await self._login(session)
        if refused is not None:
            return refused
        detail = f"logged in to {cfg.address} as {cfg.username!r}"
        self._up_mono = time.monotonic()
        number, started, started_mono = self._attempt
        self._attempts.append(
            LinkAttempt(number, started, started_mono, self._up_mono, LinkState.UP, detail, None)
        )
        self._set_status(LinkState.UP, detail)
        while True:
            await asyncio.wait({session.lost}, timeout=cfg.ping_interval)
            if session.lost.done():
                return _Outcome(LinkState.DOWN, session.lost.result(), logged_in=True)
            try:
                await self._request(session, "Ping", (), cfg.action_timeout)
            except DeadlineExceeded:
                why = (
                    f"the PBX did not answer a Ping within {_seconds(cfg.action_timeout)}; "
                    "the link is considered dead"
                )
                self._lose(session, why)
                return _Outcome(LinkState.DOWN, why, logged_in=True)
            except Unavailable:
                continue  # the session is lost; the wait above returns at once

    async def _login(self, session: _Session) -> _Outcome | None:
        """Logs in; None on success, else how it failed. Never puts the secret in a detail."""
        cfg = self._config
        user = cfg.username
        try:
            secret = cfg.read_secret()
        except OSError as exc:
            return _Outcome(
                LinkState.AUTH_FAILED,
                f"cannot read the AMI secret of user {user!r}: {exc.strerror or exc}",
            )
        # Asterisk answers a refused login only after ~1 s: never wait less than that.
        step = max(cfg.action_timeout, cfg.connect_timeout)
        try:
            headers: list[tuple[str, str]]
            if cfg.auth == "md5":
                result = await self._request(session, "Challenge", [("AuthType", "MD5")], step)
                challenge = result.response.get("Challenge")
                if not result.ok or not challenge:
                    why = result.message or "no Challenge in the answer"
                    return _Outcome(
                        LinkState.AUTH_FAILED,
                        f"the PBX refused the MD5 challenge for user {user!r} ({why})",
                    )
                key = hashlib.md5(
                    (challenge + secret).encode("utf-8"), usedforsecurity=False
                ).hexdigest()
                headers = [("AuthType", "MD5"), ("Username", user), ("Key", key)]
            else:
                headers = [("Username", user), ("Secret", secret)]
            headers.append(("Events", "on"))
            result = await self._request(session, "Login", headers, step)
        except InvalidArgument:
            # The codec's text names the header only, never its value.
            return _Outcome(
                LinkState.AUTH_FAILED,
                f"the user name or secret configured for {user!r} contains a line break",
            )
        except DeadlineExceeded as exc:
            action = exc.metadata.get("action", "the login")
            return _Outcome(
                LinkState.DOWN,
                f"{cfg.address} sent its banner but no answer to {action} within {_seconds(step)}",
            )
        except Unavailable:
            why = session.lost.result() if session.lost.done() else "the link dropped"
            return _Outcome(LinkState.DOWN, f"{why} (during the login)")
        if not result.ok:
            why = result.message or result.response.name
            return _Outcome(
                LinkState.AUTH_FAILED, f"the PBX refused the login of user {user!r} ({why})"
            )
        return None

    def _lose(self, session: _Session, why: str) -> None:
        """Marks the session as ended (once) and queues the failure of its actions."""
        if session.lost.done():
            return
        session.lost.set_result(why)
        # Through the FIFO, so answers that arrived before the drop still count.
        self._queue.append(_Lost(session.generation, why))
        self._wake()

    # ------------------------------------------------------------ reader

    async def _read_loop(self, session: _Session, reader: asyncio.StreamReader) -> None:
        """Socket to FIFO. Awaits nothing but the socket."""
        address = self._config.address
        parser = Parser(expect_banner=True, first_names=("Response", "Event"))
        try:
            while True:
                data = await reader.read(_READ_SIZE)
                if not data:
                    self._lose(session, f"the PBX at {address} closed the connection")
                    return
                received = time.monotonic()
                for item in parser.feed(data):
                    if isinstance(item, Banner):
                        if not session.banner.done():
                            session.banner.set_result(item)
                    else:
                        self._ingest(item, received)
                self._wake()
        except ProtocolError as exc:
            for item in exc.framed:  # what came before the bad bytes still counts
                if isinstance(item, Banner):
                    if not session.banner.done():
                        session.banner.set_result(item)
                else:
                    self._ingest(item, time.monotonic())
            self._lose(session, f"the PBX at {address} sent data that is not AMI: {exc}")
        except OSError as exc:
            self._lose(session, f"the connection to {address} dropped: {exc.strerror or exc}")

    def _ingest(self, msg: Message, received: float) -> None:
        """Queues one message without ever blocking; drops only uncorrelated events.

        Not drained here: the reader drains once per read (:meth:`_wake`)."""
        if msg.is_response or (
            # With no action in flight nothing can correlate: skip the lookup
            # (its first use on a message lower-cases the whole text).
            (self._pending or self._abandoned)
            and (action_id := msg.action_id) is not None
            and (action_id in self._pending or action_id in self._abandoned)
        ):
            self._queue.append(msg)
            return
        if self._queued_events >= self._config.event_queue_size:
            self._dropped += 1
            return
        if self._dropped:
            # Mark the gap where it happened in the stream.
            self._queue.append(_Dropped(self._dropped))
            self._dropped = 0
        self._queued_events += 1
        self._queue.append(_Counted(msg, received))

    def _wake(self) -> None:
        """Drains the FIFO now, unless a drain is running or already scheduled."""
        if not self._draining and self._drain_handle is None:
            self._drain()

    # ------------------------------------------------------------ draining

    def _drain(self) -> None:
        """Hands on one slice of the FIFO in wire order; schedules the rest."""
        self._drain_handle = None
        queue = self._queue
        popleft = queue.popleft
        self._draining = True
        try:
            for _ in range(min(len(queue), _DISPATCH_SLICE)):
                try:
                    self._dispatch(popleft())
                except Exception:
                    # One bad message must not stop the draining (every action would hang).
                    log.exception("%s: dispatching an AMI message failed", self.name)
        finally:
            self._draining = False
        if queue:
            # Let the reader (and the streams) run first, then go on.
            self._drain_handle = asyncio.get_running_loop().call_soon(self._drain)
        elif self._dropped:
            # Caught up: report what the reader could not queue.
            count, self._dropped = self._dropped, 0
            self._report_dropped(count)

    def _dispatch(self, item: _Item) -> None:
        if isinstance(item, _Counted):
            self._queued_events -= 1
            self.received_mono = item.received
            self._route(item.message)
        elif isinstance(item, Message):
            self.received_mono = time.monotonic()
            self._route(item)
        elif isinstance(item, _Dropped):
            self._report_dropped(item.count)
        else:
            for action_id, pending in list(self._pending.items()):
                if pending.generation == item.generation:
                    del self._pending[action_id]
                    self._fail(pending, item.reason)
            self._abandoned.clear()

    def _route(self, msg: Message) -> None:
        if msg.is_response:
            action_id = msg.action_id
            pending = self._pending.get(action_id) if action_id is not None else None
            if pending is None:
                if action_id is not None and _is_list_start(msg):
                    self._abandon(action_id)
                log.debug("%s: ignoring an answer to no pending action (%s)", self.name, action_id)
                return
            if _is_list_start(msg) and pending.response is None:
                pending.response, pending.is_list = msg, True
                return
            if pending.response is None:
                self._finish(action_id, pending, ActionResult(msg, [], None))
            return
        if msg.is_event:
            # Only an event carrying the ActionID of an action in flight (or
            # abandoned) is a list item: with none, skip the lookup.
            if (self._pending or self._abandoned) and (action_id := msg.action_id) is not None:
                pending = self._pending.get(action_id)
                if pending is not None and pending.is_list and pending.response is not None:
                    if _is_list_complete(msg):
                        result = ActionResult(pending.response, pending.events, msg)
                        self._finish(action_id, pending, result)
                    else:
                        pending.events.append(msg)
                    return
                if action_id in self._abandoned:
                    if _is_list_complete(msg):
                        del self._abandoned[action_id]
                    return
            self._emit(msg)
            return
        log.warning("%s: ignoring a message that is neither response nor event", self.name)

    def _finish(self, action_id: str | None, pending: _Pending, result: ActionResult) -> None:
        if action_id is not None:
            self._pending.pop(action_id, None)
        if not pending.future.done():
            pending.future.set_result(result)

    def _report_dropped(self, count: int) -> None:
        log.warning("%s: event queue full, %d AMI events dropped", self.name, count)
        self._emit(Message([("Event", DROPPED_EVENT), ("Count", str(count))]))

    def _emit(self, msg: Message) -> None:
        try:
            self._on_event(msg)
        except Exception:
            log.exception("%s: on_event callback failed on %s", self.name, msg.name)
