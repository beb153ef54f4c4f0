"""CallRoutingService.Route: a router's stream into the RouterHub.

The first message registers the router; each later one is a decision. The
stream writes what the hub queues for the router (queries, QueryEnded
notices) and, in a task of its own, reads decisions and hands them to the
hub, so a router that answers slowly never holds up the queries sent to it.
When the stream ends, however it ends (the router closes it, is killed, the
gateway stops), the router leaves the hub and its waiting queries get their
fallback at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc
from telgate.v1 import routing_pb2, routing_pb2_grpc

from telgate_server import errors
from telgate_server.api import routing_convert as convert
from telgate_server.api import validation
from telgate_server.api.decode import check_decoded
from telgate_server.api.status import abort
from telgate_server.api.streams import StreamLimits, unlimited
from telgate_server.routing.hub import Outgoing, QueryEnded, RouterHub, RouterLink
from telgate_server.routing.model import DecisionInvalid

log = logging.getLogger("telgate.routing")

Ctx = grpc.aio.ServicerContext[Any, Any]
Requests = AsyncIterator[routing_pb2.RouteRequest]


def _response(message: Outgoing) -> routing_pb2.RouteResponse:
    if isinstance(message, QueryEnded):
        return routing_pb2.RouteResponse(ended=convert.ended(message))
    return routing_pb2.RouteResponse(query=convert.query(message))


class RoutingServicer(routing_pb2_grpc.CallRoutingServiceServicer):
    """Routers' streams, registered in ``hub``."""

    def __init__(self, hub: RouterHub, streams: StreamLimits | None = None) -> None:
        self.hub = hub
        self.streams = streams if streams is not None else unlimited()

    async def Route(
        self, request_iterator: Requests, context: Ctx
    ) -> AsyncIterator[routing_pb2.RouteResponse]:
        """Registers the router, then sends it queries and notices until the stream ends."""
        try:
            slot = self.streams.open(context)
        except errors.GatewayError as exc:
            await abort(context, exc)
        with slot:
            try:
                registration = await self._registration(request_iterator)
            except errors.GatewayError as exc:
                await abort(context, exc)
            link = self.hub.register(registration)
            reader = asyncio.create_task(self._read(link, request_iterator))
            try:
                yield routing_pb2.RouteResponse(
                    registered=routing_pb2.RouterRegistered(router_id=link.id)
                )
                async for message in self._outgoing(link, reader):
                    yield message
            finally:
                self.hub.unregister(link)
                reader.cancel()
            failure = reader.exception() if reader.done() and not reader.cancelled() else None
            if isinstance(failure, errors.GatewayError):
                await abort(context, failure)
            if failure is not None:
                # Reading failed (the call broke): the stream is over either way.
                log.info("router %s: its stream could not be read: %r", link.id, failure)

    async def _registration(self, requests: Requests) -> Any:
        wait = self.hub.config.registration_timeout
        try:
            first = await asyncio.wait_for(anext(aiter(requests)), wait)
        except TimeoutError:
            raise errors.InvalidArgument(
                f"no RouterRegistration within {wait:g} s of opening the Route stream "
                "(routing.registration_timeout)",
                metadata={"field": "registration"},
            ) from None
        except StopAsyncIteration:
            raise errors.InvalidArgument(
                "the Route stream ended before its first message, a RouterRegistration",
                metadata={"field": "registration"},
            ) from None
        check_decoded(first)
        if first.WhichOneof("message") != "registration":
            raise errors.InvalidArgument(
                "the first message of a Route stream must be a RouterRegistration naming "
                f"the routes served; got {first.WhichOneof('message') or 'an empty RouteRequest'}",
                metadata={"field": "registration"},
            )
        validation.check_request(first)
        return convert.registration(first.registration)

    async def _outgoing(
        self, link: RouterLink, reader: asyncio.Task[None]
    ) -> AsyncIterator[routing_pb2.RouteResponse]:
        """What the hub queues for the router, until the reader ends."""
        outbox = link.outbox
        while True:
            while not outbox.empty():
                yield _response(outbox.get_nowait())
            if reader.done():
                return
            get = asyncio.ensure_future(outbox.get())
            try:
                await asyncio.wait((get, reader), return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not get.done():
                    get.cancel()
            if get.done() and not get.cancelled():
                yield _response(get.result())

    async def _read(self, link: RouterLink, requests: Requests) -> None:
        """Hands each decision to the hub; returns when the router stops sending."""
        async for request in requests:
            check_decoded(request)
            which = request.WhichOneof("message")
            if which != "decision":
                raise errors.InvalidArgument(
                    "after its RouterRegistration a router sends only decisions; got "
                    + ("a second registration" if which else "an empty RouteRequest"),
                    metadata={"field": "message"},
                )
            query_id = request.decision.query_id
            try:
                validation.check_request(request)
                decision = convert.decision(request.decision)
            except errors.InvalidArgument as exc:
                self.hub.refuse(link, query_id, exc.message)
                continue
            except DecisionInvalid as exc:
                self.hub.refuse(link, query_id, str(exc))
                continue
            self.hub.decide(link, query_id, decision)
