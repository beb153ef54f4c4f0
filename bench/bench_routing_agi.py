"""Latency a routing decision adds to a FastAGI call: from the environment
block in (the client's last byte written) to the first AGI command out (the
client has read it), through the backend's FastAGI server and a RouteDesk
that decides at once. Printed beside the FastAGI budget (the most a router
may take); what is measured is the gateway's own share of that time.

The client speaks as Asterisk does (the environment block a real Asterisk
22 sent, fixtures/agi/01), over real loopback TCP, in the same event loop as
the server (so the figure includes the client's own work: an upper bound).

Usage: .venv/bin/python bench/bench_routing_agi.py [--calls 2000] [--concurrency 1 16]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telgate_server.backends.ami.fastagi.server import FastAgiServer
from telgate_server.backends.ami.settings import FastAgiConfig
from telgate_server.routing import model as m

from tests.ami.fastagi.client import fixture_env

DECISION = m.RunSteps(
    (m.PlaySound("custom/reminder"), m.SetVariable("TIER", "gold"), m.GoTo("billing", "200"))
)


# routing.budget.asterisk_agi's default (the hub's budget for FastAGI queries).
BUDGET = 3.0


class InstantDesk:
    """Decides at once (the router's own time is not the gateway's)."""

    async def ask(self, query: m.RouteQuery) -> m.Answer:
        return m.Answer(DECISION, router_id="bench")

    def ended(self, query: m.RouteQuery, outcome: m.Outcome, detail: str = "") -> None:
        assert outcome is m.Outcome.APPLIED, detail

    def fallback(self, query: m.RouteQuery, why: str) -> m.Answer:
        return m.Answer(None, fallback=True, why=why)

    def budget(self, kind: m.RouteKind) -> float:
        return BUDGET


async def one_call(port: int, env: bytes) -> float:
    """Seconds from the environment sent to the first command read."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(env)
    await writer.drain()
    began = time.perf_counter()
    first = await reader.readline()
    took = time.perf_counter() - began
    assert first.startswith(b"STREAM FILE"), first
    writer.write(b"200 result=0 endpos=5128\n")
    while line := await reader.readline():
        writer.write(b"200 result=1\n" if line.startswith(b"SET VARIABLE") else b"200 result=0\n")
    writer.write(b"HANGUP\n")
    writer.close()
    return took


async def run(calls: int, concurrency: int) -> list[float]:
    config = FastAgiConfig(listen="127.0.0.1:0", budget=BUDGET)
    server = FastAgiServer("bench", config, InstantDesk(), technology="PJSIP")
    await server.start()
    env = fixture_env()
    times: list[float] = []
    left = iter(range(calls))

    async def worker() -> None:
        for _ in left:
            times.append(await one_call(server.port, env))

    try:
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    finally:
        await server.stop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    args = parser.parse_args()
    budget = BUDGET
    print(f"FastAGI: env in -> decision -> first command out ({args.calls} calls each)")
    for concurrency in args.concurrency:
        asyncio.run(run(min(200, args.calls), concurrency))  # warm-up
        times = sorted(asyncio.run(run(args.calls, concurrency)))
        p50 = statistics.median(times) * 1000
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1000
        print(
            f"  {concurrency:3d} at once: p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  "
            f"(budget {budget * 1000:.0f} ms; {p99 / (budget * 1000):.2%} of it at p99)"
        )


if __name__ == "__main__":
    main()
