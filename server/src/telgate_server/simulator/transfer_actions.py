"""AMI actions that move calls: BlindTransfer, Atxfer and Redirect (with ExtraChannel).

Texts are manager.c's (action_blind_transfer, action_atxfer, action_redirect): a missing
header or channel is refused before anything happens; the result maps to its
sentence. The simulator can only move a bridged lab call's ;1 half to
``[from-internal] 2XX``; anything else answers the failure sentence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..backends.ami.codec import Message
from . import atxfer, transfers

if TYPE_CHECKING:
    from .misc_actions import Handler
    from .session import AmiSession


async def blind_transfer(s: AmiSession, msg: Message) -> None:
    """BlindTransfer: Channel (the transferer), Exten, optional Context."""
    name = msg.get("Channel") or ""
    exten = msg.get("Exten") or ""
    if not name:
        s.error(msg, "No channel specified")
        return
    if not exten:
        s.error(msg, "No extension specified")
        return
    ch = s.lookup(name)
    if ch is None:
        s.error(msg, "Channel specified does not exist")
        return
    context = msg.get("Context") or ch.context
    text, move = transfers.blind_transfer(s.sim.engine, ch, context, exten)
    if move is None:
        s.error(msg, text)
        if text == "Transfer invalid":
            # Asterisk still publishes the attempt (no transferee, no bridge).
            s.sim.engine.emit(
                "BlindTransfer",
                "call",
                [
                    ("Result", "Invalid"),
                    *ch.block("Transferer"),
                    ("IsExternal", "Yes"),
                    ("Context", context),
                    ("Extension", exten),
                ],
            )
        return
    s.success(msg, text)
    move()


async def attended_transfer(s: AmiSession, msg: Message) -> None:
    """Atxfer: Channel (the transferer), Exten, optional Context. It only queues the
    feature code and the digits (see atxfer.py), so it answers Success whatever the
    transfer does next."""
    name = msg.get("Channel") or ""
    exten = msg.get("Exten") or ""
    if not name:
        s.error(msg, "No channel specified")
        return
    if not exten:
        s.error(msg, "No extension specified")
        return
    ch = s.lookup(name)
    if ch is None:
        s.error(msg, "Channel specified does not exist")
        return
    engine = s.sim.engine
    if not engine.world.atxfer_code:
        s.error(msg, "No attended transfer feature code found")
        return
    s.success(msg, "Atxfer successfully queued")
    atxfer.book(engine).queue(ch, msg.get("Context") or "", exten)


async def redirect(s: AmiSession, msg: Message) -> None:
    """Redirect: Channel to Context/Exten/Priority; ExtraChannel (+ ExtraContext,
    ExtraExten, ExtraPriority) moves a second channel at the same time."""
    name = msg.get("Channel") or ""
    if not name:
        s.error(msg, "Channel not specified")
        return
    context, exten = msg.get("Context") or "", msg.get("Exten") or ""
    engine = s.sim.engine
    problem = _goto_problem(context, exten, msg.get("Priority") or "", "")
    extra_name = msg.get("ExtraChannel") or ""
    extra_context = msg.get("ExtraContext") or ""
    if problem is None and extra_name and extra_context:
        problem = _goto_problem(
            extra_context,
            msg.get("ExtraExten") or "",
            msg.get("ExtraPriority") or "",
            "Extra",
        )
    if problem is not None:
        s.error(msg, problem)
        return
    ch = s.lookup(name)
    if ch is None:
        s.error(msg, f"Channel does not exist: {name}")
        return
    if not extra_name:
        move = transfers.redirect(engine, ch, context, exten)
        if move is None:
            s.error(msg, "Redirect failed")
            return
        s.success(msg, "Redirect successful")
        move()
        return
    extra = s.lookup(extra_name)
    if extra is None:
        s.error(msg, f"ExtraChannel does not exist: {extra_name}")
        return
    second = (extra, msg.get("ExtraContext") or context, msg.get("ExtraExten") or exten)
    move = transfers.dual_redirect(engine, (ch, context, exten), second)
    if move is None:
        s.error(msg, "Redirect failed")
        return
    s.success(msg, "Dual Redirect successful")
    move()


def _goto_problem(context: str, exten: str, priority: str, extra: str) -> str | None:
    """What action_redirect refuses in a (Extra)Context/Exten/Priority, in its order."""
    if not context and not extra:
        return "Context not specified"
    if not exten:
        return f"{extra}Exten not specified"
    if not priority:
        return f"{extra}Priority not specified"
    # A priority that is not a number is a label; the lab's dialplan has none.
    if not priority.isdigit() or int(priority) < 1:
        return f"{extra}Priority is invalid"
    return None


HANDLERS: dict[str, Handler] = {
    "atxfer": attended_transfer,
    "blindtransfer": blind_transfer,
    "redirect": redirect,
}
