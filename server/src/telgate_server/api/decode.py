"""Requests that are not valid protobuf answer INVALID_ARGUMENT.

grpc.aio decodes a request before the servicer runs; a decoding error (a
string field holding invalid UTF-8, corrupt wire format) escapes as UNKNOWN
"Unexpected DecodeError" with a traceback logged at ERROR for each call, and
a caller without a token got that instead of UNAUTHENTICATED. The
interceptor here gives each telgate.v1 handler a deserializer that turns a
decoding error into a :class:`MalformedRequest`; the servicers' request check
(:func:`check_decoded`) refuses it, and the auth interceptor's refusals,
which never read the request, still come first."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

import grpc
from google.protobuf.message import DecodeError

from telgate_server import errors

Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
PACKAGE_PREFIX = "/telgate.v1."


@dataclass(frozen=True, slots=True)
class MalformedRequest:
    """What a request that protobuf could not decode is handed on as."""

    type_name: str
    reason: str


def check_decoded(request: object) -> None:
    """INVALID_ARGUMENT for a request that was not valid protobuf."""
    if isinstance(request, MalformedRequest):
        raise errors.InvalidArgument(
            f"the request is not a valid {request.type_name} ({request.reason[:200]})",
            metadata={"field": "request"},
        )


def _tolerant(deserializer: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    type_name = getattr(getattr(deserializer, "__self__", None), "DESCRIPTOR", None)
    name = type_name.full_name if type_name is not None else "request message"

    def decode(data: bytes) -> Any:
        try:
            return deserializer(data)
        except DecodeError as exc:
            # upb's reasons are fixed sentences ("String field had bad UTF-8"),
            # never the input; the message type name is cut from them.
            reason = str(exc).rpartition(": ")[2] or "corrupt wire format"
            return MalformedRequest(name, reason)

    return decode


def _with_deserializer(handler: Handler, deserializer: Callable[[bytes], Any]) -> Handler:
    ser = handler.response_serializer
    if handler.request_streaming:
        # Route: each message of the stream is checked by the servicer as it is read.
        assert handler.stream_stream is not None
        return grpc.stream_stream_rpc_method_handler(handler.stream_stream, deserializer, ser)
    if handler.response_streaming:
        assert handler.unary_stream is not None
        return grpc.unary_stream_rpc_method_handler(handler.unary_stream, deserializer, ser)
    assert handler.unary_unary is not None
    return grpc.unary_unary_rpc_method_handler(handler.unary_unary, deserializer, ser)


class DecodeInterceptor(grpc.aio.ServerInterceptor):
    """Outermost interceptor: decoding errors become MalformedRequest (unary
    requests, and each message of a bidirectional stream)."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        if (
            handler is None
            or (handler.request_streaming and handler.stream_stream is None)
            or handler.request_deserializer is None
            or not handler_call_details.method.startswith(PACKAGE_PREFIX)
        ):
            return handler
        return _with_deserializer(handler, _tolerant(handler.request_deserializer))
