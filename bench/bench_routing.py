"""What a live routing decision adds: from a backend's ``hub.ask`` to the
router's decision back in the gateway, over a real Route stream.

The gateway side (RouterHub and the Route servicer on a grpc.aio server) runs
in this process; the router is the example router
(clients/python/examples/router.py) in a child process, answering at once.
Queries are asked one at a time, then ``--concurrency`` at a time, and the
latency of each ``hub.ask`` is reported (p50, p99, max) beside the default
Simotel budget. The backends' own rendering (HTTP for Simotel, AGI commands)
comes on top. Nothing is asserted.

Usage: .venv/bin/python bench/bench_routing.py [--queries 2000] [--concurrency 10]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telgate_server.routing.hub import RouterHub
from telgate_server.routing.model import RouteKind, RouteQuery, new_query_id
from telgate_server.routing.settings import BudgetConfig

from bench.example_router import example_router
from bench.latency import latency_ms

KINDS = (RouteKind.SIMOTEL_EXTEN, RouteKind.SIMOTEL_SMART, RouteKind.ASTERISK_AGI)


def query(kind: RouteKind, number: int) -> RouteQuery:
    return RouteQuery(
        id=new_query_id(),
        backend="pbx",
        kind=kind,
        route="crm",
        caller_number="09121234567" if number % 2 else "09350000000",
        deadline=time.time() + 5,
    )


async def measure(hub: RouterHub, count: int, concurrency: int) -> list[float]:
    """Seconds each of ``count`` asks took, ``concurrency`` in flight at a time."""
    took: list[float] = []
    fallbacks = 0

    async def one(number: int) -> None:
        nonlocal fallbacks
        start = time.perf_counter()
        answer = await hub.ask(query(KINDS[number % len(KINDS)], number))
        took.append(time.perf_counter() - start)
        fallbacks += answer.fallback or answer.decision is None

    for first in range(0, count, concurrency):
        await asyncio.gather(*(one(n) for n in range(first, min(first + concurrency, count))))
    if fallbacks:
        print(f"  ({fallbacks} queries were not answered by the router)")
    return took


def report(label: str, took: list[float]) -> None:
    ms = latency_ms(took)
    print(
        f"{label:<28} n={ms.count:<6} p50 {ms.p50:6.2f} ms   "
        f"p99 {ms.p99:6.2f} ms   max {ms.max:6.2f} ms"
    )


async def main(args: argparse.Namespace) -> None:
    async with example_router("--route", "crm", "--debtor", "09121234567=1200") as hub:
        await measure(hub, 200, 1)  # warm up both processes
        budget = BudgetConfig()
        print(
            f"budgets: Simotel {budget.simotel_exten * 1000:.0f} ms (Simotel's own limit 1000 ms), "
            f"AGI {budget.asterisk_agi * 1000:.0f} ms"
        )
        report("one at a time", await measure(hub, args.queries, 1))
        report(
            f"{args.concurrency} in flight",
            await measure(hub, args.queries, args.concurrency),
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=10)
    asyncio.run(main(parser.parse_args()))
