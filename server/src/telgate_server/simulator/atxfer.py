"""Attended transfer: what the Atxfer action sets off (fixture 18-atxfer).

manager.c ``action_atxfer`` (Asterisk 22) only sets ``TRANSFER_CONTEXT`` and
queues the DTMF of the ``atxfer`` feature code (features.conf, ``*2`` in the
lab) and then the digits of ``Exten`` onto the channel. What happens next is
the bridge's doing (main/bridge_basic.c):

* The channel must be bridged with the feature enabled (Dial option ``T`` for
  the caller, ``t`` for the callee). Otherwise the digits are plain DTMF: the
  channel receives them and a bridge passes them on.
* ``feature_attended_transfer`` puts the transferee on hold (``Hold`` on the
  transferer) and ``grab_transfer`` takes the target from ``TRANSFER_EXTEN``
  if it is set. If not, it plays ``pbx-transfer`` and collects digits; in the
  lab the queued digits were lost to the prompt, the collection timed out and
  the transfer was given up ("Unable to acquire target extension"): the
  transferer is taken off hold and the call goes on as before.
* With a target, ``dial_transfer`` requests ``Local/<exten>@<context>`` (with
  ``TRANSFERERNAME`` / ``ATTENDEDTRANSFER``), a second bridge holds the
  transferer and that Local channel, whose far half runs the dialplan (here
  ``[from-internal] _2XX``: Dial the phone). The queued extension digits then
  reach the consultation call as DTMF.
* When the transferer hangs up, the consultation bridge is merged into the
  transferee's (``BridgeMerge``, ``AttendedTransfer`` Result Success, DestType
  Bridge) and the transferer's pair hangs up. The Local consultation channel
  (no ``/n``) then optimizes itself away: the transferee is swapped into the
  target's bridge (``LocalOptimizationBegin``/``End``) and the Local pair hangs up.

Event orders follow 18-atxfer; only the order per channel (and of bridge
events) is fixed in Asterisk, across channels it is what the transcript shows.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from functools import partial

from ..backends.ami.codec import Header
from .channels import RINGING, UNKNOWN, UP, Channel
from .clock import Cancellable
from .engine import Call, DialLeg, Engine, OriginateRequest, Phase
from .transfers import is_dial_target

# Lab seconds between the queued digits as the bridge reads them (fixture 18: the
# feature digits 155 ms apart, Hold 100 ms after the last one, the extension digits
# 160 ms apart from 60 ms after the consultation channel appeared).
_CODE_GAP = 0.155
_HOLD_AFTER = 0.1
_DIGITS_FIRST = 0.06
_DIGIT_GAP = 0.16
# Without TRANSFER_EXTEN: the "pbx-transfer" prompt, transferdigittimeout without
# digits, then "pbx-invalid" (the lab's short espeak-ng stubs: about 1 s each).
_PROMPT_SECONDS = 1.0
# The Local consultation channel optimizes itself away this long after the merge
# (fixture 18: 0.67 s; it waits for media frames on both halves).
_OPTIMIZE_AFTER = 0.67
_CALLING_PRES = "0 (Presentation Allowed, Not Screened)"
_UNAVAILABLE_PRES = "67 (Number Unavailable)"


@dataclass
class Transfer:
    """One attended transfer, from the feature code to the end of its calls."""

    call: Call  # the transferer's call (bridge B1)
    transferer: Channel
    transferee: Channel
    context: str
    exten: str = ""
    digits: str = ""  # the extension digits queued after the feature code
    c1: Channel | None = None  # Local/<exten>@<context> ;1, in the consultation bridge
    c2: Channel | None = None  # its ;2 half, running the dialplan (Dial)
    consult: Call | None = None  # the Dial of c2 (bridge B3 once answered)
    b2: str = ""  # the consultation bridge
    p1: Channel | None = None  # the target phone's pair, once the transferee took over
    p2: Channel | None = None
    # The consultation ;1 half that hangs up once the transferer left its bridge.
    c1_pending: Channel | None = None
    merged: bool = False
    optimized: bool = False
    done: bool = False
    timers: list[Cancellable] = field(default_factory=list)


class AtxferBook:
    """Attended transfers in progress, and the Atxfer action's entry point."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.transfers: list[Transfer] = []

    # ---------------------------------------------------------------- entry

    def queue(self, ch: Channel, context: str, exten: str) -> None:
        """What Atxfer does once it has answered: TRANSFER_CONTEXT, then the feature
        code and ``exten`` as queued DTMF on ``ch``."""
        engine = self.engine
        if context:
            engine.set_var(ch, "TRANSFER_CONTEXT", context)
        code = engine.world.atxfer_code
        call = engine.call_of(ch)
        transferee = self._transferee(call, ch) if call is not None else None
        if call is None or transferee is None:
            self._plain_dtmf(ch, code + exten)
            return
        xfer = Transfer(call, ch, transferee, ch.variables.get("TRANSFER_CONTEXT") or ch.context)
        xfer.digits = exten
        self.transfers.append(xfer)
        # The transfer owns the call's hangups until it is over.
        call.handler = lambda c, cause, requested: self._original_hangup(xfer, c, cause)
        delay = 0.0
        for i, digit in enumerate(code):
            # The bridge swallows feature digits: only the transferer shows them.
            self._later(xfer, delay, partial(self._received, ch, digit))
            if i < len(code) - 1:
                delay += _CODE_GAP
        self._later(xfer, delay + _HOLD_AFTER, lambda: self._feature(xfer))

    def _transferee(self, call: Call, ch: Channel) -> Channel | None:
        """The bridged peer of ``ch`` if ``ch`` may transfer (Dial ``T`` for the caller,
        ``t`` for the callee, tT in the lab) and nothing else owns the call."""
        if call.phase is not Phase.BRIDGED or call.handler is not None:
            return None
        options = self.engine.world.dial_options
        if ch is call.o1 and "T" in options:
            return call.d1
        if ch is call.d1 and "t" in options:
            return call.o1
        return None

    def _later(self, xfer: Transfer, lab_seconds: float, fn: Callable[[], None]) -> None:
        engine = self.engine

        def run() -> None:
            if not xfer.done:
                fn()

        xfer.timers.append(engine.clock.call_later(lab_seconds * engine.time_scale, run))

    def _plain_dtmf(self, ch: Channel, digits: str) -> None:
        """No transfer feature: the queued digits are ordinary DTMF the channel receives
        (and a bridge passes on, as PlayDTMF with Receive shows)."""
        engine = self.engine
        for i, digit in enumerate(digits):
            engine.clock.call_later(
                i * _DIGIT_GAP * engine.time_scale, partial(self._plain, ch, digit)
            )

    def _plain(self, ch: Channel, digit: str) -> None:
        if not ch.hungup:
            self.engine.spies.dtmf(ch, digit, None, receive=True)

    def _received(self, ch: Channel, digit: str) -> None:
        """A queued DTMF END frame read by ``ch`` (no Begin; it lasted 0 ms)."""
        if ch.hungup:
            return
        self.engine.emit(
            "DTMFEnd",
            "dtmf",
            [*ch.block(), ("Digit", digit), ("DurationMs", "0"), ("Direction", "Received")],
        )

    # ------------------------------------------------------- feature started

    def _feature(self, xfer: Transfer) -> None:
        """feature_attended_transfer: hold, then the target from TRANSFER_EXTEN."""
        engine = self.engine
        t = xfer.transferer
        engine.emit("Hold", "call", t.block())
        target = t.variables.get("TRANSFER_EXTEN", "")
        if target and is_dial_target(engine, xfer.context, target):
            xfer.exten = target
            self._consult(xfer)
            for i, digit in enumerate(xfer.digits):
                self._later(xfer, _DIGITS_FIRST + i * _DIGIT_GAP, partial(self._digit, xfer, digit))
            return
        # grab_transfer: the digits are read (and lost) while the prompt plays, no
        # digit comes within transferdigittimeout, "pbx-invalid": the transfer is over.
        for i, digit in enumerate(xfer.digits):
            self._later(xfer, _DIGITS_FIRST + i * _DIGIT_GAP, partial(self._received, t, digit))
        give_up = 2 * _PROMPT_SECONDS + engine.world.transfer_digit_timeout
        self._later(xfer, give_up, lambda: self._give_up(xfer))

    def _give_up(self, xfer: Transfer) -> None:
        """ "Unable to acquire target extension": off hold, the call goes on."""
        self.engine.emit("Unhold", "call", xfer.transferer.block())
        self._finish(xfer)
        xfer.call.handler = None

    def _finish(self, xfer: Transfer) -> None:
        xfer.done = True
        for timer in xfer.timers:
            timer.cancel()
        xfer.timers.clear()
        if xfer in self.transfers:
            self.transfers.remove(xfer)

    def _consult(self, xfer: Transfer) -> None:
        """dial_transfer + the consultation bridge; the Local channel's ;2 half Dials."""
        engine = self.engine
        t = xfer.transferer
        c1, c2 = engine.new_pair(xfer.exten, xfer.context, t.linkedid)
        xfer.c1, xfer.c2 = c1, c2
        engine.newchannel(c1)
        engine.newchannel(c2)
        engine.varset(c1, "TRANSFERERNAME", t.name)
        engine.varset(c1, "ATTENDEDTRANSFER", t.name)
        xfer.b2 = str(uuid.uuid4())
        engine.bridge_event("BridgeCreate", xfer.b2, 0, None)
        # The ;2 half inherits the variables (in its own order) and, via the Local
        # channel, the caller ID copy_caller_data() gave the ;1 half as connected line.
        engine.varset(c2, "ATTENDEDTRANSFER", t.name)
        engine.varset(c2, "TRANSFERERNAME", t.name)
        engine.set_both(c2, (t.cid_num, t.cid_name), (c2.conn_num, c2.conn_name))
        engine.local_bridge(c1, c2, "Yes")
        consult = Call(OriginateRequest(channel=c2.name), None, originate_pending=False)
        consult.o1, consult.o2 = c2, c1
        consult.phase = Phase.RUNNING
        consult.handler = lambda c, cause, requested: self._consult_hangup(xfer, c)
        xfer.consult = consult
        engine.calls.append(consult)
        leg = DialLeg(float("inf"), 5, "", float("inf"))
        caller = t.cid_num if t.cid_num != UNKNOWN else ""
        first = ("NoOp", f"internal call {caller} -> {xfer.exten}")
        inner = engine.dial_steps(consult, xfer.exten, leg, first=first, play_o2=False)
        engine.run_call(consult, self._consult_steps(xfer, inner))
        if consult.phase is Phase.ENDED:
            self._rejoin(xfer)
            return
        # The transfer target answers the bridge's call as its ;2 half's Dial goes on.
        if (c1.conn_num, c1.conn_name) != (t.cid_num, t.cid_name):
            c1.conn_num, c1.conn_name = t.cid_num, t.cid_name
            engine.emit("NewConnectedLine", "call", c1.block())
        c1.bridge_id = xfer.b2
        engine.bridge_event("BridgeEnter", xfer.b2, 1, c1)
        engine.varset(c1, "ATTENDEDTRANSFER", "")
        engine.leave_bridge(xfer.call, t, 1)
        t.bridge_id = xfer.b2
        engine.bridge_event("BridgeEnter", xfer.b2, 2, t)
        engine.varset(c1, "BRIDGEPEER", t.name)
        engine.varset(t, "BRIDGEPEER", c1.name)
        if consult.phase is Phase.DIALING and consult.d1 is not None:
            if consult.d1.state == RINGING:
                engine.newstate(c1, RINGING)
            if (t.conn_num, t.conn_name) != (UNKNOWN, UNKNOWN):
                t.conn_num, t.conn_name = UNKNOWN, UNKNOWN
                engine.emit("NewConnectedLine", "call", t.block())
            if c1.state == RINGING:
                engine.dial_event("DialState", None, c1, [("DialStatus", "RINGING")])
        engine.device_state(c1.device, "INUSE")

    def _consult_steps(
        self, xfer: Transfer, inner: Generator[float, None, None]
    ) -> Generator[float, None, None]:
        """The consultation Dial, watched: its answer reaches the transferer's bridge,
        and its end before a merge takes the transferer back."""
        consult = xfer.consult
        assert consult is not None
        answered = False
        for delay in inner:
            if not answered and consult.phase is Phase.BRIDGED:
                answered = True
                self._target_answered(xfer)
            yield delay
        if not xfer.merged and not xfer.done:
            self._rejoin(xfer)

    def _target_answered(self, xfer: Transfer) -> None:
        """The consultation Local channel is answered: its ;1 half (in the transferer's
        bridge) goes up, and that bridge re-sets BRIDGEPEER."""
        engine = self.engine
        c1, t = xfer.c1, xfer.transferer
        assert c1 is not None
        engine.newstate(c1, UP)
        engine.dial_event("DialEnd", None, c1, [("DialStatus", "ANSWER")])
        if xfer.merged:
            self._schedule_optimization(xfer)
            return
        engine.varset(c1, "BRIDGEPEER", t.name)
        engine.varset(t, "BRIDGEPEER", c1.name)
        engine.device_state(c1.device, "INUSE")

    def _digit(self, xfer: Transfer, digit: str) -> None:
        """An extension digit after the target was taken from TRANSFER_EXTEN: ordinary
        DTMF into the consultation bridge, through the Local channel and its Dial."""
        t, c1, c2, consult = xfer.transferer, xfer.c1, xfer.c2, xfer.consult
        self._received(t, digit)
        if xfer.merged or c1 is None or c2 is None or consult is None:
            return
        path = [(c1, "Sent"), (c2, "Received")]
        d1 = consult.d1
        if d1 is not None and not d1.hungup:
            # Dial (ringing) passes the caller's DTMF to the callee; a bridge does too.
            path += [(d1, "Sent")]
            if consult.d2 is not None and not consult.d2.hungup:
                path += [(consult.d2, "Received")]
        for name, duration in (("DTMFBegin", None), ("DTMFEnd", 100)):
            for ch, direction in path:
                extra: list[Header] = [("Digit", digit)]
                if duration is not None:
                    extra.append(("DurationMs", str(duration)))
                extra.append(("Direction", direction))
                self.engine.emit(name, "dtmf", [*ch.block(), *extra])

    # --------------------------------------------------------------- hangups

    def _original_hangup(self, xfer: Transfer, ch: Channel, cause: int) -> None:
        """A hangup in the transferer's call while the transfer runs."""
        if xfer.done or xfer.c1 is None:
            # Still collecting the target: the call ends as it would have.
            self._finish(xfer)
            xfer.call.handler = None
            self.engine.hangup(ch, cause)
            return
        if ch is xfer.transferer or ch is xfer.call.partner(xfer.transferer):
            self._complete(xfer)
            return
        consult = xfer.consult
        if (
            consult is not None
            and consult.phase is Phase.BRIDGED
            and xfer.transferer.bridge_id == xfer.b2
            and ch in (xfer.transferee, xfer.call.partner(xfer.transferee))
        ):
            # The transferee leaves while the target talks with the transferer: the
            # transferer stays with the target (the consultation channel optimizes away).
            self._transferee_gone(xfer)
            return
        # Otherwise (the target still rings): modelled simply, the consultation ends too.
        self._hang_up_all(xfer)

    def _transferee_gone(self, xfer: Transfer) -> None:
        """The transferee's pair hangs up during an answered consultation; the Local
        consultation channel then swaps the transferer into the target's bridge."""
        engine = self.engine
        call, consult = xfer.call, xfer.consult
        t, e = xfer.transferer, xfer.transferee
        c1, c2 = xfer.c1, xfer.c2
        assert consult is not None and c1 is not None and c2 is not None
        phone = call.partner(e)
        b1, b2, b3 = call.bridge_id, xfer.b2, consult.bridge_id
        self._finish(xfer)
        engine.stop_call(call)
        engine.stop_call(consult)
        engine.varset(e, "BRIDGEPEER", "")
        engine.leave_bridge_of(b1, e, 0)
        engine.hangup_request(phone, 16)
        engine.hangup_channel(e, 16)
        engine.bridge_event("BridgeDestroy", b1, 0, None)
        engine.cdr(phone, "ANSWERED")
        engine.hangup_request(phone, 16, soft=True)
        engine.hangup_channel(phone, 16)
        p1 = consult.d1
        assert p1 is not None
        engine.local_optimize(c1, c2, t, from_bridge=b2, to_bridge=b3, peer=p1)
        engine.cdr(c2, "ANSWERED", dest_channel=p1.name)
        engine.end_dial_vars(consult)
        engine.hangup_request(c2, 16, soft=True)
        engine.varset(c1, "CHANLOCALSTATUS", "ANSWER")
        engine.hangup_request(c1, 16)
        engine.hangup_channel(c2, 16)
        engine.leave_bridge_of(b2, c1, 0)
        engine.bridge_event("BridgeDestroy", b2, 0, None)
        engine.hangup_channel(c1, 16)
        engine.device_state(c1.device, "NOT_INUSE")
        if not engine.device_in_use(e.device):
            engine.device_state(e.device, "NOT_INUSE")
            engine.device_state(e.device, "NOT_INUSE")
            engine.member_status(e.device)
        # One call remains: the transferer's pair bridged with the target's phone pair.
        for name in ("d1", "d2"):
            setattr(call, name, None)
        call.extra = [p1, *([consult.d2] if consult.d2 is not None else [])]
        call.bridge_id = b3
        consult.o1 = consult.o2 = consult.d1 = consult.d2 = None
        engine.finish_call(consult)

    def _consult_hangup(self, xfer: Transfer, ch: Channel) -> None:
        """A hangup in the consultation call before the merge: the target is gone, the
        transferer goes back to the transferee."""
        if xfer.merged:
            self._merged_hangup(xfer, ch)
            return
        consult = xfer.consult
        if (
            consult is not None
            and consult.phase is Phase.BRIDGED
            and consult.d1 is not None
            and ch in (consult.d1, consult.d2)
        ):
            self._target_gone(xfer)
        else:
            self._drop_consultation(xfer)
        self._rejoin(xfer)

    def _target_gone(self, xfer: Transfer) -> None:
        """The answered target's pair hangs up: the consultation Dial returns and its
        Local channel hangs up, leaving the transferer alone in the consultation bridge."""
        engine = self.engine
        consult, c1, c2 = xfer.consult, xfer.c1, xfer.c2
        assert consult is not None and c1 is not None and c2 is not None
        p1, p2 = consult.d1, consult.d2
        assert p1 is not None and p2 is not None
        b3 = consult.bridge_id
        engine.stop_call(consult)
        engine.varset(p1, "BRIDGEPEER", "")
        engine.varset(c2, "BRIDGEPEER", "")
        engine.leave_bridge_of(b3, p1, 1)
        engine.hangup_request(p2, 16)
        engine.leave_bridge_of(b3, c2, 0)
        engine.bridge_event("BridgeDestroy", b3, 0, None)
        engine.end_dial_vars(consult)
        engine.hangup_channel(p1, 16)
        engine.hangup_request(c2, 16, soft=True)
        engine.varset(c1, "CHANLOCALSTATUS", "ANSWER")
        engine.hangup_request(c1, 16)
        engine.hangup_channel(c2, 16)
        engine.hangup_request(p2, 16, soft=True)
        engine.hangup_channel(p2, 16)
        engine.varset(c1, "BRIDGEPEER", "")
        engine.leave_bridge_of(xfer.b2, c1, 1)
        engine.cdr(c2, "ANSWERED", dest_channel=p1.name)
        engine.cdr(p2, "ANSWERED")
        for dev in (p1.device, c1.device):
            engine.device_state(dev, "NOT_INUSE")
            engine.device_state(dev, "NOT_INUSE")
        engine.member_status(p1.device)
        # c1 hangs up once the transferer has left its bridge (_rejoin).
        xfer.c1_pending = c1
        for name in ("o1", "o2", "d1", "d2"):
            setattr(consult, name, None)
        engine.finish_call(consult)

    def _drop_consultation(self, xfer: Transfer) -> None:
        """The consultation channels hang up (each Local pair, the ;1 half first)."""
        engine = self.engine
        consult = xfer.consult
        assert consult is not None
        engine.stop_call(consult)
        for one in (xfer.c1, consult.d1):
            if one is None or one.hungup:
                continue
            if one.bridge_id:
                engine.varset(one, "BRIDGEPEER", "")
                peers = self._members(one.bridge_id)
                engine.leave_bridge_of(one.bridge_id, one, len(peers) - 1)
            two = consult.partner(one)
            engine.hangup_request(two, 16)
            engine.hangup_channel(one, 16)
            engine.hangup_request(two, 16, soft=True)
            engine.hangup_channel(two, 16)
            engine.cdr(one, "ANSWERED" if one.answered_at is not None else "NO ANSWER")
            engine.cdr(two, "ANSWERED" if two.answered_at is not None else "NO ANSWER")
        for name in ("o1", "o2", "d1", "d2"):
            setattr(consult, name, None)
        engine.finish_call(consult)
        for dev in (f"Local/{xfer.exten}@{xfer.context}", f"Local/{xfer.exten}@phones"):
            if not engine.device_in_use(dev):
                engine.device_state(dev, "NOT_INUSE")

    def _members(self, bridge_id: str) -> list[Channel]:
        return [c for c in self.engine.channels.values() if c.bridge_id == bridge_id]

    def _rejoin(self, xfer: Transfer) -> None:
        """The transferer leaves the consultation bridge for the transferee's again."""
        engine = self.engine
        t, e = xfer.transferer, xfer.transferee
        if xfer.done:
            return
        c1_pending = xfer.c1_pending
        if xfer.b2 and t.bridge_id == xfer.b2:
            if c1_pending is None:
                engine.varset(t, "BRIDGEPEER", "")
            engine.leave_bridge_of(xfer.b2, t, 0)
        if xfer.b2 and c1_pending is None:
            engine.bridge_event("BridgeDestroy", xfer.b2, 0, None)
        if not t.hungup and not e.hungup:
            t.bridge_id = xfer.call.bridge_id
            engine.bridge_event("BridgeEnter", xfer.call.bridge_id, 2, t)
            engine.varset(e, "BRIDGEPEER", t.name)
            engine.varset(t, "BRIDGEPEER", e.name)
            if c1_pending is not None and (t.conn_num, t.conn_name) != (e.cid_num, e.cid_name):
                # Back with the transferee, the transferer's connected line is its again.
                t.conn_num, t.conn_name = e.cid_num, e.cid_name
                engine.emit("NewConnectedLine", "call", t.block())
            engine.emit("Unhold", "call", t.block())
        if c1_pending is not None:
            xfer.c1_pending = None
            engine.bridge_event("BridgeDestroy", xfer.b2, 0, None)
            engine.hangup_channel(c1_pending, 16)
            engine.device_state(c1_pending.device, "NOT_INUSE")
        self._finish(xfer)
        xfer.call.handler = None

    def _hang_up_all(self, xfer: Transfer) -> None:
        """Everything of the transfer hangs up (the transferee left mid-consultation)."""
        engine = self.engine
        call = xfer.call
        self._drop_consultation(xfer)
        self._finish(xfer)
        call.handler = None
        t = xfer.transferer
        if xfer.b2 and t.bridge_id == xfer.b2:
            engine.varset(t, "BRIDGEPEER", "")
            engine.leave_bridge_of(xfer.b2, t, 0)
            engine.bridge_event("BridgeDestroy", xfer.b2, 0, None)
            t.bridge_id = call.bridge_id
        engine.hangup(xfer.transferee, 16)

    # ------------------------------------------------------------ completion

    def _snapshot(self, prefix: str, bridge_id: str, count: int) -> list[Header]:
        headers: list[Header] = [
            ("BridgeUniqueid", bridge_id),
            *self.engine.bridge_headers(count),
        ]
        return [(prefix + k, v) for k, v in headers]

    def _complete(self, xfer: Transfer) -> None:
        """The transferer hangs up: merge, AttendedTransfer, the transferer's pair goes
        (fixture 18, a005)."""
        engine = self.engine
        call = xfer.call
        t, e, c1 = xfer.transferer, xfer.transferee, xfer.c1
        assert c1 is not None
        tp = call.partner(t)
        b1, b2 = call.bridge_id, xfer.b2
        engine.stop_call(call)
        xfer.merged = True
        engine.emit(
            "BridgeMerge",
            "call",
            [*self._snapshot("To", b1, 1), *self._snapshot("From", b2, 2)],
        )
        engine.leave_bridge_of(b2, c1, 1)
        c1.bridge_id = b1
        engine.bridge_event("BridgeEnter", b1, 2, c1)
        engine.varset(t, "BRIDGEPEER", "")
        engine.leave_bridge_of(b2, t, 0)
        engine.varset(e, "BRIDGEPEER", c1.name)
        engine.varset(c1, "BRIDGEPEER", e.name)
        engine.emit(
            "AttendedTransfer",
            "call",
            [
                ("Result", "Success"),
                *t.block("OrigTransferer"),
                *self._snapshot("Orig", b1, 2),
                *t.block("SecondTransferer"),
                *self._snapshot("Second", b2, 0),
                *e.block("Transferee"),
                *c1.block("TransferTarget"),
                ("IsExternal", "No"),
                ("DestType", "Bridge"),
                ("DestBridgeUniqueid", b1),
            ],
        )
        engine.bridge_event("BridgeDestroy", b2, 0, None)
        if t is call.o1:
            # The transferer's Dial() returns: one CDR per party it was bridged with.
            engine.end_dial_vars(call)
            engine.cdr(t, "ANSWERED", dest_channel=e.name)
            engine.cdr(t, "ANSWERED", dest_channel=c1.name)
        engine.hangup_request(t, 16, soft=True)
        engine.hangup_request(tp, 16)
        e.conn_num, e.conn_name = UNKNOWN, UNKNOWN
        engine.emit("NewConnectedLine", "call", e.block())
        engine.hangup_channel(t, 16)
        c1.conn_num, c1.conn_name = e.cid_num, e.cid_name
        engine.emit("NewConnectedLine", "call", c1.block())
        engine.hangup_request(tp, 16, soft=True)
        # The phone half loses its caller with its partner, and says so after its Hangup.
        tp.cid_num, tp.cid_name = UNKNOWN, UNKNOWN
        engine.hangup_channel(tp, 16)
        self._newcallerid(tp, _UNAVAILABLE_PRES)
        engine.cdr(tp, "ANSWERED")
        consult = xfer.consult
        if consult is not None and consult.d1 is not None:
            d1 = consult.d1
            d1.conn_num, d1.conn_name = e.cid_num, e.cid_name
            engine.emit("NewConnectedLine", "call", d1.block())
        dev = t.device
        if not engine.device_in_use(dev):
            engine.device_state(dev, "NOT_INUSE")
            engine.device_state(dev, "NOT_INUSE")
            engine.member_status(dev)
        # The transferer's call now holds the transferee pair and the consultation ;1.
        for name in ("o1", "o2", "d1", "d2"):
            if getattr(call, name) in (t, tp):
                setattr(call, name, None)
        call.extra.append(c1)
        call.handler = lambda c, cause, requested: self._merged_hangup(xfer, c)
        if consult is not None and consult.bridge_id:
            self._schedule_optimization(xfer)

    def _schedule_optimization(self, xfer: Transfer) -> None:
        engine = self.engine
        xfer.timers.append(
            engine.clock.call_later(
                _OPTIMIZE_AFTER * engine.time_scale, lambda: self._optimize(xfer)
            )
        )

    def _optimize(self, xfer: Transfer) -> None:
        """The consultation Local channel optimizes itself away: the transferee takes its
        ;2 half's place in the target's bridge, and the pair hangs up."""
        engine = self.engine
        call, consult = xfer.call, xfer.consult
        c1, c2, e = xfer.c1, xfer.c2, xfer.transferee
        if xfer.optimized or consult is None or c1 is None or c2 is None or e.hungup:
            return
        if c1.hungup or c2.hungup or consult.d1 is None:
            return
        xfer.optimized = True
        p1 = consult.d1
        b1, b3 = call.bridge_id, consult.bridge_id
        engine.stop_call(consult)

        def new_caller_id() -> None:
            # The half left alone takes the transferee's caller id before it goes.
            c2.cid_num, c2.cid_name = e.cid_num, e.cid_name
            self._newcallerid(c2, _CALLING_PRES)

        engine.local_optimize(
            c1, c2, e, from_bridge=b1, to_bridge=b3, peer=p1, on_left=new_caller_id
        )
        engine.leave_bridge_of(b1, c1, 0)
        engine.hangup_request(c2, 16)
        engine.cdr(c1, "ANSWERED", dest_channel=e.name)
        engine.cdr(c2, "ANSWERED", dest_channel=p1.name)
        engine.hangup_channel(c1, 16)
        engine.end_dial_vars(consult)
        engine.hangup_request(c2, 16, soft=True)
        engine.hangup_channel(c2, 16)
        engine.bridge_event("BridgeDestroy", b1, 0, None)
        engine.device_state(c1.device, "NOT_INUSE")
        engine.device_state(c1.device, "NOT_INUSE")
        # One call remains: the transferee pair bridged with the target's phone pair.
        xfer.p1, xfer.p2 = p1, consult.d2
        consult.o1 = consult.o2 = consult.d1 = consult.d2 = None
        engine.finish_call(consult)
        call.extra = [c for c in (p1, xfer.p2) if c is not None]
        call.bridge_id = b3

    def _merged_hangup(self, xfer: Transfer, ch: Channel) -> None:
        """A hangup of the transferred call. Once optimized it is the transferee pair
        bridged with the target's phone pair; the whole call goes (fixture 18, a006 hangs
        up all four at once; a single hangup is modelled the same way)."""
        engine = self.engine
        call, consult = xfer.call, xfer.consult
        del ch
        if not xfer.optimized:
            # Merged but not optimized yet: the consultation goes first, then the rest.
            if consult is not None:
                self._drop_consultation(xfer)
            self._finish(xfer)
            self._teardown_pair_only(xfer)
            return
        e, ep = xfer.transferee, call.partner(xfer.transferee)
        p1, p2 = xfer.p1, xfer.p2
        self._finish(xfer)
        if p1 is None or p2 is None:
            self._teardown_pair_only(xfer)
            return
        b3 = call.bridge_id
        engine.varset(e, "BRIDGEPEER", "")
        engine.varset(p1, "BRIDGEPEER", "")
        engine.leave_bridge_of(b3, e, 1)
        engine.hangup_request(ep, 16, soft=True)
        engine.hangup_request(e, 0)
        engine.leave_bridge_of(b3, p1, 0)
        engine.hangup_request(p2, 16)
        engine.hangup_channel(p1, 16)
        engine.hangup_request(p2, 16, soft=True)
        # The target's phone half learns the transferee's caller ID as it goes.
        p2.cid_num, p2.cid_name = e.cid_num, e.cid_name
        engine.hangup_channel(p2, 16)
        self._newcallerid(p2, _CALLING_PRES)
        engine.bridge_event("BridgeDestroy", b3, 0, None)
        # The transferee's phone half has lost its caller with its partner's Hangup
        # request (its CDR already shows none).
        ep.cid_num, ep.cid_name = UNKNOWN, UNKNOWN
        engine.cdr(p2, "ANSWERED")
        engine.cdr(ep, "ANSWERED")
        engine.cdr(e, "ANSWERED", dest_channel=p1.name)
        engine.device_state(p1.device, "NOT_INUSE")
        engine.device_state(p1.device, "NOT_INUSE")
        engine.hangup_channel(ep, 0)
        self._newcallerid(ep, _UNAVAILABLE_PRES)
        engine.hangup_channel(e, 16)
        engine.member_status(p1.device)
        engine.device_state(e.device, "NOT_INUSE")
        engine.device_state(e.device, "NOT_INUSE")
        engine.member_status(e.device)
        call.handler = None
        call.extra = []
        call.o1 = call.o2 = call.d1 = call.d2 = None
        engine.finish_call(call)

    def _teardown_pair_only(self, xfer: Transfer) -> None:
        """The transferee's pair (alone in its bridge) hangs up."""
        engine = self.engine
        call = xfer.call
        e = xfer.transferee
        ep = call.partner(e)
        for c in list(call.extra):
            if c.bridge_id and not c.hungup:
                engine.varset(c, "BRIDGEPEER", "")
                engine.leave_bridge_of(c.bridge_id, c, 1)
        engine.varset(e, "BRIDGEPEER", "")
        engine.leave_bridge_of(call.bridge_id, e, 0)
        engine.bridge_event("BridgeDestroy", call.bridge_id, 0, None)
        engine.hangup_request(ep, 16)
        engine.hangup_channel(e, 16)
        engine.hangup_request(ep, 16, soft=True)
        engine.hangup_channel(ep, 16)
        engine.cdr(e, "ANSWERED")
        engine.cdr(ep, "ANSWERED")
        call.handler = None
        call.extra = []
        call.o1 = call.o2 = call.d1 = call.d2 = None
        engine.finish_call(call)
        if not engine.device_in_use(e.device):
            engine.device_state(e.device, "NOT_INUSE")
            engine.member_status(e.device)

    def _newcallerid(self, ch: Channel, pres: str) -> None:
        self.engine.emit("NewCallerid", "call", [*ch.block(), ("CID-CallingPres", pres)])


_BOOKS: weakref.WeakKeyDictionary[Engine, AtxferBook] = weakref.WeakKeyDictionary()


def book(engine: Engine) -> AtxferBook:
    """The attended transfers of ``engine`` (kept beside it, created on first use)."""
    found = _BOOKS.get(engine)
    if found is None:
        found = _BOOKS[engine] = AtxferBook(engine)
    return found


__all__ = ["AtxferBook", "Transfer", "book"]
