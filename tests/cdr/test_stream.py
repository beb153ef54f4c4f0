"""The ingest writer and the replay-then-follow stream, without gRPC."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from telgate.v1 import cdrs_pb2
from telgate_server import errors
from telgate_server.api.cdr_wire import CdrWire
from telgate_server.cdr.ingest import CdrIngest
from telgate_server.cdr.model import EVERYTHING, Cdr, CdrFilter, CdrGap, EncodedCdr
from telgate_server.cdr.store import CdrStore
from telgate_server.cdr.stream import CdrFeed

from tests.cdr.conftest import StoreFactory, make_cdr


def pipeline(store: CdrStore, *, follower_limit: int = 10_000) -> tuple[CdrIngest, CdrFeed]:
    feed = CdrFeed(store, follower_limit=follower_limit)
    return CdrIngest(store, batch_size=100, on_stored=feed.publish), feed


class Reader:
    """Consumes a stream in the background."""

    def __init__(self, feed: CdrFeed, after: int = 0, **kw: object) -> None:
        self.cdrs: list[Cdr] = []
        self.gaps: list[CdrGap] = []
        self.batches = 0
        self.changed = asyncio.Event()
        self.delay = float(kw.pop("delay", 0.0))  # type: ignore[arg-type]
        flt = kw.pop("flt", EVERYTHING)
        self.task = asyncio.get_running_loop().create_task(
            self._run(feed, after, flt, **kw)  # type: ignore[arg-type]
        )

    async def _run(self, feed: CdrFeed, after: int, flt: CdrFilter, **kw: object) -> None:
        async for batch in feed.stream(after, flt, **kw):  # type: ignore[arg-type]
            self.cdrs.extend(c for c in batch if isinstance(c, Cdr))
            self.gaps.extend(c for c in batch if isinstance(c, CdrGap))
            self.batches += 1
            self.changed.set()
            if self.delay:
                await asyncio.sleep(self.delay)

    async def until(self, count: int) -> None:
        async def wait() -> None:
            while len(self.cdrs) < count:
                if self.task.done():
                    self.task.result()
                    raise AssertionError(f"stream ended after {len(self.cdrs)}")
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(wait(), 20)

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def following(feed: CdrFeed, count: int = 1) -> None:
    """Waits (bounded) until ``count`` streams follow the live CDRs."""
    async with asyncio.timeout(10):
        while feed.followers < count:  # noqa: ASYNC110 (the feed signals nothing)
            await asyncio.sleep(0.001)


def check_once_in_order(cdrs: Sequence[Cdr], expected: int) -> None:
    cursors = [c.cursor for c in cdrs]
    assert cursors == sorted(set(cursors)), "duplicates or out of order"
    assert len({c.source_id for c in cdrs}) == expected == len(cdrs)


async def test_ingest_commits_and_tells_the_feed(store: CdrStore) -> None:
    seen: list[Cdr] = []
    ingest = CdrIngest(store, on_stored=seen.extend)
    await ingest.start()
    for n in range(250):
        assert ingest.submit(make_cdr(n))
    ingest.submit(make_cdr(7))  # a duplicate
    await ingest.flush()
    assert (ingest.stored, ingest.duplicates) == (250, 1)
    assert [c.cursor for c in seen] == list(range(1, 251))
    await ingest.stop()


async def test_full_queue_drops_loudly_and_never_blocks(
    store: CdrStore, caplog: pytest.LogCaptureFixture
) -> None:
    ingest = CdrIngest(store, queue_size=10)  # writer not started: nothing drains
    results = [ingest.submit(make_cdr(n)) for n in range(12)]
    assert results.count(False) == 2 and ingest.dropped == 2
    assert "not stored" in caplog.text


async def test_a_failing_store_is_retried_without_losing_the_batch(store: CdrStore) -> None:
    class Flaky:
        fails = 2

        def __getattr__(self, name: str) -> object:
            return getattr(store, name)

        async def insert(self, cdrs: Sequence[Cdr]) -> list[Cdr]:
            if self.fails:
                self.fails -= 1
                raise OSError("disk full")
            return await store.insert(cdrs)

    ingest = CdrIngest(Flaky())  # type: ignore[arg-type]
    await ingest.start()
    ingest.submit(make_cdr(1))
    ingest.submit(make_cdr(2))
    await asyncio.wait_for(ingest.flush(), 10)
    assert ingest.stored == 2
    await ingest.stop()


async def test_replay_without_follow_ends(store: CdrStore) -> None:
    _, feed = pipeline(store)
    await store.insert([make_cdr(n) for n in range(25)])
    reader = Reader(feed, 5, follow=False, max_batch=10)
    await asyncio.wait_for(reader.task, 10)
    assert [c.cursor for c in reader.cdrs] == list(range(6, 26))
    assert reader.batches == 2 and feed.followers == 0


async def test_no_gap_no_duplicate_at_the_seam(store: CdrStore) -> None:
    """CDRs keep arriving while the replay runs, in small pages."""
    ingest, feed = pipeline(store)
    await ingest.start()
    await store.insert([make_cdr(n) for n in range(2000)])

    async def produce() -> None:
        for n in range(2000, 4000):
            ingest.submit(make_cdr(n))
            if n % 7 == 0:
                await asyncio.sleep(0)

    producer = asyncio.get_running_loop().create_task(produce())
    reader = Reader(feed, 0, follow=True, max_batch=25)
    await reader.until(4000)
    await producer
    # One more behind them all: the ingest and the stream keep their order, so
    # anything extra (a duplicate at the seam) would come before it.
    ingest.submit(make_cdr(4000))
    await reader.until(4001)
    check_once_in_order(reader.cdrs, 4001)
    await reader.close()
    await ingest.stop()


async def test_a_slow_follower_catches_up_from_the_store(store: CdrStore) -> None:
    ingest, feed = pipeline(store, follower_limit=10)
    await ingest.start()
    reader = Reader(feed, 0, follow=True, max_batch=5, delay=0.001)
    await following(feed)
    for n in range(500):
        ingest.submit(make_cdr(n))
    await reader.until(500)
    check_once_in_order(reader.cdrs, 500)
    await reader.close()
    await ingest.stop()


async def test_resume_from_a_cursor_misses_nothing(store: CdrStore) -> None:
    ingest, feed = pipeline(store)
    await ingest.start()
    first = Reader(feed, 0, follow=True, max_batch=10)
    for n in range(100):
        ingest.submit(make_cdr(n))
    await first.until(40)
    await first.close()
    last = first.cdrs[-1].cursor
    for n in range(100, 200):
        ingest.submit(make_cdr(n))
    second = Reader(feed, last, follow=True, max_batch=10)
    await second.until(200 - len(first.cdrs))
    check_once_in_order(first.cdrs + second.cdrs, 200)
    await second.close()
    await ingest.stop()


async def test_live_cdrs_are_filtered(store: CdrStore) -> None:
    ingest, feed = pipeline(store)
    await ingest.start()
    reader = Reader(feed, 0, follow=True, max_batch=10, flt=CdrFilter.build(backends=["b"]))
    await following(feed)  # live, not replayed from the store
    for n in range(20):
        ingest.submit(make_cdr(n, backend="b" if n % 2 else "a"))
    await reader.until(10)
    # One more "b" behind them all (order is kept): an "a" let through shows before it.
    ingest.submit(make_cdr(20, backend="b"))
    await reader.until(11)
    assert {c.backend for c in reader.cdrs} == {"b"} and len(reader.cdrs) == 11
    assert reader.cdrs[-1].source_id == make_cdr(20).source_id
    await reader.close()
    await ingest.stop()


async def test_a_cursor_the_store_never_gave_is_out_of_range(store: CdrStore) -> None:
    _, feed = pipeline(store)
    await store.insert([make_cdr(1)])
    with pytest.raises(errors.OutOfRange, match="beyond the newest cursor"):
        async for _ in feed.stream(50, EVERYTHING, follow=False, max_batch=10):
            pass


async def test_an_encoded_replay_meets_the_live_cdrs_without_gap_or_duplicate(
    make_store: StoreFactory,
) -> None:
    """With the store keeping each CDR's encoding, the replay hands out those
    bytes and the live part CDR objects; the seam holds the same."""
    wire = CdrWire()
    store = make_store(encoder=wire)
    await store.open()
    feed = CdrFeed(store, encoded=wire.version)
    ingest = CdrIngest(store, batch_size=50, on_stored=feed.publish)
    await ingest.start()
    await store.insert([make_cdr(n) for n in range(300)])
    items: list[Cdr | EncodedCdr] = []

    async def read() -> None:
        async for batch in feed.stream(0, EVERYTHING, follow=True, max_batch=25):
            items.extend(i for i in batch if not isinstance(i, CdrGap))
            if len(items) >= 600:
                return

    reading = asyncio.get_running_loop().create_task(read())
    for n in range(300, 600):
        ingest.submit(make_cdr(n))
        if n % 7 == 0:
            await asyncio.sleep(0)
    await asyncio.wait_for(reading, 20)
    ids = [
        cdrs_pb2.Cdr.FromString(i.data).source_id if isinstance(i, EncodedCdr) else i.source_id
        for i in items
    ]
    assert ids == [make_cdr(n).source_id for n in range(600)]
    cursors = [i.cursor for i in items]
    assert cursors == sorted(set(cursors))
    assert isinstance(items[0], EncodedCdr) and isinstance(items[-1], Cdr)
    await ingest.stop()
    await store.close()
