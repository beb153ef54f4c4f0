"""Helper threads go under SCHED_BATCH and come back; the loop's thread never moves."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest
from telgate_server import scheduling
from telgate_server.scheduling import HelperThreads

pytestmark = pytest.mark.skipif(not scheduling.supported(), reason="needs Linux SCHED_BATCH")


def _policy(thread: threading.Thread) -> int:
    assert thread.native_id is not None
    return os.sched_getscheduler(thread.native_id)


def _waiting_thread(release: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=release.wait, daemon=True)
    thread.start()
    return thread


async def test_helpers_demoted_new_ones_found_and_restored_on_stop() -> None:
    release = threading.Event()
    before = _waiting_thread(release)
    me = threading.get_native_id()
    helpers = HelperThreads(interval=0.01)
    try:
        assert _policy(before) == os.SCHED_OTHER
        helpers.start()
        assert _policy(before) == os.SCHED_BATCH
        assert os.sched_getscheduler(me) == os.SCHED_OTHER  # the loop keeps its policy
        assert me not in helpers.demoted

        later = _waiting_thread(release)  # a pool growing after start
        for _ in range(1000):
            if _policy(later) == os.SCHED_BATCH:
                break
            await asyncio.sleep(0.01)
        assert _policy(later) == os.SCHED_BATCH
    finally:
        helpers.stop()
    assert _policy(before) == os.SCHED_OTHER
    assert _policy(later) == os.SCHED_OTHER
    assert helpers.demoted == set()
    helpers.stop()  # idempotent
    release.set()


async def test_a_thread_given_another_policy_is_left_alone() -> None:
    release = threading.Event()
    idle = _waiting_thread(release)
    assert idle.native_id is not None
    os.sched_setscheduler(idle.native_id, os.SCHED_IDLE, os.sched_param(0))
    helpers = HelperThreads(interval=0)
    try:
        helpers.start()
        assert _policy(idle) == os.SCHED_IDLE
        assert idle.native_id not in helpers.demoted
    finally:
        helpers.stop()
        release.set()
    assert _policy(idle) == os.SCHED_IDLE
