"""Sippy poller throughput: CDRs a second from the fake Sippy switch (real
HTTP on localhost, real Digest auth, XML-RPC bodies) through the client's
safe parsing, normalisation, and the store (one transaction per page, the
poller's mark in it), for a window of ``--count`` CDRs.

Two passes: the first window stores every CDR; the second reads the same
window again (the overlap case: every row a duplicate the store refuses).

Usage: .venv/bin/python bench/bench_sippy.py [--count 20000] [--page-size 500]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telgate_server.backends.sippy.cdrs import SippyCdrs
from telgate_server.backends.sippy.client import SippyClient
from telgate_server.backends.sippy.poller import SippyPoller
from telgate_server.backends.sippy.settings import SippyBackendConfig
from telgate_server.cdr.ingest import CdrIngest
from telgate_server.cdr.sqlite import SqliteCdrStore
from telgate_server.fakes.sippy.server import FakeSippy


async def run(count: int, page_size: int, synchronous: str) -> None:
    fake = FakeSippy(username="bench", password="bench-password")
    now = time.time()
    for i in range(count):
        fake.add_cdr(now - 3500 + i * (3400 / count), talk=float(i % 120))
    await fake.start()
    config = SippyBackendConfig.model_validate(
        {
            "url": fake.url,
            "username": "bench",
            "password": "bench-password",
            "page_size": page_size,
            "first_lookback": 3600.0,
            "currency": "USD",
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteCdrStore(Path(tmp) / "cdrs.sqlite3", synchronous=synchronous)  # type: ignore[arg-type]
        await store.open()
        ingest = CdrIngest(store)
        await ingest.start()
        client = SippyClient("bench", config)
        poller = SippyPoller("bench", SippyCdrs("bench", client, config), ingest, config)
        try:
            for label in ("first window (all new)", "same window again (all duplicates)"):
                if label.startswith("same"):
                    # Read the same window again: the mark back where it was.
                    poller.watermark = now - 3600 + config.overlap
                started = time.perf_counter()
                result = await poller.poll_once()
                elapsed = time.perf_counter() - started
                print(
                    f"  {label}: {result.rows} rows in {result.pages} pages, {result.new} new, "
                    f"{elapsed:.2f} s -> {result.rows / elapsed:,.0f} CDRs/s"
                )
        finally:
            await client.close()
            await ingest.stop()
            await store.close()
            await fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args()
    print(
        f"Sippy poller: {args.count} CDRs from the fake switch, page size {args.page_size} "
        f"(Python {platform.python_version()}, {platform.machine()})"
    )
    for synchronous in ("FULL", "NORMAL"):
        print(f" store synchronous={synchronous}:")
        asyncio.run(run(args.count, args.page_size, synchronous))


if __name__ == "__main__":
    main()
