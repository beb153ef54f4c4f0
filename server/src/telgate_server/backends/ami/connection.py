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

This module is only the asyncio edge. Framing, ActionID correlation, list
answers, abandoned ids, the event FIFO and its overflow accounting, action
deadlines and the action observer live in the sans-I/O
:class:`~.protocol.AmiClientProtocol` (one per link, over all its sessions),
which is tested by feeding it bytes. What is left here:

- the **reader** (one task per TCP session) only awaits the socket. Asterisk
  drops a manager client that does not read for ~100 ms, so the reader never
  waits for anyone: it hands each read to the protocol (which frames and
  queues without blocking), then drains once per read.
- **draining** (:meth:`AmiConnection._drain`, plain synchronous code) takes at
  most ``_DISPATCH_SLICE`` outputs at a time from the protocol, in wire order,
  resolves the futures of completed actions and hands every other event to
  ``on_event``, which must not block. What is left after a slice is drained by
  a callback on the next loop iteration, so that a long burst never keeps the
  socket unread for long. No task hand-off per read: at tens of thousands of
  events per second, each wake-up of a dispatcher task cost a measurable
  share of the CPU.
- **one timer** for the earliest action deadline the protocol reports; when
  it fires, the protocol says which actions timed out (DeadlineExceeded).
- the **supervisor** (``_run``) connects, logs in, pings, and reconnects.

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
from dataclasses import dataclass
from typing import Any

from telgate_server.backends.ami.codec import Banner, Message
from telgate_server.backends.ami.protocol import (
    AMI_MAX_HEADERS,
    AMI_MAX_LINE,
    LINK_LOST,
    ActionCompleted,
    ActionFailed,
    ActionObserver,
    ActionRefused,
    ActionResult,
    AmiClientProtocol,
    EventReceived,
    EventsDropped,
    check_limits,
)
from telgate_server.backends.ami.settings import AmiBackendConfig
from telgate_server.errors import DeadlineExceeded, GatewayError, InvalidArgument, Unavailable
from telgate_server.gateway.model import LinkState, LinkStatus

__all__ = [
    "AMI_MAX_HEADERS",
    "AMI_MAX_LINE",
    "DROPPED_EVENT",
    "ActionResult",
    "AmiConnection",
    "LinkAttempt",
    "check_ami_limits",
]

log = logging.getLogger("telgate.ami")

#: Name of the synthetic event that reports events dropped on queue overflow.
DROPPED_EVENT = "telgate.EventsDropped"

_BANNER_PREFIX = "Asterisk Call Manager/"
_READ_SIZE = 1 << 16
# Let the reader run after this many dispatched messages, so that a long burst
# handed to on_event never keeps the socket unread for long.
_DISPATCH_SLICE = 256
_LOGOFF_TIMEOUT = 1.0
# Attempts kept in AmiConnection.attempts.
_ATTEMPTS_KEPT = 1000
# Fast retries wait reconnect_fast times a factor in this range.
_FAST_JITTER = (0.5, 1.25)
_LINK_LOST = "LINK_LOST"


def check_ami_limits(name: str, headers: Sequence[tuple[str, str]], *, backend: str) -> None:
    """InvalidArgument, before anything is written, for an action Asterisk would not take."""
    try:
        check_limits(name, headers)
    except ActionRefused as exc:
        raise _invalid(exc, backend) from None


def _invalid(exc: ActionRefused, backend: str) -> InvalidArgument:
    metadata = {"backend": backend}
    if exc.header is not None:
        metadata["header"] = exc.header[:40]
    return InvalidArgument(exc.message, metadata=metadata)


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


class _Session:
    """One TCP session: its writer, reader task and the futures of its life."""

    __slots__ = ("banner", "lost", "reader_task", "writer")

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
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


def _seconds(value: float) -> str:
    return f"{value:g} s"


# ---------------------------------------------------------------- the connection


class AmiConnection:
    """The gateway's link to one Asterisk PBX over AMI.

    ``on_event`` receives every event that is not an item of a pending list
    action, in wire order; ``on_link`` receives each change of the link's
    state or detail. Both are synchronous and must be cheap.
    ``on_action_done(action_name, outcome, seconds)``, if given, is called
    once per action (see :mod:`.protocol` for the outcomes); for metrics.
    """

    def __init__(
        self,
        name: str,
        config: AmiBackendConfig,
        *,
        on_event: Callable[[Message], None],
        on_link: Callable[[LinkStatus], None],
        rng: random.Random | None = None,
        on_action_done: ActionObserver | None = None,
    ) -> None:
        self.name = name
        self._config = config
        self._on_event = on_event
        self._on_link = on_link
        self._rng = rng if rng is not None else random.Random()
        self._status = LinkStatus(LinkState.DOWN, "not started", since=time.time())
        self._banner = ""
        self._version = ""
        self._proto = AmiClientProtocol(
            peer=f"the PBX at {config.address}",
            max_queued_events=config.event_queue_size,
            on_action_done=on_action_done,
        )
        self._session: _Session | None = None
        # The futures of the actions in flight, by ActionID.
        self._futures: dict[str, asyncio.Future[ActionResult]] = {}
        # A drain is running / is scheduled for the next loop iteration.
        self._draining = False
        self._drain_handle: asyncio.Handle | None = None
        # The timer for the protocol's earliest action deadline, and when it fires.
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
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
        # time.monotonic() of the last read from the PBX's socket (the keepalive's
        # sign of life besides the Ping's answer).
        self._read_mono = 0.0

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

    @property
    def on_action_done(self) -> ActionObserver | None:
        """``on_action_done(action_name, outcome, seconds)``, called once per action
        (outcomes: success, error, timeout, link_lost, cancelled; see :mod:`.protocol`).
        Settable at any time, e.g. by metrics wired after the backend was built."""
        return self._proto.on_action_done

    @on_action_done.setter
    def on_action_done(self, observer: ActionObserver | None) -> None:
        self._proto.on_action_done = observer

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
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        why = "the gateway closed the link"
        for failed in self._proto.abort(why, time.monotonic()):
            self._fail(failed.action_id, failed.action, why)
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
        if timeout is not None and timeout <= 0:
            raise InvalidArgument(f"the timeout of action {name!r} must be positive")
        session = self._session
        if self._status.state is not LinkState.UP or session is None or not session.alive:
            self.check_sendable(name, headers)  # bad input is refused whatever the link
            raise self._unavailable_now()
        wait = self._config.action_timeout if timeout is None else timeout
        return await self._exchange(session, name, headers, wait, on_action_id)

    def check_sendable(self, name: str, headers: Sequence[tuple[str, str]]) -> None:
        """InvalidArgument if :meth:`action` would refuse these headers; writes nothing
        (for a caller about to send several actions that must all go or none)."""
        try:
            self._proto.check_action(name, headers)
        except ActionRefused as exc:
            raise _invalid(exc, self.name) from None

    # ------------------------------------------------------------ actions

    async def _request(
        self,
        session: _Session,
        name: str,
        headers: Sequence[tuple[str, str]],
        limit: float,
    ) -> ActionResult:
        """An action on a given session whatever the link state (login, ping, logoff)."""
        return await self._exchange(session, name, headers, limit, None)

    async def _exchange(
        self,
        session: _Session,
        name: str,
        headers: Sequence[tuple[str, str]],
        limit: float,
        on_action_id: Callable[[str], None] | None,
    ) -> ActionResult:
        if not session.alive or not self._proto.session_open:
            raise self._unavailable_now()
        try:
            action_id, data = self._proto.send_action(
                name, headers, now=time.monotonic(), timeout=limit
            )
        except ActionRefused as exc:
            raise _invalid(exc, self.name) from None
        # Registered before the write: the answer may arrive before drain() returns.
        future: asyncio.Future[ActionResult] = asyncio.get_running_loop().create_future()
        self._futures[action_id] = future
        self._arm_timer()
        if on_action_id is not None:
            on_action_id(action_id)
        # Never log the headers: a plain Login carries the secret.
        log.debug("%s: sending %s (%s)", self.name, name, action_id)
        writer = session.writer
        try:
            writer.write(data)
            if writer.transport.get_write_buffer_size():
                # The PBX is slow to read: wait for the socket, unless the
                # answer, the deadline or the end of the link comes first.
                await self._drain_or(writer, future)
            return await future
        except OSError as exc:
            self._proto.cancel_action(action_id, time.monotonic(), LINK_LOST)
            self._lose(session, f"writing to the PBX failed: {exc.strerror or exc}")
            raise self._link_lost(name, f"writing failed: {exc.strerror or exc}") from None
        finally:
            del self._futures[action_id]
            if not future.done() or future.cancelled():
                # The caller gave up (its task was cancelled, which cancels the
                # future it awaited): ignore the answer when it comes.
                future.cancel()
                self._proto.cancel_action(action_id, time.monotonic())

    @staticmethod
    async def _drain_or(writer: asyncio.StreamWriter, future: asyncio.Future[ActionResult]) -> None:
        drain = asyncio.ensure_future(writer.drain())
        either: set[asyncio.Future[Any]] = {drain, future}
        try:
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            drain.cancel()
            raise
        if not drain.done():
            drain.cancel()  # the answer, the deadline or the end of the link came first
        elif not drain.cancelled() and (exc := drain.exception()) is not None:
            raise exc

    def _arm_timer(self) -> None:
        """Makes the timer fire at the protocol's earliest deadline."""
        deadline = self._proto.next_deadline
        if deadline is None:
            return
        if self._timer is not None:
            if self._timer_at <= deadline:
                return
            self._timer.cancel()
        self._timer_at = deadline
        self._timer = asyncio.get_running_loop().call_later(
            max(0.0, deadline - time.monotonic()), self._on_timer
        )

    def _on_timer(self) -> None:
        self._timer = None
        for late in self._proto.expire(time.monotonic()):
            future = self._futures.get(late.action_id)
            if future is not None and not future.done():
                future.set_exception(
                    DeadlineExceeded(
                        f"the PBX behind {self.name} did not answer {late.action} within "
                        f"{_seconds(late.timeout)}",
                        metadata={"backend": self.name, "action": late.action},
                    )
                )
        self._arm_timer()

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

    def _fail(self, action_id: str, action: str, why: str) -> None:
        future = self._futures.get(action_id)
        if future is not None and not future.done():
            future.set_exception(self._link_lost(action, why))

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
        session = _Session(writer)
        # No-op unless an earlier attempt ended without saying so (a bug): its
        # actions fail rather than the new session being refused.
        self._proto.connection_lost("a new connection replaced it", time.monotonic())
        self._proto.connection_made()
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
            sent = time.monotonic()
            try:
                await self._request(session, "Ping", (), cfg.action_timeout)
            except DeadlineExceeded:
                if self._read_mono > sent:
                    # The PBX kept talking: its answer is queued behind a
                    # backlog of events, not lost. Dropping the link here would
                    # lose that backlog (seen at 20,000 events/s).
                    log.info(
                        "%s: no Ping answer within %s while the PBX is sending; the link is kept",
                        self.name,
                        _seconds(cfg.action_timeout),
                    )
                    continue
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
        if self._session is session:
            # Queued behind what was received, so answers before the drop still count.
            self._proto.connection_lost(why, time.monotonic())
        self._wake()

    # ------------------------------------------------------------ reader

    async def _read_loop(self, session: _Session, reader: asyncio.StreamReader) -> None:
        """Socket to protocol. Awaits nothing but the socket."""
        proto = self._proto
        receive = proto.receive_data
        try:
            while True:
                data = await reader.read(_READ_SIZE)
                self._read_mono = now = time.monotonic()
                receive(data, now)
                if not session.banner.done() and proto.banner is not None:
                    session.banner.set_result(proto.banner)
                if not proto.session_open:
                    # The peer closed the socket, or sent data that is not AMI.
                    self._lose(session, proto.failure or "the session ended")
                    return
                self._wake()
        except OSError as exc:
            address = self._config.address
            self._lose(session, f"the connection to {address} dropped: {exc.strerror or exc}")

    def _wake(self) -> None:
        """Drains the protocol's output now, unless a drain is running or already scheduled."""
        if not self._draining and self._drain_handle is None:
            self._drain()

    # ------------------------------------------------------------ draining

    def _drain(self) -> None:
        """Hands on one slice of the protocol's output in wire order; schedules the rest."""
        self._drain_handle = None
        self._draining = True
        try:
            for out in self._proto.next_events(_DISPATCH_SLICE):
                if isinstance(out, EventReceived):
                    self.received_mono = out.received
                    self._emit(out.message)
                elif isinstance(out, ActionCompleted):
                    future = self._futures.get(out.action_id)
                    if future is not None and not future.done():
                        future.set_result(out.result)
                elif isinstance(out, ActionFailed):
                    self._fail(out.action_id, out.action, out.reason)
                elif isinstance(out, EventsDropped):
                    self._report_dropped(out.count)
                # LinkLost: the supervisor learnt it from the session itself.
        finally:
            self._draining = False
        if self._proto.backlog:
            # Let the reader (and the streams) run first, then go on.
            self._drain_handle = asyncio.get_running_loop().call_soon(self._drain)

    def _report_dropped(self, count: int) -> None:
        log.warning("%s: event queue full, %d AMI events dropped", self.name, count)
        self._emit(Message([("Event", DROPPED_EVENT), ("Count", str(count))]))

    def _emit(self, msg: Message) -> None:
        try:
            self._on_event(msg)
        except Exception:
            log.exception("%s: on_event callback failed on %s", self.name, msg.name)
