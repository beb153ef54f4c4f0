"""The outermost interceptor: one log line and one metric per call, new calls
refused while the gateway shuts down, and open streams ended then with the
position their clients resume from (ops/drain.py).

It wraps the handler the inner interceptors (decoding, authentication)
return, so a call they refuse is logged and counted with its status too.
The log line names the caller by token name, certificate or peer address
(``AccessPolicy.caller``), never by the token."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeAlias

import grpc

from telgate_server.api.auth import _behaviour, _rebuild
from telgate_server.api.status import abort_with
from telgate_server.ops.drain import (
    SHUTTING_DOWN,
    CdrPosition,
    Drain,
    DrainedStream,
    DrainedWatch,
    EndWatch,
    Position,
    RouterPosition,
    SubscribePosition,
)
from telgate_server.ops.metrics import GatewayMetrics

log = logging.getLogger("telgate.rpc")

Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"

HEALTH_PREFIX = "/grpc.health.v1.Health/"
HEALTH_WATCH = HEALTH_PREFIX + "Watch"
WATCH_ENDED = (
    "the gateway is shutting down (health NOT_SERVING); watch another gateway, "
    "or this one again once it is back"
)
REFLECTION_PREFIX = "/grpc.reflection."
SUBSCRIBE = "/telgate.v1.EventService/Subscribe"
STREAM_CDRS = "/telgate.v1.CdrService/StreamCdrs"
ROUTE = "/telgate.v1.CallRoutingService/Route"


def _level(method: str) -> int:
    # Health checks and reflection come from probes and tools, often: DEBUG.
    return logging.DEBUG if method.startswith((HEALTH_PREFIX, REFLECTION_PREFIX)) else logging.INFO


def _code_name(context: Context, default: str) -> str:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    if isinstance(code, int):
        for status in grpc.StatusCode:
            if status.value[0] == code:
                return status.name
    return default


class OpsInterceptor(grpc.aio.ServerInterceptor):
    """Logs, counts and drains every call."""

    def __init__(
        self,
        metrics: GatewayMetrics,
        caller_of: Callable[[Context], str],
        drain: Drain,
        positions: dict[str, Callable[[object], Position]],
        *,
        log_rpcs: bool = True,
    ) -> None:
        self.metrics = metrics
        self.caller_of = caller_of
        self.drain = drain
        self.positions = positions
        self.log_rpcs = log_rpcs

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            # No such method: grpc answers UNIMPLEMENTED; its name is the
            # caller's choice, so it never becomes a label.
            return None
        method = handler_call_details.method
        health = method.startswith(HEALTH_PREFIX)
        if self.drain.draining and not health:
            return self._wrap(_refusing(handler), method, drained=False)
        return self._wrap(handler, method, drained=True)

    def _caller(self, method: str, context: Context) -> str | None:
        """Who calls, if the call's line will be logged. Read when the call
        starts: ``context.peer()`` once a client cancelled the call crashes
        the process (SIGSEGV in grpcio 1.85.1, reproduced: 2 runs in 3 of
        300 cancelled streams), and the log line is written after the end."""
        if not self.log_rpcs or not log.isEnabledFor(_level(method)):
            return None
        return self.caller_of(context)

    def _done(self, method: str, caller: str | None, code: str, start: float, unary: bool) -> None:
        seconds = time.perf_counter() - start
        self.metrics.rpc_done(method, code, seconds if unary else None)
        self.metrics.rpcs_in_flight.dec()
        if caller is None:
            return
        level = _level(method)
        ms = round(seconds * 1000, 3)
        log.log(
            level,
            "%s %s %.1f ms %s",
            method,
            code,
            ms,
            caller,
            extra={"rpc_method": method, "code": code, "duration_ms": ms, "caller": caller},
        )

    def _wrap(self, handler: Handler, method: str, *, drained: bool) -> Handler:
        """``handler`` logged and counted; with ``drained``, a stream that
        has a resume position is ended by the shutdown."""
        behaviour = _behaviour(handler)
        done = self._done
        caller_of = self._caller
        in_flight = self.metrics.rpcs_in_flight
        position_of = self.positions.get(method) if drained else None
        watched = drained and method == HEALTH_WATCH
        drain = self.drain

        async def unary(request: Any, context: Context) -> Any:
            start = time.perf_counter()
            in_flight.inc()
            caller = caller_of(method, context)
            code = "OK"
            try:
                return await behaviour(request, context)
            except asyncio.CancelledError:
                code = "CANCELLED"
                raise
            except BaseException:
                code = "UNKNOWN"
                raise
            finally:
                done(method, caller, _code_name(context, code), start, True)

        async def streaming(request: Any, context: Context) -> AsyncIterator[Any]:
            start = time.perf_counter()
            in_flight.inc()
            caller = caller_of(method, context)
            code = "OK"
            stream: DrainedStream | None = None
            watch: DrainedWatch | None = None
            if position_of is not None:
                stream = DrainedStream(asyncio.current_task(), position_of(request))
                drain.add(stream)
            if watched:
                watch = DrainedWatch(asyncio.current_task())
                drain.add(watch)
                result = behaviour(request, _WatchContext(context, watch))
            else:
                result = behaviour(request, context)
            try:
                if not inspect.isasyncgen(result):
                    # A behaviour that writes with context.write() (health Watch).
                    try:
                        await result
                    except EndWatch:
                        pass
                    except asyncio.CancelledError:
                        task = watch.task if watch is not None else None
                        if watch is None or not watch.cancelled_by_drain or task is None:
                            raise
                        if task.uncancel():
                            raise
                    else:
                        return
                    await abort_with(
                        context, grpc.StatusCode.UNAVAILABLE, WATCH_ENDED, SHUTTING_DOWN
                    )
                    return
                if stream is None:
                    async for message in result:
                        yield message
                    return
                while not stream.stopped:
                    stream.waiting = True
                    try:
                        message = await result.__anext__()
                    except StopAsyncIteration:
                        return
                    except asyncio.CancelledError:
                        task = stream.task
                        if not stream.cancelled_by_drain or task is None or task.uncancel():
                            raise
                        break
                    finally:
                        stream.waiting = False
                    stream.position.seen(message)
                    yield message
                await result.aclose()
                text, metadata = stream.position.resume()
                await abort_with(
                    context, grpc.StatusCode.UNAVAILABLE, text, SHUTTING_DOWN, **metadata
                )
            except asyncio.CancelledError:
                code = "CANCELLED"
                raise
            except GeneratorExit:
                code = "CANCELLED"
                raise
            except BaseException:
                code = "UNKNOWN"
                raise
            finally:
                if stream is not None:
                    drain.discard(stream)
                if watch is not None:
                    drain.discard(watch)
                if inspect.isasyncgen(result):
                    # A cancelled call closes this wrapper: close the servicer's
                    # generator now, so its cleanup (unsubscribe) runs at once.
                    await result.aclose()
                done(method, caller, _code_name(context, code), start, False)

        return _rebuild(handler, unary, streaming)


class _WatchContext:
    """A health Watch's servicer context, seen through: each status written
    is told to its DrainedWatch, which ends the stream once it is stopped."""

    def __init__(self, context: Context, watch: DrainedWatch) -> None:
        self._context = context
        self._watch = watch

    async def write(self, message: Any) -> None:
        await self._context.write(message)
        self._watch.written(message)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def _refusing(handler: Handler) -> Handler:
    text = "the gateway is shutting down and takes no new calls; retry on another gateway"

    async def unary(_request: Any, context: Context) -> Any:
        await abort_with(context, grpc.StatusCode.UNAVAILABLE, text, SHUTTING_DOWN)

    async def streaming(_request: Any, context: Context) -> AsyncIterator[Any]:
        await abort_with(context, grpc.StatusCode.UNAVAILABLE, text, SHUTTING_DOWN)
        yield  # pragma: no cover (makes this an async generator)

    return _rebuild(handler, unary, streaming)


def default_positions(hub: Any) -> dict[str, Callable[[object], Position]]:
    """The streams a shutdown ends with a resume position, by method."""
    return {
        SUBSCRIBE: lambda request: SubscribePosition(request, hub),
        STREAM_CDRS: CdrPosition,
        ROUTE: RouterPosition,
    }
