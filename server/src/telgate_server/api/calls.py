"""CallControlService."""

from __future__ import annotations

from typing import Any

import grpc
from telgate.v1 import calls_pb2, calls_pb2_grpc, common_pb2

from telgate_server import errors
from telgate_server.api import convert, paging, validation
from telgate_server.api.callers import CallerOf, nobody
from telgate_server.api.status import unary
from telgate_server.config import OriginateConfig
from telgate_server.gateway.backend import (
    CALLS,
    CHANNELS,
    DTMF,
    HANGUP,
    TRANSFERS,
    BackendRegistry,
)
from telgate_server.gateway.model import OriginateParams, TransferKind

Ctx = grpc.aio.ServicerContext[Any, Any]


# The longest ring an Originate may ask for (Asterisk takes milliseconds as an int).
MAX_RING_TIMEOUT = 86_400.0


def originate_params(
    req: calls_pb2.OriginateRequest, config: OriginateConfig | None = None, scope: str = ""
) -> OriginateParams:
    """Validated neutral parameters from an OriginateRequest: the application
    allow-list and the variable rule (api/validation.py) included."""
    which = req.WhichOneof("target")
    if which is None:
        raise errors.InvalidArgument(
            "destination is required: an extension in a context or a number on a route "
            "(or, instead, an application)",
            metadata={"field": "destination"},
        )
    if which == "application" and not req.application.name:
        raise errors.InvalidArgument(
            "application.name is required", metadata={"field": "application.name"}
        )
    if not req.endpoint:
        # Refused here for every backend (Simotel would pass it on to the PBX).
        raise errors.InvalidArgument(
            "endpoint is required: an extension (`201`) or the PBX's own form (`PJSIP/201`)",
            metadata={"field": "endpoint"},
        )
    destination = convert.destination(req.destination) if which == "destination" else None
    validation.check_originate(
        application=req.application.name if which == "application" else "",
        data=req.application.data if which == "application" else "",
        variables=sorted(req.variables.items()),
        config=config or OriginateConfig(),
        texts=(
            ("endpoint", req.endpoint),
            ("caller_id.number", req.caller_id.number),
            ("caller_id.name", req.caller_id.name),
            ("account_code", req.account_code),
            *destination_texts("destination", req.destination),
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
        destination=destination,
        application=req.application.name if which == "application" else "",
        application_data=req.application.data if which == "application" else "",
        caller_num=req.caller_id.number,
        caller_name=req.caller_id.name,
        variables=tuple(sorted(req.variables.items())),
        timeout=timeout,
        account_code=req.account_code,
        request_id=req.request_id,
        request_scope=scope,
        wait_result=req.wait == calls_pb2.ORIGINATE_WAIT_RESULT,
    )


def destination_texts(field: str, dest: common_pb2.Destination) -> tuple[tuple[str, str], ...]:
    """(field, text) of each string a destination places on the PBX."""
    return (
        (f"{field}.extension.context", dest.extension.context),
        (f"{field}.extension.extension", dest.extension.extension),
        (f"{field}.number.number", dest.number.number),
        (f"{field}.number.route", dest.number.route),
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
        _, calls = self.registry.part(request.backend, CALLS, "Originate")
        params = originate_params(request, self.originate, self.caller_of(context))
        call = await calls.originate(params)
        return calls_pb2.OriginateResponse(call=convert.originated_call(call))

    @unary
    async def Hangup(
        self, request: calls_pb2.HangupRequest, context: Ctx
    ) -> calls_pb2.HangupResponse:
        _, calls = self.registry.part(request.backend, HANGUP, "Hangup")
        await calls.hangup(convert.selector(request.channel), request.cause)
        return calls_pb2.HangupResponse()

    @unary
    async def ListChannels(
        self, request: calls_pb2.ListChannelsRequest, context: Ctx
    ) -> calls_pb2.ListChannelsResponse:
        backend, part = self.registry.part(request.backend, CHANNELS, "ListChannels")
        channels = part.list_channels()
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
        backend, part = self.registry.part(request.backend, CHANNELS, "GetChannel")
        info = await part.get_channel(convert.selector(request.channel))
        return calls_pb2.GetChannelResponse(channel=convert.channel(info, backend.name))

    @unary
    async def Transfer(
        self, request: calls_pb2.TransferRequest, context: Ctx
    ) -> calls_pb2.TransferResponse:
        _, transfers = self.registry.part(request.backend, TRANSFERS, "Transfer")
        kind = TRANSFER_KINDS.get(request.type)
        if kind is None:
            raise errors.InvalidArgument(
                "type is required: BLIND, ATTENDED or REDIRECT", metadata={"field": "type"}
            )
        validation.check_no_expressions(
            (
                *destination_texts("destination", request.destination),
                *destination_texts("extra_destination", request.extra_destination),
            ),
            self.originate,
        )
        destination = convert.destination(request.destination)
        extra = extra_destination = None
        if request.HasField("extra_channel"):
            if kind is not TransferKind.REDIRECT:
                raise errors.InvalidArgument(
                    "extra_channel only applies to REDIRECT", metadata={"field": "extra_channel"}
                )
            extra = convert.selector(request.extra_channel, "extra_channel")
        if request.HasField("extra_destination"):
            if extra is None:
                raise errors.InvalidArgument(
                    "extra_destination only applies to REDIRECT with an extra_channel",
                    metadata={"field": "extra_destination"},
                )
            extra_destination = convert.destination(request.extra_destination, "extra_destination")
        await transfers.transfer(
            kind,
            convert.selector(request.channel),
            destination,
            extra=extra,
            extra_destination=extra_destination,
        )
        return calls_pb2.TransferResponse()

    @unary
    async def SendDtmf(
        self, request: calls_pb2.SendDtmfRequest, context: Ctx
    ) -> calls_pb2.SendDtmfResponse:
        _, dtmf = self.registry.part(request.backend, DTMF, "SendDtmf")
        duration = (
            request.digit_duration.ToNanoseconds() / 1e9
            if request.HasField("digit_duration")
            else None
        )
        await dtmf.send_dtmf(convert.selector(request.channel), request.digits, duration)
        return calls_pb2.SendDtmfResponse()
