"""CDR benchmarks: ingest with de-duplication, StreamCdrs replay, database
size; for the SQLite store and the PostgreSQL one, in the same run.

- ingest: AMI `Cdr` events framed by the codec from wire bytes (as the AMI
  reader gets them) -> the AMI CDR mapper -> the ingest queue -> the writer
  (batched transactions, ``ON CONFLICT DO NOTHING``) until every CDR is
  committed. One event in ``--dup-every`` is sent again later (a replay), so
  the figure includes the de-duplication. SQLite with ``synchronous`` FULL
  (the default: survives power loss) and NORMAL (survives a killed process);
  PostgreSQL on a throw-away local cluster (tests/services/postgres.py) with
  fsync and synchronous_commit on (as durable as SQLite FULL), over TCP on
  loopback.
- replay: StreamCdrs(after_cursor=0, follow=false) over real gRPC (a gateway
  with no backends on a local port) reading every stored CDR; and the store's
  own read rate without gRPC, to show where the time goes.
- size: the database file (after a checkpoint) per 100,000 CDRs; for
  PostgreSQL, pg_total_relation_size of the cdr table (indexes included).

Usage: .venv/bin/python bench/bench_cdr.py [--count 100000] [--dup-every 5]
       [--stores sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
import grpc
from telgate.v1 import cdrs_pb2, cdrs_pb2_grpc
from telgate_server.api.cdr_wire import CdrWire
from telgate_server.app import Gateway
from telgate_server.backends.ami.cdr import AmiCdrMapper
from telgate_server.backends.ami.codec import Message, Parser, encode_message
from telgate_server.cdr.ingest import CdrIngest
from telgate_server.cdr.model import EVERYTHING, EncodedCdr
from telgate_server.cdr.postgres import PostgresCdrStore
from telgate_server.cdr.sqlite import SqliteCdrStore
from telgate_server.cdr.store import CdrStore
from telgate_server.config import load_settings

from tests.services.postgres import start_postgres

# As the gateway stores them: each CDR also as its API message.
WIRE = CdrWire()


def wire_events(count: int, dup_every: int) -> list[Message]:
    """``count`` distinct Cdr events plus every ``dup_every``-th one again,
    framed by the codec from their bytes."""
    chunks = []
    for n in range(count):
        minute, second = divmod(n % 3600, 60)
        headers = [
            ("Event", "Cdr"),
            ("Privilege", "cdr,all"),
            ("AccountCode", ""),
            ("Source", f"2{n % 100:02d}"),
            ("Destination", f"09{n % 10_000_000:08d}"),
            ("DestinationContext", "from-internal"),
            ("CallerID", f'"Agent {n % 100}" <2{n % 100:02d}>'),
            ("Channel", f"PJSIP/2{n % 100:02d}-{n:08x}"),
            ("DestinationChannel", f"PJSIP/trunk-{n:08x}"),
            ("LastApplication", "Dial"),
            ("LastData", "PJSIP/trunk/09120000000,60,tT"),
            ("StartTime", f"2027-01-15 10:{minute:02d}:{second:02d}"),
            ("AnswerTime", f"2027-01-15 10:{minute:02d}:{second:02d}" if n % 4 else ""),
            ("EndTime", f"2027-01-15 11:{minute:02d}:{second:02d}"),
            ("Duration", "3600"),
            ("BillableSeconds", "3598" if n % 4 else "0"),
            ("Disposition", "ANSWERED" if n % 4 else "NO ANSWER"),
            ("AMAFlags", "DOCUMENTATION"),
            ("UniqueID", f"1800000000.{n}"),
            ("UserField", ""),
        ]
        chunks.append(encode_message(headers))
    if dup_every:
        chunks += chunks[::dup_every]
    parser = Parser(expect_banner=False)
    msgs = [m for m in parser.feed(b"".join(chunks)) if isinstance(m, Message)]
    assert len(msgs) == len(chunks)
    return msgs


StoreMaker = Callable[[], CdrStore]


async def bench_ingest(make: StoreMaker, msgs: list[Message]) -> tuple[float, int, int]:
    """Seconds to map and commit every event; (seconds, stored, duplicates)."""
    store = make()
    await store.open()
    ingest = CdrIngest(store, batch_size=1000)
    mapper = AmiCdrMapper("pbx", "UTC")
    await ingest.start()
    started = time.perf_counter()
    for i, msg in enumerate(msgs):
        ingest.submit(mapper.map(msg))
        if i % 500 == 499:
            # The AMI reader yields to the loop between socket reads; the bench
            # offers CDRs as fast as the writer takes them (sustained rate).
            await asyncio.sleep(0)
            if ingest.pending > 5000:
                await ingest.flush()
    await ingest.flush()
    elapsed = time.perf_counter() - started
    await ingest.stop()
    await store.close()
    return elapsed, ingest.stored, ingest.duplicates


async def bench_store_read(make: StoreMaker, batch: int, *, encoded: bool) -> tuple[float, int]:
    """Every CDR read from the store: as CDR objects (columns), or as the
    stored encoding StreamCdrs replays."""
    store = make()
    await store.open()
    started = time.perf_counter()
    after, n = 0, 0
    while page := (
        await store.read_encoded(after, EVERYTHING, batch, WIRE.version)
        if encoded
        else await store.read(after, EVERYTHING, batch)
    ):
        if encoded:
            assert all(isinstance(c, EncodedCdr) for c in page)
        n += len(page)
        after = page[-1].cursor
    elapsed = time.perf_counter() - started
    await store.close()
    return elapsed, n


async def bench_replay(cdr: dict[str, Any], batch: int) -> tuple[float, int]:
    """Seconds for StreamCdrs to deliver every stored CDR over gRPC."""
    settings = load_settings(
        None, server={"listen": "127.0.0.1:0"}, cdr={**cdr, "max_batch": batch}
    )
    gateway = Gateway(settings)
    port = await gateway.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = cdrs_pb2_grpc.CdrServiceStub(channel)
            started = time.perf_counter()
            n = 0
            async for response in stub.StreamCdrs(
                cdrs_pb2.StreamCdrsRequest(after_cursor=0, follow=False, max_batch_size=batch)
            ):
                n += len(response.cdrs)
            return time.perf_counter() - started, n
    finally:
        await gateway.stop(0)


def db_bytes(path: Path) -> int:
    # Fold the WAL into the file first, so the size is the data's, not the log's.
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


async def pg_bytes(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT pg_total_relation_size('cdr')"))
    finally:
        await conn.close()


def print_size(label: str, size: int, count: int) -> None:
    print(
        f"{label} size: {size / 1e6:.1f} MB for {count:,} CDRs = "
        f"{size / count * 100_000 / 1e6:.1f} MB per 100,000 "
        f"({size / count:.0f} bytes per CDR, raw fields included)"
    )


async def print_reads(label: str, make: StoreMaker, cdr: dict[str, Any], args: Any) -> None:
    for encoded, what in ((False, "as CDRs"), (True, "encoded")):
        elapsed, n = await bench_store_read(make, args.batch, encoded=encoded)
        rate = n / elapsed
        print(
            f"{label} store read {what} (no gRPC): {n:,} CDRs in {elapsed:.2f} s = "
            f"{rate:,.0f} CDRs/s"
        )
    elapsed, n = await bench_replay(cdr, args.batch)
    assert n == args.count, n
    print(
        f"{label} StreamCdrs replay over gRPC: {n:,} CDRs in {elapsed:.2f} s = "
        f"{n / elapsed:,.0f} CDRs/s (batches of {args.batch})"
    )


def print_ingest(label: str, msgs: list[Message], result: tuple[float, int, int]) -> None:
    elapsed, stored, dups = result
    print(
        f"{label} ingest: {len(msgs):,} events ({dups:,} duplicates) "
        f"in {elapsed:.2f} s = {len(msgs) / elapsed:,.0f} CDRs/s offered, "
        f"{stored / elapsed:,.0f} stored/s"
    )


async def run_sqlite(tmp: Path, msgs: list[Message], args: Any) -> None:
    paths: dict[str, Path] = {}
    modes: tuple[Literal["FULL", "NORMAL"], ...] = ("FULL", "NORMAL")
    for mode in modes:
        paths[mode] = tmp / mode / "cdrs.sqlite3"
        result = await bench_ingest(
            functools.partial(SqliteCdrStore, paths[mode], synchronous=mode, encoder=WIRE), msgs
        )
        assert result[1] == args.count, (result[1], args.count)
        print_ingest(f"sqlite (synchronous={mode:6})", msgs, result)
    path = paths["FULL"]
    print_size("sqlite database", db_bytes(path), args.count)
    await print_reads("sqlite", lambda: SqliteCdrStore(path), {"data_dir": str(path.parent)}, args)


async def run_postgres(tmp: Path, msgs: list[Message], args: Any) -> None:
    cluster_dir = tmp / "pg"
    cluster_dir.mkdir()
    cluster = start_postgres(cluster_dir, durable=True)
    try:
        version = cluster.run("postgres", "--version").stdout.strip()
        print(f"postgresql: {version}, fsync on, synchronous_commit on, TCP loopback")
        dsn = cluster.dsn()
        result = await bench_ingest(lambda: PostgresCdrStore(dsn, encoder=WIRE), msgs)
        assert result[1] == args.count, (result[1], args.count)
        print_ingest("postgres", msgs, result)
        print_size("postgres table", await pg_bytes(dsn), args.count)
        await print_reads(
            "postgres", lambda: PostgresCdrStore(dsn), {"store": "postgres", "dsn": dsn}, args
        )
    finally:
        cluster.stop()


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--count", type=int, default=100_000, help="distinct CDRs")
    p.add_argument("--dup-every", type=int, default=5, help="re-send every Nth event (0: none)")
    p.add_argument("--batch", type=int, default=500, help="CDRs per StreamCdrs message")
    p.add_argument("--stores", default="sqlite,postgres", help="which stores, comma-separated")
    args = p.parse_args()
    stores = args.stores.split(",")
    print(
        f"telgate CDR bench: {args.count:,} CDRs, python {platform.python_version()}, "
        f"sqlite {sqlite3.sqlite_version}, asyncpg {asyncpg.__version__}, {platform.machine()}"
    )
    msgs = wire_events(args.count, args.dup_every)
    with tempfile.TemporaryDirectory(prefix="telgate-bench-") as tmp:
        if "sqlite" in stores:
            await run_sqlite(Path(tmp), msgs, args)
        if "postgres" in stores:
            if os.geteuid() == 0:
                # The cluster runs as `postgres`: let it into the folder.
                shutil.chown(tmp, "postgres", "postgres")
            await run_postgres(Path(tmp), msgs, args)


if __name__ == "__main__":
    asyncio.run(main())
