"""A Simotel queue's members through the QueueService: Simotel's queue search
has none, so they come from the extensions' `queues` lists (users search) and
the agents the gateway added, their status from NewState webhooks."""

from __future__ import annotations

from typing import Any

import httpx
from telgate.v1 import queues_pb2, queues_pb2_grpc

from tests.simotel.conftest import HOOK_PASSWORD, HOOK_USER, Make

Members = list[tuple[str, str, int, bool, str]]


async def members(queues: Any) -> tuple[Members, int, int]:
    got = (await queues.GetQueue(queues_pb2.GetQueueRequest(backend="sim", queue="900"))).queue
    listed = [(m.interface, m.name, m.status, m.paused, m.membership) for m in got.members]
    return listed, got.logged_in_members, got.available_members


async def test_queue_members_come_with_their_state(simotel: Make) -> None:
    env = await simotel()
    queues = queues_pb2_grpc.QueueServiceStub(env.channel)
    available, ringing = queues_pb2.MEMBER_STATUS_AVAILABLE, queues_pb2.MEMBER_STATUS_RINGING
    unknown, in_use = queues_pb2.MEMBER_STATUS_UNSPECIFIED, queues_pb2.MEMBER_STATUS_IN_USE
    # 216 was made a member on the PBX itself; nothing is known of its state yet.
    assert await members(queues) == ([("216", "Reza Karimi", unknown, False, "static")], 1, 0)

    async def state(exten: str, value: str, uid: str = "") -> None:
        body = {"event_name": "NewState", "exten": exten, "state": value, "unique_id": uid}
        async with httpx.AsyncClient(auth=(HOOK_USER, HOOK_PASSWORD)) as client:
            assert (await client.post(env.hook_url, json=body)).status_code == 200

    await state("216", "Idle")
    await queues.AddMember(
        queues_pb2.AddMemberRequest(backend="sim", queue="900", interface="SIP/215")
    )
    assert await members(queues) == (
        [
            ("215", "Sara Ahmadi", unknown, False, "dynamic"),
            ("216", "Reza Karimi", available, False, "static"),
        ],
        2,
        1,
    )
    await state("215", "Ringing", "1722590103.1")
    got, _, _ = await members(queues)
    assert got[0][2] == ringing
    await state("215", "InUse", "1722590103.1")
    queue = (await queues.GetQueue(queues_pb2.GetQueueRequest(backend="sim", queue="900"))).queue
    assert (queue.members[0].status, queue.members[0].in_call) == (in_use, True)
    assert queue.members[0].status_text == "InUse"
    # Paused through the gateway, and by the PBX (its NewState `Pause`).
    await queues.PauseMember(
        queues_pb2.PauseMemberRequest(backend="sim", queue="900", interface="215", paused=True)
    )
    await state("216", "Pause")
    got, logged_in, free = await members(queues)
    assert [(m[0], m[3]) for m in got] == [("215", True), ("216", True)]
    assert (logged_in, free) == (2, 0)
    await queues.RemoveMember(
        queues_pb2.RemoveMemberRequest(backend="sim", queue="900", interface="215")
    )
    got, logged_in, _ = await members(queues)
    assert [m[0] for m in got] == ["216"] and logged_in == 1
    listed = await queues.ListQueues(queues_pb2.ListQueuesRequest(backend="sim"))
    assert [(q.name, q.logged_in_members) for q in listed.queues] == [("900", 1)]
