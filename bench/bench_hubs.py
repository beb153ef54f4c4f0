"""Event hub backends side by side, in one run: events/s from publish to
the last of 10 subscribers, through the in-memory hub (one process) and
through JetStream (a real ``nats-server -js`` on loopback, started here)
with the 10 subscribers spread over two hub instances, each its own process.

Events are AMI ``VarSet`` events with a full channel block (as
bench_events.py floods, ~480 bytes on the wire), made by the AMI backend's
own ``to_event``; every subscriber takes every event (an empty filter), as
its gRPC stream would: ``next_batch`` hands out the encoded bytes ready to
write, so the figure is the hub's, without gRPC (the same for both hubs).

- memory: publish ``--count`` events as fast as the hub takes them, 10
  subscribers drain concurrently; events/s = events / time from the first
  publish to the moment the last subscriber took the last event.
- jetstream: instance A (a process) publishes the events and serves 5
  subscribers; instance B (another process) serves 5; both on one stream.
  Same figure (CLOCK_MONOTONIC is one clock for the processes of a host),
  plus the publish rate alone (every event acknowledged by the stream) and
  the slowest subscriber's own rate.

Figures are printed; nothing is asserted. Needs nats-server (`make test-deps`).

Usage: .venv/bin/python bench/bench_hubs.py [--count 50000] [--subscribers 10]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from telgate_server.api.events import encoded, stamped
from telgate_server.backends.ami.codec import Message, Parser
from telgate_server.backends.ami.events import fact_builder, reviver, to_event
from telgate_server.config import NatsConfig
from telgate_server.events.filter import EventFilter
from telgate_server.events.hub import EventHub, Subscription
from telgate_server.events.jetstream import JetStreamHub
from telgate_server.events.model import Event
from telgate_server.simulator.channels import event as ami_event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.channel_blocks import channel_block
from tests.services.nats import start_nats

CALLS = 10
MAX_BATCH = 500


def make_events(count: int) -> list[Event]:
    """``count`` VarSet events as the AMI backend makes them."""
    wire = b"".join(
        ami_event(
            "VarSet",
            "dialplan,all",
            [*channel_block(n % CALLS), ("Variable", "N"), ("Value", str(n))],
        ).encode()
        for n in range(count)
    )
    framed = Parser().feed(b"Asterisk Call Manager/11.0.0\r\n" + wire)
    build = fact_builder({f"1732000000.{100 + c}": 1732000000.0 for c in range(CALLS)}.get)
    revive = reviver(build)
    return [to_event("pbx", m, build, 0.0, revive) for m in framed if isinstance(m, Message)]


async def drain(sub: Subscription, count: int) -> float:
    """Takes ``count`` events; returns the monotonic time the last was taken."""
    got = 0
    while got < count:
        got += len(await sub.next_batch(MAX_BATCH, 5.0))
    return time.monotonic()


async def memory_run(count: int, subscribers: int) -> dict[str, float]:
    events = make_events(count)
    hub = EventHub(encoded, replay_size=count)
    subs = [hub.subscribe(EventFilter())[0] for _ in range(subscribers)]
    readers = [asyncio.ensure_future(drain(s, count)) for s in subs]
    await asyncio.sleep(0)
    start = time.monotonic()
    # Published in slices, letting the readers run between them (as the AMI
    # reader does between socket reads).
    for i in range(0, count, 200):
        for e in events[i : i + 200]:
            hub.publish(e)
        await asyncio.sleep(0)
    ends = await asyncio.gather(*readers)
    return {"events_s": count / (max(ends) - start), "slowest_s": count / (max(ends) - start)}


def instance_main(conn: Connection, url: str, count: int, subscribers: int, publish: bool) -> None:
    """One JetStream hub instance (a process): ``subscribers`` subscribers,
    and (``publish``) the publisher of ``count`` events."""
    asyncio.run(_instance(conn, url, count, subscribers, publish))


async def _instance(
    conn: Connection, url: str, count: int, subscribers: int, publish: bool
) -> None:
    config = NatsConfig(url=url, stream="BENCH", max_msgs=count * 2, storage="file")
    hub = JetStreamHub(config, encoded, stamped, subscriber_queue=10_000, max_batch=MAX_BATCH)
    await hub.start()
    events = make_events(count) if publish else []
    subs = [(await hub.open_subscription(EventFilter()))[0] for _ in range(subscribers)]
    conn.send("ready")
    start = await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    readers = [asyncio.ensure_future(drain(s, count)) for s in subs]
    published = 0.0
    if publish:
        await asyncio.sleep(max(0.0, start - time.monotonic()))
        t0 = time.monotonic()
        for i in range(0, count, 200):
            for e in events[i : i + 200]:
                hub.publish(e)
            await asyncio.sleep(0)
        await hub.flush()
        published = time.monotonic() - t0
    ends = await asyncio.gather(*readers)
    firsts = [count / (end - start) for end in ends]
    conn.send({"ends": ends, "published": published, "rates": firsts})
    await hub.close()


async def jetstream_run(url: str, count: int, subscribers: int) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    half = subscribers // 2
    pipes, procs = [], []
    for publish, n in ((True, half), (False, subscribers - half)):
        ours, theirs = ctx.Pipe()
        proc = ctx.Process(target=instance_main, args=(theirs, url, count, n, publish))
        proc.start()
        pipes.append(ours)
        procs.append(proc)
    loop = asyncio.get_running_loop()
    for p in pipes:
        assert await loop.run_in_executor(None, p.recv) == "ready"
    start = time.monotonic() + 0.2
    for p in pipes:
        p.send(start)
    results: list[dict[str, Any]] = [await loop.run_in_executor(None, p.recv) for p in pipes]
    for proc in procs:
        proc.join(30)
    end = max(max(r["ends"]) for r in results)
    return {
        "events_s": count / (end - start),
        "publish_s": count / results[0]["published"],
        "slowest_s": min(min(r["rates"]) for r in results),
    }


async def main_async(args: argparse.Namespace) -> None:
    print(
        f"event hubs: {args.count:,} VarSet events, {args.subscribers} subscribers taking every "
        f"event; {os.cpu_count()} CPUs"
    )
    memory = await memory_run(args.count, args.subscribers)
    print(
        f"  memory    (1 instance, {args.subscribers} subscribers):  "
        f"{memory['events_s']:>9,.0f} events/s to every subscriber"
    )
    with tempfile.TemporaryDirectory() as tmp:
        server = start_nats(Path(tmp))
        try:
            js = await jetstream_run(server.url, args.count, args.subscribers)
        finally:
            server.stop()
    print(
        f"  jetstream (2 instances, {args.subscribers} subscribers): "
        f"{js['events_s']:>9,.0f} events/s to every subscriber "
        f"(publish alone {js['publish_s']:,.0f}/s acknowledged; slowest subscriber "
        f"{js['slowest_s']:,.0f}/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=50_000, help="events per run")
    parser.add_argument("--subscribers", type=int, default=10)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
