"""Gateway errors -> gRPC status codes, with a google.rpc.ErrorInfo detail
(domain ``telgate.v1``) so programs can branch on the reason."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from telgate_server import errors
from telgate_server.api import validation
from telgate_server.api.decode import check_decoded

log = logging.getLogger("telgate.api")

DOMAIN = "telgate.v1"

CODES: dict[type[errors.GatewayError], grpc.StatusCode] = {
    errors.InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFound: grpc.StatusCode.NOT_FOUND,
    errors.Unavailable: grpc.StatusCode.UNAVAILABLE,
    errors.DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
    errors.PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    errors.FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    errors.Unimplemented: grpc.StatusCode.UNIMPLEMENTED,
    errors.OutOfRange: grpc.StatusCode.OUT_OF_RANGE,
    errors.PbxError: grpc.StatusCode.FAILED_PRECONDITION,
    errors.AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    errors.ResourceExhausted: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.Internal: grpc.StatusCode.INTERNAL,
}


def code_for(exc: errors.GatewayError) -> grpc.StatusCode:
    for cls in type(exc).__mro__:
        if cls in CODES:
            return CODES[cls]
    return grpc.StatusCode.UNKNOWN


# A status travels in HTTP/2 trailers, which clients cap (16 KiB by default
# in grpc-core; a larger one reaches the client as INTERNAL instead of the
# real error). Messages and ErrorInfo values are cut to these sizes here, the
# one place every status is built, whatever input an error message quotes.
MAX_MESSAGE_CHARS = 1000
MAX_METADATA_CHARS = 200
_MESSAGE_TAIL = 200


def clip_message(message: str) -> str:
    """``message`` cut to MAX_MESSAGE_CHARS, keeping its start and its end
    (which usually says what was wrong) and saying how much was cut."""
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    cut = len(message) - (MAX_MESSAGE_CHARS - _MESSAGE_TAIL - 60) - _MESSAGE_TAIL
    head = message[: MAX_MESSAGE_CHARS - _MESSAGE_TAIL - 60]
    return f"{head} …[{cut} characters cut]… {message[-_MESSAGE_TAIL:]}"


def clip_value(value: str) -> str:
    """An ErrorInfo metadata value cut to MAX_METADATA_CHARS (with its length)."""
    if len(value) <= MAX_METADATA_CHARS:
        return value
    return f"{value[: MAX_METADATA_CHARS - 40]}… ({len(value)} characters)"


def to_status(
    code: grpc.StatusCode, message: str, reason: str, metadata: dict[str, str]
) -> grpc.Status:
    """A gRPC status carrying an ErrorInfo detail (message and metadata clipped)."""
    info = error_details_pb2.ErrorInfo(
        reason=f"ERROR_REASON_{reason}",
        domain=DOMAIN,
        metadata={clip_value(k): clip_value(v) for k, v in metadata.items()},
    )
    message = clip_message(message)
    detail = any_pb2.Any()
    detail.Pack(info)
    proto = status_pb2.Status(code=code.value[0], message=message, details=[detail])
    return rpc_status.to_status(proto)


async def abort(context: grpc.aio.ServicerContext[Any, Any], exc: errors.GatewayError) -> NoReturn:
    code = code_for(exc)
    await context.abort_with_status(to_status(code, exc.message, exc.reason, exc.metadata))
    raise AssertionError("abort_with_status returned")  # pragma: no cover


async def abort_with(
    context: grpc.aio.ServicerContext[Any, Any],
    code: grpc.StatusCode,
    message: str,
    reason: str,
    **metadata: str,
) -> NoReturn:
    await context.abort_with_status(to_status(code, message, reason, metadata))
    raise AssertionError("abort_with_status returned")  # pragma: no cover


Req = TypeVar("Req")
Resp = TypeVar("Resp")
Self = TypeVar("Self")

Unary = Callable[[Self, Req, grpc.aio.ServicerContext[Req, Resp]], Awaitable[Resp]]
Streaming = Callable[[Self, Req, grpc.aio.ServicerContext[Req, Resp]], AsyncIterator[Resp]]


def unary(fn: Unary[Self, Req, Resp]) -> Unary[Self, Req, Resp]:
    """Checks the request's bounds (api/validation.py) before the RPC runs, and
    maps gateway errors raised by a unary RPC to their status."""

    @functools.wraps(fn)
    async def wrapper(
        self: Self, request: Req, context: grpc.aio.ServicerContext[Req, Resp]
    ) -> Resp:
        try:
            check_decoded(request)
            if isinstance(request, Message):
                validation.check_request(request)
            return await fn(self, request, context)
        except errors.GatewayError as exc:
            await abort(context, exc)

    return wrapper


def streaming(fn: Streaming[Self, Req, Resp]) -> Streaming[Self, Req, Resp]:
    """Checks the request's bounds before the RPC runs, and maps gateway errors
    raised by a server-streaming RPC to their status."""

    @functools.wraps(fn)
    async def wrapper(
        self: Self, request: Req, context: grpc.aio.ServicerContext[Req, Resp]
    ) -> AsyncIterator[Resp]:
        try:
            check_decoded(request)
            if isinstance(request, Message):
                validation.check_request(request)
            async for item in fn(self, request, context):
                yield item
        except errors.GatewayError as exc:
            await abort(context, exc)

    return wrapper
