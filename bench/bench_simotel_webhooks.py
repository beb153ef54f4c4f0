"""Simotel webhook receiver throughput: `telgate serve` (a real process, one
Simotel backend linked to the fake Simotel) receiving authenticated webhooks
from this process over keep-alive HTTP connections.

- NewState (G4 JSON POST): receiver -> live channel state -> event hub.
- Cdr (G4 JSON POST): the same plus a CDR into the store (each a new call id).

Usage: .venv/bin/python bench/bench_simotel_webhooks.py [--count 5000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.simotel_gateway import PASSWORD, USER, simotel_gateway


async def fire(url: str, bodies: list[dict[str, Any]], concurrency: int) -> float:
    """Sends every body (``concurrency`` at once); returns requests per second."""
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    async with aiohttp.ClientSession(headers={"Authorization": f"Basic {token}"}) as session:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                async with session.post(url, json=body) as resp:
                    await resp.read()
                    assert resp.status == 200, resp.status

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(bodies) / (time.perf_counter() - began)


async def main(count: int, concurrency: int) -> None:
    async with simotel_gateway() as gateway:
        url = gateway.hooks
        states = ["Ringing", "InUse", "Idle"]
        newstate = [
            {
                "event_name": "NewState",
                "exten": str(200 + i % 50),
                "state": states[i % 3],
                "participant": "09120000001",
                "direction": "in",
                "unique_id": f"1.{i // 3}",
            }
            for i in range(count)
        ]
        rate = await fire(url, newstate, concurrency)
        print(f"NewState webhooks: {count} in, {rate:,.0f} requests/s (concurrency {concurrency})")
        cdrs = [
            {
                "event_name": "Cdr",
                "starttime": "2024-08-02 09:25:03.114020",
                "endtime": "2024-08-02 09:26:43.905511",
                "src": "09120000011",
                "dst": "215",
                "type": "incoming",
                "disposition": "ANSWERED",
                "billsec": 94,
                "wait": 6,
                "unique_id": f"2.{i}",
            }
            for i in range(count)
        ]
        rate = await fire(url, cdrs, concurrency)
        print(f"Cdr webhooks:      {count} in, {rate:,.0f} requests/s (each a stored CDR)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(main(args.count, args.concurrency))
