"""CdrService: ListCdrs (filters, keyset paging) and StreamCdrs (replay from
the store, then follow live)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
from telgate.v1 import cdrs_pb2, cdrs_pb2_grpc

from telgate_server import errors
from telgate_server.api import cdr_convert, paging
from telgate_server.api.status import streaming, unary
from telgate_server.api.streams import StreamLimits, unlimited
from telgate_server.cdr.model import Cdr, CdrGap
from telgate_server.cdr.store import CdrStore
from telgate_server.cdr.stream import CdrFeed
from telgate_server.config import CdrConfig

Ctx = grpc.aio.ServicerContext[Any, Any]


class CdrServicer(cdrs_pb2_grpc.CdrServiceServicer):
    """The CDR API over the store and the live feed."""

    def __init__(
        self,
        store: CdrStore,
        feed: CdrFeed,
        config: CdrConfig,
        streams: StreamLimits | None = None,
    ) -> None:
        self.store = store
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
        flt = cdr_convert.cdr_filter(request.filter)
        # One more than asked: tells whether another page exists.
        rows = await self.store.read(walk.after_number(), flt, walk.size + 1)
        page = rows[: walk.size]
        more = len(rows) > walk.size
        return cdrs_pb2.ListCdrsResponse(
            cdrs=[cdr_convert.cdr(c) for c in page],
            next_page_token=walk.token_after(paging.number_key(page[-1].cursor)) if more else "",
        )

    @streaming
    async def StreamCdrs(
        self, request: cdrs_pb2.StreamCdrsRequest, context: Ctx
    ) -> AsyncIterator[cdrs_pb2.StreamCdrsResponse]:
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
        flt = cdr_convert.cdr_filter(request.filter)
        with self.streams.open(context):
            async for batch in self.feed.stream(
                request.after_cursor, flt, follow=request.follow, max_batch=max_batch
            ):
                for response in responses(batch):
                    yield response


def responses(batch: list[Cdr | CdrGap]) -> list[cdrs_pb2.StreamCdrsResponse]:
    """A batch in cursor order as messages: a gap opens a new message, which
    carries the CDRs that follow it."""
    out: list[cdrs_pb2.StreamCdrsResponse] = []
    current: cdrs_pb2.StreamCdrsResponse | None = None
    for item in batch:
        if isinstance(item, CdrGap):
            current = cdrs_pb2.StreamCdrsResponse(gap=cdr_convert.gap(item))
            out.append(current)
        else:
            if current is None:
                current = cdrs_pb2.StreamCdrsResponse()
                out.append(current)
            current.cdrs.append(cdr_convert.cdr(item))
    return out
