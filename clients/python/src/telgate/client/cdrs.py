"""CDRs: every page of ListCdrs, and StreamCdrs resumed from its cursor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, TypeAlias

import grpc
from telgate.client.retry import Retry
from telgate.v1 import cdrs_pb2

if TYPE_CHECKING:
    from telgate.v1.cdrs_pb2_grpc import CdrServiceAsyncStub

CdrItem: TypeAlias = cdrs_pb2.Cdr | cdrs_pb2.CdrGap
Metadata: TypeAlias = tuple[tuple[str, str], ...]


async def list_all_cdrs(
    stub: CdrServiceAsyncStub,
    filter: cdrs_pb2.CdrFilter | None = None,
    page_size: int = 0,
    *,
    source: cdrs_pb2.CdrSource.ValueType = cdrs_pb2.CDR_SOURCE_UNSPECIFIED,
    timeout: float | None = None,
    metadata: Metadata | None = None,
) -> AsyncIterator[cdrs_pb2.Cdr]:
    """Every CDR that matches ``filter``, page after page of ListCdrs
    (``page_size`` per page; 0: the gateway's default, 100), in cursor order.

    Pages are fetched as the iteration reaches them. A CDR stored while the
    walk goes on has a later cursor and comes too. ``timeout`` applies to
    each page's call."""
    token = ""
    while True:
        page = await stub.ListCdrs(
            cdrs_pb2.ListCdrsRequest(
                filter=filter, page_size=page_size, page_token=token, source=source
            ),
            timeout=timeout,
            metadata=metadata,
        )
        for cdr in page.cdrs:
            yield cdr
        if not page.next_page_token:
            return
        if page.next_page_token == token:
            # A token that does not move would walk the same page for ever.
            raise RuntimeError("ListCdrs returned the page token it was given")
        token = page.next_page_token


async def follow_cdrs(
    stub: CdrServiceAsyncStub,
    after_cursor: int = 0,
    *,
    filter: cdrs_pb2.CdrFilter | None = None,
    follow: bool = True,
    max_batch_size: int = 0,
    retry: Retry | None = None,
    metadata: Metadata | None = None,
) -> AsyncIterator[CdrItem]:
    """The CDRs (and gap notices) after ``after_cursor``, from StreamCdrs,
    one at a time in cursor order; with ``follow``, new ones as they are
    stored, without end.

    Yields :class:`~telgate.v1.cdrs_pb2.Cdr` and
    :class:`~telgate.v1.cdrs_pb2.CdrGap` (CDRs of a window may be missing;
    it comes before the CDRs stored after it). Cursors are plain ``int``
    (uint64 on the wire); store the greatest one seen (``item.cursor``) to
    resume later.

    When the stream fails with a status in ``retry.codes`` (UNAVAILABLE: the
    connection dropped, the gateway restarted), StreamCdrs is called again
    from the greatest cursor yielded, so nothing is yielded twice and
    nothing stored is skipped; other errors are raised. Without ``follow``
    the iterator ends after the stored CDRs."""
    policy = retry or Retry()
    last = after_cursor
    failures = 0
    while True:
        call = stub.StreamCdrs(
            cdrs_pb2.StreamCdrsRequest(
                filter=filter, after_cursor=last, follow=follow, max_batch_size=max_batch_size
            ),
            metadata=metadata,
        )
        try:
            async for message in call:
                failures = 0
                if message.HasField("gap") and message.gap.cursor > last:
                    last = message.gap.cursor
                    yield message.gap
                for cdr in message.cdrs:
                    if cdr.cursor > last:
                        last = cdr.cursor
                        yield cdr
            return
        except grpc.aio.AioRpcError as error:
            failures += 1
            if not policy.retries(error, failures):
                raise
        finally:
            call.cancel()
        await policy.pause(failures)
