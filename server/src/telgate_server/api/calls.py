"""CallControlService."""

from __future__ import annotations

from typing import Any

import grpc
from telgate.v1 import calls_pb2, calls_pb2_grpc

from telgate_server import errors
from telgate_server.api import convert, paging, validation
from telgate_server.api.callers import CallerOf, nobody
from telgate_server.api.status import unary
from telgate_server.config import OriginateConfig
from telgate_server.gateway.backend import BackendRegistry
from telgate_server.gateway.model import Capability, OriginateParams, TransferKind

Ctx = grpc.aio.ServicerContext[Any, Any]


# The longest ring an Originate may ask for (Asterisk takes milliseconds as an int).
MAX_RING_TIMEOUT = 86_400.0


def originate_params(
    req: calls_pb2.OriginateRequest, config: OriginateConfig | None = None, scope: str = ""
) -> OriginateParams:
    """Validated neutral parameters from an OriginateRequest: the application
    allow-list and the variable rule (api/validation.py) included."""
    dest = req.WhichOneof("destination")
    if dest is None:
        raise errors.InvalidArgument(
            "destination is required: set extension (context, extension) or application",
            metadata={"field": "destination"},
        )
    if dest == "extension" and not req.extension.extension:
        raise errors.InvalidArgument(
            "destination.extension.extension is required", metadata={"field": "extension"}
        )
    if dest == "application" and not req.application.name:
        raise errors.InvalidArgument(
            "destination.application.name is required", metadata={"field": "application"}
        )
    if dest == "extension" and req.extension.priority < 0:
        raise errors.InvalidArgument(
            "destination.extension.priority must not be negative",
            metadata={"field": "extension.priority"},
        )
    validation.check_originate(
        application=req.application.name if dest == "application" else "",
        data=req.application.data if dest == "application" else "",
        variables=sorted(req.variables.items()),
        config=config or OriginateConfig(),
        texts=(
            ("endpoint", req.endpoint),
            ("caller_id.number", req.caller_id.number),
            ("caller_id.name", req.caller_id.name),
            ("account_code", req.account_code),
            ("extension.context", req.extension.context),
            ("extension.extension", req.extension.extension),
        ),
    )
    timeout = None
    if req.HasField("timeout"):
        timeout = req.timeout.ToNanoseconds() / 1e9
        if not 0 < timeout <= MAX_RING_TIMEOUT:
            raise errors.InvalidArgument(
                f"timeout must be positive and at most {MAX_RING_TIMEOUT:.0f} s",
                metadata={"field": "timeout"},
            )
    return OriginateParams(
        endpoint=req.endpoint,
        context=req.extension.context,
        exten=req.extension.extension,
        priority=req.extension.priority or 1,
        application=req.application.name,
        application_data=req.application.data,
        caller_num=req.caller_id.number,
        caller_name=req.caller_id.name,
        variables=tuple(sorted(req.variables.items())),
        timeout=timeout,
        account_code=req.account_code,
        request_id=req.request_id,
        request_scope=scope,
        wait_result=req.wait == calls_pb2.ORIGINATE_WAIT_RESULT,
    )


TRANSFER_KINDS = {
    calls_pb2.TRANSFER_TYPE_BLIND: TransferKind.BLIND,
    calls_pb2.TRANSFER_TYPE_ATTENDED: TransferKind.ATTENDED,
    calls_pb2.TRANSFER_TYPE_REDIRECT: TransferKind.REDIRECT,
}


class CallControlServicer(calls_pb2_grpc.CallControlServiceServicer):
    def __init__(
        self,
        registry: BackendRegistry,
        originate: OriginateConfig | None = None,
        caller_of: CallerOf = nobody,
    ) -> None:
        self.registry = registry
        self.originate = originate or OriginateConfig()
        # Scopes request ids: a retry is recognised only from the same caller.
        self.caller_of = caller_of

    @unary
    async def Originate(
        self, request: calls_pb2.OriginateRequest, context: Ctx
    ) -> calls_pb2.OriginateResponse:
        backend = self.registry.require(request.backend, Capability.ORIGINATE, "Originate")
        params = originate_params(request, self.originate, self.caller_of(context))
        call = await backend.originate(params)
        return calls_pb2.OriginateResponse(call=convert.originated_call(call))

    @unary
    async def Hangup(
        self, request: calls_pb2.HangupRequest, context: Ctx
    ) -> calls_pb2.HangupResponse:
        backend = self.registry.require(request.backend, Capability.HANGUP, "Hangup")
        await backend.hangup(convert.selector(request.channel), request.cause)
        return calls_pb2.HangupResponse()

    @unary
    async def ListChannels(
        self, request: calls_pb2.ListChannelsRequest, context: Ctx
    ) -> calls_pb2.ListChannelsResponse:
        backend = self.registry.require(request.backend, Capability.LIST_CHANNELS, "ListChannels")
        channels = backend.list_channels()
        items, token = paging.page(channels, lambda c: paging.text_key(c.unique_id), request)
        return calls_pb2.ListChannelsResponse(
            channels=[convert.channel(c, backend.name) for c in items],
            next_page_token=token,
            total_size=len(channels),
        )

    @unary
    async def GetChannel(
        self, request: calls_pb2.GetChannelRequest, context: Ctx
    ) -> calls_pb2.GetChannelResponse:
        backend = self.registry.require(request.backend, Capability.LIST_CHANNELS, "GetChannel")
        info = await backend.get_channel(convert.selector(request.channel))
        return calls_pb2.GetChannelResponse(channel=convert.channel(info, backend.name))

    @unary
    async def Transfer(
        self, request: calls_pb2.TransferRequest, context: Ctx
    ) -> calls_pb2.TransferResponse:
        backend = self.registry.require(request.backend, Capability.TRANSFER, "Transfer")
        kind = TRANSFER_KINDS.get(request.type)
        if kind is None:
            raise errors.InvalidArgument(
                "type is required: BLIND, ATTENDED or REDIRECT", metadata={"field": "type"}
            )
        validation.check_no_expressions(
            (
                (f"{where}.{part}", getattr(getattr(request, where), part))
                for where in ("destination", "extra_destination")
                for part in ("context", "extension")
            ),
            self.originate,
        )
        for where in ("destination", "extra_destination"):
            if getattr(request, where).priority < 0:
                raise errors.InvalidArgument(
                    f"{where}.priority must not be negative",
                    metadata={"field": f"{where}.priority"},
                )
        extra = None
        if request.HasField("extra_channel"):
            if kind is not TransferKind.REDIRECT:
                raise errors.InvalidArgument(
                    "extra_channel only applies to REDIRECT", metadata={"field": "extra_channel"}
                )
            extra = convert.selector(request.extra_channel, "extra_channel")
        dest = request.destination
        await backend.transfer(
            kind,
            convert.selector(request.channel),
            context=dest.context,
            exten=dest.extension,
            priority=dest.priority or 1,
            extra=extra,
            extra_context=request.extra_destination.context,
            extra_exten=request.extra_destination.extension,
            extra_priority=request.extra_destination.priority or 1,
        )
        return calls_pb2.TransferResponse()

    @unary
    async def SendDtmf(
        self, request: calls_pb2.SendDtmfRequest, context: Ctx
    ) -> calls_pb2.SendDtmfResponse:
        backend = self.registry.require(request.backend, Capability.DTMF, "SendDtmf")
        duration = (
            request.digit_duration.ToNanoseconds() / 1e9
            if request.HasField("digit_duration")
            else None
        )
        await backend.send_dtmf(convert.selector(request.channel), request.digits, duration)
        return calls_pb2.SendDtmfResponse()
