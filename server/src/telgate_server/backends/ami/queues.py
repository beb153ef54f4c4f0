"""Queues over AMI: QueueStatus / QueueSummary read into neutral facts, and
member changes (QueueAdd / QueueRemove / QueuePause) with the PBX's error
sentences mapped to gateway errors (reference/ami.md §4, §10)."""

from __future__ import annotations

from telgate_server import errors
from telgate_server.backends.ami import actions
from telgate_server.backends.ami.channels import _int
from telgate_server.backends.ami.codec import Message
from telgate_server.backends.ami.connection import AmiConnection
from telgate_server.backends.ami.states import member_status
from telgate_server.gateway.model import QueueCallerInfo, QueueInfo, QueueMemberInfo


def _float(value: str | None) -> float:
    try:
        return float(value) if value else 0.0
    except ValueError:
        return 0.0


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


def member_from(msg: Message) -> QueueMemberInfo:
    """A QueueMember list item (or a QueueMember* event) as a member."""
    g = msg.get
    last = _int(g("LastCall"))
    return QueueMemberInfo(
        interface=g("Location") or g("Interface") or "",
        name=g("Name") or g("MemberName") or "",
        state_interface=g("StateInterface") or "",
        status=member_status(g("Status")),
        status_text=g("Status") or "",
        paused=_flag(g("Paused")),
        paused_reason=g("PausedReason") or "",
        penalty=_int(g("Penalty")),
        calls_taken=_int(g("CallsTaken")),
        last_call=float(last) if last > 0 else None,
        in_call=_flag(g("InCall")),
        membership=g("Membership") or "",
    )


def caller_from(msg: Message) -> QueueCallerInfo:
    """A QueueEntry list item as a waiting caller."""
    g = msg.get
    return QueueCallerInfo(
        position=_int(g("Position")),
        channel=g("Channel") or "",
        unique_id=g("Uniqueid") or "",
        caller_num=g("CallerIDNum") or "",
        caller_name=g("CallerIDName") or "",
        wait=_float(g("Wait")),
    )


def queues_from(status_items: list[Message], summary_items: list[Message]) -> list[QueueInfo]:
    """Queues from a QueueStatus answer, completed by a QueueSummary answer."""
    queues: dict[str, QueueInfo] = {}
    for item in status_items:
        name = item.get("Queue") or ""
        if item.name == "QueueParams":
            g = item.get
            queues[name] = QueueInfo(
                name=name,
                strategy=g("Strategy") or "",
                max_callers=_int(g("Max")),
                calls_waiting=_int(g("Calls")),
                completed=_int(g("Completed")),
                abandoned=_int(g("Abandoned")),
                hold_time=_float(g("Holdtime")),
                talk_time=_float(g("TalkTime")),
                raw=[(k, v) for k, v in item.headers if k not in ("Event", "ActionID")],
            )
        elif item.name == "QueueMember" and name in queues:
            queues[name].members.append(member_from(item))
        elif item.name == "QueueEntry" and name in queues:
            queues[name].callers.append(caller_from(item))
    for item in summary_items:
        queue = queues.get(item.get("Queue") or "")
        if queue is not None and item.name == "QueueSummary":
            queue.logged_in = _int(item.get("LoggedIn"))
            queue.available = _int(item.get("Available"))
    for queue in queues.values():
        queue.callers.sort(key=lambda c: c.position)
    return sorted(queues.values(), key=lambda q: q.name)


def _check_name(field: str, value: str) -> str:
    if not value:
        raise errors.InvalidArgument(f"{field} is required", metadata={"field": field})
    return value


class AmiQueues:
    """Queue operations of one AMI backend."""

    def __init__(self, backend: str, conn: AmiConnection) -> None:
        self.backend = backend
        self.conn = conn

    async def _read(self, queue: str = "") -> list[QueueInfo]:
        header = [("Queue", queue)] if queue else []
        status = await self.conn.action("QueueStatus", header)
        actions.raise_for(status.response, backend=self.backend, action="QueueStatus")
        summary = await self.conn.action("QueueSummary", header)
        actions.raise_for(summary.response, backend=self.backend, action="QueueSummary")
        return queues_from(status.events, summary.events)

    async def list_queues(self) -> list[QueueInfo]:
        """Every queue with its figures and members."""
        return await self._read()

    async def get_queue(self, name: str) -> QueueInfo:
        """One queue with members and waiting callers; NotFound if it does not exist."""
        _check_name("queue", name)
        for queue in await self._read(name):
            if queue.name == name:
                return queue
        raise errors.NotFound(
            f"backend {self.backend!r} has no queue {errors.quote(name)}",
            reason="PBX_REJECTED",
            metadata={"backend": self.backend, "queue": name},
        )

    async def add_member(
        self,
        queue: str,
        interface: str,
        *,
        member_name: str = "",
        state_interface: str = "",
        penalty: int = 0,
        paused: bool = False,
    ) -> None:
        headers = [
            ("Queue", _check_name("queue", queue)),
            ("Interface", _check_name("interface", interface)),
            ("Penalty", str(penalty)),
            ("Paused", "true" if paused else "false"),
        ]
        if penalty < 0:
            raise errors.InvalidArgument(
                "penalty must not be negative", metadata={"field": "penalty"}
            )
        if member_name:
            headers.append(("MemberName", member_name))
        if state_interface:
            headers.append(("StateInterface", state_interface))
        res = await self.conn.action("QueueAdd", headers)
        self._raise(res.response, "QueueAdd", queue, interface)

    async def remove_member(self, queue: str, interface: str) -> None:
        headers = [
            ("Queue", _check_name("queue", queue)),
            ("Interface", _check_name("interface", interface)),
        ]
        res = await self.conn.action("QueueRemove", headers)
        self._raise(res.response, "QueueRemove", queue, interface)

    async def pause_member(self, queue: str, interface: str, paused: bool, reason: str) -> None:
        """Pauses (or unpauses) a member in one queue, or in all its queues when
        ``queue`` is empty."""
        headers = [
            ("Interface", _check_name("interface", interface)),
            ("Paused", "true" if paused else "false"),
        ]
        if queue:
            headers.append(("Queue", queue))
        if reason:
            headers.append(("Reason", reason))
        res = await self.conn.action("QueuePause", headers)
        self._raise(res.response, "QueuePause", queue, interface)

    def _raise(self, response: Message, action: str, queue: str, interface: str) -> None:
        """The error for a refused queue action (``queue`` "": every queue);
        inputs are quoted short (errors.quote), whatever their length."""
        if response.name == "Success":
            return
        full = response.get("Message") or ""
        text = actions.pbx_text(full)
        meta = {"backend": self.backend, "pbx_message": text, "queue": queue}
        where = f"queue {errors.quote(queue)}" if queue else "any queue"
        low = full.lower()
        if "already there" in low:
            raise errors.AlreadyExists(
                f"{errors.quote(interface)} is already a member of {where} (the PBX says: {text})",
                metadata=meta,
            )
        if "no such queue" in low:
            raise errors.NotFound(
                f"backend {self.backend!r} has no queue {errors.quote(queue)} "
                f"(the PBX says: {text})",
                reason="PBX_REJECTED",
                metadata=meta,
            )
        if "not there" in low or "interface not found" in low:
            raise errors.NotFound(
                f"{errors.quote(interface)} is not a member of {where} (the PBX says: {text})",
                reason="PBX_REJECTED",
                metadata=meta,
            )
        actions.raise_for(response, backend=self.backend, action=action, subject=f"on {where}")
