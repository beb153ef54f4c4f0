"""``Dial(Local/<exten>@phones[/n][,timeout[,options]])`` run by ``EXEC`` in a FastAGI
session, with the events fixtures/agi 05 shows: the Dial variables reset, the
callee's Local pair, DialBegin/DialState/DialEnd, the bridge while the lab phone
talks, and DIALSTATUS. Dial returns -1 when the answered callee hangs up (0 with
option ``g``), 0 when nobody answered (BUSY, NOANSWER, CONGESTION, CHANUNAVAIL).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from .agi_wire import split_app_args
from .channels import BUSY, RINGING, UP, Channel
from .world import Phone, PhoneKind

if TYPE_CHECKING:
    from .agi_dialplan import AgiRun
    from .engine import Engine

log = logging.getLogger(__name__)

# The Dial() variables Asterisk resets (empty) when Dial starts, in its order.
DIAL_VARS = (
    "DIALSTATUS",
    "DIALEDPEERNUMBER",
    "DIALEDPEERNAME",
    "ANSWEREDTIME",
    "ANSWEREDTIME_MS",
    "DIALEDTIME",
    "DIALEDTIME_MS",
    "RINGTIME",
    "RINGTIME_MS",
    "PROGRESSTIME",
    "PROGRESSTIME_MS",
)


# Called when a Hangup action hits one of the Dial's legs: (leg, cause).
LegHandler = Callable[[Channel, int], None]


class ChannelRunner:
    """Runs an application of the dialplan on a channel outside the engine's step
    generators (in asyncio): waits in lab time, learns of the channel's hang-up."""

    def __init__(self, engine: Engine, run: AgiRun) -> None:
        self.engine = engine
        self.run = run
        self.ch: Channel = run.channel
        self.dead = False
        self._changed = asyncio.Event()

    def lab_now(self) -> float:
        """The loop clock, in lab seconds."""
        return self.engine.clock.time() / (self.engine.time_scale or 1.0)

    async def wait_change(self, deadline: float | None) -> bool:
        """Waits (lab ``deadline``, None = for ever) for a digit, a hang-up or a
        :meth:`poke`; False when the deadline passed."""
        self._changed.clear()
        if deadline is None:
            await self._changed.wait()
            return True
        left = (deadline - self.lab_now()) * self.engine.time_scale
        if left <= 0:
            return False
        try:
            await asyncio.wait_for(self._changed.wait(), left)
        except TimeoutError:
            return False
        return True

    def poke(self) -> None:
        """Wakes whatever waits (a Dial whose leg hung up)."""
        self._changed.set()

    def watch_legs(self, handler: LegHandler | None) -> None:
        """Routes Hangup actions on other channels of the call (a Dial's legs) to
        ``handler``."""
        self.run.extra_hangup = handler


class DialRunner(ChannelRunner):
    """``Dial()`` as a step of the dialplan (``agi-test,104``)."""

    def _hung_up(self) -> None:
        self.dead = True
        self._changed.set()

    async def main(self) -> None:
        """Runs the Dial; reports its return value to the dialplan."""
        result = -1
        cancelled = False
        self.run.on_hangup = self._hung_up
        try:
            result = await dial(self, self.run.url)
        except asyncio.CancelledError:
            cancelled = True  # the simulator stops
            raise
        except Exception:
            log.exception("Dial on %s failed", self.ch.name)
        finally:
            self.run.on_hangup = None
            self.run.extra_hangup = None
            if self.run.finish is not None and not cancelled:
                self.run.finish(str(result))


async def dial(w: ChannelRunner, data: str) -> int:
    """Runs Dial(``data``) on ``w.ch``; returns what Dial returns."""
    engine, ch = w.engine, w.ch
    args = split_app_args(data)
    target = args[0]
    timeout = _float(args[1]) if len(args) > 1 and args[1] else None
    options = args[2] if len(args) > 2 else ""
    started = w.lab_now()
    for var in DIAL_VARS:
        engine.varset(ch, var, "")
    tech, _, rest = target.partition("/")
    dest = rest.partition("/")[0]
    exten, _, context = dest.partition("@")
    phone = engine.world.phones.get(exten) if context == "phones" else None
    if tech.lower() != "local" or phone is None:
        engine.varset(ch, "DIALSTATUS", "CHANUNAVAIL")
        return 0
    call = engine.call_of(ch)
    d1, d2 = engine.new_pair(exten, "phones", ch.linkedid)
    if call is not None:
        call.extra += [d1, d2]
    engine.newchannel(d1)
    engine.newchannel(d2)
    peer = f"{exten}@phones"
    engine.varset(d1, "DIALEDPEERNUMBER", peer)
    d1.cid_num, d1.cid_name = exten, ch.conn_name
    d1.conn_num, d1.conn_name = ch.cid_num, ch.cid_name
    d1.account = ch.account
    d1.exten = ch.exten
    engine.newexten(d1, 1, "AppDial", "(Outgoing Line)")
    engine.newcallerid(d1)
    engine.emit("NewConnectedLine", "call", d1.block())
    engine.varset(d2, "DIALEDPEERNUMBER", peer)
    engine.snapshot_update(d2, caller=(ch.cid_num, ch.cid_name), conn=(d1.cid_num, d1.cid_name))
    engine.local_bridge(d1, d2, "No")
    engine.dial_event("DialBegin", ch, d1, [("DialString", peer)])
    legs_gone: list[int] = []  # the cause, once a Hangup action hit a leg

    def leg_hung_up(_leg: Channel, cause: int) -> None:
        if not legs_gone:
            legs_gone.append(cause)
            w.poke()

    w.watch_legs(leg_hung_up)
    try:
        return await _run(
            w, phone, (d1, d2), timeout=timeout, options=options, started=started, gone=legs_gone
        )
    finally:
        w.watch_legs(None)


async def _run(
    w: ChannelRunner,
    phone: Phone,
    legs: tuple[Channel, Channel],
    *,
    timeout: float | None,
    options: str,
    started: float,
    gone: list[int],
) -> int:
    engine, ch = w.engine, w.ch
    d1, d2 = legs
    legs_gone = gone
    kind = phone.kind
    if kind in (PhoneKind.BUSY, PhoneKind.CONGESTION):
        status = "BUSY" if kind is PhoneKind.BUSY else "CONGESTION"
        engine.newexten(d2, 1, "Busy" if kind is PhoneKind.BUSY else "Congestion", "5")
        engine.newstate(d2, BUSY)
        engine.device_state(d1.device, "INUSE")
        engine.dial_event("DialEnd", ch, d1, [("DialStatus", status)])
        engine.hangup_request(d2, 0)
        engine.hangup_channel(d1, 0)
        engine.hangup_request(d2, 16, soft=True)
        engine.hangup_channel(d2, 17 if kind is PhoneKind.BUSY else 34)
        engine.cdr(d2, status)
        engine.device_state(d1.device, "NOT_INUSE")
        engine.varset(ch, "DIALSTATUS", status)
        return 0
    ring = phone.ring_seconds
    if kind is PhoneKind.SUPERVISOR:
        engine.newexten(d2, 1, "Answer", "")
        ring = 0.0
    else:
        if kind is PhoneKind.NO_ANSWER:
            engine.newexten(d2, 1, "Ringing", "")
            engine.newstate(d1, RINGING)
            engine.newexten(d2, 2, "Wait", "60")
            ring = float("inf")
        else:
            label = "agent" if kind is PhoneKind.AGENT else "customer"
            engine.newexten(d2, 1, "NoOp", f"{label} phone {d2.exten} ringing")
            engine.newexten(d2, 2, "Ringing", "")
            engine.newstate(d1, RINGING)
            engine.newexten(d2, 3, "Wait", f"{ring:g}")
        engine.varset(ch, "RINGTIME", "0")
        engine.varset(ch, "RINGTIME_MS", "0")
        engine.dial_event("DialState", ch, d1, [("DialStatus", "RINGING")])
        engine.device_state(d1.device, "INUSE")
        engine.member_status(d1.device)
    limit = started + timeout if timeout is not None and timeout > 0 else None
    answer_at = w.lab_now() + ring
    ok = await _wait(w, answer_at if limit is None else min(answer_at, limit), legs_gone)
    if not ok or (limit is not None and limit < answer_at):
        # The caller hung up, the callee's legs were hung up, or nobody answered in time.
        if w.dead:
            status = "CANCEL"
        elif legs_gone:
            status = "CHANUNAVAIL"
        else:
            status = "NOANSWER"
        engine.dial_event("DialEnd", ch, d1, [("DialStatus", "NOANSWER" if legs_gone else status)])
        cause = legs_gone[0] if legs_gone else 16
        for leg in (d2, d1):
            if not leg.hungup:
                engine.hangup_request(leg, cause)
                engine.hangup_channel(leg, cause)
        engine.cdr(d2, "NO ANSWER")
        engine.device_state(d1.device, "NOT_INUSE")
        engine.varset(ch, "DIALSTATUS", status)
        return -1 if w.dead else 0
    if kind is not PhoneKind.SUPERVISOR:
        engine.newexten(d2, 4, "Answer", "")
    engine.newstate(d2, UP)
    engine.newstate(d1, UP)
    answered = w.lab_now()
    engine.varset(ch, "DIALSTATUS", "ANSWER")
    engine.varset(ch, "DIALEDPEERNAME", d1.name)
    engine.varset(ch, "DIALEDPEERNUMBER", f"{d2.exten}@phones")
    d1.exten = ""
    engine.dial_event("DialEnd", ch, d1, [("DialStatus", "ANSWER")])
    bridge = str(uuid.uuid4())
    engine.bridge_event("BridgeCreate", bridge, 0, None)
    engine.newexten(d1, 1, "AppDial", "(Outgoing Line)")
    d1.bridge_id = bridge
    engine.bridge_event("BridgeEnter", bridge, 1, d1)
    engine.device_state(d1.device, "INUSE")
    ch.bridge_id = bridge
    engine.bridge_event("BridgeEnter", bridge, 2, ch)
    engine.varset(d1, "BRIDGEPEER", ch.name)
    engine.varset(ch, "BRIDGEPEER", d1.name)
    prio = 2 if kind is PhoneKind.SUPERVISOR else 5
    engine.newexten(d2, prio, "PlayTones", phone.tone)
    engine.newexten(d2, prio + 1, "Wait", f"{phone.talk_seconds:g}")
    talk_ends = w.lab_now() + phone.talk_seconds
    await _wait(w, talk_ends, legs_gone)
    if not w.dead:
        # The callee went (its phone's Wait ended or a Hangup action hit it).
        cause = legs_gone[0] if legs_gone else 16
        if not legs_gone:
            engine.newexten(d2, prio + 2, "Hangup", "16" if kind is PhoneKind.CUSTOMER else "")
        engine.hangup_request(d2, 16, soft=True)
        engine.hangup_request(d1, cause)
        engine.hangup_channel(d2, cause)
        engine.varset(d1, "BRIDGEPEER", "")
        engine.varset(ch, "BRIDGEPEER", "")
        engine.leave_bridge_of(bridge, d1, 1)
        engine.hangup_channel(d1, 16)
        engine.cdr(d2, "ANSWERED")
        engine.device_state(d1.device, "NOT_INUSE")
    else:
        engine.varset(ch, "BRIDGEPEER", "")
        engine.varset(d1, "BRIDGEPEER", "")
        engine.leave_bridge_of(bridge, d1, 1)
        engine.hangup_request(d2, 16)
        engine.hangup_channel(d1, 16)
        engine.hangup_request(d2, 16, soft=True)
        engine.hangup_channel(d2, 16)
        engine.cdr(d2, "ANSWERED")
        engine.device_state(d1.device, "NOT_INUSE")
    engine.leave_bridge_of(bridge, ch, 0)
    engine.bridge_event("BridgeDestroy", bridge, 0, None)
    now = w.lab_now()
    engine.varset(ch, "ANSWEREDTIME", str(int(now - answered)))
    engine.varset(ch, "ANSWEREDTIME_MS", str(int((now - answered) * 1000)))
    engine.varset(ch, "DIALEDTIME", str(int(now - started)))
    engine.varset(ch, "DIALEDTIME_MS", str(int((now - started) * 1000)))
    engine.varset(ch, "DIALSTATUS", "ANSWER")
    if w.dead:
        return -1
    return 0 if "g" in options else -1


async def _wait(w: ChannelRunner, until: float, legs_gone: list[int]) -> bool:
    """Waits until lab time ``until`` (inf: for ever); False when the caller or the
    callee's legs hung up first."""
    deadline = None if until == float("inf") else until
    while not w.dead and not legs_gone:
        if not await w.wait_change(deadline) and deadline is not None:
            return True
    return False


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


__all__ = ["DIAL_VARS", "ChannelRunner", "DialRunner", "LegHandler", "dial"]
