"""Latency a routing decision adds to a FastAGI call: from the environment
block in (the client's last byte written) to the first AGI command out (the
client has read it), through the backend's FastAGI server, printed beside
the FastAGI budget (the most a router may take). Two deciders:

- ``in-process``: a RouteDesk that decides at once (the FastAGI server's own share);
- ``hub + gRPC router``: the gateway's RouterHub and Route servicer on a
  grpc.aio server, the router being the example router
  (clients/python/examples/router.py) in a child process answering at once
  (the whole path a real call takes).

The client speaks as Asterisk does (the environment block a real Asterisk
22 sent, fixtures/agi/01), over real loopback TCP, in the same event loop as
the server (so the figure includes the client's own work: an upper bound).

Usage: .venv/bin/python bench/bench_routing_agi.py [--calls 2000] [--concurrency 1 16]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telgate_server.backends.ami.fastagi.server import FastAgiServer
from telgate_server.backends.ami.settings import FastAgiConfig
from telgate_server.routing import model as m
from telgate_server.routing.model import RouteDesk

from bench.example_router import example_router
from bench.latency import latency_ms
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
    line = await reader.readline()
    took = time.perf_counter() - began
    assert line, "the server closed without a command (no decision?)"
    while line:
        writer.write(b"200 result=1\n" if line.startswith(b"SET VARIABLE") else b"200 result=0\n")
        line = await reader.readline()
    writer.write(b"HANGUP\n")
    writer.close()
    return took


async def run(desk: RouteDesk, calls: int, concurrency: int) -> list[float]:
    config = FastAgiConfig(listen="127.0.0.1:0", budget=BUDGET)
    server = FastAgiServer("bench", config, desk, technology="PJSIP")
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


def report(label: str, concurrency: int, times: list[float]) -> None:
    took = latency_ms(times)
    print(
        f"  {label:<18} {concurrency:3d} at once: p50 {took.p50:6.2f} ms  p99 {took.p99:6.2f} ms  "
        f"(budget {BUDGET * 1000:.0f} ms; p99 is {took.p99 / (BUDGET * 1000):.2%} of it)"
    )


async def main(calls: int, concurrencies: list[int]) -> None:
    print(f"FastAGI: env in -> decision -> first command out ({calls} calls each)")
    desk = InstantDesk()
    for concurrency in concurrencies:
        await run(desk, min(200, calls), concurrency)  # warm-up
        report("in-process", concurrency, await run(desk, calls, concurrency))
    async with example_router("--debtor", "5550100=1200") as hub:
        for concurrency in concurrencies:
            await run(hub, min(200, calls), concurrency)
            report("hub + gRPC router", concurrency, await run(hub, calls, concurrency))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.concurrency))
