"""A Python router for tests: opens CallRoutingService.Route on a gateway,
registers its routes and answers each query with what ``decide`` returns
(None: no answer at all); it keeps every query and QueryEnded it was sent."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from telgate.v1 import routing_pb2, routing_pb2_grpc

Decide = Callable[[routing_pb2.RoutingQuery], Awaitable[routing_pb2.RoutingDecision | None]]


def steps(*items: routing_pb2.RoutingStep, exit: str = "") -> routing_pb2.RoutingDecision:
    """A RunSteps decision."""
    return routing_pb2.RoutingDecision(steps=routing_pb2.RunSteps(steps=list(items), exit=exit))


def play(name: str) -> routing_pb2.RoutingStep:
    return routing_pb2.RoutingStep(play_announcement=routing_pb2.PlayAnnouncement(name=name))


def get_data(prompt: str, timeout: int, max_digits: int) -> routing_pb2.RoutingStep:
    step = routing_pb2.RoutingStep(
        get_data=routing_pb2.GetData(prompts=[prompt], max_digits=max_digits)
    )
    step.get_data.timeout.seconds = timeout
    return step


def exit_case(case: str) -> routing_pb2.RoutingDecision:
    return routing_pb2.RoutingDecision(exit=routing_pb2.ExitCase(case=case))


def extension(number: str) -> routing_pb2.RoutingDecision:
    return routing_pb2.RoutingDecision(extension=routing_pb2.RouteToExtension(extension=number))


def trunk(name: str, number: str, limit: int) -> routing_pb2.RoutingDecision:
    decision = routing_pb2.RoutingDecision(
        trunk=routing_pb2.RouteToTrunk(trunk=name, number=number)
    )
    decision.trunk.call_limit.seconds = limit
    return decision


class Router:
    """One Route stream; ``start()`` returns once the gateway registered it."""

    def __init__(self, channel: grpc.aio.Channel, routes: list[str], decide: Decide) -> None:
        self.stub = routing_pb2_grpc.CallRoutingServiceStub(channel)
        self.routes = routes
        self.decide = decide
        self.queries: list[routing_pb2.RoutingQuery] = []
        self.ended: list[routing_pb2.QueryEnded] = []
        self.router_id = ""
        self._outbox: asyncio.Queue[routing_pb2.RouteRequest | None] = asyncio.Queue()
        self._registered = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._answers: set[asyncio.Task[Any]] = set()
        self._call: Any = None

    async def start(self) -> Router:
        self._outbox.put_nowait(
            routing_pb2.RouteRequest(
                registration=routing_pb2.RouterRegistration(routes=self.routes)
            )
        )
        self._call = self.stub.Route(self._sent())
        self._task = asyncio.create_task(self._read())
        await asyncio.wait_for(self._registered.wait(), 30)
        return self

    async def _sent(self) -> AsyncIterator[routing_pb2.RouteRequest]:
        while (message := await self._outbox.get()) is not None:
            yield message

    async def _read(self) -> None:
        async for message in self._call:
            which = message.WhichOneof("message")
            if which == "registered":
                self.router_id = message.registered.router_id
                self._registered.set()
            elif which == "query":
                self.queries.append(message.query)
                task = asyncio.create_task(self._answer(message.query))
                self._answers.add(task)
                task.add_done_callback(self._answers.discard)
            elif which == "ended":
                self.ended.append(message.ended)

    async def _answer(self, query: routing_pb2.RoutingQuery) -> None:
        decision = await self.decide(query)
        if decision is not None:
            decision.query_id = query.id
            self._outbox.put_nowait(routing_pb2.RouteRequest(decision=decision))

    def outcomes(self) -> list[tuple[str, int, str]]:
        """(route, outcome, detail) of each ended query, by the route it was for."""
        routes = {q.id: q.route for q in self.queries}
        return [(routes.get(e.query_id, "?"), e.outcome, e.detail) for e in self.ended]

    def kill(self) -> None:
        """Drops the stream at once, as a router process that dies."""
        if self._call is not None:
            self._call.cancel()

    async def stop(self) -> None:
        self._outbox.put_nowait(None)
        for task in list(self._answers):
            task.cancel()
        if self._call is not None:
            self._call.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
                await self._task
