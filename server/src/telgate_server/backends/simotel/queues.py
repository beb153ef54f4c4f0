"""Simotel queues and their agents (`pbx/queues/*`): search, add, remove,
pause and resume. A queue is named by its number; an agent by its extension.

Simotel's queue search has no members. They are put together from what the
gateway can know [I]:

- `pbx/users/search`: each extension's `queues` list (the docs' sample shows
  it empty, so the shape of an entry is not documented: a string naming the
  queue by number or name, or an object with `number` / `queue` / `name`, is
  accepted);
- the agents the gateway itself added (and not removed) through this backend;
- the agent's state from its last NewState webhook (Idle, InUse, Ringing,
  Unavailable, Pause) and the pauses the gateway set.
"""

from __future__ import annotations

from typing import Any

from telgate_server import errors
from telgate_server.backends.simotel.client import SimotelClient
from telgate_server.backends.simotel.events import text
from telgate_server.backends.simotel.state import LiveCalls
from telgate_server.gateway.model import MemberStatus, QueueInfo, QueueMemberInfo

# NewState's `state` -> the member's status.
MEMBER_STATUS = {
    "idle": MemberStatus.AVAILABLE,
    "inuse": MemberStatus.IN_USE,
    "ringing": MemberStatus.RINGING,
    "unavailable": MemberStatus.UNAVAILABLE,
}


def _agent(interface: str) -> str:
    # "SIP/215" and "215" name the same agent.
    return interface.rsplit("/", 1)[-1]


def queue_info(row: dict[str, Any]) -> QueueInfo:
    """A queue search row as a QueueInfo (its settings kept raw)."""
    try:
        max_callers = int(str(row.get("maxlen") or 0))
    except ValueError:
        max_callers = 0
    return QueueInfo(
        name=text(row.get("number") or row.get("name")),
        strategy=text(row.get("strategy")),
        max_callers=max_callers,
        raw=[(str(k), text(v)) for k, v in row.items()],
    )


def named_queues(user: dict[str, Any]) -> set[str]:
    """The queue numbers / names a user search row's `queues` list names."""
    entries = user.get("queues")
    out: set[str] = set()
    if not isinstance(entries, list):
        return out
    for entry in entries:
        if isinstance(entry, dict):
            out.update(text(entry.get(k)) for k in ("number", "queue", "name") if entry.get(k))
        elif entry not in (None, ""):
            out.add(text(entry))
    return out


class SimotelQueues:
    """The QueuePart of a Simotel backend."""

    def __init__(self, client: SimotelClient, live: LiveCalls | None = None) -> None:
        self.client = client
        self.live = live or LiveCalls()
        # (queue, agent) the gateway added and has not removed.
        self._added: set[tuple[str, str]] = set()
        # (queue, agent) -> paused, as the gateway last set it.
        self._paused: dict[tuple[str, str], bool] = {}

    async def _search(self, number: str = "") -> list[dict[str, Any]]:
        data = await self.client.call(
            "pbx/queues/search",
            {"alike": "false" if number else "true", "conditions": {"name": "", "number": number}},
        )
        rows = data if isinstance(data, list) else []
        return [r for r in rows if isinstance(r, dict)]

    async def _users(self) -> list[dict[str, Any]]:
        data = await self.client.call(
            "pbx/users/search",
            {
                "status": "all",
                "alike": "true",
                "conditions": {"name": "", "number": "", "mapped": ""},
            },
        )
        rows = data if isinstance(data, list) else []
        return [r for r in rows if isinstance(r, dict)]

    def _member(self, queue: str, agent: str, name: str) -> QueueMemberInfo:
        state = self.live.extensions.get(agent, "")
        paused = state.lower() == "pause" or self._paused.get((queue, agent), False)
        status = MEMBER_STATUS.get(state.lower(), MemberStatus.UNKNOWN)
        return QueueMemberInfo(
            interface=agent,
            name=name,
            status=status,
            status_text=state,
            paused=paused,
            in_call=status is MemberStatus.IN_USE,
            membership="dynamic" if (queue, agent) in self._added else "static",
        )

    def _with_members(self, row: dict[str, Any], users: list[dict[str, Any]]) -> QueueInfo:
        info = queue_info(row)
        names = {text(row.get("number")), text(row.get("name"))} - {""}
        members: dict[str, QueueMemberInfo] = {}
        for user in users:
            number = text(user.get("number"))
            if number and names & named_queues(user):
                members[number] = self._member(info.name, number, text(user.get("name")))
        for queue, agent in sorted(self._added):
            if queue == info.name and agent not in members:
                members[agent] = self._member(queue, agent, "")
        info.members = [members[k] for k in sorted(members)]
        info.logged_in = len(info.members)
        info.available = sum(
            1 for m in info.members if m.status is MemberStatus.AVAILABLE and not m.paused
        )
        return info

    async def list_queues(self) -> list[QueueInfo]:
        rows = await self._search()
        users = await self._users() if rows else []
        return [self._with_members(r, users) for r in rows]

    async def get_queue(self, name: str) -> QueueInfo:
        for row in await self._search(name):
            if text(row.get("number") or row.get("name")) == name:
                return self._with_members(row, await self._users())
        # The reason Asterisk backends give for an unknown queue (QUEUE_NOT_FOUND,
        # given here before, is no ErrorReason value).
        raise errors.NotFound(
            f"Simotel has no queue {errors.quote(name)}",
            reason="PBX_REJECTED",
            metadata={"queue": name},
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
        agent = _agent(interface)
        await self.client.call(
            "pbx/queues/addagent",
            {"queue": queue, "source": agent, "agent": agent, "penalty": str(penalty)},
        )
        self._added.add((queue, agent))
        self._paused.pop((queue, agent), None)
        if paused:
            await self.pause_member(queue, interface, True, "")

    async def remove_member(self, queue: str, interface: str) -> None:
        agent = _agent(interface)
        await self.client.call("pbx/queues/removeagent", {"queue": queue, "agent": agent})
        self._added.discard((queue, agent))
        self._paused.pop((queue, agent), None)

    async def pause_member(self, queue: str, interface: str, paused: bool, reason: str) -> None:
        agent = _agent(interface)
        path = "pbx/queues/pauseagent" if paused else "pbx/queues/resumeagent"
        await self.client.call(path, {"queue": queue, "agent": agent})
        self._paused[(queue, agent)] = paused
