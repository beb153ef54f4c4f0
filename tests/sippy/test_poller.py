"""The poller's promises: a CDR written late but inside the overlap window
is caught, once; a gateway SIGKILLed mid-page and restarted stores every
CDR exactly once; a failing switch is retried with backoff."""

from __future__ import annotations

import asyncio
import functools
import itertools
import sqlite3
import time
from pathlib import Path
from typing import Any

import grpc
from prometheus_client import generate_latest
from telgate.v1 import events_pb2, events_pb2_grpc
from telgate_server.backends.sippy.dates import parse_date
from telgate_server.fakes.sippy.server import FakeSippy

from tests.integration.conftest import EventReader
from tests.integration.serve_process import ServeProcess
from tests.integration.test_cdrs import assert_once_in_order, read_all
from tests.lab import free_port
from tests.sippy.conftest import PASSWORD, USER, until


async def test_a_late_cdr_inside_the_overlap_is_caught_once(
    fake: FakeSippy, gateway_for: Any
) -> None:
    now = time.time()
    fake.add_cdr(now - 30)
    gateway = await gateway_for(overlap=120.0)
    poller = gateway.registry.get("sippy").poller
    await until(lambda: poller.polls >= 1)
    mark = poller.watermark
    # Written after the poller passed it: a long call that began 60 s before
    # the mark (inside the overlap) and one 300 s before it (outside).
    late = fake.add_cdr(mark - 60, talk=55)
    too_late = fake.add_cdr(mark - 300, talk=290)
    polls = poller.polls
    await until(lambda: poller.polls >= polls + 3)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
        stored = await read_all(channel)
    ids = [c.source_id for c in stored]
    assert ids.count(str(late.i_cdr)) == 1
    # Outside the overlap it is not seen: the overlap is what catches late CDRs.
    assert str(too_late.i_cdr) not in ids
    assert_once_in_order(stored)
    # Every window after the first started `overlap` before the previous end.
    windows = list(
        dict.fromkeys(
            (parse_date(p["start_date"]), parse_date(p["end_date"]))
            for n, p in fake.calls
            if n == "getAccountCDRs"
        )
    )
    assert len(windows) >= 4
    for (_, end), (start, _) in itertools.pairwise(windows):
        assert end is not None and start is not None
        assert abs(start - (end - 120.0)) < 0.002


async def test_the_sweep_catches_a_cdr_written_later_than_the_overlap_once(
    fake: FakeSippy, gateway_for: Any
) -> None:
    fake.add_cdr(time.time() - 30)
    gateway = await gateway_for(overlap=120.0, sweep_interval=0.5, sweep_window=3500.0)
    poller = gateway.registry.get("sippy").poller
    await until(lambda: poller.sweeps >= 1)
    # A call of 20 minutes, written after the polls passed its setup time by
    # more than the overlap (Sippy's filter column is not documented; the
    # fake filters on setup_time), and one older than the sweep's window.
    long_call = fake.add_cdr(poller.watermark - 1200, talk=1190)
    too_old = fake.add_cdr(poller.watermark - 4000, talk=3990)
    sweeps = poller.sweeps
    await until(lambda: poller.sweeps >= sweeps + 2)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
        stored = await read_all(channel)
    ids = [c.source_id for c in stored]
    assert ids.count(str(long_call.i_cdr)) == 1
    assert str(too_old.i_cdr) not in ids
    assert_once_in_order(stored)
    # Sweeps read 3500 s; the polls' windows still chain (each starts
    # `overlap` before the previous one ended): a sweep moves no mark.
    windows = [
        (parse_date(p["start_date"]) or 0.0, parse_date(p["end_date"]) or 0.0)
        for n, p in fake.calls
        if n == "getAccountCDRs" and p["offset"] == 0
    ]
    sweeps = [w for w in windows if abs(w[1] - w[0] - 3500.0) < 0.01]
    polls = [w for w in windows if w not in sweeps]
    assert len(sweeps) >= 3 and len(polls) >= 4
    for (_, end), (start, _) in itertools.pairwise(polls):
        assert abs(start - (end - 120.0)) < 0.002


async def test_stop_ends_the_poller_even_as_it_is_woken(fake: FakeSippy, gateway_for: Any) -> None:
    # A wake-up (a link up asking for a poll) and a stop in the same loop turn:
    # with asyncio.wait_for as the wait, 3.11 dropped the cancel and stop()
    # waited for ever.
    gateway = await gateway_for(poll_interval=30.0)
    poller: Any = gateway.registry.get("sippy").poller
    await until(lambda: poller.polls >= 1)
    for _ in range(3):
        polls: int = poller.polls
        poller.poll_now()
        await until(functools.partial(lambda seen: poller.polls > seen, polls))
        poller.poll_now()
        stopping = asyncio.ensure_future(poller.stop())
        done, _ = await asyncio.wait({stopping}, timeout=10)
        assert done, "stop() did not end: the poller's loop lost the cancel"
        poller.start()


async def test_a_failing_switch_is_retried_with_backoff_and_recovers(
    fake: FakeSippy, gateway_for: Any
) -> None:
    gateway = await gateway_for(poll_interval=0.05, backoff_max=0.4)
    backend: Any = gateway.registry.get("sippy")
    await until(lambda: backend.poller.polls >= 1)
    # Every status the link passes through (the next poll may already have
    # brought it back up by the time the test looks).
    seen: list[tuple[str, str]] = []
    backend.on_status(lambda status: seen.append((status.state.value, status.detail)))
    for _ in range(3):
        fake.fault_next("getAccountCDRs", 500, "database is busy")
    await until(lambda: backend.poller.failures >= 3)
    assert any(state == "down" and "database is busy" in detail for state, detail in seen)
    polls = backend.poller.polls
    fake.add_cdr(time.time() - 5)
    await until(lambda: backend.poller.polls > polls and backend.status.state.value == "up")
    assert backend.poller.stored == 1


def write_config(path: Path, port: int, fake: FakeSippy, password_file: Path) -> None:
    path.write_text(
        f"""
[server]
listen = "127.0.0.1:{port}"

[backends.sippy]
kind = "sippy"
url = "{fake.url}"
username = "{USER}"
password_file = "{password_file}"
poll_interval = 0.2
overlap = 120.0
page_size = 100
first_lookback = 7200.0

[cdr]
synchronous = "NORMAL"
""",
        encoding="utf-8",
    )


def stored_now(data_dir: Path) -> tuple[int, str | None]:
    """Rows of the killed gateway's store, and its poller mark."""
    db = sqlite3.connect(data_dir / "cdrs.sqlite3")
    try:
        (count,) = db.execute("SELECT count(*) FROM cdr").fetchone()
        row = db.execute("SELECT value FROM source_mark WHERE name = 'sippy:sippy'").fetchone()
        return int(count), None if row is None else str(row[0])
    finally:
        db.close()


async def test_sigkill_mid_page_then_restart_stores_every_cdr_once(
    fake: FakeSippy, tmp_path: Path, cdr_data_dir: Path
) -> None:
    now = time.time()
    total = 3000
    for i in range(total):
        fake.add_cdr(now - 3600 + i, talk=float(i % 50))
    fake.page_delay = 0.03
    password = tmp_path / "sippy-password"
    password.write_text(PASSWORD)
    port = free_port()
    config = tmp_path / "telgate.toml"
    write_config(config, port, fake, password)
    env = {"TELGATE_CDR__DATA_DIR": str(cdr_data_dir)}
    first = ServeProcess(config, tmp_path / "first.log", env)
    address = f"127.0.0.1:{port}"
    try:
        await first.start(address, backend="sippy")
        # Killed while the first window is being paged (10 of 30 pages served).
        await until(lambda: fake.pages_served >= 10)
        await first.kill()
    finally:
        await first.kill()
    pages_before = fake.pages_served
    assert pages_before < total // 100, "the window was read completely before the kill"
    count, mark = stored_now(cdr_data_dir)
    # Whole pages only (each page one transaction), and the mark not moved
    # past the unfinished window (it still starts the first window's read).
    assert count % 100 == 0 and 0 < count < total
    assert mark is not None and float(mark) < now - 7000
    second = ServeProcess(config, tmp_path / "second.log", env)
    try:
        await second.start(address, backend="sippy")
        async with grpc.aio.insecure_channel(address) as channel:
            stored: list[Any] = []
            for _ in range(600):
                stored = await read_all(channel)
                if len(stored) >= total:
                    break
                await asyncio.sleep(0.05)
            # A few more windows (overlapping): still once each.
            served = fake.pages_served
            await until(lambda: fake.pages_served >= served + 3)
            stored = await read_all(channel)
    finally:
        await second.kill()
    assert_once_in_order(stored)
    assert sorted(int(c.source_id) for c in stored) == [c.i_cdr for c in fake.cdrs]
    # The restarted poller read the unfinished window again from its start
    # (same start date, from offset 0; only its end moved on).
    pages = [p for n, p in fake.calls if n == "getAccountCDRs"]
    first_window = pages[0]
    restarted = next(p for p in pages if p["end_date"] != first_window["end_date"])
    assert restarted["start_date"] == first_window["start_date"]
    assert restarted["offset"] == 0


async def test_each_poll_reports_its_lag_as_an_event(fake: FakeSippy, gateway_for: Any) -> None:
    fake.add_cdr(time.time() - 10)
    gateway = await gateway_for()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
        stub = events_pb2_grpc.EventServiceStub(channel)
        reader = EventReader(
            stub.Subscribe(
                events_pb2.SubscribeRequest(
                    filter=events_pb2.EventFilter(backends=["sippy"]),
                    start=events_pb2.START_POSITION_LIVE,
                )
            )
        )
        await reader.wait_for(
            lambda r: any(e.name == "telgate.SippyCdrPoll" for e in r.events), timeout=10
        )
        reader.call.cancel()
    event = next(e for e in reader.events if e.name == "telgate.SippyCdrPoll")
    fields = {f.name: f.value for f in event.fields}
    assert 0 <= float(fields["Lag"]) < 10
    assert {"WindowStart", "WindowEnd", "Pages", "Rows", "New"} <= set(fields)


async def test_the_poll_lag_is_a_metric(fake: FakeSippy, gateway_for: Any) -> None:
    gateway = await gateway_for()
    backend: Any = gateway.registry.get("sippy")
    await until(lambda: backend.poller.polls >= 1)
    text = generate_latest(gateway.metrics.registry).decode()
    line = next(x for x in text.splitlines() if x.startswith("telgate_cdr_poll_lag_seconds{"))
    assert 'backend="sippy"' in line
    assert 0 <= float(line.rsplit(" ", 1)[1]) < 10
