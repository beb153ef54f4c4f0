"""Gap notices in the store (cursors shared with CDRs, replayed in order,
pruned with them) and the continuity rules that decide a window: an outage
within one process, a restart after a kill, a clean restart, a first start,
and a backfill that fails or succeeds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telgate_server.cdr.continuity import CdrContinuity
from telgate_server.cdr.ingest import CdrIngest
from telgate_server.cdr.model import EVERYTHING, Cdr, CdrFilter, CdrGap, GapReason
from telgate_server.cdr.store import CdrStore
from telgate_server.cdr.stream import CdrFeed, Item
from telgate_server.gateway.model import LinkState, LinkStatus

from tests.cdr.conftest import FakeClock, StoreFactory, make_cdr

UP, DOWN = LinkStatus(LinkState.UP), LinkStatus(LinkState.DOWN)
CONNECTING = LinkStatus(LinkState.CONNECTING)


async def replay(feed: CdrFeed, after: int = 0, flt: CdrFilter = EVERYTHING) -> list[Item]:
    out: list[Item] = []
    async for batch in feed.stream(after, flt, follow=False, max_batch=2):
        out.extend(batch)
    return out


async def test_a_gap_takes_the_next_cursor_between_cdrs(store: CdrStore) -> None:
    await store.insert([make_cdr(1), make_cdr(2)])
    gap = await store.insert_gap(CdrGap("pbx", 10.0, 20.0, GapReason.NOT_CONNECTED, "why"))
    assert gap.cursor == 3
    (c4,) = await store.insert([make_cdr(3)])
    assert c4.cursor == 4
    # A duplicate burns no cursor a gap could collide with.
    await store.insert([make_cdr(3)])
    other = await store.insert_gap(CdrGap("other", 30.0, 40.0, GapReason.BACKFILL_FAILED))
    assert other.cursor > c4.cursor
    assert (await store.stats()).last_cursor == other.cursor
    items = await replay(CdrFeed(store))
    assert [type(i).__name__ for i in items] == ["Cdr", "Cdr", "CdrGap", "Cdr", "CdrGap"]
    assert [i.cursor for i in items] == sorted(i.cursor for i in items)
    read = items[2]
    assert isinstance(read, CdrGap)
    assert (read.backend, read.start, read.end, read.reason, read.detail) == (
        "pbx",
        10.0,
        20.0,
        GapReason.NOT_CONNECTED,
        "why",
    )
    # Resuming after the gap; a backend filter keeps only that backend's gaps.
    assert [i.cursor for i in await replay(CdrFeed(store), 3)] == [4, other.cursor]
    only_pbx = await replay(CdrFeed(store), 0, CdrFilter.build(backends=["pbx"]))
    assert [i.cursor for i in only_pbx] == [1, 2, 3, 4]


async def test_a_gap_first_in_an_empty_store(store: CdrStore) -> None:
    gap = await store.insert_gap(CdrGap("pbx", 1.0, 2.0, GapReason.NOT_CONNECTED))
    (cdr,) = await store.insert([make_cdr(1)])
    assert (gap.cursor, cdr.cursor) == (1, 2)


async def test_pruning_removes_gaps_with_their_cdrs(store: CdrStore) -> None:
    await store.insert([make_cdr(1)])
    await store.insert_gap(CdrGap("pbx", 1.0, 2.0, GapReason.NOT_CONNECTED))
    await store.insert([make_cdr(2), make_cdr(3)])
    await store.prune(keep=1)
    assert await store.read_gaps(0, None, ()) == []
    assert [i.cursor for i in await replay(CdrFeed(store), 3)] == [4]


async def test_last_end_is_per_backend(store: CdrStore) -> None:
    assert await store.last_end("pbx") is None
    await store.insert([make_cdr(5), make_cdr(2), make_cdr(9, backend="other")])
    assert await store.last_end("pbx") == make_cdr(5).end_time
    assert await store.last_end("other") == make_cdr(9).end_time


# -- continuity ---------------------------------------------------------------


class FakeBackfill:
    """Hands out prepared CDRs (or fails), recording the windows asked for."""

    description = "fake records"

    def __init__(self, cdrs: list[Cdr], error: Exception | None = None) -> None:
        self.cdrs = cdrs
        self.error = error
        self.asked: list[tuple[float | None, float]] = []
        self.closed = False

    async def fetch(self, since: float | None, now: float) -> list[Cdr]:
        self.asked.append((since, now))
        if self.error is not None:
            raise self.error
        return [c for c in self.cdrs if since is None or (c.end_time or 0) >= since]

    async def close(self) -> None:
        self.closed = True


class Rig:
    """A store, its ingest and one backend's continuity, on a fake clock."""

    def __init__(self, store: CdrStore, clock: FakeClock, backfill: FakeBackfill | None) -> None:
        self.store = store
        self.running = False
        self.gaps: list[CdrGap] = []
        self.ingest = CdrIngest(self.store, on_gap=self.gaps.append)
        self.continuity = CdrContinuity(
            "pbx", self.store, self.ingest, backfill=backfill, clock=clock
        )

    async def start(self) -> None:
        await self.store.open()
        self.running = True
        await self.ingest.start()
        await self.continuity.prepare()

    async def settle(self) -> None:
        for _ in range(3):
            await asyncio.gather(*self.continuity._tasks, *self.continuity._marks)
            await self.ingest.flush()

    async def stop(self) -> None:
        await self.continuity.stop()
        await self.ingest.stop()
        await self.kill()

    async def kill(self) -> None:
        """Closes the store without a clean stop (as a SIGKILL leaves it)."""
        await self.store.close()
        self.running = False


@pytest.fixture
async def rigs() -> AsyncIterator[list[Rig]]:
    made: list[Rig] = []
    yield made
    for rig in made:
        if rig.running:
            await rig.stop()


async def new_rig(
    rigs: list[Rig],
    make_store: StoreFactory,
    clock: FakeClock,
    backfill: FakeBackfill | None = None,
) -> Rig:
    rig = Rig(make_store(), clock, backfill)
    rigs.append(rig)
    await rig.start()
    return rig


async def test_an_outage_in_one_process_is_a_gap_from_drop_to_return(
    make_store: StoreFactory, clock: FakeClock, rigs: list[Rig]
) -> None:
    rig = await new_rig(rigs, make_store, clock)
    rig.continuity.on_status(CONNECTING)
    rig.continuity.on_status(UP)  # first start, empty store: nothing to report
    rig.continuity.submit(make_cdr(1))
    clock.now += 5.25
    dropped = clock.now
    rig.continuity.on_status(DOWN)
    clock.now += 1
    rig.continuity.on_status(CONNECTING)  # still down: no second drop time
    clock.now += 2
    rig.continuity.on_status(UP)
    rig.continuity.submit(make_cdr(2))
    await rig.settle()
    (gap,) = rig.gaps
    # Whole seconds, widened.
    assert (gap.start, gap.end, gap.reason) == (
        int(dropped),
        int(dropped) + 4,
        GapReason.NOT_CONNECTED,
    )
    items = await replay(CdrFeed(rig.store))
    assert [type(i).__name__ for i in items] == ["Cdr", "CdrGap", "Cdr"]


async def test_after_a_kill_the_window_starts_at_the_last_stored_cdr(
    make_store: StoreFactory, clock: FakeClock, rigs: list[Rig]
) -> None:
    first = await new_rig(rigs, make_store, clock)
    first.continuity.on_status(UP)
    for n in (1, 2, 3):
        first.continuity.submit(make_cdr(n))
    await first.settle()
    # SIGKILL: no clean stop, no "down" mark; the connections just go.
    await first.ingest.stop()
    await first.kill()
    clock.now = (make_cdr(3).end_time or 0) + 100
    second = await new_rig(rigs, make_store, clock)
    second.continuity.on_status(UP)
    await second.settle()
    (gap,) = second.gaps
    assert (gap.start, gap.end) == (make_cdr(3).end_time, clock.now)


async def test_after_a_clean_stop_the_window_starts_at_the_stop(
    make_store: StoreFactory, clock: FakeClock, rigs: list[Rig]
) -> None:
    first = await new_rig(rigs, make_store, clock)
    first.continuity.on_status(UP)
    first.continuity.submit(make_cdr(1))
    await first.settle()
    clock.now += 50
    stopped = clock.now
    await first.stop()
    # A process whose link never came up leaves the mark alone.
    clock.now += 10
    idle = await new_rig(rigs, make_store, clock)
    idle.continuity.on_status(CONNECTING)
    await idle.stop()
    clock.now += 10
    second = await new_rig(rigs, make_store, clock)
    second.continuity.on_status(UP)
    await second.settle()
    (gap,) = second.gaps
    assert (gap.start, gap.end) == (stopped, stopped + 20)


async def test_a_backfill_fills_the_window_once_and_leaves_no_gap(
    make_store: StoreFactory, clock: FakeClock, rigs: list[Rig]
) -> None:
    records = [make_cdr(n) for n in range(1, 7)]
    backfill = FakeBackfill(records)
    rig = await new_rig(rigs, make_store, clock, backfill)
    # Live CDRs 1-3 were stored before; 4-6 ended while down.
    for n in (1, 2, 3):
        rig.continuity.submit(make_cdr(n))
    await rig.settle()
    rig.continuity.on_status(UP)
    await rig.settle()
    rig.continuity.on_status(DOWN)
    rig.continuity.on_status(UP)  # a second backfill of the same window
    await rig.settle()
    assert rig.gaps == []
    assert backfill.asked[0][0] == records[2].end_time  # from the newest stored CDR
    stored = await replay(CdrFeed(rig.store))
    assert sorted(c.source_id for c in stored if isinstance(c, Cdr)) == sorted(
        c.source_id for c in records
    )
    assert rig.ingest.duplicates >= 3
    await rig.stop()
    assert backfill.closed


async def test_a_failed_backfill_is_a_gap_saying_why(
    make_store: StoreFactory, clock: FakeClock, rigs: list[Rig]
) -> None:
    backfill = FakeBackfill([], error=ConnectionRefusedError(111, "Connection refused"))
    rig = await new_rig(rigs, make_store, clock, backfill)
    rig.continuity.submit(make_cdr(1))
    await rig.settle()
    clock.now = 1_900_000_000.0
    rig.continuity.on_status(UP)
    await rig.settle()
    (gap,) = rig.gaps
    assert gap.reason is GapReason.BACKFILL_FAILED
    assert (gap.start, gap.end) == (make_cdr(1).end_time, clock.now)
    assert "fake records" in gap.detail
    assert "Connection refused" in gap.detail


async def test_the_window_of_a_failed_backfill_is_read_again_at_the_next_link_up(
    make_store: StoreFactory, clock: FakeClock, rigs: list[Rig]
) -> None:
    missed = make_cdr(2)
    backfill = FakeBackfill([missed], error=OSError("PBX database unreachable"))
    rig = await new_rig(rigs, make_store, clock, backfill)
    rig.continuity.submit(make_cdr(1))
    await rig.settle()
    clock.now = 1_900_000_000.0
    rig.continuity.on_status(UP)
    await rig.settle()
    assert [g.reason for g in rig.gaps] == [GapReason.BACKFILL_FAILED]
    # Live CDRs move the newest end on; the failed window still needs reading.
    rig.continuity.submit(make_cdr(50))
    backfill.error = None
    rig.continuity.on_status(DOWN)
    rig.continuity.on_status(UP)
    await rig.settle()
    assert [since for since, _ in backfill.asked] == [make_cdr(1).end_time] * 2
    stored = await replay(CdrFeed(rig.store))
    assert missed.source_id in {c.source_id for c in stored if isinstance(c, Cdr)}
    # Once read, the next window starts from the newest CDR again.
    rig.continuity.on_status(DOWN)
    rig.continuity.on_status(UP)
    await rig.settle()
    assert backfill.asked[-1][0] == make_cdr(50).end_time
