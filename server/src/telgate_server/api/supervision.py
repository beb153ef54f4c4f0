"""SupervisionService: live listening (listen / whisper / barge)."""

from __future__ import annotations

from typing import Any

import grpc
from telgate.v1 import supervision_pb2, supervision_pb2_grpc

from telgate_server import errors
from telgate_server.api import convert, paging, validation
from telgate_server.api.callers import CallerOf, nobody
from telgate_server.api.status import unary
from telgate_server.config import OriginateConfig
from telgate_server.gateway.backend import SUPERVISION, BackendRegistry

Ctx = grpc.aio.ServicerContext[Any, Any]


class SupervisionServicer(supervision_pb2_grpc.SupervisionServiceServicer):
    def __init__(
        self,
        registry: BackendRegistry,
        originate: OriginateConfig | None = None,
        caller_of: CallerOf = nobody,
    ) -> None:
        self.registry = registry
        # Scopes request ids: a retry is recognised only from the same caller.
        self.caller_of = caller_of
        # The Originate rules for the calls this service places.
        self.originate = originate or OriginateConfig()

    @unary
    async def StartListen(
        self, request: supervision_pb2.StartListenRequest, context: Ctx
    ) -> supervision_pb2.StartListenResponse:
        _, part = self.registry.part(request.backend, SUPERVISION, "StartListen")
        if not request.listener_endpoint:
            raise errors.InvalidArgument(
                "listener_endpoint is required, e.g. `PJSIP/250`",
                metadata={"field": "listener_endpoint"},
            )
        validation.check_no_expressions(
            (
                ("listener_endpoint", request.listener_endpoint),
                ("target_extension", request.target_extension),
                ("caller_id.number", request.caller_id.number),
                ("caller_id.name", request.caller_id.name),
            ),
            self.originate,
        )
        which = request.WhichOneof("target")
        session = await part.start(
            target=convert.selector(request.target_channel, "target_channel")
            if which == "target_channel"
            else None,
            target_extension=request.target_extension if which == "target_extension" else "",
            listener_endpoint=request.listener_endpoint,
            mode=convert.listen_mode(request.mode),
            caller_num=request.caller_id.number,
            caller_name=request.caller_id.name,
            request_id=request.request_id,
            request_scope=self.caller_of(context),
        )
        return supervision_pb2.StartListenResponse(session=convert.listen_session(session))

    @unary
    async def StopListen(
        self, request: supervision_pb2.StopListenRequest, context: Ctx
    ) -> supervision_pb2.StopListenResponse:
        _, part = self.registry.part(request.backend, SUPERVISION, "StopListen")
        session = await part.stop(request.session_id)
        return supervision_pb2.StopListenResponse(session=convert.listen_session(session))

    @unary
    async def SetListenMode(
        self, request: supervision_pb2.SetListenModeRequest, context: Ctx
    ) -> supervision_pb2.SetListenModeResponse:
        _, part = self.registry.part(request.backend, SUPERVISION, "SetListenMode")
        session = await part.set_mode(request.session_id, convert.listen_mode(request.mode))
        return supervision_pb2.SetListenModeResponse(session=convert.listen_session(session))

    @unary
    async def ListListenSessions(
        self, request: supervision_pb2.ListListenSessionsRequest, context: Ctx
    ) -> supervision_pb2.ListListenSessionsResponse:
        _, part = self.registry.part(request.backend, SUPERVISION, "ListListenSessions")
        items, token = paging.page(part.list(), lambda s: paging.text_key(s.id), request)
        return supervision_pb2.ListListenSessionsResponse(
            sessions=[convert.listen_session(s) for s in items], next_page_token=token
        )
