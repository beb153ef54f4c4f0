"""CDR continuity when a link changes hands between cluster instances on one
shared store: the instance taking the link over reads where the store
stands then (the other owner's CDRs and link mark), not what it read at its
own start; the one that lost the link leaves the new owner's mark alone."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telgate_server.cdr.continuity import mark_name

from tests.cdr.conftest import FakeClock, StoreFactory, make_cdr
from tests.cdr.test_gaps import CONNECTING, DOWN, UP, Rig


@pytest.fixture
async def two(make_store: StoreFactory, clock: FakeClock) -> AsyncIterator[tuple[Rig, Rig]]:
    """Instances A and B: their own ingest and continuity, one store."""
    a, b = Rig(make_store(), clock, None), Rig(make_store(), clock, None)
    await a.start()
    await b.start()
    try:
        yield a, b
    finally:
        for rig in (a, b):
            if rig.running:
                await rig.stop()


async def test_the_new_owner_reads_the_store_at_takeover(
    two: tuple[Rig, Rig], clock: FakeClock
) -> None:
    a, b = two
    # Both started when the store knew nothing of the link; A runs it.
    a.continuity.on_status(CONNECTING)
    a.continuity.on_status(UP)
    await a.settle()
    clock.now += 3600  # an hour of CDRs through A
    for n in range(1, 4):
        a.continuity.submit(make_cdr(n, end_time=clock.now - 10 + n))
    await a.settle()
    newest = clock.now - 7
    clock.now += 30
    await a.kill()  # A dies; B takes the link over
    await b.continuity.take_over()
    b.continuity.on_status(CONNECTING)
    b.continuity.on_status(UP)
    await b.settle()
    # The window B reports starts at A's newest CDR, not at B's own start.
    (gap,) = b.gaps
    assert gap.start == float(int(newest))
    assert gap.end >= clock.now - 1


async def test_the_old_owner_leaves_the_new_owners_mark(
    two: tuple[Rig, Rig], clock: FakeClock
) -> None:
    a, b = two
    a.continuity.on_status(CONNECTING)
    a.continuity.on_status(UP)
    await a.settle()
    clock.now += 10
    a.continuity.on_status(DOWN)  # A's lease was lost: it stopped the link
    a.continuity.handed_over()
    await a.settle()
    clock.now += 5
    await b.continuity.take_over()
    b.continuity.on_status(UP)
    await b.settle()
    up = clock.now
    clock.now += 100
    await a.stop()  # a clean stop of A later on
    assert await b.store.get_mark(mark_name("pbx")) == f"up {up:.6f}"
