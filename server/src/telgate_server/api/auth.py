"""The authentication interceptor: every call passes the access policy
before its servicer runs.

Token-only policies decide from the call's metadata before the handler is
chosen, and an allowed call runs the servicer's own handler untouched (no
cost per streamed message). When client certificates grant roles, the
decision needs the TLS peer, which only the servicer context has, so the
handler is wrapped to decide first."""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeAlias

import grpc

from telgate_server.auth.policy import AccessPolicy, Refusal

log = logging.getLogger("telgate.auth")

Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"


class _RedactMetadata(logging.Filter):
    """grpc's Cython layer logs a metadata value that is not UTF-8 whole, at
    ERROR with a traceback ("Invalid encoding on b'Bearer <token>...'"): a
    caller's token, one wrong byte away from valid, would reach the log, and
    anyone could fill it. The record keeps saying what happened, not the value."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("Invalid encoding on"):
            record.msg = "a call's metadata holds a value that is not UTF-8 (value not logged)"
            record.args = None
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_REDACT = _RedactMetadata()


def redact_metadata_logs() -> None:
    """Keeps metadata values (tokens) out of grpc's own log records (idempotent)."""
    logger = logging.getLogger("grpc._cython.cygrpc")
    if _REDACT not in logger.filters:
        logger.addFilter(_REDACT)


def _log(method: str, refusal: Refusal) -> None:
    # Anonymous refusals at DEBUG: anyone can send those, and logs must not flood.
    level = logging.DEBUG if refusal.code is grpc.StatusCode.UNAUTHENTICATED else logging.INFO
    log.log(level, "refused %s: %s: %s", method, refusal.code.name, refusal.message)


def _rebuild(handler: Handler, unary: Any, streaming: Any) -> Handler:
    """A handler of the same kind and serializers, with new behaviours."""
    des, ser = handler.request_deserializer, handler.response_serializer
    if handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(streaming, des, ser)
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(unary, des, ser)
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(streaming, des, ser)
    return grpc.unary_unary_rpc_method_handler(unary, des, ser)


def _behaviour(handler: Handler) -> Callable[..., Any]:
    for name in ("unary_unary", "unary_stream", "stream_unary", "stream_stream"):
        behaviour = getattr(handler, name)
        if behaviour is not None:
            return behaviour  # type: ignore[no-any-return]
    raise ValueError("a method handler without a behaviour")


def _refusing(handler: Handler, refusal: Refusal) -> Handler:
    async def unary(_request: Any, context: Context) -> Any:
        await context.abort(refusal.code, refusal.message)

    async def streaming(_request: Any, context: Context) -> AsyncIterator[Any]:
        await context.abort(refusal.code, refusal.message)
        yield  # pragma: no cover (makes this an async generator)

    return _rebuild(handler, unary, streaming)


def _guarded(handler: Handler, check: Callable[[Context], Awaitable[None]]) -> Handler:
    behaviour = _behaviour(handler)

    async def unary(request: Any, context: Context) -> Any:
        await check(context)
        return await behaviour(request, context)

    async def streaming(request: Any, context: Context) -> AsyncIterator[Any]:
        await check(context)
        result = behaviour(request, context)
        if inspect.isasyncgen(result):
            try:
                async for response in result:
                    yield response
            finally:
                # A cancelled call closes this wrapper: close the servicer's
                # generator now, so its cleanup (unsubscribe) runs at once.
                await result.aclose()
        else:
            # A behaviour that writes with context.write() and returns.
            await result

    return _rebuild(handler, unary, streaming)


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Applies an AccessPolicy to every call (unary and streaming alike)."""

    def __init__(self, policy: AccessPolicy) -> None:
        self.policy = policy

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or self.policy.is_open(method):
            return handler
        metadata = tuple(handler_call_details.invocation_metadata or ())
        if self.policy.needs_peer():

            async def check(context: Context) -> None:
                refusal = self.policy.decide(method, metadata, context.auth_context())
                if refusal is not None:
                    _log(method, refusal)
                    await context.abort(refusal.code, refusal.message)

            return _guarded(handler, check)
        refusal = self.policy.decide(method, metadata)
        if refusal is None:
            return handler
        _log(method, refusal)
        return _refusing(handler, refusal)
