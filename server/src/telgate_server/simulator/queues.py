"""Queues: members (static and dynamic), their pause/penalty state, and calls into a queue.

app_queue.c as the lab's Asterisk 22.10.1 shows it (fixtures 19, 20, 21):
member events carry one block (``Queue, MemberName, Interface, StateInterface,
Membership, Penalty, CallsTaken, LastCall, LastPause, LoginTime, InCall,
Status, Paused, PausedReason, Ringinuse, Wrapuptime``); a ringall call rings
every available member at once, connects the first to answer and hangs the
others up with cause 26 (Answered elsewhere).

A call into ``[from-internal] 500`` runs ``Queue(support,r,,,120)`` on the
originated ``;1`` half (the caller); each member rung is a ``Local/NNN@phones``
pair whose ``;1`` half is the queue's outgoing leg.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..backends.ami.codec import Header
from .channels import RINGING, UNKNOWN, UP, Channel
from .world import PhoneKind

if TYPE_CHECKING:
    from .engine import Call, DialLeg, Engine

# queues.conf of the lab: ring each member 10 s, wait 2 s before retrying, and
# Queue(support,r,,,120) gives up after 120 s.
RING_TIMEOUT = 10.0
RETRY = 2.0
QUEUE_TIMEOUT = 120.0
QUEUE_DATA = "support,r,,,120"


@dataclass
class Member:
    """One member of one queue, with the state app_queue keeps for it."""

    queue: str
    interface: str  # Local/201@phones/n
    name: str  # Agent 201
    state_interface: str
    dynamic: bool
    login_time: int
    penalty: int = 0
    calls_taken: int = 0
    last_call: int = 0
    last_pause: int = 0
    in_call: bool = False
    paused: bool = False
    paused_reason: str = ""

    @property
    def device(self) -> str:
        """The device whose state is the member's status (``Local/201@phones``)."""
        return self.state_interface.removesuffix("/n")

    @property
    def exten_context(self) -> tuple[str, str] | None:
        """(exten, context) of a ``Local/NNN@ctx[/n]`` interface, else None."""
        tech, _, rest = self.interface.partition("/")
        if tech.lower() != "local" or "@" not in rest:
            return None
        exten, _, context = rest.split("/", 1)[0].partition("@")
        return exten, context


@dataclass
class Entry:
    """A caller waiting in (or being connected by) a queue."""

    queue: str
    channel: Channel
    joined: float  # engine clock
    position: int


@dataclass
class _Ring:
    """One member leg being rung for a caller."""

    member: Member
    one: Channel  # the queue's outgoing leg (Local ;1)
    two: Channel  # the member's phone (Local ;2)
    answers_after: float  # lab seconds of ringing before it answers (inf: never)


@dataclass
class QueueCall:
    """The queue-side state of one caller's call."""

    entry: Entry
    ringing: list[_Ring] = field(default_factory=list)
    winner: _Ring | None = None
    bridge_id: str = ""
    connected_at: float = 0.0  # engine clock
    hold_seconds: int = 0


class QueueBook:
    """Every queue's members and waiting callers (app_queue's state)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._members: dict[str, list[Member]] = {}
        self.entries: dict[str, list[Entry]] = {}
        self.stats: dict[str, dict[str, int]] = {}
        for queue in engine.world.queues.values():
            self._members[queue.name] = [
                Member(
                    queue.name,
                    m.interface,
                    m.name,
                    m.interface,
                    dynamic=False,
                    login_time=engine.started_epoch,
                )
                for m in queue.members
            ]
            self.entries[queue.name] = []
            self.stats[queue.name] = {"holdtime": 0, "talktime": 0, "completed": 0}

    # ------------------------------------------------------------- lookups

    def exists(self, queue: str) -> bool:
        """Whether ``queue`` is configured."""
        return queue in self._members

    def queue_names(self) -> list[str]:
        """Queue names in the order Asterisk lists them (queues.conf order in the lab)."""
        return list(self._members)

    def members(self, queue: str) -> list[Member]:
        """A queue's members in app_queue's listing order: the newest first. Static
        members come out in the reverse of queues.conf (fixture 19) and a member
        added with QueueAdd comes out before them (the real lab)."""
        return list(reversed(self._members.get(queue, [])))

    def find(self, queue: str, interface: str) -> Member | None:
        """The member ``interface`` of ``queue`` (case-insensitive, as app_queue)."""
        low = interface.lower()
        for m in self._members.get(queue, []):
            if m.interface.lower() == low:
                return m
        return None

    def status(self, m: Member) -> int:
        """The member's device state number (1 not in use, 2 in use)."""
        return 2 if self.engine.device_in_use(m.device) else 1

    def available(self, m: Member) -> bool:
        """Whether a queue call may ring ``m`` (not paused, not in use: ringinuse=no)."""
        return not m.paused and self.status(m) == 1 and not m.in_call

    def _any_available(self, queue: str) -> bool:
        return any(self.available(m) for m in self._members.get(queue, []))

    # -------------------------------------------------------------- events

    def _member_state(self, m: Member) -> list[Header]:
        """The headers both member formats share, in Asterisk's order."""
        return [
            ("StateInterface", m.state_interface),
            ("Membership", "dynamic" if m.dynamic else "static"),
            ("Penalty", str(m.penalty)),
            ("CallsTaken", str(m.calls_taken)),
            ("LastCall", str(m.last_call)),
            ("LastPause", str(m.last_pause)),
            ("LoginTime", str(m.login_time)),
            ("InCall", "1" if m.in_call else "0"),
            ("Status", str(self.status(m))),
            ("Paused", "1" if m.paused else "0"),
            ("PausedReason", m.paused_reason),
        ]

    def member_block(self, m: Member) -> list[Header]:
        """The member headers of QueueMemberStatus/Added/Removed/Pause/Penalty."""
        return [
            ("Queue", m.queue),
            ("MemberName", m.name),
            ("Interface", m.interface),
            *self._member_state(m),
            ("Ringinuse", "0"),
            ("Wrapuptime", "0"),
        ]

    def emit_member(self, name: str, m: Member) -> None:
        """A Queue* member event (class agent)."""
        self.engine.emit(name, "agent", self.member_block(m))

    def member_status(self, device: str) -> None:
        """QueueMemberStatus for each membership of ``device``, then the queue's _avail
        device state (app_queue follows device states)."""
        for queue, members in self._members.items():
            for m in members:
                if m.device != device:
                    continue
                self.emit_member("QueueMemberStatus", m)
                free = self._any_available(queue)
                self.engine.device_state(f"Queue:{queue}_avail", "NOT_INUSE" if free else "INUSE")

    # ------------------------------------------------------ member changes

    def add(
        self,
        queue: str,
        interface: str,
        *,
        name: str = "",
        state_interface: str = "",
        penalty: int = 0,
        paused: bool = False,
        reason: str = "",
        ack: Callable[[], None] | None = None,
    ) -> str | None:
        """QueueAdd; None on success, else app_queue's error sentence. ``ack`` runs
        before the events (Asterisk answers first: the events go through stasis)."""
        if not self.exists(queue):
            return "Unable to add interface to queue: No such queue"
        if self.find(queue, interface) is not None:
            return "Unable to add interface: Already there"
        before = self._any_available(queue)
        m = Member(
            queue,
            interface,
            name or interface,
            state_interface or interface,
            dynamic=True,
            login_time=int(self.engine.lab_now()),
            penalty=penalty,
            paused=paused,
            paused_reason=reason if paused else "",
        )
        self._members[queue].append(m)
        if ack is not None:
            ack()
        self._pause_state(m)
        self._avail_changed(queue, before)
        self.emit_member("QueueMemberAdded", m)
        return None

    def remove(
        self, queue: str, interface: str, ack: Callable[[], None] | None = None
    ) -> str | None:
        """QueueRemove; None on success, else app_queue's error sentence."""
        if not self.exists(queue):
            return "Unable to remove interface from queue: No such queue"
        m = self.find(queue, interface)
        if m is None:
            return "Unable to remove interface: Not there"
        if not m.dynamic:
            return "Member not dynamic"
        self._members[queue].remove(m)
        if ack is not None:
            ack()
        self.emit_member("QueueMemberRemoved", m)
        return None

    def pause(
        self,
        queue: str,
        interface: str,
        paused: bool,
        reason: str,
        ack: Callable[[], None] | None = None,
    ) -> bool:
        """QueuePause of one queue (``queue`` set) or of every queue the interface is
        in; False when it is a member of none of them."""
        targets = [queue] if queue else self.queue_names()
        hits = [m for q in targets if (m := self.find(q, interface)) is not None]
        if hits and ack is not None:
            ack()
        for m in hits:
            before = self._any_available(m.queue)
            m.paused = paused
            m.paused_reason = reason if paused else ""
            if paused:
                m.last_pause = int(self.engine.lab_now())
            self._pause_state(m)
            self._avail_changed(m.queue, before)
            self.emit_member("QueueMemberPause", m)
        return bool(hits)

    def set_penalty(
        self, queue: str, interface: str, penalty: int, ack: Callable[[], None] | None = None
    ) -> bool:
        """QueuePenalty of one queue or every queue; False when no member matched."""
        if penalty < 0:
            return False
        targets = [queue] if queue else self.queue_names()
        hits = [m for q in targets if (m := self.find(q, interface)) is not None]
        if hits and ack is not None:
            ack()
        for m in hits:
            m.penalty = penalty
            self.emit_member("QueueMemberPenalty", m)
        return bool(hits)

    def _pause_state(self, m: Member) -> None:
        # app_queue keeps a custom device per member that shows its pause (fixture 20).
        self.engine.device_state(
            f"Queue:{m.queue}_pause_{m.interface}", "INUSE" if m.paused else "NOT_INUSE"
        )

    def _avail_changed(self, queue: str, before: bool) -> None:
        after = self._any_available(queue)
        if after != before:
            self.engine.device_state(f"Queue:{queue}_avail", "NOT_INUSE" if after else "INUSE")

    # ------------------------------------------------------------ listings

    def params(self, queue: str) -> list[Header]:
        """A QueueParams event's headers (before the ActionID)."""
        q = self.engine.world.queues[queue]
        st = self.stats[queue]
        return [
            ("Queue", queue),
            ("Max", "0"),
            ("Strategy", q.strategy),
            ("Calls", str(len(self.entries[queue]))),
            ("Holdtime", str(st["holdtime"])),
            ("TalkTime", str(st["talktime"])),
            ("Completed", str(st["completed"])),
            ("Abandoned", "0"),
            ("ServiceLevel", "0"),
            ("ServicelevelPerf", "0.0"),
            ("ServicelevelPerf2", "0.0"),
            ("Weight", "0"),
        ]

    def member_item(self, m: Member) -> list[Header]:
        """A QueueStatus QueueMember event's headers (before the ActionID): named
        `Name` / `Location` there, and without Ringinuse."""
        return [
            ("Queue", m.queue),
            ("Name", m.name),
            ("Location", m.interface),
            *self._member_state(m),
            ("Wrapuptime", "0"),
        ]

    def entry_item(self, e: Entry) -> list[Header]:
        """A QueueStatus QueueEntry event's headers (manager_queues_status's order)."""
        ch = e.channel

        def known(v: str) -> str:
            return v if v != UNKNOWN else "unknown"

        return [
            ("Queue", e.queue),
            ("Position", str(e.position)),
            ("Channel", ch.name),
            ("Uniqueid", ch.uniqueid),
            ("CallerIDNum", known(ch.cid_num)),
            ("CallerIDName", known(ch.cid_name)),
            ("ConnectedLineNum", known(ch.conn_num)),
            ("ConnectedLineName", known(ch.conn_name)),
            ("Wait", str(int(self.engine.lab_elapsed(e.joined)))),
            ("Priority", "0"),
        ]

    def summary(self, queue: str) -> list[Header]:
        """A QueueSummary event's headers (before the ActionID)."""
        members = self._members[queue]
        waiting = self.entries[queue]
        longest = max((int(self.engine.lab_elapsed(e.joined)) for e in waiting), default=0)
        st = self.stats[queue]
        return [
            ("Queue", queue),
            ("LoggedIn", str(len(members))),
            ("Available", str(sum(1 for m in members if self.available(m)))),
            ("Callers", str(len(waiting))),
            ("HoldTime", str(st["holdtime"])),
            ("TalkTime", str(st["talktime"])),
            ("LongestHoldTime", str(longest)),
        ]

    # ----------------------------------------------------------- the call

    def call_steps(self, call: Call, leg: DialLeg) -> Generator[float, None, None]:
        """``[from-internal] 500``: NoOp, Answer, Queue(support,r,,,120) on ``call.o1``."""
        engine = self.engine
        o1, o2 = call.o1, call.o2
        assert o1 is not None and o2 is not None
        o1.context, o1.exten = "from-internal", "500"
        engine.originate_result(call, True, 4)
        cid = o1.cid_num if o1.cid_num != UNKNOWN else ""
        engine.newexten(o1, 1, "NoOp", f"queue call from {cid}")
        engine.newexten(o1, 2, "Answer", "")
        engine.newexten(o1, 3, "Queue", QUEUE_DATA)
        engine.o2_talk(o2, leg.prio, leg.tone, leg.talk)
        for var in ("ANSWEREDTIME", "ANSWEREDTIME_MS", "DIALEDTIME", "DIALEDTIME_MS"):
            engine.varset(o1, var, "")
        for var in ("QUEUEWAIT", "QUEUEWAIT_MS"):
            engine.varset(o1, var, "")
        queue = "support"
        waiting = self.entries[queue]
        entry = Entry(queue, o1, engine.clock.time(), len(waiting) + 1)
        waiting.append(entry)
        engine.device_state(f"Queue:{queue}", "RINGING")
        engine.emit(
            "QueueCallerJoin",
            "agent",
            [*o1.block(), ("Queue", queue), ("Position", str(entry.position)),
             ("Count", str(len(waiting)))],
        )  # fmt: skip
        qc = QueueCall(entry)
        call.handler = lambda ch, cause, requested: self._hangup(call, qc, ch, cause)
        # Device states come in pairs (the Local channel's and its ;2 half's own).
        engine.device_state(o1.device, "INUSE")
        engine.device_state(o1.device, "INUSE")
        o2_ends = leg.ends_at
        waited = 0.0
        while True:
            members = [m for m in self._members[queue] if self.available(m)]
            if not members:
                if waited >= QUEUE_TIMEOUT:
                    self._timeout(call, qc)
                    return
                step = min(RETRY, self._left(o2_ends))
                waited += RETRY
                yield step
                continue
            self._ring(call, qc, members)
            answer = min(r.answers_after for r in qc.ringing)
            if answer > RING_TIMEOUT:
                yield RING_TIMEOUT
                self._no_answer(call, qc)
                waited += RING_TIMEOUT + RETRY
                yield RETRY
                continue
            yield answer
            if any(r.answers_after <= answer for r in qc.ringing):
                break
            # The legs that would have answered were hung up meanwhile: ring again.
            if qc.ringing:
                self._no_answer(call, qc)
            waited += answer + RETRY
            yield RETRY
        self._connect(call, qc, answer)
        winner = qc.winner
        assert winner is not None
        phone = engine.world.phones.get(winner.two.exten)
        agent_talk = phone.talk_seconds if phone is not None else 240.0
        caller_left = self._left(o2_ends)
        if caller_left <= agent_talk:
            yield caller_left
            engine.newexten(o2, leg.prio + 2, "Hangup", "16" if _is_customer(engine, o2) else "")
            self._complete(call, qc, o2, 16)
        else:
            yield agent_talk
            engine.newexten(winner.two, 7, "Hangup", "")
            self._complete(call, qc, winner.two, 16)

    def _left(self, ends_at: float) -> float:
        engine = self.engine
        return max(0.0, (ends_at - engine.clock.time()) / (engine.time_scale or 1.0))

    def _ring(self, call: Call, qc: QueueCall, members: list[Member]) -> None:
        """Rings every member at once (ringall): AgentCalled and DialBegin per member,
        then each phone's dialplan and DialState (fixture 21's order)."""
        engine = self.engine
        o1 = call.o1
        assert o1 is not None
        caller = (o1.cid_num, o1.cid_name)
        rings: list[_Ring] = []
        for m in members:
            where = m.exten_context
            if where is None:
                continue
            exten, context = where
            one, two = engine.new_pair(exten, context, o1.linkedid)
            call.extra += [one, two]
            engine.newchannel(one)
            engine.newchannel(two)
            # A caller without caller id makes the leg show the queue's extension as
            # its number (app_queue.c ring_entry).
            leg_caller = caller if caller[0] != UNKNOWN else (o1.exten, caller[1])
            one.cid_num, one.cid_name = leg_caller
            engine.newexten(one, 1, "AppQueue", "(Outgoing Line)")
            engine.newcallerid(one)
            peer = f"{exten}@{context}/n" if m.interface.endswith("/n") else f"{exten}@{context}"
            engine.varset(one, "DIALEDPEERNUMBER", peer)
            engine.varset(two, "DIALEDPEERNUMBER", peer)
            engine.set_both(two, caller, leg_caller)
            engine.local_bridge(one, two, "No" if m.interface.endswith("/n") else "Yes")
            # AgentCalled carries a later snapshot of the leg than DialBegin does: the
            # queue's exten and the caller as connected line (fixture 21).
            later = {"DestExten": o1.exten, "DestConnectedLineNum": caller[0],
                     "DestConnectedLineName": caller[1]}  # fmt: skip
            dest = [(k, later.get(k, v)) for k, v in one.block("Dest")]
            engine.emit(
                "AgentCalled",
                "agent",
                [*o1.block(), *dest, ("Queue", m.queue), ("Interface", m.interface),
                 ("MemberName", m.name)],
            )  # fmt: skip
            engine.dial_event("DialBegin", o1, one, [("DialString", m.interface)])
            phone = engine.world.phones.get(exten) if context == "phones" else None
            kind = phone.kind if phone is not None else None
            after = phone.ring_seconds if phone is not None else float("inf")
            if kind in (PhoneKind.NO_ANSWER, PhoneKind.BUSY, PhoneKind.CONGESTION, None):
                after = float("inf")
            rings.append(_Ring(m, one, two, after))
        for r in rings:
            phone = engine.world.phones.get(r.two.exten)
            label = (
                "customer" if phone is not None and phone.kind is PhoneKind.CUSTOMER else "agent"
            )
            engine.newexten(r.two, 1, "NoOp", f"{label} phone {r.two.exten} ringing")
            engine.newexten(r.two, 2, "Ringing", "")
            r.one.exten = o1.exten
            conn_changed = (r.one.conn_num, r.one.conn_name) != caller
            r.one.conn_num, r.one.conn_name = caller
            engine.newstate(r.one, RINGING)
            engine.newexten(r.one, 1, "AppQueue", "(Outgoing Line)")
            if conn_changed:
                engine.emit("NewConnectedLine", "call", r.one.block())
            engine.newexten(r.two, 3, "Wait", f"{phone.ring_seconds if phone else 1:g}")
            engine.dial_event("DialState", o1, r.one, [("DialStatus", "RINGING")])
        for r in rings:
            engine.device_state(r.member.device, "INUSE")
        for r in rings:
            engine.member_status(r.member.device)
        qc.ringing = rings

    def _drop_leg(self, r: _Ring, cause: int) -> None:
        """A rung leg that lost (or was cancelled): its phone half, then its ;1 half."""
        engine = self.engine
        engine.hangup_request(r.two, cause)
        engine.hangup_request(r.two, 16, soft=True)
        engine.hangup_channel(r.two, cause)
        engine.cdr(r.two, "NO ANSWER")
        engine.hangup_channel(r.one, cause)

    def _leg_idle(self, r: _Ring) -> None:
        engine = self.engine
        if not engine.device_in_use(r.member.device):
            engine.device_state(r.member.device, "NOT_INUSE")
            engine.device_state(r.member.device, "NOT_INUSE")
            engine.member_status(r.member.device)

    def _leave(self, qc: QueueCall) -> None:
        entry = qc.entry
        waiting = self.entries[entry.queue]
        if entry in waiting:
            waiting.remove(entry)
        for i, e in enumerate(waiting, start=1):
            e.position = i
        if not waiting:
            self.engine.device_state(f"Queue:{entry.queue}", "NOT_INUSE")

    def _connect(self, call: Call, qc: QueueCall, ring_seconds: float) -> None:
        """The last member rung answers first (the lab's run: fixture 21); the others
        are cancelled, the caller leaves the queue and is bridged with the winner."""
        engine = self.engine
        o1 = call.o1
        assert o1 is not None
        winner = [r for r in qc.ringing if r.answers_after <= ring_seconds][-1]
        losers = [r for r in qc.ringing if r is not winner]
        qc.winner = winner
        engine.newexten(winner.two, 4, "Answer", "")
        engine.newstate(winner.two, UP)
        engine.device_state(winner.member.device, "INUSE")
        engine.device_state(winner.member.device, "INUSE")
        engine.newstate(winner.one, UP)
        engine.dial_event("DialEnd", o1, winner.one, [("DialStatus", "ANSWER")])
        for r in losers:
            # app_queue reports each cancelled leg's DialEnd twice (fixture 21).
            engine.dial_event("DialEnd", o1, r.one, [("DialStatus", "CANCEL")])
            engine.dial_event("DialEnd", o1, r.one, [("DialStatus", "CANCEL")])
        for r in losers:
            self._drop_leg(r, 26)
            call.extra = [c for c in call.extra if c not in (r.one, r.two)]
        self._leave(qc)
        entry = qc.entry
        hold = int(engine.lab_elapsed(entry.joined) + 0.5)
        qc.hold_seconds = hold
        ring = int(ring_seconds)
        self.engine.emit(
            "QueueCallerLeave",
            "agent",
            [*o1.block(), ("Queue", entry.queue), ("Position", str(entry.position)),
             ("Count", str(len(self.entries[entry.queue])))],
        )  # fmt: skip
        engine.varset(o1, "QUEUEPOSITION", str(entry.position))
        engine.varset(o1, "QUEUEWAIT", str(hold))
        engine.varset(o1, "QUEUEWAIT_MS", str(hold * 1000))
        m = winner.member
        engine.emit(
            "AgentConnect",
            "agent",
            [*o1.block(), *winner.one.block("Dest"), ("Queue", m.queue),
             ("Interface", m.interface), ("MemberName", m.name), ("HoldTime", str(hold)),
             ("RingTime", str(ring))],
        )  # fmt: skip
        st = self.stats[entry.queue]
        st["holdtime"] = hold if not st["completed"] else (st["holdtime"] + hold) // 2
        qc.bridge_id = str(uuid.uuid4())
        engine.bridge_event("BridgeCreate", qc.bridge_id, 0, None)
        winner.one.bridge_id = qc.bridge_id
        engine.bridge_event("BridgeEnter", qc.bridge_id, 1, winner.one)
        o1.bridge_id = qc.bridge_id
        engine.bridge_event("BridgeEnter", qc.bridge_id, 2, o1)
        m.in_call = True
        for r in losers:
            self._leg_idle(r)
        engine.varset(winner.one, "BRIDGEPEER", o1.name)
        engine.varset(o1, "BRIDGEPEER", winner.one.name)
        phone = engine.world.phones.get(winner.two.exten)
        talk = phone.talk_seconds if phone is not None else 240.0
        engine.newexten(winner.two, 5, "PlayTones", phone.tone if phone else "425")
        engine.newexten(winner.two, 6, "Wait", f"{talk:g}")
        qc.connected_at = engine.clock.time()
        for r in losers:
            # The caller's CDR forks per leg: the cancelled one is NO ANSWER.
            engine.cdr(o1, "NO ANSWER", dest_channel=r.one.name)

    def _no_answer(self, call: Call, qc: QueueCall) -> None:
        """Nobody answered within the member timeout: AgentRingNoAnswer, legs hung up."""
        engine = self.engine
        o1 = call.o1
        assert o1 is not None
        for r in qc.ringing:
            m = r.member
            engine.emit(
                "AgentRingNoAnswer",
                "agent",
                [*o1.block(), *r.one.block("Dest"), ("Queue", m.queue),
                 ("Interface", m.interface), ("MemberName", m.name),
                 ("RingTime", str(int(RING_TIMEOUT)))],
            )  # fmt: skip
            engine.dial_event("DialEnd", o1, r.one, [("DialStatus", "NOANSWER")])
            self._drop_leg(r, 16)
            call.extra = [c for c in call.extra if c not in (r.one, r.two)]
            self._leg_idle(r)
        qc.ringing = []

    def _timeout(self, call: Call, qc: QueueCall) -> None:
        """Queue()'s own timeout (120 s): the caller leaves and the dialplan hangs up."""
        engine = self.engine
        o1 = call.o1
        assert o1 is not None
        self._leave(qc)
        entry = qc.entry
        engine.emit(
            "QueueCallerLeave",
            "agent",
            [*o1.block(), ("Queue", entry.queue), ("Position", str(entry.position)),
             ("Count", str(len(self.entries[entry.queue])))],
        )  # fmt: skip
        engine.varset(o1, "QUEUESTATUS", "TIMEOUT")
        engine.newexten(o1, 4, "Hangup", "")
        self._hang_up_caller(call, o1, 16, first=o1)

    def _hang_up_caller(self, call: Call, trigger: Channel, cause: int, *, first: Channel) -> None:
        """The caller's pair goes (the ;1 first when ``first`` is it), then the call ends."""
        engine = self.engine
        o1, o2 = call.o1, call.o2
        assert o1 is not None and o2 is not None
        if first is o1:
            engine.hangup_request(o1, cause, soft=True)
            engine.hangup_request(o2, cause)
            engine.hangup_channel(o1, cause)
            engine.hangup_request(o2, 16, soft=True)
            engine.hangup_channel(o2, cause)
        else:
            engine.hangup_request(o2, cause, soft=True)
            engine.hangup_request(o1, cause)
            engine.hangup_channel(o1, cause)
            engine.hangup_channel(o2, cause)
        engine.cdr(o1, "ANSWERED")
        engine.cdr(o2, "ANSWERED")
        del trigger
        engine.finish_call(call)

    def _complete(self, call: Call, qc: QueueCall, trigger: Channel, cause: int) -> None:
        """The bridged queue call ends because ``trigger`` hung up (fixture 21: the
        caller's phone; AgentComplete says who: caller or agent)."""
        engine = self.engine
        engine.stop_call(call)
        o1, o2, winner = call.o1, call.o2, qc.winner
        assert o1 is not None and o2 is not None and winner is not None
        w1, w2 = winner.one, winner.two
        by_caller = trigger in (o1, o2)
        m = winner.member
        talk = int(engine.lab_elapsed(qc.connected_at) + 0.5)
        if trigger is o2:
            engine.hangup_request(o2, cause, soft=True)
            engine.hangup_request(o1, cause)
        elif trigger is o1:
            engine.hangup_request(o1, cause, soft=True)
        elif trigger is w2:
            engine.hangup_request(w2, cause, soft=True)
            engine.hangup_request(w1, cause)
        else:
            engine.hangup_request(w1, cause, soft=True)
        engine.emit(
            "AgentComplete",
            "agent",
            [*o1.block(), *w1.block("Dest"), ("Queue", m.queue), ("Interface", m.interface),
             ("MemberName", m.name), ("HoldTime", str(qc.hold_seconds)),
             ("TalkTime", str(talk)), ("Reason", "caller" if by_caller else "agent")],
        )  # fmt: skip
        st = self.stats[m.queue]
        st["completed"] += 1
        st["talktime"] = talk if st["completed"] == 1 else (st["talktime"] + talk) // 2
        engine.varset(o1, "BRIDGEPEER", "")
        engine.varset(w1, "BRIDGEPEER", "")
        if trigger is o2:
            engine.cdr(o2, "ANSWERED")
        engine.cdr(o1, "ANSWERED", dest_channel=w1.name)
        first, second = (o1, w1) if by_caller else (w1, o1)
        engine.leave_bridge_of(qc.bridge_id, first, 1)
        engine.leave_bridge_of(qc.bridge_id, second, 0)
        if by_caller:
            engine.hangup_request(w2, 16)
            engine.hangup_channel(w1, 16)
            if trigger is o2:
                engine.hangup_channel(o2, cause)
        else:
            engine.hangup_channel(w1, cause)
            if trigger is w2:
                engine.hangup_channel(w2, cause)
        engine.bridge_event("BridgeDestroy", qc.bridge_id, 0, None)
        for var, value in _end_times(engine, call, qc):
            engine.varset(o1, var, value)
        if not o1.hungup:
            engine.hangup_request(o1, 16, soft=True)
            engine.hangup_channel(o1, 16)
        for ch in (w2, o2):
            if not ch.hungup:
                engine.hangup_request(ch, 16, soft=True)
                engine.hangup_channel(ch, 16)
        engine.cdr(w2, "ANSWERED")
        if trigger is not o2:
            engine.cdr(o2, "ANSWERED")
        m.in_call = False
        m.calls_taken += 1
        m.last_call = int(engine.lab_now())
        engine.finish_call(call)
        engine.device_state(m.device, "NOT_INUSE")
        engine.device_state(m.device, "NOT_INUSE")
        engine.member_status(m.device)

    def _hangup(self, call: Call, qc: QueueCall, ch: Channel, cause: int) -> None:
        """A Hangup action on any channel of a queue call."""
        engine = self.engine
        if qc.winner is not None and ch in (call.o1, call.o2, qc.winner.one, qc.winner.two):
            self._complete(call, qc, ch, cause)
            return
        ring = next((r for r in qc.ringing if ch in (r.one, r.two)), None)
        o1 = call.o1
        assert o1 is not None
        if ring is not None:
            # One rung member leg goes: the queue goes on ringing the others.
            engine.dial_event("DialEnd", o1, ring.one, [("DialStatus", "CANCEL")])
            self._drop_leg(ring, cause)
            qc.ringing.remove(ring)
            ring.answers_after = float("inf")
            call.extra = [c for c in call.extra if c not in (ring.one, ring.two)]
            self._leg_idle(ring)
            return
        # The caller hangs up while waiting or ringing: QueueCallerAbandon.
        engine.stop_call(call)
        entry = qc.entry
        for r in qc.ringing:
            engine.dial_event("DialEnd", o1, r.one, [("DialStatus", "CANCEL")])
        for r in qc.ringing:
            self._drop_leg(r, 16)
        self._leave(qc)
        engine.emit(
            "QueueCallerAbandon",
            "agent",
            [*o1.block(), ("Queue", entry.queue), ("Position", str(entry.position)),
             ("OriginalPosition", str(entry.position)),
             ("HoldTime", str(int(engine.lab_elapsed(entry.joined))))],
        )  # fmt: skip
        self._hang_up_caller(call, ch, cause, first=o1 if ch is o1 else ch)
        for r in qc.ringing:
            self._leg_idle(r)


def _end_times(engine: Engine, call: Call, qc: QueueCall) -> list[tuple[str, str]]:
    """The Queue() timing variables set on the caller when it returns."""
    answered = engine.lab_elapsed(qc.connected_at)
    dialed = engine.lab_elapsed(qc.entry.joined)
    del call
    return [
        ("ANSWEREDTIME", str(int(answered))),
        ("ANSWEREDTIME_MS", str(int(answered * 1000))),
        ("DIALEDTIME", str(int(dialed))),
        ("DIALEDTIME_MS", str(int(dialed * 1000))),
    ]


def _is_customer(engine: Engine, ch: Channel) -> bool:
    phone = engine.world.phones.get(ch.exten) if ch.context == "phones" else None
    return phone is not None and phone.kind is PhoneKind.CUSTOMER


__all__ = ["Entry", "Member", "QueueBook", "QueueCall"]
