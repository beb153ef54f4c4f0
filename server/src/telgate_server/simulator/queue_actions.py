"""AMI queue actions: QueueStatus, QueueSummary, QueueAdd, QueueRemove, QueuePause,
QueuePenalty, with app_queue.c's sentences and list framing (fixtures 19, 20, 21)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..backends.ami.codec import Header, Message

if TYPE_CHECKING:
    from .misc_actions import Handler
    from .session import AmiSession

_TRUE = {"yes", "true", "y", "t", "1", "on"}


def _item(s: AmiSession, msg: Message, name: str, headers: list[Header]) -> None:
    """A list item as app_queue writes it: the ActionID comes last, no Privilege."""
    aid = msg.get("ActionID")
    s.send([("Event", name), *headers, *([("ActionID", aid)] if aid else [])])


def _complete(s: AmiSession, msg: Message, name: str, count: int) -> None:
    s.list_event(msg, name, [("EventList", "Complete"), ("ListItems", str(count))])


async def queue_status(s: AmiSession, msg: Message) -> None:
    """QueueStatus [Queue] [Member]: QueueParams, QueueMember... and QueueEntry... per
    queue; an unknown queue gives an empty list."""
    book = s.sim.engine.queues
    queue = msg.get("Queue") or ""
    member = msg.get("Member") or ""
    s.list_start(msg, "Queue status will follow")
    names = [queue] if queue else book.queue_names()
    count = 0
    for name in names:
        if not book.exists(name):
            continue
        _item(s, msg, "QueueParams", book.params(name))
        count += 1
        for m in book.members(name):
            if member and m.interface.lower() != member.lower():
                continue
            _item(s, msg, "QueueMember", book.member_item(m))
            count += 1
        for e in book.entries[name]:
            _item(s, msg, "QueueEntry", book.entry_item(e))
            count += 1
    _complete(s, msg, "QueueStatusComplete", count)


async def queue_summary(s: AmiSession, msg: Message) -> None:
    """QueueSummary [Queue]: one QueueSummary per queue."""
    book = s.sim.engine.queues
    queue = msg.get("Queue") or ""
    s.list_start(msg, "Queue summary will follow")
    names = [n for n in ([queue] if queue else book.queue_names()) if book.exists(n)]
    for name in names:
        _item(s, msg, "QueueSummary", book.summary(name))
    _complete(s, msg, "QueueSummaryComplete", len(names))


async def queue_add(s: AmiSession, msg: Message) -> None:
    """QueueAdd: Queue, Interface [Penalty Paused MemberName StateInterface Reason]."""
    queue = msg.get("Queue") or ""
    interface = msg.get("Interface") or ""
    if not queue:
        s.error(msg, "'Queue' not specified.")
        return
    if not interface:
        s.error(msg, "'Interface' not specified.")
        return
    try:
        penalty = int(msg.get("Penalty") or "0")
    except ValueError:
        penalty = 0
    paused = (msg.get("Paused") or "").lower() in _TRUE
    error = s.sim.engine.queues.add(
        queue,
        interface,
        name=msg.get("MemberName") or "",
        state_interface=msg.get("StateInterface") or "",
        penalty=penalty,
        paused=paused,
        reason=msg.get("Reason") or "",
        ack=lambda: s.success(msg, "Added interface to queue"),
    )
    if error is not None:
        s.error(msg, error)


async def queue_remove(s: AmiSession, msg: Message) -> None:
    """QueueRemove: Queue, Interface (dynamic members only)."""
    queue = msg.get("Queue") or ""
    interface = msg.get("Interface") or ""
    if not queue or not interface:
        s.error(msg, "Need 'Queue' and 'Interface' parameters.")
        return
    error = s.sim.engine.queues.remove(
        queue, interface, ack=lambda: s.success(msg, "Removed interface from queue")
    )
    if error is not None:
        s.error(msg, error)


async def queue_pause(s: AmiSession, msg: Message) -> None:
    """QueuePause: Interface, Paused [Queue Reason]; without Queue every queue."""
    interface = msg.get("Interface") or ""
    paused_s = msg.get("Paused") or ""
    if not interface or not paused_s:
        s.error(msg, "Need 'Interface' and 'Paused' parameters.")
        return
    paused = paused_s.lower() in _TRUE
    text = "Interface paused successfully" if paused else "Interface unpaused successfully"
    ok = s.sim.engine.queues.pause(
        msg.get("Queue") or "",
        interface,
        paused,
        msg.get("Reason") or "",
        ack=lambda: s.success(msg, text),
    )
    if not ok:
        s.error(msg, "Interface not found")


async def queue_penalty(s: AmiSession, msg: Message) -> None:
    """QueuePenalty: Interface, Penalty [Queue]."""
    interface = msg.get("Interface") or ""
    penalty_s = msg.get("Penalty") or ""
    if not interface or not penalty_s:
        s.error(msg, "Need 'Interface' and 'Penalty' parameters.")
        return
    # manager_queue_member_penalty reads it with atoi(): "x" is penalty 0.
    digits = re.match(r"\s*[-+]?\d+", penalty_s)
    penalty = int(digits.group(0)) if digits else 0
    ok = s.sim.engine.queues.set_penalty(
        msg.get("Queue") or "",
        interface,
        penalty,
        ack=lambda: s.success(msg, "Interface penalty set successfully"),
    )
    if not ok:
        s.error(msg, "Invalid interface, queuename or penalty")


HANDLERS: dict[str, Handler] = {
    "queuestatus": queue_status,
    "queuesummary": queue_summary,
    "queueadd": queue_add,
    "queueremove": queue_remove,
    "queuepause": queue_pause,
    "queuepenalty": queue_penalty,
}
