"""Gateway errors -> gRPC status codes, with a google.rpc.ErrorInfo detail
(domain ``telgate.v1``) so programs can branch on the reason."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from telgate_server import errors

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
}


def code_for(exc: errors.GatewayError) -> grpc.StatusCode:
    for cls in type(exc).__mro__:
        if cls in CODES:
            return CODES[cls]
    return grpc.StatusCode.UNKNOWN


def to_status(
    code: grpc.StatusCode, message: str, reason: str, metadata: dict[str, str]
) -> grpc.Status:
    """A gRPC status carrying an ErrorInfo detail."""
    info = error_details_pb2.ErrorInfo(
        reason=f"ERROR_REASON_{reason}", domain=DOMAIN, metadata=metadata
    )
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
    """Maps gateway errors raised by a unary RPC to their status."""

    @functools.wraps(fn)
    async def wrapper(
        self: Self, request: Req, context: grpc.aio.ServicerContext[Req, Resp]
    ) -> Resp:
        try:
            return await fn(self, request, context)
        except errors.GatewayError as exc:
            await abort(context, exc)

    return wrapper


def streaming(fn: Streaming[Self, Req, Resp]) -> Streaming[Self, Req, Resp]:
    """Maps gateway errors raised by a server-streaming RPC to their status."""

    @functools.wraps(fn)
    async def wrapper(
        self: Self, request: Req, context: grpc.aio.ServicerContext[Req, Resp]
    ) -> AsyncIterator[Resp]:
        try:
            async for item in fn(self, request, context):
                yield item
        except errors.GatewayError as exc:
            await abort(context, exc)

    return wrapper
