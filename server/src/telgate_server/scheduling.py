"""How the gateway's helper threads share a CPU with its event loop.

All the gateway's own work runs on one thread, the asyncio event loop. grpcio
adds threads of its own: the completion-queue poller of ``grpc.aio`` (it
wakes on every finished stream write and hands the result to the loop),
its event engine's workers and timer; the CDR store adds sqlite's. When the
loop's core is busy, each write's completion woke the poller, which under
Linux's default policy preempted the loop at once: two thread switches per
write (events bench, 10 subscribers at 15,000 events/s: 3 switches per
event, 64 us of CPU per event; with the helpers under ``SCHED_BATCH``: 0.2
switches, 52 us).

``SCHED_BATCH`` (Linux, no privilege needed) keeps a thread's fair share of
the CPU but its wake-ups never preempt a running thread: the poller runs
when the loop waits for I/O or at the next scheduler tick, and hands over
every completion that arrived meanwhile in one go. On an idle core it runs at
once, as before. :class:`HelperThreads` puts every thread but the loop's
under it, and looks again every ``interval`` seconds for threads started
since (pools grow on demand).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading

DEFAULT_INTERVAL = 1.0
_TASKS = "/proc/self/task"

log = logging.getLogger(__name__)


def supported() -> bool:
    """Whether this platform has SCHED_BATCH and per-thread ids to apply it to."""
    return hasattr(os, "SCHED_BATCH") and os.path.isdir(_TASKS)


def _thread_ids() -> set[int]:
    try:
        return {int(name) for name in os.listdir(_TASKS)}
    except OSError:
        return set()


class HelperThreads:
    """Keeps every thread of the process except the event loop's under
    ``SCHED_BATCH`` while started; :meth:`stop` puts them back."""

    def __init__(self, interval: float = DEFAULT_INTERVAL) -> None:
        self.interval = interval
        self._loop_thread = 0
        # Threads this object moved to SCHED_BATCH (ids of live threads).
        self.demoted: set[int] = set()
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Demotes the helper threads now and keeps doing so (call from the
        running loop); idempotent, and a no-op where unsupported."""
        if self._loop_thread or not supported():
            return
        self._loop_thread = threading.get_native_id()
        self._scan()

    def _scan(self) -> None:
        live = _thread_ids()
        self.demoted &= live
        new = 0
        for tid in live - self.demoted - {self._loop_thread}:
            try:
                # A thread someone gave another policy on purpose is left alone.
                if os.sched_getscheduler(tid) == os.SCHED_OTHER:
                    os.sched_setscheduler(tid, os.SCHED_BATCH, os.sched_param(0))
                    self.demoted.add(tid)
                    new += 1
            except OSError:  # the thread ended meanwhile
                continue
        if new:
            log.debug("%d helper thread(s) now under SCHED_BATCH", new)
        if self.interval > 0:
            self._handle = asyncio.get_running_loop().call_later(self.interval, self._scan)

    def stop(self) -> None:
        """Stops looking and puts the threads it demoted back under the
        default policy (idempotent)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        for tid in self.demoted & _thread_ids():
            try:
                os.sched_setscheduler(tid, os.SCHED_OTHER, os.sched_param(0))
            except OSError:
                continue
        self.demoted.clear()
        self._loop_thread = 0
