"""Simotel call-map component latency: what a routing decision adds to a
live call. A real `telgate serve` (one Simotel backend linked to the fake
Simotel) and a gRPC router in this process (CallRoutingService.Route,
serving every route); this process also plays Simotel, asking the Smart API
component URL over keep-alive HTTP with Basic auth.

Each request: HTTP in -> RouteDesk -> gRPC query to the router -> its
decision -> rendered Smart API commands -> HTTP answer. Printed: p50 / p99 /
max of the round trip as Simotel sees it, beside the budget and Simotel's
1 s, one request at a time and with several at once.

Usage: .venv/bin/python bench/bench_routing_components.py [--count 2000] [--concurrency 8]
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
import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telgate.v1 import routing_pb2, routing_pb2_grpc
from telgate_server.routing.settings import BudgetConfig

from bench.latency import latency_ms
from bench.simotel_gateway import PASSWORD, USER, simotel_gateway

# The default [routing.budget] of a Smart API query.
BUDGET = BudgetConfig().simotel_smart


def decision(query: routing_pb2.RoutingQuery) -> routing_pb2.RouteRequest:
    """The Smart API flow example's first answer (play, collect a digit, exit)."""
    steps = [
        routing_pb2.RoutingStep(
            play_announcement=routing_pb2.PlayAnnouncement(name="welcome-file")
        ),
        routing_pb2.RoutingStep(
            get_data=routing_pb2.GetData(prompts=["enter-data-file"], max_digits=1)
        ),
    ]
    steps[1].get_data.timeout.seconds = 10
    return routing_pb2.RouteRequest(
        decision=routing_pb2.RoutingDecision(
            query_id=query.id, steps=routing_pb2.RunSteps(steps=steps, exit="go-s2")
        )
    )


async def router(address: str, ready: asyncio.Event) -> None:
    """Serves every route until cancelled, answering each query at once."""
    outbox: asyncio.Queue[routing_pb2.RouteRequest] = asyncio.Queue()
    outbox.put_nowait(
        routing_pb2.RouteRequest(registration=routing_pb2.RouterRegistration(routes=["*"]))
    )

    async def sent() -> Any:
        while True:
            yield await outbox.get()

    async with grpc.aio.insecure_channel(address) as channel:
        stub = routing_pb2_grpc.CallRoutingServiceStub(channel)
        async for message in stub.Route(sent()):
            which = message.WhichOneof("message")
            if which == "registered":
                ready.set()
            elif which == "query":
                outbox.put_nowait(decision(message.query))


async def ask(
    session: aiohttp.ClientSession, url: str, count: int, concurrency: int
) -> list[float]:
    """``count`` component requests, ``concurrency`` at once; each one's seconds."""
    times: list[float] = []
    numbers = iter(range(count))

    async def worker() -> None:
        for i in numbers:
            body = {
                "src": "09155441",
                "dst": "789",
                "data": "",
                "unique_id": f"1722595000.{i}",
                "app_name": "s1",
            }
            began = time.perf_counter()
            async with session.post(url, json=body) as resp:
                answer = await resp.json()
            times.append(time.perf_counter() - began)
            assert resp.status == 200 and answer.get("ok") == "1", answer

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return times


def report(label: str, times: list[float]) -> None:
    took = latency_ms(times)
    print(
        f"{label}: {took.count} decisions, p50 {took.p50:.1f} ms, p99 {took.p99:.1f} ms, "
        f"max {took.max:.1f} ms (budget {BUDGET * 1000:.0f} ms; Simotel waits 1000 ms)"
    )


async def main(count: int, concurrency: int) -> None:
    async with simotel_gateway() as gateway:
        url = f"{gateway.hooks}/components/smart"
        ready = asyncio.Event()
        serving = asyncio.create_task(router(gateway.grpc_address, ready))
        token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        try:
            await asyncio.wait_for(ready.wait(), 15)
            async with aiohttp.ClientSession(
                headers={"Authorization": f"Basic {token}"}
            ) as session:
                await ask(session, url, 50, 1)  # warm-up
                report("one at a time", await ask(session, url, count, 1))
                report(f"{concurrency} at once", await ask(session, url, count, concurrency))
        finally:
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.count, args.concurrency))
