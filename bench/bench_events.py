"""Event ingest and fan-out, end to end: simulator -> AMI socket -> codec ->
dispatcher -> hub -> gRPC -> clients; and the gateway's memory with many
idle subscribers and with one stuck subscriber.

Two processes, so that the figures are the gateway's own:

- the **gateway** (a child process, pinned to CPU 0 when the machine has
  more than one) runs the real ``Gateway`` with its default event settings;
- the **load** (this process, pinned to CPU 1) runs the AMI simulator, which
  writes the events to its socket, and the gRPC clients.

Events are ``VarSet`` events with a full channel block (18 headers, ~480
bytes on the wire, a typed ``variable_set`` payload), spread over 10 calls
(10 linked ids) unless said otherwise. Each call's channel is announced
once with a ``Newchannel`` before the runs, as a PBX does, so the gateway
knows when it first saw each channel (the payloads' ``create_time``). Scenarios:

- ``firehose x1``: one subscriber with an empty filter;
- ``linked-id x10``: 10 subscribers, each filtering one call's linked id
  (each gets a tenth of the events, and every one has events in every
  millisecond: one stream write per subscriber per tick, the worst case for
  the number of writes);
- ``10 of 100 calls``: the events are spread over 100 calls and 10
  subscribers each follow one of them (a supervisor console: each gets a
  hundredth of the events);
- ``all x10``: 10 subscribers that each take every event (``types: [VarSet]``),
  the worst case of fan-out.

Each scenario is run twice: a burst as fast as the simulator writes
(``events/s`` = events / time from the first write to the last delivery; the
gateway's CPU time per event is reported too, the figure for "one core"), and
paced runs at ``--rates`` events/s (one the gateway sustains, one at the
target) for the latency: from the moment the
gateway's AMI reader got the event from the socket (``Event.received_mono``,
``time.monotonic()``, recorded per sequence in the gateway process) to the
moment the client's stream yielded the message that carried it
(``time.monotonic()`` in the load process; CLOCK_MONOTONIC is one clock for
every process of a Linux host).

Each run also reports the gateway's garbage collector pauses during it, per
generation: ``g0:3/20.5ms`` is 3 young collections, the longest 20.5 ms (a
pause delays every event waiting behind it, so it shows in the p99), and the
thread switches of all the gateway's threads per event (each costs CPU; see
scheduling.py). ``load CPU`` is the load process's share of its core during
the run: near 100%, the clients' decoding, not the gateway, sets the pace.
``TCP retrans`` counts the host's retransmitted segments during the run
(loopback; with the timeouts, tail-loss probes and out-of-order arrivals
among them): a retransmission stalls every stream of that connection.

Memory: the gateway's RSS (/proc/self/status VmRSS) before and with 1,000
idle subscribers; then with one subscriber that opens its stream and never
reads while the 10 linked-id subscribers receive a flood: its queue
overflows, the gateway cuts it (RESOURCE_EXHAUSTED) and the others get
everything.

Encoding (in the load process, before the gateway runs, CPU time): the cost
per event of making the neutral event alone, and of encoding it for the
wire by each path side by side: ``convert.event().SerializeToString()``
(protobuf builds and writes the whole message) and ``convert.event_bytes``
(the hub's encoder: protobuf writes the message without its raw fields, and
each raw field's entry, serialized by protobuf once per distinct header
line, is reused); and the Event header (neither payload nor raw fields) by
protobuf and by the encoder generated from the descriptors
(api/descriptor_encoder.py), side by side. The hand-written encoder
(api/wire.py) is gone: see the README's events section for the figures
that decided it. Then the garbage collector's view of a full replay buffer
(50,000 records) before and after its events were encoded: tracked objects
and the time of a full collection.

Figures are printed; nothing is asserted.

The load process does not collect garbage during a run (its pauses would
delay the clients and count as gateway latency); the gateway runs as
``telgate serve`` does (collector.py, scheduling.py).

Usage: .venv/bin/python bench/bench_events.py [--burst 40000] [--paced 5]
       [--rates 5000,20000] [--timeline]
"""

from __future__ import annotations

import argparse
import array
import asyncio
import contextlib
import cProfile
import gc
import multiprocessing as mp
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import grpc
from telgate.v1 import events_pb2, events_pb2_grpc
from telgate_server.api import convert, descriptor_encoder
from telgate_server.api.events import encoded
from telgate_server.app import Gateway
from telgate_server.backends.ami.codec import Message, Parser
from telgate_server.backends.ami.events import fact_builder, reviver, to_event
from telgate_server.collector import PeriodicCollections, tune_gc
from telgate_server.config import load_settings
from telgate_server.events.filter import EventFilter
from telgate_server.events.hub import EventHub
from telgate_server.events.model import Event
from telgate_server.scheduling import HelperThreads
from telgate_server.simulator.channels import event as ami_event
from telgate_server.simulator.server import AmiSimulator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.channel_blocks import channel_block

CALLS = 10
# Concurrent calls in the "10 of 100 calls" scenario.
MANY_CALLS = 100
SUBSCRIBER_QUEUE = 50_000
LAB_USER, LAB_SECRET = "telgate", "telgate-secret"


def memory_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB."""
    values: dict[str, float] = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def tcp_counters() -> dict[str, int]:
    """The host's TCP retransmission counters (/proc/net/snmp, /proc/net/netstat):
    system-wide, so a run's delta is the bench's own on an otherwise quiet host."""
    wanted = {"RetransSegs", "TCPLossProbes", "TCPOFOQueue", "TCPTimeouts"}
    counters: dict[str, int] = {}
    for path in ("/proc/net/snmp", "/proc/net/netstat"):
        with contextlib.suppress(OSError), open(path, encoding="ascii") as f:
            lines = f.read().splitlines()
        for names, values in zip(lines[::2], lines[1::2], strict=False):
            for name, value in zip(names.split()[1:], values.split()[1:], strict=False):
                if name in wanted:
                    counters[name] = int(value)
    return counters


def cpu_seconds() -> float:
    """CPU time of this process so far (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def thread_switches() -> int:
    """Context switches of all this process's threads so far."""
    total = 0
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError), open(f"/proc/self/task/{tid}/status") as f:
            for line in f:
                if "ctxt_switches" in line:  # voluntary and nonvoluntary
                    total += int(line.split()[1])
    return total


def pin(cpu: int) -> str:
    """Pins this process to one CPU when there are several; says what it did."""
    cpus = sorted(range(os.cpu_count() or 1))
    if len(cpus) < 2:
        return "not pinned (one CPU)"
    chosen = cpus[cpu % len(cpus)]
    os.sched_setaffinity(0, {chosen})
    return f"CPU {chosen}"


# ---------------------------------------------------------------- gateway process


def gateway_main(conn: Connection, ami_port: int, profile: str) -> None:
    """The gateway process: serves until told to stop, answers the load's questions."""
    where = pin(0)
    if not profile:
        asyncio.run(_gateway(conn, ami_port, where))
        return
    with cProfile.Profile() as prof:
        asyncio.run(_gateway(conn, ami_port, where))
    prof.dump_stats(profile)


async def _gateway(conn: Connection, ami_port: int, where: str) -> None:
    settings = load_settings(
        None,
        backends={
            "pbx": {
                "kind": "ami",
                "host": "127.0.0.1",
                "port": ami_port,
                "username": LAB_USER,
                "secret": LAB_SECRET,
                "ping_interval": 60.0,
            }
        },
        # Every subscriber of the bench is one anonymous caller (127.0.0.1):
        # the stream bounds go above --idle.
        server={
            "listen": "127.0.0.1:0",
            "max_streams_per_caller": 100_000,
            "max_streams": 100_000,
        },
        # A 40,000-event burst is read faster than the clients (which share
        # a core with the simulator) decode it: a queue that holds a whole
        # burst measures throughput, not the cut-off (the stuck run floods
        # more than this to see that).
        events={"subscriber_queue": SUBSCRIBER_QUEUE},
        log_level="WARNING",
    )
    # When the AMI reader got each event, by sequence (arrivals[s - 1]).
    arrivals = array.array("d")
    publish = EventHub.publish

    def recording_publish(hub: EventHub, event: Event) -> None:
        publish(hub, event)
        arrivals.append(event.received_mono)

    # On the class, before the gateway is made: backends keep the hub's bound
    # publish from then (an override on the instance afterwards saw no event).
    setattr(EventHub, "publish", recording_publish)  # noqa: B010
    gw = Gateway(settings)
    hub = gw.hub
    # Collector pauses, by generation: [count, total seconds, longest].
    pauses = [[0, 0.0, 0.0] for _ in range(3)]
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
            return
        took = time.perf_counter() - gc_started[0]
        p = pauses[info["generation"]]
        p[0] += 1
        p[1] += took
        p[2] = max(p[2], took)

    gc.callbacks.append(on_gc)
    await gw.start()
    tune_gc()  # as `telgate serve` does
    collections = PeriodicCollections(settings.server.gc_interval)
    collections.start()
    helpers = HelperThreads()
    if settings.server.batch_helper_threads:
        helpers.start()
    backend = gw.registry.get("pbx")
    while backend.status.state.value != "up":  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def on_command() -> None:
        command, *args = conn.recv()
        if command == "stats":
            rss, hwm = memory_mb()
            usage = resource.getrusage(resource.RUSAGE_SELF)
            conn.send(
                {
                    "rss": rss,
                    "hwm": hwm,
                    "cpu": usage.ru_utime + usage.ru_stime,
                    "subscribers": hub.subscriber_count,
                    "cut": hub.cut_count,
                    "last_sequence": hub.last_sequence,
                    "buffered": hub.buffered,
                    "gc": [list(p) for p in pauses],
                    "switches": thread_switches(),
                }
            )
        elif command == "gc-reset":
            for p in pauses:
                p[:] = [0, 0.0, 0.0]
        elif command == "arrivals":
            first, last = args
            conn.send(arrivals[first - 1 : last].tolist())
        elif command == "stop" and not done.done():
            done.set_result(None)

    loop.add_reader(conn.fileno(), on_command)
    conn.send({"port": gw.port, "where": where})
    await done
    loop.remove_reader(conn.fileno())
    collections.stop()
    helpers.stop()
    await gw.stop(0)
    conn.send("stopped")


# ---------------------------------------------------------------- load process


class Remote:
    """The load's handle on the gateway process."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def ask(self, *command: Any) -> Any:
        self.conn.send(command)
        return await asyncio.get_running_loop().run_in_executor(None, self.conn.recv)


BLOCKS = [channel_block(c) for c in range(MANY_CALLS)]
LINKED_IDS = [dict(b)["Linkedid"] for b in BLOCKS]


def announce_calls(sim: AmiSimulator) -> None:
    """A Newchannel for every call's channel (the gateway's channel table
    then knows them, as it would the calls of a real PBX)."""
    for block in BLOCKS:
        sim.engine.emit_message(ami_event("Newchannel", "call,all", block), "call")


async def flood(sim: AmiSimulator, count: int, rate: float, calls: int = CALLS) -> float:
    """Writes ``count`` VarSet events to the gateway's socket (event n belongs to
    call n % calls), paced at ``rate`` per second (0: as fast as possible).
    Returns the seconds it took."""
    engine = sim.engine
    started = time.monotonic()
    n = 0
    while n < count:
        if rate > 0:
            due = min(count, int((time.monotonic() - started) * rate) + 1)
        else:
            due = min(count, n + 256)
        while n < due:
            block = BLOCKS[n % calls]
            msg = ami_event(
                "VarSet", "dialplan,all", [*block, ("Variable", "N"), ("Value", str(n))]
            )
            engine.emit_message(msg, "dialplan")
            n += 1
        await asyncio.sleep(0.001 if rate > 0 else 0)
    return time.monotonic() - started


@dataclass
class Client:
    """One subscriber that reads its stream in the background."""

    name: str
    expected: int = 0
    count: int = 0
    done_at: float = 0.0
    seqs: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    error: grpc.aio.AioRpcError | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    call: Any = None
    task: asyncio.Task[None] | None = None

    def start(self, stub: events_pb2_grpc.EventServiceStub, request: Any) -> None:
        self.call = stub.Subscribe(request)
        self.task = asyncio.get_running_loop().create_task(self._run())

    def expect(self, n: int) -> None:
        self.expected, self.count, self.done_at = n, 0, 0.0
        self.seqs, self.times = [], []
        self.finished.clear()

    async def _run(self) -> None:
        try:
            async for response in self.call:
                now = time.monotonic()
                self.ready.set()
                events = response.batch.events
                if not events:
                    continue
                seqs = [e.position.sequence for e in events]
                self.seqs.extend(seqs)
                self.times.extend([now] * len(seqs))
                self.count += len(seqs)
                if self.expected and self.count >= self.expected and not self.finished.is_set():
                    self.done_at = now
                    self.finished.set()
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                self.error = exc
        finally:
            self.ready.set()
            self.finished.set()

    async def close(self) -> None:
        if self.call is not None:
            self.call.cancel()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


def gc_summary(pauses: list[list[float]]) -> str:
    """The collector's pauses of one run: per generation, count / longest ms."""
    return " ".join(
        f"g{g}:{int(n)}/{longest * 1000:.1f}ms" for g, (n, _, longest) in enumerate(pauses)
    )


@dataclass
class Scenario:
    name: str
    filters: list[events_pb2.EventFilter]
    # Events client i receives out of n events flooded.
    share: Callable[[int, int], int]
    # Calls the flood spreads its events over (event n belongs to call n % calls).
    calls: int = CALLS


async def run_scenario(
    scenario: Scenario,
    sim: AmiSimulator,
    remote: Remote,
    ch: grpc.aio.Channel,
    *,
    burst: int,
    paced_seconds: float,
    rates: list[float],
    timeline: bool,
) -> None:
    stub = events_pb2_grpc.EventServiceStub(ch)
    clients = [Client(f"{scenario.name}#{i}") for i in range(len(scenario.filters))]
    for client, f in zip(clients, scenario.filters, strict=True):
        client.start(stub, events_pb2.SubscribeRequest(filter=f))
    await asyncio.gather(*(c.ready.wait() for c in clients))

    runs = [("burst", burst, 0.0)]
    runs += [(f"paced {r:,.0f}/s", int(r * paced_seconds), r) for r in rates]
    for label, count, pace in runs:
        before = await quiet(remote)
        for i, client in enumerate(clients):
            client.expect(scenario.share(i, count))
        remote.conn.send(("gc-reset",))
        first_seq = before["last_sequence"] + 1
        # The load process does not collect garbage during a run: its pauses
        # would delay the clients' reads and count as gateway latency.
        gc.collect()
        gc.disable()
        load_cpu, tcp = cpu_seconds(), tcp_counters()
        started = time.monotonic()
        write_time = await flood(sim, count, pace, scenario.calls)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*(c.finished.wait() for c in clients)), timeout=60 + count / 2000
            )
        load_cpu = cpu_seconds() - load_cpu
        tcp = {k: v - tcp.get(k, 0) for k, v in tcp_counters().items()}
        gc.enable()
        after = await remote.ask("stats")
        errors = [c for c in clients if c.error is not None or c.count < c.expected]
        end = max((c.done_at or time.monotonic() for c in clients), default=started)
        elapsed = max(end - started, 1e-9)
        cpu = after["cpu"] - before["cpu"]
        delivered = sum(c.count for c in clients)
        arrivals = await remote.ask("arrivals", first_seq, after["last_sequence"])
        latencies: list[float] = []
        # The worst latency of the events that arrived in each 100 ms.
        worst: dict[int, float] = {}
        t0 = arrivals[0] if arrivals else 0.0
        for c in clients:
            for seq, t in zip(c.seqs, c.times, strict=True):
                if first_seq <= seq <= after["last_sequence"]:
                    arrived = arrivals[seq - first_seq]
                    latency = (t - arrived) * 1000
                    latencies.append(latency)
                    slot = int((arrived - t0) * 10)
                    worst[slot] = max(worst.get(slot, 0.0), latency)
        latencies.sort()
        print(
            f"  {scenario.name:<14} {label:<14} {count:>7,} ev  "
            f"{count / elapsed:>9,.0f} ev/s  (sim wrote at {count / write_time:>9,.0f}/s)  "
            f"deliveries {delivered:>8,}  gateway CPU {cpu / count * 1e6:6.1f} us/ev "
            f"= {count / cpu if cpu else float('inf'):>9,.0f} ev/s per core  "
            f"latency p50 {percentile(latencies, 50):6.2f} ms  "
            f"p99 {percentile(latencies, 99):7.2f} ms  "
            f"switches/ev {(after['switches'] - before['switches']) / count:4.2f}  "
            f"GC {gc_summary(after['gc'])}  load CPU {load_cpu / elapsed * 100:3.0f}%  "
            f"TCP retrans {tcp.get('RetransSegs', 0)} (RTO {tcp.get('TCPTimeouts', 0)}, "
            f"probes {tcp.get('TCPLossProbes', 0)}, out of order {tcp.get('TCPOFOQueue', 0)})"
            + (f"  !! {len(errors)} client(s) short or failed: {errors[0].error}" if errors else "")
        )
        if timeline and pace:
            print(
                "    worst latency (ms) per 100 ms:",
                " ".join(f"{worst[k]:.0f}" for k in sorted(worst)),
            )
        if errors:
            print(f"  {scenario.name:<14} (later runs skipped: its clients were cut off)")
            break
        await asyncio.sleep(0.2)
    for client in clients:
        await client.close()


async def memory_idle(remote: Remote, port: int, n: int) -> None:
    base = await remote.ask("stats")
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for _ in range(10)]
    clients = [Client(f"idle#{i}") for i in range(n)]
    for i, client in enumerate(clients):
        client.start(
            events_pb2_grpc.EventServiceStub(channels[i % 10]), events_pb2.SubscribeRequest()
        )
    await asyncio.gather(*(c.ready.wait() for c in clients))
    await asyncio.sleep(0.5)
    loaded = await remote.ask("stats")
    print(
        f"  {n:,} idle subscribers: gateway RSS {base['rss']:.1f} MB -> {loaded['rss']:.1f} MB "
        f"(+{(loaded['rss'] - base['rss']) * 1024 / n:.1f} kB per subscriber; "
        f"{loaded['subscribers']:,} in the hub)"
    )
    for client in clients:
        await client.close()
    for ch in channels:
        await ch.close()


async def quiet(remote: Remote) -> dict[str, Any]:
    """The gateway's stats once it has published nothing new for 0.3 s (a run
    whose clients were cut off may leave it a backlog to work through)."""
    stats = await remote.ask("stats")
    while True:
        await asyncio.sleep(0.3)
        again = await remote.ask("stats")
        if again["last_sequence"] == stats["last_sequence"]:
            return dict(again)
        stats = again


async def memory_stuck(sim: AmiSimulator, remote: Remote, port: int, count: int) -> None:
    before = await quiet(remote)
    stuck_ch = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    ch = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    stuck = events_pb2_grpc.EventServiceStub(stuck_ch).Subscribe(events_pb2.SubscribeRequest())
    stub = events_pb2_grpc.EventServiceStub(ch)
    clients = [Client(f"linked#{i}") for i in range(CALLS)]
    for client, linked in zip(clients, LINKED_IDS[:CALLS], strict=True):
        client.start(
            stub,
            events_pb2.SubscribeRequest(filter=events_pb2.EventFilter(linked_ids=[linked])),
        )
        client.expect(count // CALLS)
    await asyncio.gather(*(c.ready.wait() for c in clients))
    await asyncio.sleep(0.2)
    peak = 0.0
    flooding = asyncio.ensure_future(flood(sim, count, 0.0))
    finishing = asyncio.gather(flooding, *(c.finished.wait() for c in clients))
    async with asyncio.timeout(120):
        while not finishing.done():
            peak = max(peak, (await remote.ask("stats"))["rss"])
            await asyncio.sleep(0.1)
    during = await remote.ask("stats")
    ok = all(c.count == c.expected and c.error is None for c in clients)
    # The stuck client reads now: what it was sent, then the status.
    received, last = 0, 0
    code = "OK"
    try:
        async for response in stuck:
            received += len(response.batch.events)
            if response.batch.events:
                last = response.batch.events[-1].position.sequence
    except grpc.aio.AioRpcError as exc:
        code = f"{exc.code().name} ({exc.details()})"
    after = await remote.ask("stats")
    print(
        f"  1 stuck + {CALLS} linked-id subscribers, {count:,} events: gateway RSS "
        f"{before['rss']:.1f} MB -> peak sampled {peak:.1f} MB -> {after['rss']:.1f} MB after "
        f"(VmHWM {after['hwm']:.1f} MB); "
        f"replay buffer {during['buffered'][0]:,} events ~{during['buffered'][1] / 2**20:.0f} MB "
        f"(est.); others got everything: {ok}; stuck cut: {after['cut'] - before['cut']} "
        f"(it had received {received:,} events up to sequence {last:,}, then {code})"
    )
    for client in clients:
        await client.close()
    await stuck_ch.close()
    await ch.close()


def varset_messages(count: int) -> list[Message]:
    """The flood's VarSet events as the gateway's codec frames them."""
    wire = b"".join(
        ami_event(
            "VarSet", "dialplan,all", [*BLOCKS[n % CALLS], ("Variable", "N"), ("Value", str(n))]
        ).encode()
        for n in range(count)
    )
    framed = Parser().feed(b"Asterisk Call Manager/11.0.0\r\n" + wire)
    return [m for m in framed if isinstance(m, Message)]


def per_event_us(count: int, run: Callable[[], object]) -> float:
    """CPU microseconds per event of ``run`` over ``count`` events (best of 3)."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        run()
        best = min(best, time.process_time() - started)
    return best / count * 1e6


def encoding_costs(count: int) -> None:
    msgs = varset_messages(count)
    # The calls' channels as known to the gateway (see announce_calls).
    first_seen = {uid: 1732000000.0 for uid in LINKED_IDS}
    build = fact_builder(first_seen.get)
    revive = reviver(build)

    def events() -> list[Event]:
        out = [to_event("pbx", m, build, 0.0, revive) for m in msgs]
        for n, e in enumerate(out, 1):
            e.sequence, e.epoch = n, "bench"
        return out

    made = per_event_us(count, events)
    batches = [events() for _ in range(6)]
    protobuf = per_event_us(
        count, lambda: [convert.event(e).SerializeToString() for e in batches.pop()]
    )
    hub_path = per_event_us(count, lambda: [convert.event_bytes(e) for e in batches.pop()])
    print(
        f"  {count:,} VarSet events, CPU per event: neutral event {made:5.1f} us; "
        f"encoding: protobuf whole message {protobuf:5.1f} us | "
        f"protobuf + cached raw field entries (the hub's) {hub_path:5.1f} us"
    )
    # The Event header (neither payload nor raw fields) by each encoder: the
    # figure that kept protobuf (README, events section).
    same = events()
    header_pb = per_event_us(
        count,
        lambda: [convert.event(e, payload=False, fields=False).SerializeToString() for e in same],
    )
    header_gen = per_event_us(count, lambda: [descriptor_encoder.event_header(e) for e in same])
    differ = sum(
        descriptor_encoder.event_header(e)
        != convert.event(e, payload=False, fields=False).SerializeToString()
        for e in same
    )
    print(
        f"  Event header, CPU per event: protobuf {header_pb:5.2f} us | "
        f"encoder generated from the descriptors {header_gen:5.2f} us"
        f"{'' if not differ else f' (!! {differ:,} differ from protobuf)'}"
    )
    # The replay buffer as the collector sees it; what exists before is
    # frozen, as in the gateway (collector.tune_gc).
    batches.clear()
    gc.collect()
    gc.freeze()
    base = len(gc.get_objects())
    hub = EventHub(encoded, replay_size=count)
    for e in events():
        hub.publish(e)
    # Two passes: a tuple leaves the collector's lists once a pass has seen
    # only untracked things in it (its inner tuples leave on the first).
    gc.collect()
    gc.collect()
    pending = len(gc.get_objects()) - base
    started = time.process_time()
    gc.collect()
    pending_ms = (time.process_time() - started) * 1000
    sub, _ = hub.subscribe(EventFilter(), after=0)
    while sub.take(10_000):
        pass
    gc.collect()
    gc.collect()
    done = len(gc.get_objects()) - base
    started = time.process_time()
    gc.collect()
    done_ms = (time.process_time() - started) * 1000
    print(
        f"  replay buffer of {count:,}: "
        f"{pending / count:.2f} tracked objects per record before encoding (full collection "
        f"{pending_ms:.1f} ms), {done / count:.2f} once encoded ({done_ms:.1f} ms)"
    )
    del hub, sub
    gc.unfreeze()
    gc.collect()


async def load_main(args: argparse.Namespace) -> None:
    where = pin(1)
    if args.encoding:
        print("encoding (load process, before the gateway starts):")
        encoding_costs(args.encoding)
    sim = AmiSimulator(time_scale=1.0)
    await sim.start("127.0.0.1", 0)
    ctx = mp.get_context("spawn")
    ours, theirs = ctx.Pipe()
    proc = ctx.Process(target=gateway_main, args=(theirs, sim.port, args.profile), daemon=True)
    proc.start()
    remote = Remote(ours)
    hello = await asyncio.get_running_loop().run_in_executor(None, ours.recv)
    port = hello["port"]
    print(
        f"bench_events: Python {platform.python_version()}, grpcio {grpc.__version__}, "
        f"{os.cpu_count()} CPUs; gateway {hello['where']}, simulator + clients {where}"
    )
    announce_calls(sim)
    firehose = events_pb2.EventFilter()
    scenarios = [
        Scenario("firehose x1", [firehose], lambda i, n: n),
        Scenario(
            "linked-id x10",
            [events_pb2.EventFilter(linked_ids=[x]) for x in LINKED_IDS[:CALLS]],
            lambda i, n: n // CALLS + (1 if i < n % CALLS else 0),
        ),
        Scenario(
            "10 of 100 calls",
            [events_pb2.EventFilter(linked_ids=[x]) for x in LINKED_IDS[:CALLS]],
            lambda i, n: n // MANY_CALLS + (1 if i < n % MANY_CALLS else 0),
            calls=MANY_CALLS,
        ),
        Scenario("all x10", [events_pb2.EventFilter(raw_names=["VarSet"])] * 10, lambda i, n: n),
    ]
    if not args.no_memory:
        print("memory (gateway process, fresh: empty replay buffer):")
        await memory_idle(remote, port, args.idle)
    print("ingest (simulator socket -> codec -> hub -> gRPC -> client):")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
        for scenario in scenarios:
            if args.only not in scenario.name:
                continue
            await run_scenario(
                scenario,
                sim,
                remote,
                ch,
                burst=args.burst,
                paced_seconds=args.paced,
                rates=[float(r) for r in args.rates.split(",")],
                timeline=args.timeline,
            )
    if not args.no_memory:
        print("memory (gateway process, after the ingest runs: replay buffer full):")
        await memory_stuck(sim, remote, port, args.stuck)
    await remote.ask("stop")
    proc.join(10)
    await sim.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--burst", type=int, default=40_000, help=f"events per burst run (< {SUBSCRIBER_QUEUE:,})"
    )
    parser.add_argument("--paced", type=float, default=5.0, help="seconds per paced run")
    parser.add_argument("--rates", default="5000,20000", help="events/s of the paced runs")
    parser.add_argument("--idle", type=int, default=1_000, help="idle subscribers")
    parser.add_argument(
        "--stuck", type=int, default=2 * SUBSCRIBER_QUEUE, help="events in the stuck run"
    )
    parser.add_argument("--only", default="", help="run only the scenarios whose name has this")
    parser.add_argument(
        "--encoding", type=int, default=50_000, help="events of the encoding runs (0: none)"
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the memory runs")
    parser.add_argument(
        "--timeline", action="store_true", help="print each paced run's worst latency per 100 ms"
    )
    parser.add_argument("--profile", default="", help="cProfile the gateway into this file")
    asyncio.run(load_main(parser.parse_args()))


if __name__ == "__main__":
    main()
