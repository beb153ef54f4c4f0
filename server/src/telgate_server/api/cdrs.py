"""CdrService: ListCdrs (filters, keyset paging) and StreamCdrs (replay from
the store, then follow live)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
from telgate.v1 import cdrs_pb2, cdrs_pb2_grpc

from telgate_server import errors
from telgate_server.api import convert, paging
from telgate_server.api.cdr_wire import EncodedResponse, encode_responses, serialize
from telgate_server.api.status import streaming, unary
from telgate_server.api.streams import StreamLimits, unlimited
from telgate_server.cdr.model import CdrFilter
from telgate_server.cdr.store import CdrStore
from telgate_server.cdr.stream import CdrFeed
from telgate_server.config import CdrConfig
from telgate_server.gateway.backend import CDR_HISTORY, BackendRegistry

Ctx = grpc.aio.ServicerContext[Any, Any]
SERVICE = "telgate.v1.CdrService"


class CdrServicer(cdrs_pb2_grpc.CdrServiceServicer):
    """The CDR API over the store and the live feed."""

    def __init__(
        self,
        store: CdrStore,
        feed: CdrFeed,
        config: CdrConfig,
        streams: StreamLimits | None = None,
        registry: BackendRegistry | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.feed = feed
        self.config = config
        self.streams = streams or unlimited()

    @unary
    async def ListCdrs(
        self, request: cdrs_pb2.ListCdrsRequest, context: Ctx
    ) -> cdrs_pb2.ListCdrsResponse:
        """A page of stored CDRs in cursor order (the walk's key: stable while
        CDRs are added or pruned)."""
        walk = paging.read(request)
        flt = convert.cdr_filter(request.filter)
        if request.source == cdrs_pb2.CDR_SOURCE_SWITCH:
            return await self._list_from_switch(walk, flt)
        if request.source not in (cdrs_pb2.CDR_SOURCE_UNSPECIFIED, cdrs_pb2.CDR_SOURCE_STORE):
            raise errors.InvalidArgument(
                f"source {request.source} is not a CdrSource", metadata={"field": "source"}
            )
        # One more than asked: tells whether another page exists.
        rows = await self.store.read(walk.after_number(), flt, walk.size + 1)
        page = rows[: walk.size]
        more = len(rows) > walk.size
        return cdrs_pb2.ListCdrsResponse(
            cdrs=[convert.cdr(c) for c in page],
            next_page_token=walk.token_after(paging.number_key(page[-1].cursor)) if more else "",
        )

    async def _list_from_switch(
        self, walk: paging.PageRequest, flt: CdrFilter
    ) -> cdrs_pb2.ListCdrsResponse:
        """A page read from the switch: the token holds the switch's offset."""
        if self.registry is None:
            raise errors.Unimplemented("reading CDRs from a switch is not set up here")
        if len(flt.backends) > 1:
            raise errors.InvalidArgument(
                "a switch read names one backend in filter.backends",
                metadata={"field": "filter.backends"},
            )
        if flt.start_from is None or flt.start_to is None:
            raise errors.InvalidArgument(
                "a switch read needs filter.start_time_from and filter.start_time_to",
                metadata={"field": "filter.start_time_from"},
            )
        name = flt.backends[0] if flt.backends else ""
        _, history = self.registry.part(name, CDR_HISTORY, "ListCdrs from the switch")
        offset = walk.after_number()
        rows = await history.read_cdrs(flt.start_from, flt.start_to, offset, walk.size)
        for row in rows:
            row.cursor = 0
        page = [c for c in rows if flt.matches(c)]
        more = len(rows) >= walk.size
        return cdrs_pb2.ListCdrsResponse(
            cdrs=[convert.cdr(c) for c in page],
            next_page_token=walk.token_after(paging.number_key(offset + len(rows))) if more else "",
        )

    @streaming
    async def StreamCdrs(
        self, request: cdrs_pb2.StreamCdrsRequest, context: Ctx
    ) -> AsyncIterator[EncodedResponse]:
        """Stored CDRs after ``after_cursor``, then (``follow``) new ones, each once."""
        if request.max_batch_size < 0:
            raise errors.InvalidArgument(
                "max_batch_size must not be negative", metadata={"field": "max_batch_size"}
            )
        if request.after_cursor > paging.MAX_POSITION:
            raise errors.InvalidArgument(
                f"after_cursor {request.after_cursor} is beyond any cursor (at most "
                f"{paging.MAX_POSITION})",
                metadata={"field": "after_cursor"},
            )
        max_batch = min(request.max_batch_size or self.config.max_batch, self.config.max_batch)
        flt = convert.cdr_filter(request.filter)
        with self.streams.open(context):
            async for batch in self.feed.stream(
                request.after_cursor, flt, follow=request.follow, max_batch=max_batch
            ):
                for response in encode_responses(batch):
                    yield response


def add_cdr_service(servicer: CdrServicer, server: grpc.aio.Server) -> None:
    """Registers the CdrService with a StreamCdrs serializer that passes
    pre-encoded responses through (the generated ``add_..._to_server`` would
    want messages)."""
    handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {
        "ListCdrs": grpc.unary_unary_rpc_method_handler(
            servicer.ListCdrs,
            request_deserializer=cdrs_pb2.ListCdrsRequest.FromString,
            response_serializer=cdrs_pb2.ListCdrsResponse.SerializeToString,
        ),
        "StreamCdrs": grpc.unary_stream_rpc_method_handler(
            servicer.StreamCdrs,
            request_deserializer=cdrs_pb2.StreamCdrsRequest.FromString,
            response_serializer=serialize,
        ),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    server.add_registered_method_handlers(SERVICE, handlers)
