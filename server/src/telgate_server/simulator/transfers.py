"""Transfers of a bridged lab call: BlindTransfer (and what Redirect shares with it).

A lab call is ``o1``/``o2`` (the originated phone's Local pair, ``o1`` running
``Dial``) bridged with ``d1``/``d2`` (the dialled phone's pair). A transfer
moves the *transferee*'s ``;1`` half to a new dialplan location while its ``;2``
half (the phone) stays in its ``Wait()``; the transferer's pair hangs up. The
transferee's half then Dials again, which the engine runs as a new
:class:`~.engine.Call` whose ``o1``/``o2`` are the transferee's pair.

Event orders follow 17-blindtransfer (Asterisk 22.10.1, main/bridge_basic.c
and main/bridge.c ``ast_bridge_transfer_blind``). Only the order *per channel*
is fixed in Asterisk; across channels it is what the transcript showed.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING

from .channels import Channel
from .engine import Call, DialLeg, OriginateRequest, Phase

if TYPE_CHECKING:
    from .engine import Engine


def bridged_pair(call: Call, ch: Channel) -> tuple[Channel, Channel] | None:
    """(transferee, its phone half) for a transferer ``ch`` in a bridged call, if any."""
    if call.phase is not Phase.BRIDGED:
        return None
    if ch is call.o1 and call.d1 is not None and call.d2 is not None:
        return call.d1, call.d2
    if ch is call.d1 and call.o1 is not None and call.o2 is not None:
        return call.o1, call.o2
    return None


# What a transfer action answers, and the move to run once the answer is written
# (Asterisk answers first, then the events follow: 16, 17).
Plan = tuple[str, Callable[[], None] | None]


def blind_transfer(engine: Engine, transferer: Channel, context: str, exten: str) -> Plan:
    """The BlindTransfer action: ("Transfer succeeded", move), or ("Transfer invalid",
    None) when the channel is not bridged (ast_bridge_transfer_blind's results)."""
    call = engine.call_of(transferer)
    pair = bridged_pair(call, transferer) if call is not None else None
    if call is None or pair is None:
        return "Transfer invalid", None
    transferee = pair[0]
    if not engine.world.has_exten(context, exten):
        # Asterisk moves the transferee all the same; it finds nothing there and hangs up.
        def dead_end() -> None:
            _blind_announce(engine, call, transferer, transferee, (context, exten))
            move_nowhere(engine, call, transferer, transferee, (context, exten))

        return "Transfer succeeded", dead_end
    if not is_dial_target(engine, context, exten):
        return "Transfer failed", None

    def move() -> None:
        _blind_transfer(engine, call, transferer, transferee, (context, exten))

    return "Transfer succeeded", move


def _blind_transfer(
    engine: Engine,
    call: Call,
    transferer: Channel,
    transferee: Channel,
    target: tuple[str, str],
) -> None:
    _blind_announce(engine, call, transferer, transferee, target)
    move_to_dialplan(engine, call, transferer, transferee, target[1])


def _blind_announce(
    engine: Engine,
    call: Call,
    transferer: Channel,
    transferee: Channel,
    target: tuple[str, str],
) -> None:
    """What a blind transfer says before the transferee moves."""
    context, exten = target
    engine.emit("Unhold", "call", transferer.block())
    engine.set_var(transferee, "BLINDTRANSFER", transferer.name)
    engine.set_var(transferer, "BLINDTRANSFER", transferee.name)
    engine.set_var(transferer, "BRIDGEPEER", "")
    engine.emit(
        "BlindTransfer",
        "call",
        [
            ("Result", "Success"),
            *transferer.block("Transferer"),
            *transferee.block("Transferee"),
            ("BridgeUniqueid", call.bridge_id),
            *engine.bridge_headers(2),
            ("IsExternal", "Yes"),
            ("Context", context),
            ("Extension", exten),
        ],
    )


def is_dial_target(engine: Engine, context: str, exten: str) -> bool:
    """Whether ``context,exten`` is the lab's ``[from-internal] _2XX`` (Dial a phone),
    the only place the simulator can send a moved channel to."""
    return (
        context == "from-internal"
        and engine.world.has_exten(context, exten)
        and (exten.startswith("2") and len(exten) == 3)
    )


def _leave_for_dialplan(
    engine: Engine, call: Call, mover: Channel, exten: str, remaining: int
) -> None:
    """``mover`` is sent to ``[from-internal] exten``: its first Newexten still shows the
    application it ran (AppDial, or Dial for the caller), then it leaves the bridge."""
    first = (mover.app or "AppDial", mover.app_data or "(Outgoing Line)")
    mover.context, mover.exten, mover.priority = "from-internal", exten, 1
    engine.newexten(mover, 1, *first)
    engine.leave_bridge(call, mover, remaining)
    if mover is call.o1 and call.d1 is not None:
        # The caller's CDR for the Dial it leaves is closed (already showing the new
        # Destination): 16-redirect, a005.
        engine.cdr(mover, "ANSWERED", dest_channel=call.d1.name)


def _hang_up_pair(engine: Engine, call: Call, leaver: Channel, dest: Channel | None) -> None:
    """The bridge hangs up a ;1 half that has nowhere to go, then its phone half."""
    other = call.partner(leaver)
    if leaver is call.o1:
        engine.end_dial_vars(call)
    engine.hangup_request(leaver, 16, soft=True)
    engine.hangup_request(other, 16)
    engine.hangup_channel(leaver, 16)
    engine.hangup_request(other, 16, soft=True)
    engine.hangup_channel(other, 16)
    if leaver is call.o1:
        engine.cdr(leaver, "ANSWERED", dest_channel=dest.name if dest is not None else "")
    engine.cdr(other, "ANSWERED")


def _dial_again(
    engine: Engine,
    mover: Channel,
    phone: Channel,
    exten: str,
    first: tuple[str, str] | None = None,
) -> Call:
    """A new call: ``mover`` (its phone half still in its Wait) Dials ``exten``
    (``first``: what priority 1 shows, when the move did not show it already)."""
    new = Call(OriginateRequest(channel=mover.name), None, originate_pending=False)
    new.o1, new.o2 = mover, phone
    new.phase = Phase.RUNNING
    engine.calls.append(new)
    talk_left = max(0.0, (phone.wait_ends - engine.clock.time()) / (engine.time_scale or 1.0))
    leg = DialLeg(phone.wait_ends, 5, "", talk_left)
    engine.run_call(new, engine.dial_steps(new, exten, leg, first=first, play_o2=False))
    return new


def _retire(engine: Engine, call: Call, keep: list[Channel]) -> None:
    """Ends the old call without touching the channels in ``keep`` (they live on)."""
    for name in ("o1", "o2", "d1", "d2"):
        if getattr(call, name) in keep:
            setattr(call, name, None)
    engine.finish_call(call)


def move_to_dialplan(
    engine: Engine,
    call: Call,
    leaver: Channel,
    mover: Channel,
    exten: str,
    *,
    mover_leaves_first: bool = False,
) -> Call:
    """``mover`` leaves the bridge for ``[from-internal] exten`` and Dials again (a new
    call, returned); ``leaver``'s pair hangs up. A BlindTransfer takes the transferer
    out first; a Redirect moves its channel out first."""
    engine.stop_call(call)
    phone = call.partner(mover)
    if mover_leaves_first:
        engine.set_var(mover, "BRIDGEPEER", "")
        _leave_for_dialplan(engine, call, mover, exten, 1)
        engine.set_var(leaver, "BRIDGEPEER", "")
        engine.leave_bridge(call, leaver, 0)
    else:
        engine.leave_bridge(call, leaver, 1)
        engine.set_var(mover, "BRIDGEPEER", "")
        _leave_for_dialplan(engine, call, mover, exten, 0)
    engine.bridge_event("BridgeDestroy", call.bridge_id, 0, None)
    _hang_up_pair(engine, call, leaver, mover)
    _retire(engine, call, [mover, phone])
    return _dial_again(engine, mover, phone, exten)


def move_nowhere(
    engine: Engine, call: Call, leaver: Channel, mover: Channel, target: tuple[str, str]
) -> None:
    """``mover`` is sent to an extension that does not exist: it shows up there, leaves
    the bridge and hangs up (cause 16), and the bridge's other pair hangs up too."""
    context, exten = target
    engine.stop_call(call)
    mover_phone, leaver_phone = call.partner(mover), call.partner(leaver)
    engine.set_var(mover, "BRIDGEPEER", "")
    first = (mover.app or "AppDial", mover.app_data or "(Outgoing Line)")
    mover.context, mover.exten, mover.priority = context, exten, 1
    engine.newexten(mover, 1, *first)
    engine.set_var(leaver, "BRIDGEPEER", "")
    engine.leave_bridge(call, mover, 1)
    engine.hangup_request(mover, 16, soft=True)
    engine.hangup_request(mover_phone, 16)
    engine.leave_bridge(call, leaver, 0)
    engine.bridge_event("BridgeDestroy", call.bridge_id, 0, None)
    for ch in (leaver, mover):
        if ch is call.o1:
            engine.end_dial_vars(call)
    engine.hangup_request(mover_phone, 16, soft=True)
    engine.hangup_channel(mover_phone, 16)
    engine.hangup_channel(mover, 16)
    engine.hangup_request(leaver, 16, soft=True)
    engine.hangup_request(leaver_phone, 16)
    engine.hangup_channel(leaver, 16)
    engine.hangup_request(leaver_phone, 16, soft=True)
    engine.hangup_channel(leaver_phone, 16)
    for rec in (call.o1, call.o2, call.d2):
        if rec is not None:
            dest = call.d1.name if rec is call.o1 and call.d1 is not None else ""
            engine.cdr(rec, "ANSWERED", dest_channel=dest)
    engine.finish_call(call)


def redirect(engine: Engine, ch: Channel, context: str, exten: str) -> Callable[[], None] | None:
    """Redirect of one bridged ;1 half to ``[from-internal] 2XX``: the move to run after
    the answer, or None if the simulator cannot model it (the action then fails)."""
    call = engine.call_of(ch)
    if call is not None and call.phase is Phase.DIALING and ch is call.o1:
        return _redirect_dialing(engine, call, ch, context, exten)
    if call is not None and call.phase is Phase.BRIDGED and ch is call.o2:
        if not is_dial_target(engine, context, exten) or call.d1 is None:
            return None
        return lambda: _redirect_phone_half(engine, call, ch, exten)
    pair = bridged_pair(call, ch) if call is not None else None
    if call is None or pair is None:
        return None
    leaver = pair[0]
    if not engine.world.has_exten(context, exten):

        def dead_end() -> None:
            move_nowhere(engine, call, leaver, ch, (context, exten))

        return dead_end
    if not is_dial_target(engine, context, exten):
        return None

    def move() -> None:
        move_to_dialplan(engine, call, leaver, ch, exten, mover_leaves_first=True)

    return move


def _redirect_phone_half(engine: Engine, call: Call, half: Channel, exten: str) -> None:
    """Redirect of the originated phone's ;2 half while its ;1 half is bridged: the ;2
    half Dials ``exten`` itself; once that answers, the Local pair (no ``/n``) optimizes
    away and the old callee is bridged with the new one."""
    engine.stop_call(call)
    one = call.partner(half)
    half.context, half.exten, half.priority = "from-internal", exten, 1
    new = Call(OriginateRequest(channel=half.name), None, originate_pending=False)
    new.o1, new.o2 = half, one
    new.phase = Phase.RUNNING
    engine.calls.append(new)
    leg = DialLeg(float("inf"), 5, "", float("inf"))
    caller = half.cid_num if half.cid_num != "<unknown>" else ""
    inner = engine.dial_steps(
        new, exten, leg, first=("NoOp", f"internal call {caller} -> {exten}"), play_o2=False
    )

    def steps() -> Generator[float, None, None]:
        for delay in inner:
            if new.phase is Phase.BRIDGED:
                _optimize_pair(engine, call, new)
                return
            yield delay

    engine.run_call(new, steps())


def _optimize_pair(engine: Engine, old: Call, new: Call) -> None:
    """The originated Local pair, now between two bridges, optimizes itself away: the
    old callee takes the ;2 half's place next to the new callee, the pair hangs up."""
    one, half, callee, target = old.o1, new.o1, old.d1, new.d1
    assert one is not None and half is not None and callee is not None and target is not None
    b_old, b_new = old.bridge_id, new.bridge_id
    engine.local_optimize(one, half, callee, from_bridge=b_old, to_bridge=b_new, peer=target)
    engine.leave_bridge_of(b_old, one, 0)
    engine.end_dial_vars(old)
    engine.end_dial_vars(new)
    engine.hangup_request(one, 16, soft=True)
    engine.hangup_request(half, 16)
    engine.hangup_request(half, 16, soft=True)
    engine.hangup_channel(one, 16)
    engine.hangup_channel(half, 16)
    engine.cdr(one, "ANSWERED", dest_channel=callee.name)
    engine.cdr(half, "ANSWERED", dest_channel=target.name)
    engine.bridge_event("BridgeDestroy", b_old, 0, None)
    if not engine.device_in_use(one.device):
        engine.device_state(one.device, "NOT_INUSE")
        engine.device_state(one.device, "NOT_INUSE")
        engine.member_status(one.device)
    # One call remains: the old callee's pair bridged with the new callee's.
    survivor = Call(OriginateRequest(channel=callee.name), None, originate_pending=False)
    survivor.o1, survivor.o2, survivor.d1, survivor.d2 = callee, old.d2, target, new.d2
    survivor.bridge_id, survivor.phase = b_new, Phase.BRIDGED
    for done in (old, new):
        done.o1 = done.o2 = done.d1 = done.d2 = None
        engine.finish_call(done)
    engine.calls.append(survivor)


def _redirect_dialing(
    engine: Engine, call: Call, ch: Channel, context: str, exten: str
) -> Callable[[], None] | None:
    """Redirect of a caller whose Dial still rings: the Dial is cancelled and the caller
    runs the new place (a lab ``[from-internal] 2XX`` dials again)."""
    if not is_dial_target(engine, context, exten):
        return None
    phone = call.partner(ch)

    def move() -> None:
        engine.stop_call(call)
        ch.context, ch.exten, ch.priority = context, exten, 1  # the goto comes first
        engine.cancel_dial(call)
        _retire(engine, call, [ch, phone])
        caller = ch.cid_num if ch.cid_num != "<unknown>" else ""
        _dial_again(engine, ch, phone, exten, first=("NoOp", f"internal call {caller} -> {exten}"))

    return move


def dual_redirect(
    engine: Engine, first: tuple[Channel, str, str], second: tuple[Channel, str, str]
) -> Callable[[], None] | None:
    """Redirect with ExtraChannel: both bridged halves move (16-redirect, a005). The
    move to run after the answer, or None if the simulator cannot model it."""
    (a, a_ctx, a_exten), (b, b_ctx, b_exten) = first, second
    call = engine.call_of(a)
    pair = bridged_pair(call, a) if call is not None else None
    if call is None or pair is None or pair[0] is not b:
        return None
    if not (is_dial_target(engine, a_ctx, a_exten) and is_dial_target(engine, b_ctx, b_exten)):
        return None

    def move() -> None:
        _dual_move(engine, call, (a, a_exten), (b, b_exten))

    return move


def _dual_move(
    engine: Engine, call: Call, first: tuple[Channel, str], second: tuple[Channel, str]
) -> None:
    (a, a_exten), (b, b_exten) = first, second
    engine.stop_call(call)
    phones = (call.partner(a), call.partner(b))
    engine.set_var(a, "BRIDGEPEER", "")
    _leave_for_dialplan(engine, call, a, a_exten, 1)
    engine.set_var(b, "BRIDGEPEER", "")
    _leave_for_dialplan(engine, call, b, b_exten, 0)
    for ch in (a, b):
        if ch is call.o1:
            # The interrupted Dial() still reports its status.
            engine.set_var(ch, "DIALSTATUS", "ANSWER")
    engine.bridge_event("BridgeDestroy", call.bridge_id, 0, None)
    _retire(engine, call, [a, b, *phones])
    _dial_again(engine, a, phones[0], a_exten)
    _dial_again(engine, b, phones[1], b_exten)
