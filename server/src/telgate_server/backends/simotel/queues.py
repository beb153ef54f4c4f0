"""Simotel queues and their agents (`pbx/queues/*`): search, add, remove,
pause and resume. A queue is named by its number; an agent by its extension."""

from __future__ import annotations

from typing import Any

from telgate_server import errors
from telgate_server.backends.simotel.client import SimotelClient
from telgate_server.backends.simotel.events import text
from telgate_server.gateway.model import QueueInfo


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


class SimotelQueues:
    """The QueuePart of a Simotel backend."""

    def __init__(self, client: SimotelClient) -> None:
        self.client = client

    async def _search(self, number: str = "") -> list[QueueInfo]:
        data = await self.client.call(
            "pbx/queues/search",
            {"alike": "false" if number else "true", "conditions": {"name": "", "number": number}},
        )
        rows = data if isinstance(data, list) else []
        return [queue_info(r) for r in rows if isinstance(r, dict)]

    async def list_queues(self) -> list[QueueInfo]:
        return await self._search()

    async def get_queue(self, name: str) -> QueueInfo:
        for queue in await self._search(name):
            if queue.name == name:
                return queue
        raise errors.NotFound(
            f"Simotel has no queue {errors.quote(name)}", reason="QUEUE_NOT_FOUND"
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
        if paused:
            await self.pause_member(queue, interface, True, "")

    async def remove_member(self, queue: str, interface: str) -> None:
        await self.client.call(
            "pbx/queues/removeagent", {"queue": queue, "agent": _agent(interface)}
        )

    async def pause_member(self, queue: str, interface: str, paused: bool, reason: str) -> None:
        path = "pbx/queues/pauseagent" if paused else "pbx/queues/resumeagent"
        await self.client.call(path, {"queue": queue, "agent": _agent(interface)})
