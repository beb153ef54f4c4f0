"""QueueService."""

from __future__ import annotations

from typing import Any

import grpc
from telgate.v1 import queues_pb2, queues_pb2_grpc

from telgate_server import errors
from telgate_server.api import convert, paging
from telgate_server.api.status import unary
from telgate_server.gateway.backend import QUEUES, BackendRegistry

Ctx = grpc.aio.ServicerContext[Any, Any]


def require(**fields: str) -> None:
    """INVALID_ARGUMENT naming the first of ``fields`` (name=value) that is
    empty: refused here for every backend (Simotel would pass an empty queue
    or interface on to the PBX)."""
    for name, value in fields.items():
        if not value:
            raise errors.InvalidArgument(f"{name} is required", metadata={"field": name})


class QueueServicer(queues_pb2_grpc.QueueServiceServicer):
    def __init__(self, registry: BackendRegistry) -> None:
        self.registry = registry

    @unary
    async def ListQueues(
        self, request: queues_pb2.ListQueuesRequest, context: Ctx
    ) -> queues_pb2.ListQueuesResponse:
        backend, part = self.registry.part(request.backend, QUEUES, "ListQueues")
        queues = await part.list_queues()
        items, token = paging.page(queues, lambda q: paging.text_key(q.name), request)
        return queues_pb2.ListQueuesResponse(
            queues=[convert.queue(q, backend.name, details=False) for q in items],
            next_page_token=token,
        )

    @unary
    async def GetQueue(
        self, request: queues_pb2.GetQueueRequest, context: Ctx
    ) -> queues_pb2.GetQueueResponse:
        backend, part = self.registry.part(request.backend, QUEUES, "GetQueue")
        require(queue=request.queue)
        queue = await part.get_queue(request.queue)
        return queues_pb2.GetQueueResponse(queue=convert.queue(queue, backend.name))

    @unary
    async def AddMember(
        self, request: queues_pb2.AddMemberRequest, context: Ctx
    ) -> queues_pb2.AddMemberResponse:
        _, part = self.registry.part(request.backend, QUEUES, "AddMember")
        require(queue=request.queue, interface=request.interface)
        await part.add_member(
            request.queue,
            request.interface,
            member_name=request.member_name,
            state_interface=request.state_interface,
            penalty=request.penalty,
            paused=request.paused,
        )
        return queues_pb2.AddMemberResponse()

    @unary
    async def RemoveMember(
        self, request: queues_pb2.RemoveMemberRequest, context: Ctx
    ) -> queues_pb2.RemoveMemberResponse:
        _, part = self.registry.part(request.backend, QUEUES, "RemoveMember")
        require(queue=request.queue, interface=request.interface)
        await part.remove_member(request.queue, request.interface)
        return queues_pb2.RemoveMemberResponse()

    @unary
    async def PauseMember(
        self, request: queues_pb2.PauseMemberRequest, context: Ctx
    ) -> queues_pb2.PauseMemberResponse:
        _, part = self.registry.part(request.backend, QUEUES, "PauseMember")
        require(interface=request.interface)
        await part.pause_member(request.queue, request.interface, request.paused, request.reason)
        return queues_pb2.PauseMemberResponse()
