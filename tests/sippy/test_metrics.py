"""A Sippy switch's figures scraped over HTTP after real traffic: its XML-RPC
round trips by method and outcome, its poller's lag, CDRs stored and
duplicates refused as the poller re-reads its overlapping windows."""

from __future__ import annotations

import time
from typing import Any

from telgate_server.app import Gateway
from telgate_server.config import load_settings
from telgate_server.fakes.sippy.server import FakeSippy

from tests.integration.test_metrics import scrape, value
from tests.sippy.conftest import PASSWORD, USER, sippy_backend, until

REQUESTS = "telgate_backend_request_duration_seconds_count"


async def test_a_sippy_switchs_traffic_over_http(fake: FakeSippy) -> None:
    now = time.time()
    # All inside the 120 s overlap: every window reads them all again.
    for i in range(120):
        fake.add_cdr(now - 90 + i * 0.5, talk=5.0)
    settings = load_settings(
        None,
        backends={"sippy": sippy_backend(fake, page_size=50, poll_interval=0.1, backoff_max=0.2)},
        server={"listen": "127.0.0.1:0"},
        metrics={"listen": "127.0.0.1:0"},
    )
    gateway = Gateway(settings)
    await gateway.start()
    try:
        backend: Any = gateway.registry.get("sippy")
        poller = backend.poller
        assert gateway.metrics_server is not None
        port = gateway.metrics_server.port
        # Two complete windows: every row read twice.
        await until(lambda: poller.polls >= 2)
        # One page answered by a fault (aimed at the CDR method: only the
        # poller calls it), then a complete window again.
        fake.fault_next("getAccountCDRs", 500, "database is busy")
        await until(lambda: poller.failures == 1)
        polls = poller.polls
        await until(lambda: poller.polls > polls)
        # Stopped, so that no page is half counted while the scrape runs.
        await poller.stop()
        polls = poller.polls
        await gateway.cdr_ingest.flush()
        before_scrape = time.time()
        samples = await scrape(port)
        after_scrape = time.time()
    finally:
        await gateway.stop(0)

    assert value(samples, "telgate_cdrs_stored_total") == 120
    received = value(samples, "telgate_cdrs_received_total")
    assert received >= 240
    assert value(samples, "telgate_cdr_duplicates_total") == received - 120
    assert value(samples, "telgate_backend_up", backend="sippy") == 1
    assert value(samples, "telgate_backend_link_changes_total", backend="sippy", state="down") == 1
    assert value(samples, "telgate_backend_reconnects_total", backend="sippy") == 1
    # Each link up (the first, and after the fault) asks the poller to read
    # from its mark: a backfill with no gap notice.
    assert value(samples, "telgate_cdr_backfills_total", backend="sippy") == 2
    assert value(samples, "telgate_cdr_gaps_total", backend="sippy") == 0
    assert value(samples, "telgate_cdr_gap_notices_stored_total") == 0
    # Seconds since the newest CDR's end, as of the scrape.
    newest = max(c.disconnect for c in fake.cdrs)
    cdr_lag = samples[("telgate_cdr_lag_seconds", frozenset({("backend", "sippy")}))]
    assert before_scrape - newest <= cdr_lag <= after_scrape - newest
    lag = samples[("telgate_cdr_poll_lag_seconds", frozenset({("backend", "sippy")}))]
    assert 0 <= lag < 30
    ok = {"backend": "sippy", "action": "getAccountCDRs", "outcome": "success"}
    # Three pages a window (50, 50, 20), one window per poll.
    assert value(samples, REQUESTS, **ok) >= 3 * polls
    assert value(samples, REQUESTS, **{**ok, "outcome": "error"}) == 1
    # The page the stop interrupted (if one was under way) is not an error.
    assert value(samples, REQUESTS, **{**ok, "outcome": "cancelled"}) <= 1
    assert value(samples, REQUESTS, backend="sippy", action="listAccounts", outcome="success") >= 1
    # No label holds the password, the user or a number of a call.
    for (_, labels), _count in samples.items():
        for _, label in labels:
            for secret_or_number in (PASSWORD, USER, "4420712", "49151"):
                assert secret_or_number not in label
