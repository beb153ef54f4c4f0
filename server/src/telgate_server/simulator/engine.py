"""The call engine: a sans-I/O state machine that turns calls into AMI events.

No sockets and no asyncio: the engine is driven by a :class:`~.clock.Clock`
(delayed callbacks) and hands every event it produces to a sink
(``sink(message, event_class)``). Each call runs as a generator that emits the
events of one step and yields the number of *lab* seconds until the next step;
the engine multiplies that by ``time_scale``. Hanging a call up cancels its
generator and runs the teardown, so the events come out in one burst, as they
do from a real Asterisk.

Event names, header order and the order of events follow the transcripts of
a real Asterisk 22.10.1 (shared/fixtures/ami 10, 11, 12, 13, 15).
"""

from __future__ import annotations

import enum
import re
import time
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import NamedTuple

from ..backends.ami.codec import Header, Message
from .agi_dial import DIAL_VARS
from .agi_dialplan import AgiLauncher, AgiTestDialplan
from .channels import (
    BUSY,
    RING,
    RINGING,
    STATE_DESC,
    UNKNOWN,
    UP,
    Channel,
    cause_text,
    event,
    parse_callerid,
)
from .chanspy import SpyBook
from .clock import Cancellable, Clock
from .playback import PlaybackBook
from .queues import QueueBook
from .world import Phone, PhoneKind, World

EventSink = Callable[[Message, str], None]

# Answer() on a ringing channel waits up to 500 ms for a media frame before the
# dialplan goes on (main/channel.c __ast_answer): a lab phone's PlayTones comes
# half a second after its Answer unless its peer already sends media.
ANSWER_WAIT = 0.5


class OriginateError(Exception):
    """An Originate refused before anything was queued; ``str()`` is the AMI message."""


@dataclass
class OriginateRequest:
    """The parsed headers of an Originate action."""

    channel: str
    context: str = ""
    exten: str = ""
    priority: str = ""
    application: str = ""
    data: str = ""
    callerid: str = ""
    timeout_ms: int = 30000
    variables: dict[str, str] = field(default_factory=dict)
    account: str = ""
    channel_id: str = ""
    other_channel_id: str = ""
    is_async: bool = False
    action_id: str | None = None


OriginateDone = Callable[[bool], None]


class DialLeg(NamedTuple):
    """The calling phone (``call.o2``) of a Dial: when its Wait ends (clock time), the
    priority of its PlayTones, its tone and its talk time in lab seconds."""

    ends_at: float
    prio: int
    tone: str
    talk: float


class Phase(enum.Enum):
    """Where a call is in its life."""

    SETUP = "setup"  # originate pair ringing
    RUNNING = "running"  # ;1 answered, running dialplan or app, no bridge
    DIALING = "dialing"  # ;1 dialling the callee pair
    BRIDGED = "bridged"
    ENDED = "ended"


@dataclass
class Call:
    """One originated call: its Local pair(s), bridge and running step generator."""

    req: OriginateRequest
    on_done: OriginateDone | None
    o1: Channel | None = None
    o2: Channel | None = None
    d1: Channel | None = None
    d2: Channel | None = None
    bridge_id: str = ""
    phase: Phase = Phase.SETUP
    originate_pending: bool = True
    timer: Cancellable | None = None
    steps: Generator[float, None, None] | None = None
    dial_started: float = 0.0
    dial_answered: float = 0.0
    in_step: bool = False  # the step generator is running (it cannot close itself)
    # Runs the generator's next step now (set by Engine._run; see Engine.wake).
    wake: Callable[[], None] | None = None
    # Further channels a feature adds to the call (the legs a queue rings, ...).
    extra: list[Channel] = field(default_factory=list)
    # A feature that owns the call's hangups (queues, ChanSpy, ControlPlayback):
    # ``handler(channel, cause, requested_cause)``; requested_cause is the Hangup
    # action's Cause header as given (0 when absent), cause the engine's default.
    handler: Callable[[Channel, int, int], None] | None = None

    def channels(self) -> list[Channel]:
        """The call's channels that exist, in creation order."""
        base = [c for c in (self.o1, self.o2, self.d1, self.d2) if c is not None]
        return base + [c for c in self.extra if all(c is not b for b in base)]

    def partner(self, ch: Channel) -> Channel:
        """The other half of ``ch``'s Local pair."""
        pairs = ((self.o1, self.o2), (self.d1, self.d2))
        for a, b in pairs:
            if ch is a and b is not None:
                return b
            if ch is b and a is not None:
                return a
        raise KeyError(ch.name)


class Engine:
    """The simulated PBX core: channels, calls, variables and their events."""

    def __init__(
        self,
        world: World,
        clock: Clock,
        sink: EventSink,
        *,
        time_scale: float = 1.0,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.world = world
        self.clock = clock
        self.time_scale = time_scale
        self._sink = sink
        self._wall0 = wall()
        self._clock0 = clock.time()
        self._uid_seq = 0
        # The number in the next Local channel's name (``-0000000a``); a lab that has
        # run calls before starts further on (fixture replays set it).
        self.next_local_seq = 0
        # LocalOptimizationBegin/End ``Id``: Asterisk counts optimizations since it started.
        self.local_optimizations = 0
        self.channels: dict[str, Channel] = {}  # by name, creation order
        self.calls: list[Call] = []
        self.global_vars: dict[str, str] = {}
        self.calls_processed = 0
        self.started_epoch = int(self._wall0)
        # Called with each channel that hangs up (after its Hangup event): features
        # that watch other calls (ChanSpy's E option) learn of it here.
        self.hangup_observers: list[Callable[[Channel], None]] = []
        # The feature modules keep their state next to the engine.
        self.queues = QueueBook(self)
        self.spies = SpyBook(self)
        self.playbacks = PlaybackBook(self)
        # Called with (channel, digit) for each DTMF digit a channel receives
        # (PlayDTMF on its Local partner): the AGI digit readers listen here.
        self.dtmf_observers: list[Callable[[Channel, str], None]] = []
        # Starts a FastAGI session (set by the TCP edge, which owns the sockets);
        # None: the engine runs without I/O and AGI() fails to connect.
        self.agi_launcher: AgiLauncher | None = None
        # The AstDB (DATABASE PUT/GET/DEL/DELTREE), keyed "/family/key".
        self.astdb: dict[str, str] = {}
        self.agi_dialplan = AgiTestDialplan(self)

    # ------------------------------------------------------------------ time

    def lab_now(self) -> float:
        """Epoch seconds as the lab would see them (sim time divided by time_scale)."""
        elapsed = (self.clock.time() - self._clock0) / (self.time_scale or 1.0)
        return self._wall0 + elapsed

    def lab_elapsed(self, since_clock: float) -> float:
        """Lab seconds since a clock reading."""
        return (self.clock.time() - since_clock) / (self.time_scale or 1.0)

    def uptime(self) -> int:
        """Whole lab seconds since the engine started."""
        return int(self.lab_elapsed(self._clock0))

    def active_calls(self) -> int:
        """Channels running a PBX (what CoreStatus/`core show channels` count as calls):
        every channel except a Dial()ed outgoing leg."""
        return sum(1 for ch in self.channels.values() if ch.app != "AppDial")

    # -------------------------------------------------------------- channels

    def find_channel(self, name: str) -> Channel | None:
        """A live channel by exact name (case-insensitive), else by unique id, as
        ast_channel_get_by_name does (so every action also takes a Uniqueid)."""
        ch = self.channels.get(name)
        if ch is not None:
            return ch
        low = name.lower()
        for cand in self.channels.values():
            if cand.name.lower() == low:
                return cand
        for cand in self.channels.values():
            if cand.uniqueid == name:
                return cand
        return None

    def listed_channels(self) -> list[Channel]:
        """Live channels in the order Asterisk lists them (Status, CoreShowChannels,
        ``core show channels``): its channel containers are hash tables of 1567 buckets
        keyed by ast_str_case_hash(name), walked bucket by bucket, oldest first."""
        return sorted(self.channels.values(), key=lambda c: _name_bucket(c.name))

    def match_channels(self, pattern: str) -> list[Channel]:
        """Live channels whose name matches a regex (Hangup's ``/regex/`` form)."""
        rx = re.compile(pattern)
        return [c for c in self.channels.values() if rx.search(c.name)]

    def call_of(self, ch: Channel) -> Call | None:
        """The call a channel belongs to."""
        for call in self.calls:
            if any(c is ch for c in call.channels()):
                return call
        return None

    def _next_uid(self) -> str:
        uid = f"{int(self.lab_now())}.{self._uid_seq}"
        self._uid_seq += 1
        return uid

    def _new_pair(
        self, exten: str, context: str, linkedid: str | None, uid1: str = "", uid2: str = ""
    ) -> tuple[Channel, Channel]:
        base = f"Local/{exten}@{context}-{self.next_local_seq:08x}"
        self.next_local_seq += 1
        # The counter advances even when the client supplies the ids (as Asterisk's does).
        auto1, auto2 = self._next_uid(), self._next_uid()
        # Only a ChannelId: the ;2 half gets it with ";2" appended (core_unreal.c).
        u1, u2 = uid1 or auto1, uid2 or (f"{uid1};2" if uid1 else auto2)
        link = linkedid or u1
        now = self.clock.time()
        one = Channel(f"{base};1", u1, link, context, exten, now)
        two = Channel(f"{base};2", u2, link, context, exten, now, state=RING)
        self.channels[one.name] = one
        self.channels[two.name] = two
        return one, two

    # ---------------------------------------------------------------- events

    def emit(self, name: str, cls: str, headers: list[Header]) -> None:
        """Sends one event of class ``cls`` to the sink."""
        self._sink(event(name, f"{cls},all", headers), cls)

    def emit_message(self, message: Message, cls: str) -> None:
        """Sends a ready-made event (fault injection, UserEvent) to the sink."""
        self._sink(message, cls)

    def _newchannel(self, ch: Channel) -> None:
        self.emit("Newchannel", "call", ch.block())

    def _newexten(self, ch: Channel, priority: int, app: str, data: str) -> None:
        ch.priority = priority
        ch.app, ch.app_data = app, data
        ch.last_app, ch.last_data = app, data
        self.emit(
            "Newexten",
            "dialplan",
            [*ch.block(), ("Extension", ch.exten), ("Application", app), ("AppData", data)],
        )

    def _newstate(self, ch: Channel, state: int) -> None:
        ch.state = state
        if state == UP and ch.answered_at is None:
            ch.answered_at = self.lab_now()
            ch.up_clock = self.clock.time()
        self.emit("Newstate", "call", ch.block())

    def _varset(self, ch: Channel, var: str, value: str) -> None:
        ch.variables[var] = value
        self.emit("VarSet", "dialplan", [*ch.block(), ("Variable", var), ("Value", value)])

    def _set_callerid(self, ch: Channel, num: str, name: str, *, announce: bool = True) -> None:
        changed = (ch.cid_num, ch.cid_name) != (num, name)
        ch.cid_num, ch.cid_name = num, name
        if changed and announce:
            self._newcallerid(ch)

    def _set_both(self, ch: Channel, caller: tuple[str, str], conn: tuple[str, str]) -> None:
        """Sets caller and connected line together, then announces what changed (a ;2 half
        gets both from its ;1 at once, so its NewCallerid already shows the new line)."""
        caller_changed = (ch.cid_num, ch.cid_name) != caller
        conn_changed = (ch.conn_num, ch.conn_name) != conn
        ch.cid_num, ch.cid_name = caller
        ch.conn_num, ch.conn_name = conn
        if caller_changed:
            self._newcallerid(ch)
        if conn_changed:
            self.emit("NewConnectedLine", "call", ch.block())

    def snapshot_update(
        self,
        ch: Channel,
        *,
        caller: tuple[str, str] | None = None,
        conn: tuple[str, str] | None = None,
        account: str | None = None,
    ) -> None:
        """Sets caller id, account code and connected line at once, then announces what
        changed in manager_channels.c's monitor order (NewCallerid, NewAccountCode,
        NewConnectedLine): one channel snapshot, several events."""
        caller_changed = caller is not None and (ch.cid_num, ch.cid_name) != caller
        old_account = ch.account
        account_changed = account is not None and account != ch.account
        conn_changed = conn is not None and (ch.conn_num, ch.conn_name) != conn
        if caller is not None:
            ch.cid_num, ch.cid_name = caller
        if conn is not None:
            ch.conn_num, ch.conn_name = conn
        if account is not None:
            ch.account = account
        if caller_changed:
            self._newcallerid(ch)
        if account_changed:
            self.emit("NewAccountCode", "call", [*ch.block(), ("OldAccountCode", old_account)])
        if conn_changed:
            self.emit("NewConnectedLine", "call", ch.block())

    def _newcallerid(self, ch: Channel) -> None:
        self.emit(
            "NewCallerid",
            "call",
            [*ch.block(), ("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")],
        )

    def _set_connected(self, ch: Channel, num: str, name: str, *, announce: bool = True) -> None:
        changed = (ch.conn_num, ch.conn_name) != (num, name)
        ch.conn_num, ch.conn_name = num, name
        if changed and announce:
            self.emit("NewConnectedLine", "call", ch.block())

    def _local_bridge(self, one: Channel, two: Channel, optimization: str) -> None:
        self.emit(
            "LocalBridge",
            "call",
            [
                *one.block("LocalOne"),
                *two.block("LocalTwo"),
                ("Context", one.context),
                ("Exten", one.exten),
                ("LocalOptimization", optimization),
            ],
        )

    def _dial_event(
        self, name: str, caller: Channel | None, dest: Channel, extra: list[Header]
    ) -> None:
        headers = caller.block() if caller is not None else []
        self.emit(name, "call", [*headers, *dest.block("Dest"), *extra])

    def _hangup_request(self, ch: Channel, cause: int, *, soft: bool = False) -> None:
        # A SoftHangupRequest's Cause is ast_softhangup's flag, AST_SOFTHANGUP_EXPLICIT
        # (16) for every hang-up an action or Hangup() asks for, whatever the Q.850 cause.
        name = "SoftHangupRequest" if soft else "HangupRequest"
        self.emit(name, "call", [*ch.block(), ("Cause", "16" if soft else str(cause))])

    def _hangup(self, ch: Channel, cause: int) -> None:
        if ch.hungup:
            return
        ch.hungup = True
        self.channels.pop(ch.name, None)
        self.emit(
            "Hangup", "call", [*ch.block(), ("Cause", str(cause)), ("Cause-txt", cause_text(cause))]
        )
        for observer in list(self.hangup_observers):
            observer(ch)

    def _bridge_headers(self, count: int) -> list[Header]:
        return [
            ("BridgeType", "basic"),
            ("BridgeTechnology", "simple_bridge"),
            ("BridgeCreator", UNKNOWN),
            ("BridgeName", UNKNOWN),
            ("BridgeNumChannels", str(count)),
            ("BridgeVideoSourceMode", "none"),
        ]

    def _bridge_event(self, name: str, bridge_id: str, count: int, ch: Channel | None) -> None:
        headers: list[Header] = [("BridgeUniqueid", bridge_id), *self._bridge_headers(count)]
        if ch is not None:
            headers += ch.block()
        self.emit(name, "call", headers)

    def _device_state(self, device: str, state: str) -> None:
        self.emit("DeviceStateChange", "call", [("Device", device), ("State", state)])

    def _device_in_use(self, device: str) -> bool:
        return any(c.device == device for c in self.channels.values())

    def _member_status(self, device: str) -> None:
        """QueueMemberStatus for each queue ``device`` is in, then the queue's _avail state."""
        self.queues.member_status(device)

    def _cdr(
        self,
        ch: Channel,
        disposition: str,
        *,
        dest_channel: str = "",
        destination: str | None = None,
        last: tuple[str, str] | None = None,
    ) -> None:
        def fmt(epoch: float | None) -> str:
            if epoch is None:
                return ""
            return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))

        end = self.lab_now()
        start = self._wall0 + (ch.created - self._clock0) / (self.time_scale or 1.0)
        answer = ch.answered_at if disposition == "ANSWERED" else None
        known = ch.cid_num != UNKNOWN
        source = ch.cid_num if known else ""
        cid_name = ch.cid_name if ch.cid_name != UNKNOWN else ""
        self.emit(
            "Cdr",
            "cdr",
            [
                ("AccountCode", ch.account),
                ("Source", source),
                ("Destination", ch.exten if destination is None else destination),
                ("DestinationContext", ch.context),
                ("CallerID", f'"{cid_name}" <{source}>'),
                ("Channel", ch.name),
                ("DestinationChannel", dest_channel),
                ("LastApplication", ch.last_app if last is None else last[0]),
                ("LastData", ch.last_data if last is None else last[1]),
                ("StartTime", fmt(start)),
                ("AnswerTime", fmt(answer)),
                ("EndTime", fmt(end)),
                ("Duration", str(int(end - start))),
                ("BillableSeconds", str(int(end - answer)) if answer is not None else "0"),
                ("Disposition", disposition),
                ("AMAFlags", "DOCUMENTATION"),
                ("UniqueID", ch.uniqueid),
                ("UserField", ""),
            ],
        )

    # -------------------------------------------------------------- originate

    def check_originate(self, req: OriginateRequest) -> None:
        """Raises :class:`OriginateError` for what Asterisk refuses before queueing."""
        if req.exten and not req.application and not self.world.has_exten(req.context, req.exten):
            raise OriginateError("Extension does not exist.")

    def originate(self, req: OriginateRequest, on_done: OriginateDone | None = None) -> Call:
        """Starts an originate. ``on_done(answered)`` fires once the outcome is known.

        Async originates get an ``OriginateResponse`` event; sync ones do not
        (the caller turns ``on_done`` into the action's response).
        """
        call = Call(req, on_done)
        self.calls.append(call)
        tech, _, rest = req.channel.partition("/")
        if tech.lower() != "local" or "@" not in rest:
            # No such channel technology: nothing is created (fixture 08).
            self._originate_result(call, False, 0)
            self.calls.remove(call)
            call.phase = Phase.ENDED
            return call
        self._run(call, self._originate_steps(call))
        return call

    def _run(self, call: Call, steps: Generator[float, None, None]) -> None:
        call.steps = steps

        def step() -> None:
            call.timer = None
            call.in_step = True
            try:
                delay = next(steps)
            except StopIteration:
                call.steps = None
                return
            finally:
                call.in_step = False
            if call.steps is not steps:  # stopped while running
                return
            call.timer = self.clock.call_later(delay * self.time_scale, step)

        call.wake = step
        step()

    def wake(self, call: Call) -> None:
        """Runs a waiting call's next step now (an outside event, such as the end of a
        FastAGI session, ended its wait early)."""
        if call.steps is None or call.in_step or call.wake is None:
            return
        if call.timer is not None:
            call.timer.cancel()
            call.timer = None
        call.wake()

    def dtmf_received(self, ch: Channel, digit: str) -> None:
        """Tells the DTMF observers that ``ch`` received ``digit``."""
        for observer in list(self.dtmf_observers):
            observer(ch, digit)

    def _stop(self, call: Call) -> None:
        if call.timer is not None:
            call.timer.cancel()
            call.timer = None
        if call.steps is not None:
            steps, call.steps = call.steps, None
            if not call.in_step:
                steps.close()

    def _originate_result(self, call: Call, ok: bool, reason: int) -> None:
        if not call.originate_pending:
            return
        call.originate_pending = False
        req = call.req
        if req.is_async:
            headers: list[Header] = []
            if req.action_id is not None:
                headers.append(("ActionID", req.action_id))
            cid_num, cid_name = parse_callerid(req.callerid) if req.callerid else (UNKNOWN, UNKNOWN)
            if ok and call.o1 is not None:
                channel, uid = call.o1.name, call.o1.uniqueid
                cid_num, cid_name = call.o1.cid_num, call.o1.cid_name
            else:
                # A failure still names the channel id the client asked for (the real
                # lab, Asterisk 22: `Uniqueid: <ChannelId>`); without one, none.
                channel, uid = req.channel, req.channel_id or UNKNOWN
            headers += [("Response", "Success" if ok else "Failure"), ("Channel", channel)]
            if req.application:
                headers += [("Application", req.application), ("Data", req.data)]
            else:
                headers += [("Context", req.context), ("Exten", req.exten)]
            headers += [
                ("Reason", str(reason)),
                ("Uniqueid", uid),
                ("CallerIDNum", cid_num),
                ("CallerIDName", cid_name),
            ]
            self.emit("OriginateResponse", "call", headers)
        if call.on_done is not None:
            call.on_done(ok)

    def _end(self, call: Call) -> None:
        self._stop(call)
        call.phase = Phase.ENDED
        for ch in call.channels():
            ch.hungup = True
            self.channels.pop(ch.name, None)
        if call in self.calls:
            self.calls.remove(call)
        self.calls_processed += 1

    def _originate_steps(self, call: Call) -> Generator[float, None, None]:
        req = call.req
        target, _, _opts = req.channel.partition("/")[2].partition("/")
        exten, _, context = target.partition("@")
        o1, o2 = self._new_pair(exten, context, None, req.channel_id, req.other_channel_id)
        call.o1, call.o2 = o1, o2
        self._newchannel(o1)
        self._newchannel(o2)
        self._newexten(o1, 1, "AppDial2", "(Outgoing Line)")
        # __ast_request_and_dial sets the variables (VarSet in reverse order), the
        # account and caller id on ;1; ast_unreal_call_setup copies them to ;2 (VarSets in
        # the given order), each half's snapshot then announces what changed.
        for var, value in reversed(req.variables.items()):
            self._varset(o1, var, value)
        caller = parse_callerid(req.callerid) if req.callerid else (UNKNOWN, UNKNOWN)
        self.snapshot_update(o1, caller=caller, account=req.account)
        self.snapshot_update(o1, conn=caller)  # a later snapshot (fixture 10)
        for var, value in req.variables.items():
            self._varset(o2, var, value)
        self.snapshot_update(o2, caller=caller, conn=caller, account=req.account)
        dev = o1.device
        if not self.world.has_exten(context, exten):
            # Local/999@phones: the ;2 half finds no extension (fixture 12).
            self._hangup(o2, 0)
            self._originate_result(call, False, 0)
            self._hangup(o1, 0)
            self._cdr(o2, "FAILED")
            self._cdr(o1, "FAILED")
            self._device_state(dev, "INVALID")
            self._device_state(dev, "INVALID")
            self._end(call)
            return
        no_opt = _opts == "n"
        self._local_bridge(o1, o2, "No" if no_opt else "Yes")
        dial_string = req.channel.partition("/")[2]
        if context == "agi-test":
            # Local/1xx@agi-test: the ;2 half runs [agi-test] before anything answers.
            self._dial_event("DialBegin", None, o1, [("DialString", dial_string)])
            yield from self.agi_dialplan.incoming(call)
            return
        phone = self.world.phones.get(exten) if context == "phones" else None
        kind = phone.kind if phone is not None else PhoneKind.SUPERVISOR
        if kind is PhoneKind.BUSY:
            self._dial_event("DialBegin", None, o1, [("DialString", dial_string)])
            self._newexten(o2, 1, "Busy", "5")
            self._newstate(o2, BUSY)
            self._dial_event("DialEnd", None, o1, [("DialStatus", "BUSY")])
            self._hangup_request(o2, 0)
            self._device_state(dev, "NOT_INUSE")
            self._originate_result(call, False, 5)
            self._hangup(o1, 0)
            self._hangup_request(o2, 16, soft=True)
            self._hangup(o2, 17)
            self._device_state(dev, "NOT_INUSE")
            self._device_state(dev, "NOT_INUSE")
            self._cdr(o1, "BUSY")
            self._cdr(o2, "BUSY")
            self._end(call)
            return
        if kind is PhoneKind.CONGESTION:
            self._newexten(o2, 1, "Congestion", "5")
            self._newstate(o2, BUSY)
            self._dial_event("DialBegin", None, o1, [("DialString", dial_string)])
            self._dial_event("DialEnd", None, o1, [("DialStatus", "CONGESTION")])
            self._device_state(dev, "INUSE")
            self._hangup_request(o2, 0)
            self._cdr(o2, "CONGESTION")
            self._hangup_request(o2, 16, soft=True)
            self._hangup(o2, 34)
            self._cdr(o1, "CONGESTION")
            self._originate_result(call, False, 8)
            self._hangup(o1, 0)
            self._device_state(dev, "NOT_INUSE")
            self._device_state(dev, "NOT_INUSE")
            self._end(call)
            return
        self._dial_event("DialBegin", None, o1, [("DialString", dial_string)])
        timeout = req.timeout_ms / 1000.0 if req.timeout_ms > 0 else 30.0
        if kind is PhoneKind.SUPERVISOR:
            self._newexten(o2, 1, "Answer", "")
            self._newstate(o2, UP)
            self._newstate(o1, UP)
            self._device_state(dev, "INUSE")
            self._dial_event("DialEnd", None, o1, [("DialStatus", "ANSWER")])
            next_prio = 2
        else:
            ring = phone.ring_seconds if phone is not None else 1.0
            if kind is PhoneKind.NO_ANSWER:
                self._newexten(o2, 1, "Ringing", "")
                self._newstate(o1, RINGING)
                self._newexten(o2, 2, "Wait", "60")
                self._dial_event("DialState", None, o1, [("DialStatus", "RINGING")])
                self._device_state(dev, "INUSE")
                ring = float("inf")
            else:
                label = "agent" if kind is PhoneKind.AGENT else "customer"
                self._newexten(o2, 1, "NoOp", f"{label} phone {exten} ringing")
                self._newexten(o2, 2, "Ringing", "")
                self._newstate(o1, RINGING)
                self._newexten(o2, 3, "Wait", f"{ring:g}")
                self._device_state(dev, "INUSE")
                self._member_status(dev)
                self._dial_event("DialState", None, o1, [("DialStatus", "RINGING")])
            if ring >= timeout:
                yield timeout
                # Timeout: the originate gives up (fixture 12, Local/281).
                self._hangup_request(o2, 19)
                self._originate_result(call, False, 3)
                self._hangup_request(o2, 16, soft=True)
                self._hangup(o2, 19)
                self._hangup(o1, 19)
                self._cdr(o2, "NO ANSWER")
                self._cdr(o1, "NO ANSWER")
                self._device_state(dev, "NOT_INUSE")
                self._device_state(dev, "NOT_INUSE")
                self._member_status(dev)
                self._end(call)
                return
            yield ring
            self._newexten(o2, 4, "Answer", "")
            self._newstate(o2, UP)
            self._newstate(o1, UP)
            self._dial_event("DialEnd", None, o1, [("DialStatus", "ANSWER")])
            next_prio = 5
        call.phase = Phase.RUNNING
        o2_talk = phone.talk_seconds if phone is not None else 240.0
        o2_tone = phone.tone if phone is not None else "425"
        o2_ends_at = self.clock.time() + (ANSWER_WAIT + o2_talk) * self.time_scale
        feature = self._feature_steps(call, DialLeg(o2_ends_at, next_prio, o2_tone, o2_talk))
        if feature is not None:
            yield from feature
            return
        if req.application:
            self._originate_result(call, True, 4)
            # The answered phone is in use now (Dial's path says so once it rings on).
            self._member_status(o1.device)
            self._device_state(o1.device, "INUSE")
            self._device_state(o1.device, "INUSE")
            # The application runs without the dialplan: no Newexten (the channel and its
            # Cdr still show it).
            o1.app = o1.last_app = req.application
            o1.app_data = o1.last_data = req.data
            self._o2_talk(o2, next_prio, o2_tone, o2_talk)
            app_time = _app_seconds(req.application, req.data)
            if app_time is not None and app_time < o2_talk:
                yield app_time
                # The application returned: nothing set a hangup cause, unless it was
                # Hangup() (16, Normal Clearing, by default).
                cause = 16 if req.application.lower() == "hangup" else 0
                self._teardown(call, o1, cause, by_action=False)
                return
            yield ANSWER_WAIT + o2_talk
            self._newexten(o2, next_prio + 2, "Hangup", self._hangup_data(o2))
            self._teardown(call, o2, 16, by_action=False)
            return
        o1.context, o1.exten = req.context, req.exten
        is_dial = (
            req.context == "from-internal" and req.exten.startswith("2") and len(req.exten) == 3
        )
        caller_num = o1.cid_num if o1.cid_num != UNKNOWN else ""
        if not is_dial:
            self._originate_result(call, True, 4)
            self._newexten(o1, 1, "NoOp", f"{req.context},{req.exten}")
            self._o2_talk(o2, next_prio, o2_tone, o2_talk)
            yield ANSWER_WAIT + o2_talk
            self._newexten(o2, next_prio + 2, "Hangup", self._hangup_data(o2))
            self._teardown(call, o2, 16, by_action=False)
            return
        yield from self._dial_steps(
            call,
            req.exten,
            DialLeg(o2_ends_at, next_prio, o2_tone, o2_talk),
            first=("NoOp", f"internal call {caller_num} -> {req.exten}"),
        )

    def _feature_steps(self, call: Call, leg: DialLeg) -> Generator[float, None, None] | None:
        """The steps of an answered originate that a feature module runs: the queue
        (``from-internal,500``), ChanSpy, ControlPlayback/Playback; None otherwise."""
        req = call.req
        app = req.application.lower()
        if app == "chanspy":
            return self.spies.originated(call, leg)
        if app == "controlplayback":
            return self.playbacks.originated(call, leg)
        if app:
            return None
        if req.context == "agi-test":
            return self.agi_dialplan.originated(call, leg)
        if req.context == "from-internal" and req.exten == "500":
            return self.queues.call_steps(call, leg)
        if (req.context, req.exten) in {("playback", "300"), ("playback", "301")} or (
            req.context == "from-internal" and req.exten == "300"
        ):
            return self.playbacks.dialplan(call, leg)
        return None

    def _dial_steps(
        self,
        call: Call,
        exten: str,
        leg: DialLeg,
        *,
        first: tuple[str, str] | None,
        play_o2: bool = True,
    ) -> Generator[float, None, None]:
        """``[from-internal] _2XX``: ``call.o1`` Dials ``Local/<exten>@phones/n`` and is
        bridged with it until one side ends. ``first`` is what priority 1 shows in its
        Newexten; ``play_o2`` is false when ``call.o2`` already plays its tone (a
        transferred leg keeps the Wait it was in)."""
        o1, o2 = call.o1, call.o2
        assert o1 is not None and o2 is not None
        o2_ends_at, next_prio, o2_tone, o2_talk = leg
        o1.context, o1.exten = "from-internal", exten
        if first is not None:
            self._newexten(o1, 1, *first)
        callee = self.world.phones.get(exten)
        dial_data = f"Local/{exten}@phones/n,{self.world.dial_timeout},{self.world.dial_options}"
        self._newexten(o1, 2, "Dial", dial_data)
        call.phase = Phase.DIALING
        call.dial_started = self.clock.time()
        for var in DIAL_VARS:
            self._varset(o1, var, "")
        d1, d2 = self._new_pair(exten, "phones", o1.linkedid)
        call.d1, call.d2 = d1, d2
        self._newchannel(d1)
        self._newchannel(d2)
        peer_number = f"{exten}@phones/n"
        self._varset(d1, "DIALEDPEERNUMBER", peer_number)
        # The dialled leg shows the caller's *connected* name: an originate sets both
        # the same, but a consultation leg (18-atxfer) has a caller and no connected line.
        self._set_callerid(d1, exten, o1.conn_name, announce=False)
        caller_changed = d1.cid_num != UNKNOWN or d1.cid_name != UNKNOWN
        self._set_connected(d1, o1.cid_num, o1.cid_name, announce=False)
        conn_changed = (o1.cid_num, o1.cid_name) != (UNKNOWN, UNKNOWN)
        # Dial gives the outgoing channel the caller's account code (announced with the
        # caller id's snapshot, after the Newexten that already shows it).
        account_changed = d1.account != o1.account
        d1.account = o1.account
        self._newexten(d1, 1, "AppDial", "(Outgoing Line)")
        if caller_changed:
            self._newcallerid(d1)
        if account_changed:
            self.emit("NewAccountCode", "call", [*d1.block(), ("OldAccountCode", "")])
        if conn_changed:
            self.emit("NewConnectedLine", "call", d1.block())
        self._varset(d2, "DIALEDPEERNUMBER", peer_number)
        self.snapshot_update(
            d2,
            caller=(o1.cid_num, o1.cid_name),
            conn=(d1.cid_num, d1.cid_name),
            account=d1.account,
        )
        self._local_bridge(d1, d2, "No")
        self._dial_event("DialBegin", o1, d1, [("DialString", peer_number)])
        ddev = d1.device
        ckind = callee.kind if callee is not None else None
        if ckind is None or ckind in (PhoneKind.BUSY, PhoneKind.CONGESTION):
            # The callee fails at once: Dial returns, the ;1 leg's dialplan ends.
            status, cause = ("BUSY", 17) if ckind is PhoneKind.BUSY else ("CONGESTION", 34)
            if ckind is None:
                status, cause = "CHANUNAVAIL", 0
                self._hangup(d2, 0)
            else:
                self._newexten(d2, 1, "Busy" if ckind is PhoneKind.BUSY else "Congestion", "5")
                self._newstate(d2, BUSY)
            self._originate_result(call, True, 4)
            self._o2_talk(o2, next_prio, o2_tone, o2_talk, play=play_o2)
            self._dial_failed(call, status, cause)
            return
        ring = callee.ring_seconds if callee is not None else 1.0
        if ckind is PhoneKind.SUPERVISOR:
            self._originate_result(call, True, 4)
            self._newexten(d2, 1, "Answer", "")
            ring = 0.0
        else:
            label = "agent" if ckind is PhoneKind.AGENT else "customer"
            if ckind is PhoneKind.NO_ANSWER:
                self._newexten(d2, 1, "Ringing", "")
                self._newstate(d1, RINGING)
                self._newexten(d2, 2, "Wait", "60")
                ring = float("inf")
            else:
                self._newexten(d2, 1, "NoOp", f"{label} phone {exten} ringing")
                self._newexten(d2, 2, "Ringing", "")
                self._newstate(d1, RINGING)
                self._newexten(d2, 3, "Wait", f"{ring:g}")
            self._originate_result(call, True, 4)
            if play_o2:
                # The caller's phone was answered just now (a transferred leg's was not).
                self._device_state(o1.device, "INUSE")
                self._device_state(o1.device, "INUSE")
            self._device_state(ddev, "INUSE")
            self._varset(o1, "RINGTIME", "0")
            self._varset(o1, "RINGTIME_MS", "0")
            self._dial_event("DialState", o1, d1, [("DialStatus", "RINGING")])
        self._o2_talk(o2, next_prio, o2_tone, o2_talk, play=play_o2)
        self._member_status(ddev)
        dial_timeout = float(self.world.dial_timeout)
        if ring >= dial_timeout:
            yield dial_timeout
            self._dial_failed(call, "NOANSWER", 19)
            return
        yield ring
        if ckind is not PhoneKind.SUPERVISOR:
            self._newexten(d2, 4, "Answer", "")
        self._newstate(d2, UP)
        self._newstate(d1, UP)
        call.dial_answered = self.clock.time()
        self._varset(o1, "DIALSTATUS", "ANSWER")
        self._varset(o1, "DIALEDPEERNAME", d1.name)
        self._varset(o1, "DIALEDPEERNUMBER", peer_number)
        d1.exten = ""
        self._dial_event("DialEnd", o1, d1, [("DialStatus", "ANSWER")])
        if o1.state != UP:
            # A caller that is not up yet (a consultation leg's ;2 half, 18-atxfer) is
            # answered by Dial once the callee answers.
            self._newstate(o1, UP)
        bridge_id = str(uuid.uuid4())
        call.bridge_id = bridge_id
        self._bridge_event("BridgeCreate", bridge_id, 0, None)
        self._newexten(d1, 1, "AppDial", "(Outgoing Line)")
        d1.bridge_id = bridge_id
        self._bridge_event("BridgeEnter", bridge_id, 1, d1)
        self._device_state(ddev, "INUSE")
        self._device_state(ddev, "INUSE")
        o1.bridge_id = bridge_id
        self._bridge_event("BridgeEnter", bridge_id, 2, o1)
        for var in ("BLINDTRANSFER", "ATTENDEDTRANSFER"):
            if o1.variables.get(var):
                # A transferred channel forgets its transferer once it is bridged again.
                self._varset(o1, var, "")
        self._varset(d1, "BRIDGEPEER", o1.name)
        self._varset(o1, "BRIDGEPEER", d1.name)
        call.phase = Phase.BRIDGED
        d_prio = 2 if ckind is PhoneKind.SUPERVISOR else 5
        d_talk = callee.talk_seconds if callee is not None else 240.0
        self._newexten(d2, d_prio, "PlayTones", callee.tone if callee else "425")
        self._newexten(d2, d_prio + 1, "Wait", f"{d_talk:g}")
        d2.wait_ends = self.clock.time() + d_talk * self.time_scale
        o2_left = max(0.0, (o2_ends_at - self.clock.time()) / (self.time_scale or 1.0))
        if d_talk <= o2_left:
            yield d_talk
            self._newexten(d2, d_prio + 2, "Hangup", "16" if ckind is PhoneKind.CUSTOMER else "")
            self._teardown(call, d2, 16, by_action=False)
        else:
            yield o2_left
            self._newexten(o2, next_prio + 2, "Hangup", self._hangup_data(o2))
            self._teardown(call, o2, 16, by_action=False)

    def _hangup_data(self, ch: Channel) -> str:
        """What a lab phone's last priority passes to Hangup(): customers say 16."""
        phone = self.world.phones.get(ch.exten) if ch.context == "phones" else None
        return "16" if phone is not None and phone.kind is PhoneKind.CUSTOMER else ""

    def _o2_talk(
        self, o2: Channel, prio: int, tone: str, talk: float, *, play: bool = True
    ) -> None:
        """The originated phone's dialplan after Answer: Playtones then Wait, once
        Answer's wait for media (:data:`ANSWER_WAIT`) is over."""
        if not play:
            return
        now = self.clock.time()
        start = max(now, o2.up_clock + ANSWER_WAIT * self.time_scale)
        o2.wait_ends = start + talk * self.time_scale
        answered_at = o2.priority

        def go() -> None:
            # Not if it hung up or was sent elsewhere (a Redirect) meanwhile.
            if not o2.hungup and o2.priority == answered_at:
                self._newexten(o2, prio, "PlayTones", tone)
                self._newexten(o2, prio + 1, "Wait", f"{talk:g}")

        if start <= now:
            go()
        else:
            self.clock.call_later(start - now, go)

    def _dial_failed(self, call: Call, status: str, cause: int) -> None:
        """Dial() returned without an answer: the callee pair goes, then the caller's."""
        o1, d1, d2 = call.o1, call.d1, call.d2
        assert o1 is not None and d1 is not None and d2 is not None
        if status in ("BUSY", "CONGESTION"):
            self._dial_refused(call, status, cause)
            return
        self._varset(o1, "DIALSTATUS", status)
        self._dial_event("DialEnd", o1, d1, [("DialStatus", status)])
        for ch in (d2, d1):
            if not ch.hungup:
                self._hangup_request(ch, cause)
                self._hangup(ch, cause)
        if d2.last_app:
            self._cdr(d2, _disposition(status))
        self._device_state(d1.device, "NOT_INUSE")
        self._newexten(o1, 3, "Hangup", "")
        self._teardown(call, o1, 16, by_action=False, explicit=True)

    def _dial_refused(self, call: Call, status: str, cause: int) -> None:
        """The dialled phone ran Busy() or Congestion(), as the real lab shows it: the
        callee's ;1 goes with cause 0 (its ;2 with 17 / 34), then the caller's
        Hangup() ends its pair; four CDRs, the dial's own BUSY / CONGESTION."""
        o1, o2, d1, d2 = call.o1, call.o2, call.d1, call.d2
        assert o1 is not None and o2 is not None and d1 is not None and d2 is not None
        self._stop(call)
        ddev = d1.device
        self._dial_event("DialEnd", o1, d1, [("DialStatus", status)])
        self._hangup_request(d2, 0)
        self._cdr(d2, status)
        self._hangup_request(d2, 16, soft=True)
        self._hangup(d1, 0)
        self._hangup(d2, cause)
        self._device_state(ddev, "NOT_INUSE")
        self._varset(o1, "DIALSTATUS", status)
        self._device_state(ddev, "NOT_INUSE")
        dial_app, dial_data = o1.last_app, o1.last_data
        self._newexten(o1, 3, "Hangup", "")
        self._hangup_request(o1, 16, soft=True)
        self._cdr(o2, "ANSWERED")
        self._hangup_request(o2, 16)
        self._hangup_request(o2, 16, soft=True)
        self._hangup(o2, 16)
        # The Dial's record (forked when Dial returned), then the caller's own.
        self._cdr(o1, status, dest_channel=d1.name, last=(dial_app, dial_data))
        self._cdr(o1, "ANSWERED")
        self._device_state(o1.device, "NOT_INUSE")
        self._hangup(o1, 16)
        self._member_status(o1.device)
        self._device_state(o1.device, "NOT_INUSE")
        self._end(call)

    # --------------------------------------------------------------- hangups

    def hangup(self, ch: Channel, cause: int = 16, *, requested: int | None = None) -> None:
        """The Hangup action on one channel (``requested``: its Cause header, 0 if absent)."""
        call = self.call_of(ch)
        if call is None:
            self._hangup(ch, cause)
            return
        if call.handler is not None:
            call.handler(ch, cause, cause if requested is None else requested)
            return
        if call.phase is not Phase.BRIDGED and requested is not None:
            # The action sets a hangup cause only when it has a Cause header.
            cause = requested
        self._teardown(call, ch, cause, by_action=True)

    def hangup_many(
        self, chans: list[Channel], cause: int = 16, *, requested: int | None = None
    ) -> None:
        """The Hangup action with a regex: every matching channel at once."""
        done: set[int] = set()
        for ch in chans:
            call = self.call_of(ch)
            if call is not None and call.handler is not None:
                if not ch.hungup:
                    call.handler(ch, cause, cause if requested is None else requested)
                continue
            if call is None or id(call) in done or call.phase is Phase.ENDED:
                if call is None and not ch.hungup:
                    self._hangup(ch, cause)
                continue
            both = call.o1 is not None and call.o2 is not None
            if both and call.o1 in chans and call.o2 in chans and call.phase is Phase.BRIDGED:
                done.add(id(call))
                self._teardown_both_originate_halves(call)
            elif not ch.hungup:
                self._teardown(call, ch, cause, by_action=True)

    def _end_dial_vars(self, call: Call) -> None:
        o1 = call.o1
        assert o1 is not None
        answered = self.lab_elapsed(call.dial_answered) if call.dial_answered else 0.0
        dialed = self.lab_elapsed(call.dial_started) if call.dial_started else 0.0
        self._varset(o1, "ANSWEREDTIME", str(int(answered)))
        self._varset(o1, "ANSWEREDTIME_MS", str(int(answered * 1000)))
        self._varset(o1, "DIALEDTIME", str(int(dialed)))
        self._varset(o1, "DIALEDTIME_MS", str(int(dialed * 1000)))
        self._varset(o1, "DIALSTATUS", "ANSWER")

    def _leave(self, call: Call, ch: Channel, remaining: int) -> None:
        self._bridge_event("BridgeLeave", call.bridge_id, remaining, ch)
        ch.bridge_id = ""

    def _o1_cdr(self, call: Call) -> None:
        o1 = call.o1
        assert o1 is not None
        self._cdr(o1, "ANSWERED", dest_channel=call.d1.name if call.d1 else "")

    def _devices_idle(self, call: Call) -> None:
        seen: list[str] = []
        for ch in (call.d1, call.o1):
            if ch is not None and ch.device not in seen:
                seen.append(ch.device)
        for dev in seen:
            if self._device_in_use(dev):
                continue  # another call (a transferred leg) still uses the phone
            self._device_state(dev, "NOT_INUSE")
            self._device_state(dev, "NOT_INUSE")
            self._member_status(dev)

    def _teardown(
        self, call: Call, trigger: Channel, cause: int, *, by_action: bool, explicit: bool = False
    ) -> None:
        """Ends a call because ``trigger`` hung up; the event order follows the fixtures
        (``explicit``: ``call.o1`` ran the Hangup() application)."""
        if call.phase is Phase.ENDED:
            return
        self._stop(call)
        if call.phase is Phase.BRIDGED:
            self._teardown_bridged(call, trigger, cause, by_action=by_action)
        else:
            self._teardown_unbridged(call, trigger, cause, explicit=explicit)
        self._end(call)
        self._devices_idle(call)

    def _teardown_bridged(
        self, call: Call, trigger: Channel, cause: int, *, by_action: bool
    ) -> None:
        o1, o2, d1, d2 = call.o1, call.o2, call.d1, call.d2
        assert o1 is not None and o2 is not None and d1 is not None and d2 is not None
        bp = "BRIDGEPEER"
        if trigger is d2:
            # The callee's phone hangs up (fixture 10).
            self._hangup_request(d2, cause, soft=True)
            self._hangup_request(d1, cause)
            self._varset(d1, bp, "")
            self._varset(o1, bp, "")
            self._leave(call, d1, 1)
            self._hangup(d1, cause)
            self._hangup(d2, cause)
            self._cdr(d2, "ANSWERED")
            self._o1_cdr(call)
            self._cdr(o2, "ANSWERED")
            self._leave(call, o1, 0)
            self._end_dial_vars(call)
            self._hangup_request(o1, 16, soft=True)
            self._hangup_request(o2, 16)
            self._hangup(o1, 16)
            self._bridge_event("BridgeDestroy", call.bridge_id, 0, None)
            self._hangup_request(o2, 16, soft=True)
            self._hangup(o2, 16)
        elif trigger is d1:
            # Hangup action on the callee leg (fixture 15, a003).
            self._varset(d1, bp, "")
            self._varset(o1, bp, "")
            self._leave(call, d1, 1)
            self._hangup_request(d2, cause)
            self._cdr(d2, "ANSWERED")
            self._leave(call, o1, 0)
            self._hangup(d1, cause)
            self._hangup_request(d2, cause, soft=True)
            self._hangup(d2, cause)
            self._o1_cdr(call)
            self._bridge_event("BridgeDestroy", call.bridge_id, 0, None)
            self._end_dial_vars(call)
            self._hangup_request(o1, 16, soft=True)
            self._hangup_request(o2, 16)
            self._hangup(o1, 16)
            self._hangup_request(o2, 16, soft=True)
            self._hangup(o2, 16)
            self._cdr(o2, "ANSWERED")
        elif trigger is o1:
            # Hangup action on the caller leg (fixture 13, a005).
            self._varset(o1, bp, "")
            self._varset(d1, bp, "")
            self._leave(call, o1, 1)
            self._end_dial_vars(call)
            self._hangup_request(o1, cause, soft=True)
            self._hangup_request(o2, cause)
            self._hangup(o1, cause)
            self._o1_cdr(call)
            self._cdr(o2, "ANSWERED")
            self._leave(call, d1, 0)
            self._hangup_request(d2, 16)
            self._hangup(d1, 16)
            self._hangup_request(o2, cause, soft=True)
            self._hangup(o2, cause)
            self._bridge_event("BridgeDestroy", call.bridge_id, 0, None)
            self._cdr(d2, "ANSWERED")
            self._hangup_request(d2, 16, soft=True)
            self._hangup(d2, 16)
        else:
            # The originated phone (;2) hangs up, by action or at the end of its Wait.
            self._hangup_request(o2, cause, soft=True)
            self._hangup_request(o1, cause)
            self._varset(o1, bp, "")
            self._varset(d1, bp, "")
            self._leave(call, o1, 1)
            self._end_dial_vars(call)
            self._hangup(o1, cause)
            self._hangup(o2, cause)
            self._o1_cdr(call)
            self._cdr(o2, "ANSWERED")
            self._leave(call, d1, 0)
            self._hangup_request(d2, 16)
            self._hangup(d1, 16)
            self._bridge_event("BridgeDestroy", call.bridge_id, 0, None)
            self._cdr(d2, "ANSWERED")
            self._hangup_request(d2, 16, soft=True)
            self._hangup(d2, 16)
        del by_action  # the order is the same either way in the transcripts

    def _teardown_both_originate_halves(self, call: Call) -> None:
        """Hangup with a regex matching both halves of the originated pair (fixture 15, a006)."""
        o1, o2, d1, d2 = call.o1, call.o2, call.d1, call.d2
        assert o1 is not None and o2 is not None and d1 is not None and d2 is not None
        self._stop(call)
        self._varset(o1, "BRIDGEPEER", "")
        self._varset(d1, "BRIDGEPEER", "")
        self._hangup_request(o2, 16, soft=True)
        self._hangup_request(o1, 0)
        self._cdr(o2, "ANSWERED")
        self._o1_cdr(call)
        self._hangup(o2, 0)
        self._leave(call, o1, 1)
        self._end_dial_vars(call)
        self._hangup_request(o1, 16, soft=True)
        self._hangup(o1, 16)
        self._leave(call, d1, 0)
        self._bridge_event("BridgeDestroy", call.bridge_id, 0, None)
        self._hangup_request(d2, 16)
        self._hangup(d1, 16)
        self._cdr(d2, "ANSWERED")
        self._hangup_request(d2, 16, soft=True)
        self._hangup(d2, 16)
        self._end(call)
        self._devices_idle(call)

    def _teardown_unbridged(
        self, call: Call, trigger: Channel, cause: int, *, explicit: bool = False
    ) -> None:
        """A call hung up before (or without) a bridge. ``cause`` is the trigger's hangup
        cause (0 when nothing set one: a Hangup action without Cause, an application that
        returned); ``explicit``: ``call.o1`` ran Hangup() (it gets a SoftHangupRequest)."""
        o1, o2, d1, d2 = call.o1, call.o2, call.d1, call.d2
        dialing = (
            call.phase is Phase.DIALING
            and d1 is not None
            and d2 is not None
            and not d1.hungup
            and o1 is not None
            and o2 is not None
        )
        if dialing and o1 is not None and o2 is not None and d1 is not None and d2 is not None:
            if trigger in (d1, d2):
                self._callee_hung_up(call, trigger, cause)
                return
            # The caller's side hangs up while the callee rings: Dial is cancelled (the
            # callee pair goes with cause 16), then Dial's channel hangs up.
            if trigger is o2:
                self._hangup_request(o2, 16, soft=True)
                self._hangup_request(o1, cause)
                self._hangup(o2, cause)
                self._cdr(o2, "ANSWERED")
                self._cancel_dial(call)
                self._hangup_request(o1, 16, soft=True)
                self._hangup(o1, cause)
            else:
                self._cancel_dial(call)
                self._hangup_request(o1, 16, soft=True)
                self._hangup_request(o2, cause)
                self._hangup(o1, cause)
                self._hangup_request(o2, 16, soft=True)
                self._hangup(o2, cause)
                self._cdr(o2, "ANSWERED")
            self._cdr(o1, "NO ANSWER", dest_channel=d1.name)
            return
        ringing = call.phase is Phase.SETUP and o1 is not None and o1.answered_at is None
        if ringing and o1 is not None:
            # The originated phone goes while it rings: the originate's dial ends.
            self._dial_event("DialEnd", None, o1, [("DialStatus", "NOANSWER")])
        pairs = [p for p in ((o1, o2), (d1, d2)) if p[0] is not None]
        first = [p for p in pairs if trigger in p]
        rest = [p for p in pairs if trigger not in p]
        for one, two in first + rest:
            assert one is not None and two is not None
            c = cause if trigger in (one, two) else 16
            self._pair_down(one, two, trigger is two, c, explicit=explicit and one is o1)
            if call.originate_pending:
                self._originate_result(call, False, 0 if ringing else 1)
            for ch in (one, two):
                if ch is d1:
                    continue
                answered = ch.answered_at is not None
                if ch is o2 and ringing:
                    self._cdr(ch, "FAILED")
                elif ch is o1:
                    self._cdr(
                        ch,
                        "ANSWERED" if answered else "NO ANSWER",
                        dest_channel=d1.name if d1 else "",
                    )
                else:
                    self._cdr(ch, "ANSWERED" if answered else "NO ANSWER")

    def _pair_down(
        self, one: Channel, two: Channel, by_two: bool, cause: int, *, explicit: bool = False
    ) -> None:
        """Both halves of a Local pair hang up because one did. The half that goes on its
        own queues a hangup with its cause on the other; that one's own SoftHangupRequest
        always says 16 (AST_SOFTHANGUP_EXPLICIT, a flag, not a Q.850 cause)."""
        if by_two:
            self._hangup_request(two, 16, soft=True)
            self._hangup_request(one, cause)
            self._hangup(one, cause)
            self._hangup(two, cause)
        else:
            if explicit:
                self._hangup_request(one, 16, soft=True)
            self._hangup_request(two, cause)
            self._hangup(one, cause)
            self._hangup_request(two, 16, soft=True)
            self._hangup(two, cause)

    def _cancel_dial(self, call: Call) -> None:
        """Dial() gives up on a ringing callee (its caller hung up): DialEnd CANCEL, the
        callee pair hangs up with cause 16, DIALSTATUS becomes CANCEL."""
        o1, d1, d2 = call.o1, call.d1, call.d2
        assert o1 is not None and d1 is not None and d2 is not None
        self._dial_event("DialEnd", o1, d1, [("DialStatus", "CANCEL")])
        self._pair_down(d1, d2, False, 16)
        self._cdr(d2, "NO ANSWER")
        self._varset(o1, "DIALSTATUS", "CANCEL")

    def _callee_hung_up(self, call: Call, trigger: Channel, cause: int) -> None:
        """The ringing callee pair hangs up (a Hangup action on it): Dial() returns
        CHANUNAVAIL (DialEnd says NOANSWER) and the caller runs Hangup()."""
        o1, o2, d1, d2 = call.o1, call.o2, call.d1, call.d2
        assert o1 is not None and o2 is not None and d1 is not None and d2 is not None
        if trigger is d1:
            self._dial_event("DialEnd", o1, d1, [("DialStatus", "NOANSWER")])
            self._hangup_request(d2, cause)
            self._hangup_request(d2, 16, soft=True)
            self._hangup(d1, cause)
            self._hangup(d2, cause)
        else:
            self._hangup_request(d2, 16, soft=True)
            self._hangup_request(d1, cause)
            self._hangup(d2, cause)
            self._dial_event("DialEnd", o1, d1, [("DialStatus", "NOANSWER")])
            self._hangup(d1, cause)
        self._cdr(d2, "FAILED")
        self._varset(o1, "DIALSTATUS", "CHANUNAVAIL")
        self._cdr(o1, "NO ANSWER", dest_channel=d1.name)  # the Dial's record
        self._newexten(o1, 3, "Hangup", "")
        self._pair_down(o1, o2, False, 16, explicit=True)
        self._cdr(o2, "ANSWERED")
        self._cdr(o1, "ANSWERED")

    # ------------------------------------------- building blocks for features
    # transfers.py (and the other feature modules) compose calls from the same
    # steps the engine uses, so these are public names for them.

    def stop_call(self, call: Call) -> None:
        """Cancels a call's pending step (its generator stops; nothing is emitted)."""
        self._stop(call)

    def finish_call(self, call: Call) -> None:
        """Forgets a call whose channels have hung up, then reports its devices idle."""
        self._end(call)
        self._devices_idle(call)

    def run_call(self, call: Call, steps: Generator[float, None, None]) -> None:
        """Runs ``steps`` as the call's step generator (its first step runs now)."""
        self._run(call, steps)

    def dial_steps(
        self,
        call: Call,
        exten: str,
        leg: DialLeg,
        *,
        first: tuple[str, str] | None,
        play_o2: bool = True,
    ) -> Generator[float, None, None]:
        """The Dial of ``[from-internal] _2XX`` by ``call.o1`` (see :meth:`_dial_steps`)."""
        return self._dial_steps(call, exten, leg, first=first, play_o2=play_o2)

    def cancel_dial(self, call: Call) -> None:
        """Dial() of ``call.o1`` gives up on its ringing callee (DialEnd CANCEL, the callee
        pair hangs up, DIALSTATUS CANCEL)."""
        self._cancel_dial(call)

    def leave_bridge(self, call: Call, ch: Channel, remaining: int) -> None:
        """BridgeLeave of ``ch`` with ``remaining`` channels left in the call's bridge."""
        self._leave(call, ch, remaining)

    def leave_bridge_of(self, bridge_id: str, ch: Channel, remaining: int) -> None:
        """BridgeLeave of ``ch`` from the bridge ``bridge_id``."""
        self._bridge_event("BridgeLeave", bridge_id, remaining, ch)
        ch.bridge_id = ""

    def local_optimize(
        self,
        one: Channel,
        two: Channel,
        mover: Channel,
        *,
        from_bridge: str,
        to_bridge: str,
        peer: Channel,
        on_left: Callable[[], None] | None = None,
    ) -> None:
        """A Local pair between two bridges optimizes itself away, as Asterisk
        reports it: ``mover`` leaves ``from_bridge`` and takes the ``two`` half's
        place in ``to_bridge`` beside ``peer`` (LocalOptimizationBegin, the two
        BridgeLeaves, a BridgeEnter with SwapUniqueid, LocalOptimizationEnd).
        ``on_left`` runs once ``two`` has lost its bridge peer."""
        opt_id = str(self.local_optimizations)
        self.local_optimizations += 1
        self.emit(
            "LocalOptimizationBegin",
            "call",
            [
                *one.block("LocalOne"),
                *two.block("LocalTwo"),
                *mover.block("Source"),
                ("DestUniqueId", two.uniqueid),
                ("Id", opt_id),
            ],
        )
        self.leave_bridge_of(from_bridge, mover, 1)
        self.varset(two, "BRIDGEPEER", "")
        if on_left is not None:
            on_left()
        self.leave_bridge_of(to_bridge, two, 1)
        mover.bridge_id = to_bridge
        self.emit(
            "BridgeEnter",
            "call",
            [
                ("BridgeUniqueid", to_bridge),
                *self.bridge_headers(2),
                *mover.block(),
                ("SwapUniqueid", two.uniqueid),
            ],
        )
        self.varset(peer, "BRIDGEPEER", mover.name)
        self.varset(mover, "BRIDGEPEER", peer.name)
        self.varset(one, "BRIDGEPEER", "")
        self.emit(
            "LocalOptimizationEnd",
            "call",
            [*one.block("LocalOne"), *two.block("LocalTwo"), ("Success", "No"), ("Id", opt_id)],
        )

    def end_dial_vars(self, call: Call) -> None:
        """The VarSets Dial() sets on ``call.o1`` when it returns after an answer."""
        self._end_dial_vars(call)

    def newexten(self, ch: Channel, priority: int, app: str, data: str) -> None:
        """A Newexten: ``ch`` runs ``app(data)`` at ``priority``."""
        self._newexten(ch, priority, app, data)

    def bridge_event(self, name: str, bridge_id: str, count: int, ch: Channel | None) -> None:
        """A Bridge* event (with ``ch``'s block if given)."""
        self._bridge_event(name, bridge_id, count, ch)

    def bridge_headers(self, count: int) -> list[Header]:
        """The bridge snapshot headers after BridgeUniqueid."""
        return self._bridge_headers(count)

    def hangup_request(self, ch: Channel, cause: int, *, soft: bool = False) -> None:
        """HangupRequest (or SoftHangupRequest) of ``ch``."""
        self._hangup_request(ch, cause, soft=soft)

    def hangup_channel(self, ch: Channel, cause: int) -> None:
        """The Hangup event of one channel (it leaves the channel table)."""
        self._hangup(ch, cause)

    def cdr(self, ch: Channel, disposition: str, *, dest_channel: str = "") -> None:
        """A Cdr record for ``ch``."""
        self._cdr(ch, disposition, dest_channel=dest_channel)

    def newstate(self, ch: Channel, state: int) -> None:
        """A Newstate: ``ch`` is now in ``state``."""
        self._newstate(ch, state)

    def new_pair(self, exten: str, context: str, linkedid: str | None) -> tuple[Channel, Channel]:
        """A new Local channel pair (not announced: call :meth:`newchannel`)."""
        return self._new_pair(exten, context, linkedid)

    def newchannel(self, ch: Channel) -> None:
        """A Newchannel event for ``ch``."""
        self._newchannel(ch)

    def varset(self, ch: Channel, var: str, value: str) -> None:
        """A channel variable and its VarSet event."""
        self._varset(ch, var, value)

    def newcallerid(self, ch: Channel) -> None:
        """A NewCallerid event for ``ch`` as it is now."""
        self._newcallerid(ch)

    def set_both(self, ch: Channel, caller: tuple[str, str], conn: tuple[str, str]) -> None:
        """Caller ID and connected line at once, each announced if it changed."""
        self._set_both(ch, caller, conn)

    def local_bridge(self, one: Channel, two: Channel, optimization: str) -> None:
        """The LocalBridge event of a Local pair."""
        self._local_bridge(one, two, optimization)

    def dial_event(
        self, name: str, caller: Channel | None, dest: Channel, extra: list[Header]
    ) -> None:
        """DialBegin/DialState/DialEnd (``caller`` None for an originate)."""
        self._dial_event(name, caller, dest, extra)

    def device_state(self, device: str, state: str) -> None:
        """A DeviceStateChange event."""
        self._device_state(device, state)

    def device_in_use(self, device: str) -> bool:
        """Whether any live channel belongs to ``device``."""
        return self._device_in_use(device)

    def member_status(self, device: str) -> None:
        """QueueMemberStatus of ``device`` in each of its queues."""
        self._member_status(device)

    def originate_result(self, call: Call, ok: bool, reason: int) -> None:
        """Reports the originate's outcome (OriginateResponse / sync answer) once."""
        self._originate_result(call, ok, reason)

    def o2_talk(self, o2: Channel, prio: int, tone: str, talk: float) -> None:
        """The originated phone's PlayTones + Wait after it answered."""
        self._o2_talk(o2, prio, tone, talk)

    def spy_mode(self, spyer: str) -> str | None:
        """The mode ("spy", "whisper" or "barge") of the ChanSpy running on the channel
        named ``spyer``, or None if it runs none."""
        return self.spies.mode(spyer)

    def playback_state(self, channel: str) -> tuple[str, int] | None:
        """("playing" or "paused", offset in ms) of the ControlPlayback running on the
        channel named ``channel``, or None if it runs none."""
        return self.playbacks.state(channel)

    # ------------------------------------------------------------- variables

    def set_var(self, ch: Channel | None, name: str, value: str) -> None:
        """Setvar: a channel variable (with its VarSet event) or a global one."""
        if ch is None:
            self.global_vars[name] = value
            # A global VarSet names no channel: Asterisk prints "none" (fixture 32).
            self.emit(
                "VarSet",
                "dialplan",
                [("Channel", "none"), ("Uniqueid", "none"), ("Variable", name), ("Value", value)],
            )
            return
        upper = name.upper()
        if upper in _PARTY_FUNCTIONS:
            # CALLERID()/CONNECTEDLINE() are functions: they change the party and
            # announce it (NewCallerid / NewConnectedLine), no VarSet.
            party, field = _PARTY_FUNCTIONS[upper]
            num, cname = (
                (ch.cid_num, ch.cid_name) if party == "caller" else (ch.conn_num, ch.conn_name)
            )
            if field == "num":
                num = value or UNKNOWN
            elif field == "name":
                cname = value or UNKNOWN
            else:
                num, cname = parse_callerid(value)
            if party == "caller":
                self.snapshot_update(ch, caller=(num, cname))
            else:
                self.snapshot_update(ch, conn=(num, cname))
            return
        self._varset(ch, name, value)

    def get_var(self, ch: Channel | None, name: str) -> str | None:
        """Getvar: a channel variable, a few dialplan functions, or a global one."""
        if ch is not None:
            upper = name.upper()
            if upper == "CHANNEL(STATE)":
                return STATE_DESC.get(ch.state, "Unknown")
            if upper in {"CHANNEL(NAME)", "CHANNEL"}:
                return ch.name
            if upper == "UNIQUEID":
                return ch.uniqueid
            if upper == "CALLERID(NUM)":
                return ch.cid_num
            if upper == "CALLERID(NAME)":
                return ch.cid_name
            if upper == "CALLERID(ALL)":
                return _merge_callerid(ch.cid_num, ch.cid_name)
            if upper == "CONNECTEDLINE(NUM)":
                return ch.conn_num
            if upper == "CONNECTEDLINE(NAME)":
                return ch.conn_name
            if upper == "EXTEN":
                return ch.exten
            if upper == "CONTEXT":
                return ch.context
            if name in ch.variables:
                return ch.variables[name]
        return self.global_vars.get(name)

    def shutdown(self) -> None:
        """Stops every running call without emitting anything (server stop)."""
        for call in list(self.calls):
            self._stop(call)
        self.calls.clear()
        self.channels.clear()


# Setvar targets that are party functions: (party, field).
_PARTY_FUNCTIONS: dict[str, tuple[str, str]] = {
    "CALLERID(NUM)": ("caller", "num"),
    "CALLERID(NAME)": ("caller", "name"),
    "CALLERID(ALL)": ("caller", "all"),
    "CALLERID": ("caller", "all"),
    "CONNECTEDLINE(NUM)": ("connected", "num"),
    "CONNECTEDLINE(NAME)": ("connected", "name"),
    "CONNECTEDLINE(ALL)": ("connected", "all"),
}


def _merge_callerid(num: str, name: str) -> str:
    """main/callerid.c ast_callerid_merge: ``"name" <num>``, or whichever part is known."""
    num = "" if num == UNKNOWN else num
    name = "" if name == UNKNOWN else name
    if num and name:
        return f'"{name}" <{num}>'
    return name or num


def _name_bucket(name: str) -> int:
    """main/channelstorage: ast_str_case_hash(name) % AST_NUM_CHANNEL_BUCKETS (1567)."""
    value = 5381
    for byte in name.lower().encode():
        value = ((value * 33) & 0xFFFFFFFF) ^ byte
    return (value & 0x7FFFFFFF) % 1567


def _disposition(status: str) -> str:
    return {
        "BUSY": "BUSY",
        "CONGESTION": "CONGESTION",
        "NOANSWER": "NO ANSWER",
        "ANSWER": "ANSWERED",
    }.get(status, "FAILED")


def _app_seconds(app: str, data: str) -> float | None:
    """How long an originated application runs before its channel hangs up, if it ends."""
    if app.lower() == "wait":
        try:
            return float(data.split(",", maxsplit=1)[0] or 0)
        except ValueError:
            return 0.0
    if app.lower() in {"hangup", "noop"}:
        return 0.0
    return None


__all__ = [
    "Call",
    "DialLeg",
    "Engine",
    "EventSink",
    "OriginateError",
    "OriginateRequest",
    "Phase",
    "Phone",
]
