"""The AMI client protocol, sans-I/O (in the manner of h11): bytes and actions
in; completed actions, events and link failures out.

No sockets, no asyncio and no clock here. The caller (the asyncio edge in
``connection.py``, or a test) moves bytes between a socket and this object,
passes the time (any monotonic clock, in seconds) into every call that needs
it, and runs one timer for :attr:`AmiClientProtocol.next_deadline`. Facts it
relies on (reference/ami.md §1, §2, §5):

- a session starts with a banner line, then ``Response:`` / ``Event:``
  messages (framed by the codec, :class:`~.codec.Parser`);
- the answer to an action carries its ``ActionID`` (the gateway always sends
  one); a list action answers ``EventList: start``, then item events with the
  same ActionID, then a ``...Complete`` event (``EventList: Complete``);
- events are interleaved freely with answers, and events caused by an action
  (``OriginateResponse``) may carry its ActionID without being list items.

Use::

    proto = AmiClientProtocol(peer="the PBX at 10.0.0.5:5038")
    proto.connection_made()                       # a TCP session began
    action_id, data = proto.send_action("Ping", now=t, timeout=10.0)
    sock.send(data)
    proto.receive_data(sock.recv(65536), now=t)   # b"" when the peer closed
    for out in proto.next_events(256):            # wire order
        ...  # EventReceived | ActionCompleted | ActionFailed | EventsDropped | LinkLost
    for late in proto.expire(now=t):              # ActionTimedOut, when next_deadline passed
        ...

Outputs keep wire order: an action's completion is returned after the events
that preceded its answer on the wire and before those that followed it, and
an action failed by a lost link after every answer received before the loss.

Backpressure: received messages wait in one FIFO until :meth:`next_events`
takes them. Only *uncorrelated* events count against ``max_queued_events``;
beyond it further events are dropped and the gap is reported, in place, as
:class:`EventsDropped`. Answers are never dropped (the actions in flight bound
their number).

An action the caller gave up on (timed out or cancelled) is *abandoned*: its
late answer is ignored, and the rest of a late list answer (items and the
Complete event) is swallowed rather than handed out as events. An abandoned id
is forgotten when its answer (or its list's Complete) arrives, after
``abandoned_for`` seconds, when more than ``max_abandoned`` are remembered, or
when the session ends.

Observer: ``on_action_done(action_name, outcome, seconds)`` is called once
per action sent, when its fate is known, with ``seconds`` from
:meth:`~AmiClientProtocol.send_action` to that moment on the caller's clock.
``outcome`` is one of:

- ``success``: ``Response: Success`` (or ``Goodbye`` / ``Follows``), after
  the list's Complete event for a list action;
- ``error``: any other ``Response:`` (``Error``), the PBX refused it;
- ``timeout``: no complete answer by its deadline (:meth:`expire`);
- ``link_lost``: the session ended with the action in flight (it may or may
  not have run);
- ``cancelled``: the caller gave up on it before any of the above
  (:meth:`cancel_action`).

Internal actions (Login, Challenge, Ping, Logoff) are reported like any other.
The observer must be cheap and must not call back into the protocol; an
exception it raises is logged and ignored.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from telgate_server.backends.ami.codec import (
    Banner,
    HeaderError,
    Message,
    Parser,
    ProtocolError,
    encode_message,
)

__all__ = [
    "AMI_MAX_HEADERS",
    "AMI_MAX_LINE",
    "CANCELLED",
    "ERROR",
    "LINK_LOST",
    "OUTCOMES",
    "SUCCESS",
    "TIMEOUT",
    "ActionCompleted",
    "ActionFailed",
    "ActionObserver",
    "ActionRefused",
    "ActionResult",
    "ActionTimedOut",
    "AmiClientProtocol",
    "EventReceived",
    "EventsDropped",
    "LinkClosed",
    "LinkLost",
    "Output",
    "check_limits",
]

log = logging.getLogger("telgate.ami")

# Outcomes passed to the observer (see the module docstring).
SUCCESS = "success"
ERROR = "error"
TIMEOUT = "timeout"
LINK_LOST = "link_lost"
CANCELLED = "cancelled"
OUTCOMES = (SUCCESS, ERROR, TIMEOUT, LINK_LOST, CANCELLED)

#: ``on_action_done(action_name, outcome, seconds)``.
ActionObserver = Callable[[str, str, float], None]

_OK_RESPONSES = frozenset({"success", "goodbye", "follows"})

# Asterisk reads an action line by line into a 1024-byte buffer and drops a
# message with a longer line ("line too long"), and takes at most 128 lines
# (manager.c inbuf[1025], AST_MAX_MANHEADERS): an action beyond either would
# be refused after the fact, or its echo in events could exceed the frame cap.
AMI_MAX_LINE = 1024
AMI_MAX_HEADERS = 128

_RESERVED = frozenset({"action", "actionid"})


# ---------------------------------------------------------------- results and outputs


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


# Not frozen: a frozen dataclass's __init__ sets each field through
# object.__setattr__, several times the cost of this plain one, and one is
# made per event.
@dataclass(slots=True)
class EventReceived:
    """An event that is not part of a pending action's answer."""

    message: Message
    #: The caller's clock when the bytes that completed it were received.
    received: float


@dataclass(frozen=True, slots=True)
class ActionCompleted:
    """An action's full answer arrived (``result.ok`` False for ``Response: Error``)."""

    action_id: str
    action: str
    result: ActionResult


@dataclass(frozen=True, slots=True)
class ActionFailed:
    """The session ended while the action was in flight: it may or may not have run."""

    action_id: str
    action: str
    reason: str


@dataclass(frozen=True, slots=True)
class EventsDropped:
    """``count`` events were dropped here in the stream (the FIFO was full)."""

    count: int


@dataclass(frozen=True, slots=True)
class LinkLost:
    """The session ended (after the :class:`ActionFailed` of its actions)."""

    reason: str


Output = EventReceived | ActionCompleted | ActionFailed | EventsDropped | LinkLost


@dataclass(frozen=True, slots=True)
class ActionTimedOut:
    """No complete answer by the action's deadline (see :meth:`AmiClientProtocol.expire`)."""

    action_id: str
    action: str
    timeout: float


class ActionRefused(ValueError):
    """An action that must not be written (nothing was): the text says why,
    naming the header (never quoting its value)."""

    def __init__(self, message: str, header: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.header = header


class LinkClosed(RuntimeError):
    """An action was sent with no session open."""


def check_limits(name: str, headers: Sequence[tuple[str, str]]) -> None:
    """ActionRefused for an action Asterisk would not take (too many or too long lines)."""
    if len(headers) + 2 > AMI_MAX_HEADERS:
        raise ActionRefused(
            f"action {name!r} would have {len(headers) + 2} header lines; Asterisk takes at "
            f"most {AMI_MAX_HEADERS}"
        )
    for header, value in headers:
        size = len(header.encode()) + len(value.encode()) + 4  # ": " and CRLF
        if size > AMI_MAX_LINE:
            raise ActionRefused(
                f"header {header!r} of action {name!r} would be a {size}-byte line; Asterisk "
                f"takes lines of at most {AMI_MAX_LINE} bytes",
                header,
            )


# ---------------------------------------------------------------- internals


@dataclass(slots=True)
class _Pending:
    action: str
    session: int
    sent: float
    timeout: float | None
    response: Message | None = None
    is_list: bool = False
    events: list[Message] = field(default_factory=list)


@dataclass(slots=True)
class _Abandoned:
    forget_at: float
    # Its list answer has begun: swallow the items until the Complete.
    is_list: bool


@dataclass(slots=True)
class _Correlated:
    """A response, or an event carrying the ActionID of an action in flight or abandoned."""

    message: Message
    received: float


@dataclass(frozen=True, slots=True)
class _Lost:
    """Session ``session`` ended here in the stream: fail the actions still waiting on it."""

    session: int
    reason: str
    at: float


_Item = EventReceived | _Correlated | EventsDropped | _Lost


def _is_list_start(msg: Message) -> bool:
    return (msg.get("EventList") or "").lower() == "start"


def _is_list_complete(msg: Message) -> bool:
    return (msg.get("EventList") or "").lower() == "complete" or msg.name.endswith("Complete")


def _default_ids() -> Iterator[str]:
    return (f"tg-{n}" for n in itertools.count(1))


# ---------------------------------------------------------------- the protocol


class AmiClientProtocol:
    """The client side of AMI sessions, one after another, without I/O.

    ``peer`` names the far end in failure reasons ("the PBX at host:port").
    ``action_ids`` yields the ActionIDs (``tg-1``, ``tg-2``, ... by default);
    they must be unique over the object's life. One object serves every
    session of a link, so ids stay unique across reconnects and outputs of a
    lost session are still handed out, in order, after a new one began.
    """

    def __init__(
        self,
        *,
        peer: str = "the peer",
        max_queued_events: int = 100_000,
        max_message_size: int = 1 << 20,
        abandoned_for: float = 120.0,
        max_abandoned: int = 1024,
        action_ids: Iterator[str] | None = None,
        on_action_done: ActionObserver | None = None,
    ) -> None:
        self.peer = peer
        self.on_action_done = on_action_done
        self._max_queued_events = max_queued_events
        self._max_message_size = max_message_size
        self._abandoned_for = abandoned_for
        self._max_abandoned = max_abandoned
        self._ids = action_ids if action_ids is not None else _default_ids()
        self._session = 0
        self._open = False
        self._parser: Parser | None = None
        self._banner: Banner | None = None
        self._failure: str | None = None
        self._pending: dict[str, _Pending] = {}
        self._abandoned: dict[str, _Abandoned] = {}
        # (deadline, action id); entries of actions no longer pending are skipped.
        self._deadlines: list[tuple[float, str]] = []
        self._queue: collections.deque[_Item] = collections.deque()
        self._queued_events = 0
        self._dropped = 0

    # ------------------------------------------------------------ session

    def connection_made(self) -> None:
        """A new TCP session began: expect a banner. The previous one must have
        ended (:meth:`connection_lost`)."""
        if self._open:
            raise RuntimeError("the previous AMI session is still open")
        self._session += 1
        self._open = True
        self._failure = None
        self._banner = None
        self._parser = Parser(
            expect_banner=True,
            max_message_size=self._max_message_size,
            first_names=("Response", "Event"),
        )

    def receive_data(self, data: bytes, now: float) -> None:
        """Bytes from the socket; ``b""`` means the peer closed it. Never raises:
        data that is not AMI ends the session (see :attr:`failure`)."""
        parser = self._parser
        if not self._open or parser is None:
            return  # after the end of a session: nothing more counts
        if not data:
            self.connection_lost(f"{self.peer} closed the connection", now)
            return
        if self._abandoned:
            self._forget_expired(now)
        try:
            items = parser.feed(data)
        except ProtocolError as exc:
            # What came before the bad bytes still counts.
            self._ingest_all(exc.framed, now)
            self.connection_lost(f"{self.peer} sent data that is not AMI: {exc}", now)
            return
        self._ingest_all(items, now)

    def connection_lost(self, reason: str, now: float) -> None:
        """The session ended (socket error, closed, given up on). Its actions
        in flight fail, as :class:`ActionFailed`, after the outputs already
        queued. Does nothing if no session is open."""
        if not self._open:
            return
        self._open = False
        self._failure = reason
        self._parser = None
        self._queue.append(_Lost(self._session, reason, now))

    def abort(self, reason: str, now: float) -> list[ActionFailed]:
        """Ends everything at once (the caller closes the link for good):
        discards the queued outputs and fails every action in flight now."""
        self._open = False
        self._failure = reason
        self._parser = None
        self._queue.clear()
        self._queued_events = self._dropped = 0
        failed = [ActionFailed(aid, p.action, reason) for aid, p in self._pending.items()]
        pending, self._pending = self._pending, {}
        self._deadlines.clear()
        self._abandoned.clear()
        for p in pending.values():
            self._report(p, LINK_LOST, now)
        return failed

    @property
    def session_open(self) -> bool:
        """True from :meth:`connection_made` until the session ended."""
        return self._open

    @property
    def failure(self) -> str | None:
        """Why the last session ended, None while it is open (or before any)."""
        return self._failure

    @property
    def banner(self) -> Banner | None:
        """The current session's greeting, None before it came."""
        return self._banner

    # ------------------------------------------------------------ actions

    def check_action(self, name: str, headers: Sequence[tuple[str, str]] = ()) -> bytes:
        """The wire form of an action without its ActionID; ActionRefused if
        it cannot be sent (:meth:`send_action` would refuse it too)."""
        return self._encode(name, "", headers)

    def send_action(
        self,
        name: str,
        headers: Sequence[tuple[str, str]] = (),
        *,
        now: float,
        timeout: float | None = None,
    ) -> tuple[str, bytes]:
        """Registers an action and returns its ActionID and the bytes to write.

        Its answer comes out of :meth:`next_events` as :class:`ActionCompleted`
        (or :class:`ActionFailed`); with a ``timeout``, :meth:`expire` at
        ``now + timeout`` or later reports it instead if it has not completed.
        Raises ActionRefused (nothing registered, nothing to write) for headers
        that cannot be sent, LinkClosed when no session is open.
        """
        if not self._open:
            raise LinkClosed(f"no AMI session with {self.peer} is open")
        action_id = next(self._ids)
        data = self._encode(name, action_id, headers)
        self._pending[action_id] = _Pending(name, self._session, now, timeout)
        if timeout is not None:
            heapq.heappush(self._deadlines, (now + timeout, action_id))
        return action_id, data

    def cancel_action(self, action_id: str, now: float, outcome: str = CANCELLED) -> bool:
        """The caller gave up on an action: its answer will be ignored.
        False if it was not in flight (already completed, failed or timed out)."""
        pending = self._pending.pop(action_id, None)
        if pending is None:
            return False
        self._abandon(action_id, pending.is_list, now)
        self._report(pending, outcome, now)
        return True

    @property
    def next_deadline(self) -> float | None:
        """The earliest deadline of an action in flight (caller's clock), or None."""
        deadlines = self._deadlines
        pending = self._pending
        while deadlines and deadlines[0][1] not in pending:
            heapq.heappop(deadlines)
        return deadlines[0][0] if deadlines else None

    def expire(self, now: float) -> list[ActionTimedOut]:
        """The actions whose deadline is ``now`` or earlier; they are abandoned."""
        out: list[ActionTimedOut] = []
        deadlines = self._deadlines
        while deadlines and deadlines[0][0] <= now:
            _, action_id = heapq.heappop(deadlines)
            pending = self._pending.pop(action_id, None)
            if pending is None:
                continue
            self._abandon(action_id, pending.is_list, now)
            self._report(pending, TIMEOUT, now)
            out.append(ActionTimedOut(action_id, pending.action, pending.timeout or 0.0))
        if self._abandoned:
            self._forget_expired(now)
        return out

    @property
    def in_flight(self) -> int:
        """Actions sent and not yet completed, failed, timed out or cancelled."""
        return len(self._pending)

    @property
    def abandoned(self) -> int:
        """ActionIDs whose late answers are being ignored."""
        return len(self._abandoned)

    # ------------------------------------------------------------ output

    @property
    def backlog(self) -> int:
        """Received items (and session ends) that :meth:`next_events` has not handed out."""
        return len(self._queue) + (1 if self._dropped else 0)

    def next_events(self, limit: int | None = None) -> list[Output]:
        """Hands out up to ``limit`` received items (all by default), in wire order,
        as outputs; ``[]`` when nothing waits."""
        queue = self._queue
        count = len(queue) if limit is None else min(limit, len(queue))
        out: list[Output] = []
        append = out.append
        popleft = queue.popleft
        for _ in range(count):
            item = popleft()
            cls = type(item)
            if cls is EventReceived:
                self._queued_events -= 1
                append(item)  # type: ignore[arg-type]
            elif cls is _Correlated:
                self._route(item, out)  # type: ignore[arg-type]
            elif cls is EventsDropped:
                append(item)  # type: ignore[arg-type]
            else:
                self._end_session(item, out)  # type: ignore[arg-type]
        if not queue and self._dropped:
            # Caught up: report what could not be queued.
            append(EventsDropped(self._dropped))
            self._dropped = 0
        return out

    # ------------------------------------------------------------ internals

    def _encode(self, name: str, action_id: str, headers: Sequence[tuple[str, str]]) -> bytes:
        if not name:
            raise ActionRefused("an AMI action needs a name")
        for header, _ in headers:
            if header.lower() in _RESERVED:
                raise ActionRefused(
                    f"header {header!r} of action {name!r} is set by the gateway's AMI "
                    "connection and cannot be passed",
                    header,
                )
        try:
            data = encode_message([("Action", name), ("ActionID", action_id), *headers])
        except HeaderError as exc:
            raise ActionRefused(f"cannot send action {name!r}: {exc}") from None
        check_limits(name, headers)
        return data

    def _ingest_all(self, items: list[Banner | Message], now: float) -> None:
        """Queues framed messages without ever blocking; drops only uncorrelated events."""
        queue = self._queue
        pending = self._pending
        abandoned = self._abandoned
        for msg in items:
            if type(msg) is Banner:
                if self._banner is None:
                    self._banner = msg
                continue
            assert isinstance(msg, Message)
            kind = msg.kind
            if kind == "response" or (
                # With no action in flight nothing can correlate: skip the lookup
                # (its first use on a message lower-cases the whole text).
                (pending or abandoned)
                and (action_id := msg.action_id) is not None
                and (action_id in pending or action_id in abandoned)
            ):
                queue.append(_Correlated(msg, now))
                continue
            if kind != "event":
                log.warning("%s: ignoring a message that is neither response nor event", self.peer)
                continue
            if self._queued_events >= self._max_queued_events:
                self._dropped += 1
                continue
            if self._dropped:
                # Mark the gap where it happened in the stream.
                queue.append(EventsDropped(self._dropped))
                self._dropped = 0
            self._queued_events += 1
            queue.append(EventReceived(msg, now))

    def _route(self, item: _Correlated, out: list[Output]) -> None:
        msg = item.message
        action_id = msg.action_id
        if msg.is_response:
            pending = self._pending.get(action_id) if action_id is not None else None
            if pending is None:
                self._late_response(action_id, msg, item.received)
                return
            if pending.response is None:
                if _is_list_start(msg):
                    pending.response, pending.is_list = msg, True
                else:
                    self._complete(action_id, pending, ActionResult(msg, [], None), item, out)
            # A second response to a list being gathered: ignored.
            return
        # An event: a list item of an action in flight, a late one of an
        # abandoned action, or an ordinary event that carries an ActionID.
        pending = self._pending.get(action_id) if action_id is not None else None
        if pending is not None and pending.is_list:
            if _is_list_complete(msg):
                assert pending.response is not None
                result = ActionResult(pending.response, pending.events, msg)
                self._complete(action_id, pending, result, item, out)
            else:
                pending.events.append(msg)
            return
        if action_id is not None and pending is None:
            abandoned = self._abandoned.get(action_id)
            if abandoned is not None and abandoned.is_list:
                if _is_list_complete(msg):
                    del self._abandoned[action_id]
                return
        out.append(EventReceived(msg, item.received))

    def _late_response(self, action_id: str | None, msg: Message, now: float) -> None:
        """A response to no action in flight: ignored; an abandoned id is forgotten,
        unless a list answer begins (then its items are swallowed until the Complete).
        An id this client never sent (or forgot) is not remembered: nothing of
        ours waits for its items, and its Complete may have passed already."""
        log.debug("%s: ignoring an answer to no pending action (%s)", self.peer, action_id)
        if action_id is None:
            return
        if self._abandoned.pop(action_id, None) is not None and _is_list_start(msg):
            self._abandon(action_id, True, now)

    def _complete(
        self,
        action_id: str | None,
        pending: _Pending,
        result: ActionResult,
        item: _Correlated,
        out: list[Output],
    ) -> None:
        assert action_id is not None
        del self._pending[action_id]
        self._report(pending, SUCCESS if result.ok else ERROR, item.received)
        out.append(ActionCompleted(action_id, pending.action, result))

    def _end_session(self, lost: _Lost, out: list[Output]) -> None:
        for action_id, pending in list(self._pending.items()):
            if pending.session == lost.session:
                del self._pending[action_id]
                self._report(pending, LINK_LOST, lost.at)
                out.append(ActionFailed(action_id, pending.action, lost.reason))
        # Ids are never reused: late answers cannot come on another session.
        self._abandoned.clear()
        out.append(LinkLost(lost.reason))

    def _abandon(self, action_id: str, is_list: bool, now: float) -> None:
        abandoned = self._abandoned
        abandoned[action_id] = _Abandoned(now + self._abandoned_for, is_list)
        if len(abandoned) > self._max_abandoned:
            del abandoned[next(iter(abandoned))]

    def _forget_expired(self, now: float) -> None:
        # Insertion order is expiry order: the caller's clock does not go back.
        abandoned = self._abandoned
        while abandoned:
            action_id = next(iter(abandoned))
            if abandoned[action_id].forget_at > now:
                return
            del abandoned[action_id]

    def _report(self, pending: _Pending, outcome: str, now: float) -> None:
        observer = self.on_action_done
        if observer is None:
            return
        try:
            observer(pending.action, outcome, max(0.0, now - pending.sent))
        except Exception:
            log.exception("%s: on_action_done observer failed", self.peer)
