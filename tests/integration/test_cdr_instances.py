"""Two gateways sharing one PostgreSQL CDR store, end to end over gRPC: CDRs
written through A stream from B under the same cursors (replayed and live),
a CDR both saw is stored once, and a client of A resumes on B when A goes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from telgate_server.app import Gateway
from telgate_server.config import load_settings

from tests.cdr.conftest import make_cdr, new_schema
from tests.integration.test_cdrs import CdrReader, assert_once_in_order, read_all, stream
from tests.services.postgres import PostgresCluster


@pytest.fixture
async def running(postgres_cluster: PostgresCluster) -> AsyncIterator[list[Gateway]]:
    """Two gateways on one store; a test that stops one removes it."""
    dsn = await new_schema(postgres_cluster)
    settings = load_settings(
        None, server={"listen": "127.0.0.1:0"}, cdr={"store": "postgres", "dsn": dsn}
    )
    gateways = [Gateway(settings), Gateway(settings)]
    for gateway in gateways:
        await gateway.start()
    try:
        yield gateways
    finally:
        for gateway in gateways:
            await gateway.stop(0)


async def test_cdrs_written_through_one_gateway_stream_from_the_other(
    running: list[Gateway],
) -> None:
    a, b = running
    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{a.port}") as to_a,
        grpc.aio.insecure_channel(f"127.0.0.1:{b.port}") as to_b,
    ):
        for n in (1, 2, 3):
            a.cdr_ingest.submit(make_cdr(n))
        await a.cdr_ingest.flush()
        # Replayed from the shared table on B, then followed live.
        on_b = CdrReader(stream(to_b, max_batch_size=2))
        on_a = CdrReader(stream(to_a))
        await on_b.until(3)
        for n in (4, 5):
            a.cdr_ingest.submit(make_cdr(n))
        await on_b.until(5)
        # B saw CDR 5 too (a failover, a backfill): it is not stored again.
        for n in (5, 6):
            b.cdr_ingest.submit(make_cdr(n))
        await b.cdr_ingest.flush()
        assert b.cdr_ingest.duplicates == 1
        await on_a.until(6)
        await on_b.until(6)
        for reader in (on_a, on_b):
            assert [c.source_id for c in reader.cdrs] == [
                make_cdr(n).source_id for n in range(1, 7)
            ]
            assert_once_in_order(reader.cdrs)
        assert on_a.cdrs == on_b.cdrs  # same cursors, same content
        assert await read_all(to_a) == await read_all(to_b) == on_b.cdrs
        await on_b.close()
        # A goes away; its client resumes on B from the last cursor A sent.
        resume_at = on_a.cdrs[3].cursor
        await on_a.close()
        running.remove(a)
        await a.stop(0)
        b.cdr_ingest.submit(make_cdr(7))
        await b.cdr_ingest.flush()
        rest = await read_all(to_b, resume_at)
        assert [c.source_id for c in rest] == [make_cdr(n).source_id for n in (5, 6, 7)]
