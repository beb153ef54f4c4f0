"""Periodic young collections reclaim reference cycles without the automatic trigger."""

from __future__ import annotations

import asyncio
import gc
import weakref

from telgate_server.collector import PeriodicCollections


class _Node:
    other: _Node | None = None


async def test_periodic_collections_reclaim_cycles_and_stop() -> None:
    was_enabled = gc.isenabled()
    gc.disable()  # only the periodic collections may reclaim the cycle
    collections = PeriodicCollections(0.01)
    try:
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        alive = weakref.ref(a)
        del a, b
        await asyncio.sleep(0.05)
        assert alive() is not None  # not started: nothing collected it
        collections.start()
        for _ in range(1000):
            if alive() is None:
                break
            await asyncio.sleep(0.01)
        assert alive() is None
    finally:
        collections.stop()
        if was_enabled:
            gc.enable()
    assert collections._handle is None
    collections.stop()  # idempotent


def test_an_interval_of_zero_never_schedules() -> None:
    collections = PeriodicCollections(0)
    collections.start()  # outside a loop too: nothing to schedule
    assert collections._handle is None
