"""Pruning: by count and by age, always a prefix of cursors, and a clear
answer for a reader whose cursor was pruned."""

from __future__ import annotations

import pytest
from telgate_server.cdr.model import EVERYTHING
from telgate_server.cdr.retention import DAY, Retention
from telgate_server.cdr.store import CdrStore, CursorExpired

from tests.cdr.conftest import FakeClock, make_cdr


async def test_prune_by_count(store: CdrStore) -> None:
    await store.insert([make_cdr(n) for n in range(10)])
    assert await store.prune(keep=4) == 6
    stats = await store.stats()
    assert (stats.count, stats.oldest_cursor, stats.last_cursor, stats.pruned_through) == (
        4,
        7,
        10,
        6,
    )
    # Nothing more to do.
    assert await store.prune(keep=4) == 0


async def test_prune_by_count_with_cursor_gaps(store: CdrStore) -> None:
    await store.insert([make_cdr(1), make_cdr(2)])
    await store.insert([make_cdr(2), make_cdr(1)])  # refused duplicates use up cursors
    await store.insert([make_cdr(3), make_cdr(4)])
    await store.prune(keep=2)
    assert [c.source_id for c in await store.read(0, EVERYTHING, 10)] == [
        make_cdr(3).source_id,
        make_cdr(4).source_id,
    ]


async def test_prune_by_age(store: CdrStore, clock: FakeClock) -> None:
    await store.insert([make_cdr(n) for n in range(3)])  # cursors 1-3 stored "now"
    clock.now += 10 * DAY
    await store.insert([make_cdr(n) for n in range(3, 5)])  # 4-5, ten days later
    retention = Retention(store, days=5, count=None, interval=3600, clock=clock)
    assert await retention.prune_once() == 3
    assert [c.cursor for c in await store.read(0, EVERYTHING, 10)] == [4, 5]
    clock.now += 10 * DAY
    assert await retention.prune_once() == 2
    stats = await store.stats()
    assert (stats.count, stats.oldest_cursor, stats.pruned_through) == (0, 0, 5)


async def test_pruned_cursor_is_out_of_range(store: CdrStore) -> None:
    await store.insert([make_cdr(n) for n in range(10)])
    await store.prune(keep=3)  # 1-7 gone
    with pytest.raises(CursorExpired) as info:
        await store.read(2, EVERYTHING, 10, strict=True)
    exc = info.value
    assert exc.reason == "CURSOR_EXPIRED"
    assert exc.metadata["oldest_cursor"] == "8"
    assert exc.metadata["pruned_through"] == "7"
    # At or after the pruned prefix, and "from the oldest" (0), nothing was lost.
    assert [c.cursor for c in await store.read(7, EVERYTHING, 10, strict=True)] == [8, 9, 10]
    assert len(await store.read(0, EVERYTHING, 10, strict=True)) == 3
    # Not strict (ListCdrs): just what is left.
    assert len(await store.read(2, EVERYTHING, 10)) == 3


async def test_pruned_through_survives_a_restart(store: CdrStore) -> None:
    await store.insert([make_cdr(n) for n in range(5)])
    await store.prune(keep=1)
    await store.close()
    await store.open()
    with pytest.raises(CursorExpired):
        await store.read(1, EVERYTHING, 10, strict=True)


async def test_retention_without_limits_does_nothing(store: CdrStore) -> None:
    await store.insert([make_cdr(1)])
    retention = Retention(store, days=None, count=None, interval=1)
    assert not retention.enabled
    await retention.start()
    assert await retention.prune_once() == 0
    await retention.stop()
