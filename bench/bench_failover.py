"""Link failover time between two gateway instances of one cluster.

Two `telgate serve` processes (JetStream event hub and link leases on a
throw-away nats-server, CDRs in a throw-away PostgreSQL cluster, both from
tests/services/) share one AMI link to the simulator. Each round stops the
instance running the link and times, from the stop, what a subscriber on
the other instance sees:

- taken: the survivor's event saying it runs the link now (it won the lease);
- ready: the survivor's link event with the PBX's state re-read (the link is
  serving again: channels re-read, call control works there).

Rounds alternate between SIGKILL (the lease must expire: lease_ttl after
the dead owner's last renewal) and SIGTERM (a clean stop releases the lease,
taken at the survivor's next check); the stopped instance is started again
before the next round, as a non-owner.

Usage: .venv/bin/python bench/bench_failover.py [--rounds 6] [--lease-ttl 3]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import grpc
from telgate.v1 import events_pb2
from telgate_server.simulator.server import AmiSimulator

from tests.cluster.harness import (
    Cluster,
    Instance,
    Link,
    Watcher,
    new_database,
    until,
)
from tests.services.nats import start_nats
from tests.services.postgres import start_postgres


def _first(events: list[events_pb2.Event], instance: str, reloaded: bool) -> int | None:
    """Index in ``events`` of the survivor's takeover announcement (or, with
    ``reloaded``, of the state-reloaded link event after it)."""
    found = [
        i
        for i, e in enumerate(events)
        if e.backend == "pbx" and e.WhichOneof("payload") == "link_state_changed"
    ]
    for n, i in enumerate(found):
        if f"gateway instance '{instance}'" in events[i].link_state_changed.detail:
            if not reloaded:
                return i
            for j in found[n + 1 :]:
                if events[j].link_state_changed.state_reloaded:
                    return j
    return None


async def one_round(owner: Instance, survivor: Instance, sig: int) -> tuple[float, float]:
    async with grpc.aio.insecure_channel(survivor.address) as channel:
        watcher = Watcher(channel, events_pb2.SubscribeRequest())

        async def opened() -> bool:
            return bool(watcher.epoch)

        await until(opened, 10, "the subscription to open")  # before the stop
        stopped = time.monotonic()
        assert owner.process.proc is not None
        owner.process.proc.send_signal(sig)
        await watcher.wait_for(
            lambda ev: _first(ev, survivor.name, True) is not None, 60, "the takeover"
        )
        # When each event reached the subscriber.
        taken = watcher.arrived[_first(watcher.events, survivor.name, False) or 0] - stopped
        ready = watcher.arrived[_first(watcher.events, survivor.name, True) or 0] - stopped
        await watcher.close()
    await owner.process.wait(30)
    return taken, ready


async def run(rounds: int, ttl: float) -> None:
    work = Path(tempfile.mkdtemp(prefix="tgbf-"))
    nats = start_nats(work / "nats")
    # Its own folder: the server runs as `postgres` when we are root (initdb
    # refuses root) and must be able to enter it.
    pg_dir = Path(tempfile.mkdtemp(prefix="tgbfpg-"))
    pg = start_postgres(pg_dir)
    sim = AmiSimulator()
    await sim.start("127.0.0.1", 0)
    instances: list[Instance] = []
    try:
        probe = Cluster(nats.url, "", [Link("pbx", sim.port)], lease_ttl=ttl)
        await new_database(pg.dsn(), probe.name.lower())
        cluster = Cluster(
            nats.url, pg.dsn(probe.name.lower()), probe.links, lease_ttl=ttl, name=probe.name
        )
        (work / "a").mkdir()
        (work / "b").mkdir()
        a, b = cluster.instance("a", work / "a"), cluster.instance("b", work / "b")
        instances = [a, b]
        await a.start()
        await until(lambda: a.owns("pbx"), 30, "A to run the link")
        await b.start()
        results: dict[str, list[tuple[float, float]]] = {"SIGKILL": [], "SIGTERM": []}
        owner, survivor = a, b
        for n in range(rounds):
            sig = signal.SIGKILL if n % 2 == 0 else signal.SIGTERM
            results[sig.name].append(await one_round(owner, survivor, sig))
            await owner.start()  # back as a non-owner
            owner, survivor = survivor, owner
        print(
            f"link failover, lease_ttl {ttl:g} s (renew every {ttl / 3:.2f} s, others check "
            f"every {ttl / 5:.2f} s); {platform.python_implementation()} "
            f"{platform.python_version()}, subscriber on the survivor"
        )
        for name, found in results.items():
            if not found:
                continue
            taken = [t for t, _ in found]
            ready = [r for _, r in found]
            print(
                f"  {name:7} x{len(found)}: lease taken {_stats(taken)}; "
                f"link up with state re-read {_stats(ready)}"
            )
    finally:
        for instance in instances:
            await instance.process.kill()
        await sim.stop()
        pg.stop()
        nats.stop()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(pg_dir, ignore_errors=True)


def _stats(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):.2f} s (min {min(values):.2f}, max {max(values):.2f})"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=6, help="stops (alternating SIGKILL, SIGTERM)")
    p.add_argument("--lease-ttl", type=float, default=3.0, help="cluster.lease_ttl, seconds")
    args = p.parse_args()
    asyncio.run(run(args.rounds, args.lease_ttl))


if __name__ == "__main__":
    main()
