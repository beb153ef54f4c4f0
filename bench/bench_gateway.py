"""The goal shape, end to end: a real Asterisk capture replayed through the
real gateway to 1 firehose + 10 filtered subscribers at once.

Four kinds of process, so that each figure is the gateway's own:

- the **PBX** (a child process): a fake Asterisk on a real TCP socket that
  speaks AMI as the captures show it (banner, MD5 challenge or plain Login,
  Ping, empty answers to the list actions a gateway reads its state with) and
  writes the events of every capture in ``../shared/fixtures/ami/*.recv``
  (read at run time; the unsolicited events only: no action answers or list
  items, no FullyBooted), in capture order, looped. Each loop rewrites the
  ids Asterisk makes per run (Uniqueid/Linkedid ``epoch.counter``, the
  channel counter of ``Local/201@phones-0000000a;1``, bridge UUIDs) so that
  every call of every loop is a new call, and appends one header to every
  event, ``BenchId: <n>`` (n counts the events written since the start), so
  that a client can tell which write an event came from;
- the **gateway**: ``telgate serve --config <file>`` (the installed command,
  a settings file and environment variables only), pinned to CPU 0 when the
  machine has more than one; its CPU time is read from ``/proc/<pid>/stat``
  before and after each run;
- the **clients**: one process holds the firehose subscriber (empty
  filter), another the 10 filtered ones (``--client-procs`` spreads them
  further), each subscriber on its own gRPC channel (its own TCP connection,
  as separate applications would be); pinned with the PBX to CPU 1;
- this process, which drives the others and prints.

Runs: a burst (the PBX writes as fast as the gateway reads), then paced runs
at ``--rates`` events/s (a write every ~1 ms of what is due by then).
Printed per run:

- ``ev/s``: events the firehose received / time from the PBX's first write
  to the firehose's last receipt (paced: about the rate, when the gateway
  keeps up);
- ``gw CPU``: gateway CPU time (all threads) per event written, in us, and
  the gateway's share of one core during the run;
- latency p50 / p99 / max: from the PBX's ``transport.write`` of the event
  (``time.monotonic()`` in the PBX process, kept by BenchId) to the moment
  the client's stream yielded the response that carried it
  (``time.monotonic()`` in the client process; CLOCK_MONOTONIC is one clock
  for all the processes of a Linux host); for the firehose, and over the
  deliveries to all 11 subscribers;
- each subscriber's count; a filtered subscriber's count is checked against
  the firehose's events that its filter selects (by event name, the channel,
  unique id and linked id the gateway put on each event), and a run where a
  subscriber got fewer, more, duplicate or no events is flagged ``!!``;
- ``load CPU``: the CPU share of one core used by the PBX process and each
  client process during the run: near 100%, the load (not the gateway) sets
  the pace.

In a burst the latency is mostly the queue in front of the gateway (the PBX
writes everything at once); it is printed for completeness. With ``py-spy``
installed (``make venv`` installs the pinned one from the bench extras), a
last burst runs under ``py-spy record`` attached to the gateway (sampling,
not counted in the figures above), and the functions where the gateway's
event loop spends its busy time are printed by own time (the leaf frame of
each sample; idle samples are left out).

Nothing is asserted. Usage:
  .venv/bin/python bench/bench_gateway.py [--burst 60000] [--rates 20000,5000]
      [--paced 4] [--profile-burst 40000] [--client-procs 2] [--no-pin]
"""

from __future__ import annotations

import argparse
import array
import asyncio
import contextlib
import hashlib
import multiprocessing as mp
import os
import platform
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import grpc
from telgate.v1 import backends_pb2, backends_pb2_grpc, events_pb2, events_pb2_grpc

CAPTURES = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures" / "ami"
BANNER = b"Asterisk Call Manager/11.0.0\r\n"
USER = "bench"
MARK = "BenchId"
# How far apart the ids of two loops are (more than any capture uses).
UID_STRIDE = 100_000
CHAN_STRIDE = 0x10000

# Ids Asterisk makes per run: Uniqueid / Linkedid (epoch.counter), the channel
# counter after the `-` of `Local/201@phones-0000000a;1`, bridge UUIDs.
UNIQUE_ID = re.compile(r"\b(1\d{9})\.(\d+)\b")
CHANNEL_COUNTER = re.compile(r"(?<=-)([0-9a-f]{8})(?![0-9a-f])")
BRIDGE_UUID = re.compile(r"\b([0-9a-f]{8})(-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b")
SEPARATOR = "\x00"
# What a filter looks at: an event's name, channel, unique id, linked id.
Key = tuple[str, str, str, str]


# ---------------------------------------------------------------- the capture


@dataclass
class Capture:
    """The unsolicited events of every capture, in order, as AMI text without
    the blank line that ends each (latin-1: one character per byte)."""

    events: list[str]
    files: int
    names: Counter[str]

    @classmethod
    def load(cls, folder: Path) -> Capture:
        """Reads every ``*.recv`` transcript in ``folder``."""
        events: list[str] = []
        names: Counter[str] = Counter()
        files = sorted(folder.glob("*.recv"))
        for path in files:
            text = path.read_bytes().decode("latin-1")
            _, _, body = text.partition("\r\n")  # the banner
            for message in body.split("\r\n\r\n"):
                if not message.startswith("Event: "):
                    continue  # action answers (Response: ...) and the trailing rest
                name = message[7 : message.find("\r\n")] if "\r\n" in message else message[7:]
                # Items of list actions answer one action (they carry its ActionID);
                # an async Originate's result is an event like any other.
                if "\r\nActionID: " in message and name != "OriginateResponse":
                    continue
                if name == "FullyBooted":  # a login's, not a call's
                    continue
                events.append(message + "\r\n")
                names[name] += 1
        if not events:
            raise SystemExit(f"bench_gateway: no AMI events in {folder}/*.recv")
        return cls(events, len(files), names)

    def loop_text(self, loop: int) -> list[str]:
        """The events of one loop, their ids moved to that loop's own."""
        text = SEPARATOR.join(self.events)
        if loop:
            text = UNIQUE_ID.sub(lambda m: f"{m[1]}.{int(m[2]) + loop * UID_STRIDE}", text)
            text = CHANNEL_COUNTER.sub(lambda m: f"{int(m[1], 16) + loop * CHAN_STRIDE:08x}", text)
            text = BRIDGE_UUID.sub(lambda m: f"{(int(m[1], 16) + loop) % 2**32:08x}{m[2]}", text)
        return text.split(SEPARATOR)

    def linked_ids(self) -> Counter[str]:
        """Events per Linkedid (loop 0)."""
        counts: Counter[str] = Counter()
        for event in self.events:
            start = event.find("\r\nLinkedid: ")
            if start >= 0:
                end = event.index("\r\n", start + 2)
                counts[event[start + 12 : end]] += 1
        return counts


def moved_id(unique_id: str, loop: int) -> str:
    """``unique_id`` (epoch.counter) as loop ``loop`` writes it."""
    epoch, _, counter = unique_id.partition(".")
    return f"{epoch}.{int(counter) + loop * UID_STRIDE}"


def render(capture: Capture, first: int, count: int) -> list[bytes]:
    """Events ``first`` .. ``first + count - 1`` of the endless replay, as bytes."""
    size = len(capture.events)
    out: list[bytes] = []
    loop, texts = -1, capture.events
    for n in range(first, first + count):
        if n // size != loop:
            loop = n // size
            texts = capture.loop_text(loop)
        out.append(f"{texts[n % size]}{MARK}: {n}\r\n\r\n".encode("latin-1"))
    return out


# ---------------------------------------------------------------- the PBX process


def parse_message(data: bytes) -> list[tuple[str, str]]:
    """One AMI message (headers, CRLF separated) as (name, value) pairs."""
    headers = []
    for line in data.decode("latin-1").split("\r\n"):
        name, sep, value = line.partition(":")
        if sep:
            headers.append((name.strip(), value.strip()))
    return headers


def answer(headers: list[tuple[str, str]], secret: str, challenge: str) -> bytes:
    """What Asterisk answers to one action (the shapes the captures show)."""
    values = {k.lower(): v for k, v in headers}
    action = values.get("action", "")
    aid = f"ActionID: {values['actionid']}\r\n" if "actionid" in values else ""
    lower = action.lower()
    if lower == "challenge":
        return f"Response: Success\r\n{aid}Challenge: {challenge}\r\n\r\n".encode()
    if lower == "login":
        if values.get("authtype", "").lower() == "md5":
            good = hashlib.md5((challenge + secret).encode(), usedforsecurity=False).hexdigest()
            ok = values.get("username") == USER and values.get("key") == good
        else:
            ok = values.get("username") == USER and values.get("secret") == secret
        if not ok:
            return f"Response: Error\r\n{aid}Message: Authentication failed\r\n\r\n".encode()
        return (
            f"Response: Success\r\n{aid}Message: Authentication accepted\r\n\r\n"
            "Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 76\r\nLastReload: 76\r\n"
            "Status: Fully Booted\r\n\r\n"
        ).encode()
    if lower == "ping":
        return (
            f"Response: Success\r\n{aid}Ping: Pong\r\nTimestamp: {time.time():.6f}\r\n\r\n"
        ).encode()
    if lower in ("coreshowchannels", "status", "queuestatus", "queuesummary", "agents"):
        # An idle PBX: the list is empty.
        complete = {"coreshowchannels": "CoreShowChannelsComplete"}.get(lower, f"{action}Complete")
        return (
            f"Response: Success\r\n{aid}EventList: start\r\nMessage: Channels will follow\r\n\r\n"
            f"Event: {complete}\r\n{aid}EventList: Complete\r\nListItems: 0\r\n\r\n"
        ).encode()
    if lower == "events":
        return f"Response: Success\r\n{aid}Events: On\r\n\r\n".encode()
    if lower == "logoff":
        return f"Response: Goodbye\r\n{aid}Message: Thanks for all the fish.\r\n\r\n".encode()
    return f"Response: Error\r\n{aid}Message: Invalid/unknown command\r\n\r\n".encode()


class FakePbx:
    """The AMI side: one session at a time (the gateway's), events written on command."""

    def __init__(self, capture: Capture, secret: str) -> None:
        self.capture = capture
        self.secret = secret
        self.writer: asyncio.StreamWriter | None = None
        self.logged_in = asyncio.Event()
        self.actions: Counter[str] = Counter()
        self.events: list[bytes] = []
        self.first = 0

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        writer.write(BANNER)
        challenge = str(random.randrange(10**8, 10**9))
        try:
            while True:
                headers = parse_message((await reader.readuntil(b"\r\n\r\n"))[:-4])
                action = next((v for k, v in headers if k.lower() == "action"), "")
                self.actions[action] += 1
                reply = answer(headers, self.secret, challenge)
                writer.write(reply)
                if reply.startswith(b"Response: Success") and action.lower() == "login":
                    self.writer = writer
                    self.logged_in.set()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if self.writer is writer:
                self.writer = None
                self.logged_in.clear()
            writer.close()

    def prepare(self, first: int, count: int) -> int:
        """Renders the events of the next run; returns their size in bytes."""
        self.first = first
        self.events = render(self.capture, first, count)
        return sum(len(e) for e in self.events)

    async def flood(self, rate: float) -> tuple[bytes, float]:
        """Writes the prepared events at ``rate`` per second (0: as fast as the
        gateway reads). Returns the write time of each (array of doubles) and
        the seconds the writing took."""
        await asyncio.wait_for(self.logged_in.wait(), 10)
        writer = self.writer
        assert writer is not None
        events, count = self.events, len(self.events)
        stamps = array.array("d", bytes(8 * count))
        clock, write = time.monotonic, writer.write
        started = clock()
        n = 0
        while n < count:
            if rate > 0:
                due = min(count, int((clock() - started) * rate) + 1)
            else:
                due = min(count, n + 256)
            if due > n:
                data = b"".join(events[n:due])
                now = clock()
                for i in range(n, due):
                    stamps[i] = now
                write(data)
                n = due
            if rate > 0:
                # Paced: never wait for the gateway; what it does not read
                # waits in this buffer, as in Asterisk's, and counts as latency.
                await asyncio.sleep(0.0005)
            else:
                await writer.drain()
        await writer.drain()
        return stamps.tobytes(), clock() - started


def pbx_main(conn: Connection, folder: str, secret: str, cpu: int | None) -> None:
    """The PBX process: serves AMI, floods on command."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    asyncio.run(_pbx(conn, Path(folder), secret))


async def _pbx(conn: Connection, folder: Path, secret: str) -> None:
    pbx = FakePbx(Capture.load(folder), secret)
    server = await asyncio.start_server(pbx.session, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    tasks: set[asyncio.Task[None]] = set()

    async def flood(rate: float) -> None:
        cpu = cpu_seconds()
        stamps, took = await pbx.flood(rate)
        conn.send({"stamps": stamps, "seconds": took, "cpu": cpu_seconds() - cpu})

    def on_command() -> None:
        command, *args = conn.recv()
        if command == "prepare":
            conn.send(pbx.prepare(*args))
        elif command == "flood":
            task = loop.create_task(flood(*args))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        elif command == "actions":
            conn.send(dict(pbx.actions))
        elif command == "stop" and not done.done():
            done.set_result(None)

    loop.add_reader(conn.fileno(), on_command)
    conn.send(port)
    await done
    server.close()
    conn.send("stopped")


# ---------------------------------------------------------------- client processes


@dataclass
class Subscriber:
    """One subscription, read in the background: the BenchId and receipt time
    of every event (and, for the firehose, what a filter looks at)."""

    name: str
    keep_keys: bool
    ids: array.array[int] = field(default_factory=lambda: array.array("q"))
    times: array.array[float] = field(default_factory=lambda: array.array("d"))
    keys: list[Key] = field(default_factory=list)
    unmarked: Counter[str] = field(default_factory=Counter)
    error: str = ""
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    channel: grpc.aio.Channel | None = None
    task: asyncio.Task[None] | None = None

    async def run(self, call: Any) -> None:
        ids, times, keys = self.ids, self.times, self.keys
        clock = time.monotonic
        try:
            async for response in call:
                now = clock()
                self.ready.set()
                for event in response.events:
                    fields = event.fields
                    mark = -1
                    # The PBX wrote BenchId last; look there first.
                    if fields and fields[len(fields) - 1].name == MARK:
                        mark = int(fields[len(fields) - 1].value)
                    else:
                        for f in fields:
                            if f.name == MARK:
                                mark = int(f.value)
                                break
                    if mark < 0:
                        self.unmarked[event.name] += 1
                        continue
                    ids.append(mark)
                    times.append(now)
                    if self.keep_keys:
                        keys.append((event.name, event.channel, event.unique_id, event.linked_id))
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                self.error = f"{exc.code().name}: {exc.details()}"
        finally:
            self.ready.set()


def client_main(conn: Connection, port: int, cpu: int | None) -> None:
    """A client process: subscribes on command, reports what it received."""
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    asyncio.run(_clients(conn, port))


async def _clients(conn: Connection, port: int) -> None:
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    subs: list[Subscriber] = []
    pending: set[asyncio.Task[None]] = set()

    async def subscribe(specs: list[tuple[str, bytes, bool]]) -> None:
        for name, filter_bytes, keep in specs:
            sub = Subscriber(name, keep)
            # Its own TCP connection, as a separate application's would be
            # (channels of one process share connections unless told not to).
            sub.channel = grpc.aio.insecure_channel(
                f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)]
            )
            stub = events_pb2_grpc.EventServiceStub(sub.channel)
            request = events_pb2.SubscribeRequest(
                filter=events_pb2.EventFilter.FromString(filter_bytes)
            )
            sub.task = loop.create_task(sub.run(stub.Subscribe(request)))
            subs.append(sub)
        # The first message of a stream says the subscription is live.
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in subs)), 30)
        conn.send({s.name: s.error for s in subs})

    async def close() -> None:
        for sub in subs:
            if sub.task is not None:
                sub.task.cancel()
            if sub.channel is not None:
                await sub.channel.close()
        await asyncio.gather(*(s.task for s in subs if s.task), return_exceptions=True)
        subs.clear()
        conn.send("closed")

    def spawn(coro: Any) -> None:
        task = loop.create_task(coro)
        pending.add(task)
        task.add_done_callback(pending.discard)

    def on_command() -> None:
        command, *args = conn.recv()
        if command == "subscribe":
            spawn(subscribe(*args))
        elif command == "progress":
            conn.send(
                {s.name: (len(s.ids), s.error, s.times[-1] if s.times else 0.0) for s in subs}
            )
        elif command == "cpu":
            conn.send(cpu_seconds())
        elif command == "collect":
            conn.send(
                [
                    {
                        "name": s.name,
                        "ids": s.ids.tobytes(),
                        "times": s.times.tobytes(),
                        "keys": s.keys,
                        "unmarked": s.unmarked,
                        "error": s.error,
                    }
                    for s in subs
                ]
            )
        elif command == "close":
            spawn(close())
        elif command == "stop" and not done.done():
            done.set_result(None)

    loop.add_reader(conn.fileno(), on_command)
    conn.send("up")
    await done


# ---------------------------------------------------------------- the driver


def cpu_seconds() -> float:
    """CPU time of this process so far (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    """CPU time (all threads) of process ``pid`` so far, from /proc."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        # Fields after the command name (which may hold spaces): utime is 14th.
        rest = f.read().rpartition(")")[2].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def cpu_busy() -> dict[int, tuple[float, float, float]]:
    """Per CPU: (busy, steal, total) seconds so far, from /proc/stat (every
    process's; steal: time the hypervisor gave this virtual CPU to others)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    with open("/proc/stat", encoding="ascii") as f:
        for line in f:
            name, *values = line.split()
            if name.startswith("cpu") and name != "cpu":
                ticks = [int(v) for v in values[:8]]
                idle, steal, total = ticks[3] + ticks[4], ticks[7], sum(ticks)
                out[int(name[3:])] = ((total - idle - steal) / tick, steal / tick, total / tick)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def ask(conn: Connection, *command: Any, timeout: float = 120.0) -> Any:
    conn.send(command)
    if not conn.poll(timeout):
        raise SystemExit(f"bench_gateway: no answer to {command[0]!r} within {timeout:.0f} s")
    return conn.recv()


@dataclass
class Filter:
    """One filtered subscriber: its filter, given the linked ids of the run's calls."""

    name: str
    make: Callable[[list[str]], events_pb2.EventFilter]


def matcher(f: events_pb2.EventFilter) -> Callable[[Key], bool]:
    """The server's filter rules (AND across lists, OR within one; a channel
    ending in `*` is a prefix) as a test on the firehose's keys: what a
    filtered subscriber should get. Only the lists the bench uses."""
    names, ids, linked = frozenset(f.raw_names), frozenset(f.unique_ids), frozenset(f.linked_ids)
    exact = frozenset(c for c in f.channels if not c.endswith("*"))
    prefixes = tuple(c[:-1] for c in f.channels if c.endswith("*"))
    assert not (f.backends or f.extensions or f.types), "not modelled here"

    def selects(key: Key) -> bool:
        name, channel, unique_id, linked_id = key
        if names and name not in names:
            return False
        if (exact or prefixes) and not (
            channel in exact or (bool(channel) and channel.startswith(prefixes))
        ):
            return False
        if ids and unique_id not in ids:
            return False
        return not linked or linked_id in linked

    return selects


QUEUE_EVENTS = [
    "QueueMemberStatus",
    "QueueMemberPause",
    "QueueMemberAdded",
    "QueueMemberRemoved",
    "QueueCallerJoin",
    "QueueCallerLeave",
    "AgentCalled",
    "AgentConnect",
    "AgentComplete",
]
EF = events_pb2.EventFilter
# What a CRM, a wallboard, billing and supervisors would ask for.
FILTERS = [
    Filter("agent 201", lambda _: EF(channels=["Local/201@phones-*"])),
    Filter("agent 202", lambda _: EF(channels=["Local/202@phones-*"])),
    Filter("customers 29x", lambda _: EF(channels=["Local/29*"])),
    Filter("channel life", lambda _: EF(raw_names=["Newchannel", "Newstate", "Hangup"])),
    Filter(
        "dial+bridge",
        lambda _: EF(raw_names=["DialBegin", "DialEnd", "BridgeEnter", "BridgeLeave"]),
    ),
    Filter("queue board", lambda _: EF(raw_names=QUEUE_EVENTS)),
    Filter("CDRs", lambda _: EF(raw_names=["Cdr"])),
    Filter("203 hangups", lambda _: EF(channels=["Local/203@phones-*"], raw_names=["Hangup"])),
    # A supervisor following one call (in every loop of the run: the same call
    # under its loop's ids): the busiest call of the capture, and a middling one.
    Filter("busy call", lambda ids: EF(linked_ids=ids[: len(ids) // 2])),
    Filter("median call", lambda ids: EF(linked_ids=ids[len(ids) // 2 :])),
]


@dataclass
class Procs:
    pbx: Connection
    gateway: subprocess.Popen[bytes]
    clients: list[Connection]
    # Which client process holds each subscriber, by name.
    where: dict[str, int]


def gateway_config(folder: Path, pbx_port: int, grpc_port: int, queue: int) -> Path:
    path = folder / "telgate.toml"
    path.write_text(
        f"""# bench_gateway: the gateway in front of the fake PBX
log_level = "WARNING"
default_backend = "pbx"

[server]
listen = "127.0.0.1:{grpc_port}"

[events]
# A whole burst fits in a subscriber's queue: the burst measures throughput,
# not the cut-off of a slow subscriber.
subscriber_queue = {queue}

[backends.pbx]
kind = "ami"
host = "127.0.0.1"
port = {pbx_port}
username = "{USER}"
auth = "md5"
""",
        encoding="utf-8",
    )
    return path


def telgate_command() -> list[str]:
    """The installed `telgate` command of this venv (else the module)."""
    script = Path(sys.executable).with_name("telgate")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "telgate_server.cli"]


def wait_link_up(port: int, gateway: subprocess.Popen[bytes]) -> None:
    """Polls ListBackends until backend `pbx` is up (at most 30 s)."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        stub = backends_pb2_grpc.BackendServiceStub(ch)
        state = "not answering"
        for _ in range(300):
            if gateway.poll() is not None:
                raise SystemExit(f"bench_gateway: the gateway exited ({gateway.returncode})")
            with contextlib.suppress(grpc.RpcError):
                reply = stub.ListBackends(backends_pb2.ListBackendsRequest(), timeout=2)
                link = {b.name: b for b in reply.backends}.get("pbx")
                if link is not None:
                    state = f"{link.link_state} ({link.last_error})"
                    if link.link_state == backends_pb2.LINK_STATE_UP:
                        return
            time.sleep(0.1)
    raise SystemExit(f"bench_gateway: the gateway's link to the PBX did not come up: {state}")


def run_ids(capture: Capture, chosen: list[str], first: int, count: int) -> list[str]:
    """The linked ids ``chosen`` (loop 0) as every loop of a run writes them."""
    size = len(capture.events)
    loops = range(first // size, (first + count - 1) // size + 1)
    return [moved_id(x, loop) for x in chosen for loop in loops]


@dataclass
class Run:
    """One run: events ``first`` .. ``first + count - 1`` at ``rate`` (0: a burst)."""

    label: str
    first: int
    count: int
    rate: float


@dataclass
class Measured:
    """What one run left: the PBX's write times, what each subscriber got."""

    run: Run
    ids: list[str]  # the linked ids the call filters follow
    stamps: array.array[float]
    write_seconds: float
    collected: dict[str, dict[str, Any]]
    gateway_cpu: float
    started: float


def load_share(before: dict[str, float], after: dict[str, float], elapsed: float) -> str:
    return " ".join(f"{k} {(after[k] - before[k]) / elapsed * 100:.0f}%" for k in before)


def one_run(
    procs: Procs,
    capture: Capture,
    chosen: list[str],
    run: Run,
    *,
    quiet: bool = False,
    on_start: Callable[[], None] | None = None,
) -> None:
    """Subscribes, floods the run's events, waits for the subscribers, prints."""
    ids = run_ids(capture, chosen, run.first, run.count)
    specs: list[list[tuple[str, bytes, bool]]] = [[] for _ in procs.clients]
    specs[procs.where["firehose"]].append(("firehose", EF().SerializeToString(), True))
    for f in FILTERS:
        specs[procs.where[f.name]].append((f.name, f.make(ids).SerializeToString(), False))
    for conn, spec in zip(procs.clients, specs, strict=True):
        conn.send(("subscribe", spec))
    for conn in procs.clients:
        errors = {k: v for k, v in conn.recv().items() if v}
        if errors:
            raise SystemExit(f"bench_gateway: subscribing failed: {errors}")
    ask(procs.pbx, "prepare", run.first, run.count)
    time.sleep(0.3)  # the gateway settles (new streams)
    pid = procs.gateway.pid
    load_before = {"pbx": 0.0} | {f"clients{i}": ask(c, "cpu") for i, c in enumerate(procs.clients)}
    gateway_cpu, busy = process_cpu(pid), cpu_busy()
    started = time.monotonic()
    if on_start is not None:
        on_start()
    procs.pbx.send(("flood", run.rate))
    firehose = procs.clients[procs.where["firehose"]]
    deadline = started + 60 + run.count / 2000
    while True:
        time.sleep(0.05)
        received, error, _ = ask(firehose, "progress")["firehose"]
        if received >= run.count or error or time.monotonic() > deadline:
            break
    written = procs.pbx.recv()
    # The filtered subscribers: until none has received anything for 0.3 s.
    progress: dict[str, Any] = {}
    while time.monotonic() < deadline:
        now: dict[str, Any] = {}
        for conn in procs.clients:
            now |= ask(conn, "progress")
        if now == progress:
            break
        progress = now
        time.sleep(0.3)
    gateway_cpu, busy_after = process_cpu(pid) - gateway_cpu, cpu_busy()
    load_after = {"pbx": written["cpu"]} | {
        f"clients{i}": ask(c, "cpu") for i, c in enumerate(procs.clients)
    }
    collected: dict[str, dict[str, Any]] = {}
    for conn in procs.clients:
        collected |= {r["name"]: r for r in ask(conn, "collect")}
        conn.send(("close",))
    for conn in procs.clients:
        conn.recv()
    if quiet:
        return
    stamps: array.array[float] = array.array("d")
    stamps.frombytes(written["stamps"])
    measured = Measured(run, ids, stamps, written["seconds"], collected, gateway_cpu, started)
    last = report(measured)
    share = load_share(load_before, load_after, max(last - started, 1e-9))
    # How busy each CPU was over the whole run, all processes of the host
    # (the bench's and everyone else's): what the gateway competed with.
    host = " ".join(
        f"CPU{c} {(b1 - b0) / max(t1 - t0, 1e-9) * 100:.0f}%"
        f" (steal {(s1 - s0) / max(t1 - t0, 1e-9) * 100:.0f}%)"
        for c, ((b0, s0, t0), (b1, s1, t1)) in sorted((c, (busy[c], busy_after[c])) for c in busy)
    )
    print(
        f"    load CPU (share of one core, first write to last receipt): {share}; "
        f"host CPUs busy (all processes, whole run): {host}"
    )


def report(m: Measured) -> float:
    """Prints one run's figures; returns the time of the last receipt."""
    run, stamps, first, count = m.run, m.stamps, m.run.first, m.run.count
    problems: list[str] = []
    all_latency: list[float] = []
    fire_latency: list[float] = []
    counts: list[str] = []
    keys = m.collected["firehose"]["keys"]
    fire_last = last = 0.0
    for name in ["firehose", *(f.name for f in FILTERS)]:
        got = m.collected[name]
        got_ids: array.array[int] = array.array("q")
        got_ids.frombytes(got["ids"])
        times: array.array[float] = array.array("d")
        times.frombytes(got["times"])
        latency = [
            (t - stamps[i - first]) * 1000
            for i, t in zip(got_ids, times, strict=True)
            if first <= i < first + count
        ]
        all_latency.extend(latency)
        last = max(last, max(times, default=m.started))
        if name == "firehose":
            fire_latency = latency
            fire_last = max(times, default=m.started)
            expected = count
        else:
            f = next(f for f in FILTERS if f.name == name)
            selects = matcher(f.make(m.ids))
            expected = sum(1 for k in keys if selects(k))
        unique = len(set(got_ids))
        if got["error"]:
            problems.append(f"{name}: {got['error']}")
        if len(got_ids) != expected or unique != len(got_ids):
            problems.append(
                f"{name}: got {len(got_ids):,} ({unique:,} distinct), expected {expected:,}"
            )
        counts.append(f"{name} {len(got_ids):,}")
    all_latency.sort()
    fire_latency.sort()
    first_write = stamps[0] if len(stamps) else m.started
    elapsed = max(fire_last - first_write, 1e-9)
    wrote = count / m.write_seconds if m.write_seconds else float("inf")
    nan = float("nan")
    print(
        f"  {run.label:<15} {count:>7,} ev  {len(fire_latency) / elapsed:>7,.0f} ev/s  "
        f"(PBX wrote {wrote:>9,.0f}/s)  gw CPU {m.gateway_cpu / count * 1e6:5.1f} us/ev, "
        f"{m.gateway_cpu / elapsed * 100:3.0f}% of a core  latency ms: firehose "
        f"p50 {percentile(fire_latency, 50):7.2f} p99 {percentile(fire_latency, 99):7.2f} "
        f"max {fire_latency[-1] if fire_latency else nan:7.2f} | all 11 "
        f"p50 {percentile(all_latency, 50):7.2f} p99 {percentile(all_latency, 99):7.2f} "
        f"max {all_latency[-1] if all_latency else nan:7.2f}"
    )
    print(f"    received: {', '.join(counts)}; {len(all_latency):,} deliveries")
    unmarked: Counter[str] = Counter()
    for c in m.collected.values():
        unmarked.update(c["unmarked"])
    if unmarked:
        print(f"    received without {MARK} (the gateway's own events): {dict(unmarked)}")
    if unmarked["telgate.LinkStateChanged"]:
        problems.append("the gateway's AMI link went down and up during the run (see its log)")
    if not fire_latency and unmarked:
        problems.append(f"no event carried the {MARK} field: are raw fields still sent?")
    for problem in problems:
        print(f"    !! {problem}")
    return last


def profile_summary(raw: Path, top: int) -> None:
    """Prints the event loop's busy time by function, own time (leaf frames)."""
    loop_samples: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    callbacks: Counter[str] = Counter()
    other = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, samples = line.rpartition(" ")
        if not stack or not samples.isdigit():
            continue
        n = int(samples)
        frames = stack.split(";")
        if not any("_run_once (" in f for f in frames):
            other += n
            continue
        loop_samples[frames[-1]] += n
        for f in set(frames):
            inclusive[f] += n
        # What the loop was running: the frame under the callback's Handle._run.
        runs = [i for i, f in enumerate(frames) if f.startswith("Handle._run ")]
        if not runs:
            callbacks["(the loop itself: select, scheduling)"] += n
        elif runs[-1] + 1 < len(frames):
            callbacks[frames[runs[-1] + 1]] += n
        else:
            callbacks["(C code run by a callback: grpc's cython, ...)"] += n
    total = sum(loop_samples.values())
    if not total:
        print("  (py-spy recorded no samples of the event loop)")
        return
    print(
        f"  event loop busy samples: {total:,} (other threads' busy samples: {other:,}); "
        f"top {top} by own time:"
    )
    for frame, n in loop_samples.most_common(top):
        print(
            f"    {n / total * 100:5.1f}%  (incl. {inclusive[frame] / total * 100:5.1f}%)  {frame}"
        )
    print("  by callback (what the event loop was running):")
    for frame, n in callbacks.most_common(8):
        print(f"    {n / total * 100:5.1f}%  {frame}")
    print("  largest inclusive shares (where the time is spent below):")
    below = [f for f, _ in inclusive.most_common() if inclusive[f] < total]
    for frame in below[:top]:
        print(f"    {inclusive[frame] / total * 100:5.1f}%  {frame}")


def profile(
    procs: Procs, capture: Capture, chosen: list[str], run: Run, args: argparse.Namespace
) -> None:
    """One more burst, with py-spy recording the gateway; prints where its time went."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("profile: py-spy not installed (make venv installs the bench extras)")
        return
    recorder: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as tmp:
        raw = Path(tmp) / "profile.txt"

        def start_spy() -> None:
            cmd = [spy, "record", "--pid", str(procs.gateway.pid), "--rate", "500"]
            cmd += ["--format", "raw", "--function", "--nonblocking", "-o", str(raw)]
            recorder.append(
                subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            )
            time.sleep(0.5)  # py-spy attaches before the burst starts

        print(
            f"profile (py-spy record, 500 Hz, a burst of {run.count:,}; not in the figures above):"
        )
        one_run(procs, capture, chosen, run, on_start=start_spy)
        recorder[0].send_signal(signal.SIGINT)
        _, err = recorder[0].communicate(timeout=30)
        if not raw.exists():
            print(f"  py-spy wrote no profile: {err.decode(errors='replace')[-300:]}")
            return
        if args.profile_out:
            shutil.copy(raw, args.profile_out)
        profile_summary(raw, args.top)


def driver(args: argparse.Namespace) -> None:
    capture = Capture.load(args.captures)
    counts = capture.linked_ids()
    ranked = [x for x, _ in counts.most_common()]
    chosen = [ranked[0], ranked[len(ranked) // 2]]
    cpus = sorted(os.sched_getaffinity(0))
    pin = not args.no_pin and len(cpus) > 1
    gw_cpu, load_cpu = (cpus[0], cpus[1]) if pin else (None, None)
    print(
        f"bench_gateway: Python {platform.python_version()}, grpcio {grpc.__version__}, "
        f"nproc {os.cpu_count()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        + (f"gateway on CPU {gw_cpu}, PBX + clients on CPU {load_cpu}" if pin else "not pinned")
    )
    size = sum(len(e) for e in capture.events)
    print(
        f"  capture: {len(capture.events):,} events from {capture.files} files in {args.captures} "
        f"(~{size / len(capture.events):.0f} bytes each), looped with fresh ids; "
        f"{len(counts)} calls; top names: "
        + ", ".join(f"{n} {c}" for n, c in capture.names.most_common(6))
    )
    ctx = mp.get_context("spawn")
    secret = secrets.token_hex(16)
    pbx_conn, theirs = ctx.Pipe()
    pbx = ctx.Process(
        target=pbx_main, args=(theirs, str(args.captures), secret, load_cpu), daemon=True
    )
    pbx.start()
    pbx_port = pbx_conn.recv()
    tmp = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    grpc_port = free_port()
    biggest = max([args.burst, args.profile_burst, *(int(r * args.paced) for r in args.rates)])
    config = gateway_config(tmp, pbx_port, grpc_port, biggest + 10_000)
    env = os.environ | {
        "TELGATE_BACKENDS__PBX__SECRET": secret,
        "TELGATE_CDR__DATA_DIR": str(tmp / "cdr"),
    }
    gateway = subprocess.Popen([*telgate_command(), "serve", "--config", str(config)], env=env)
    client_procs: list[mp.process.BaseProcess] = []
    conns: list[Connection] = []
    try:
        if gw_cpu is not None:
            os.sched_setaffinity(gateway.pid, {gw_cpu})
        wait_link_up(grpc_port, gateway)
        for _ in range(max(1, args.client_procs)):
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=client_main, args=(theirs, grpc_port, load_cpu), daemon=True)
            proc.start()
            client_procs.append(proc)
            conns.append(ours)
            ours.recv()
        # The firehose alone in the first process, the filtered ones in the others.
        others = max(1, len(conns) - 1)
        where = {"firehose": 0} | {
            f.name: (1 + i % others if len(conns) > 1 else 0) for i, f in enumerate(FILTERS)
        }
        procs = Procs(pbx_conn, gateway, conns, where)
        print(
            f"  gateway: `telgate serve` pid {gateway.pid}; subscribers: firehose + "
            f"{len(FILTERS)} filtered ({', '.join(f.name for f in FILTERS)}), each on its own "
            f"channel, in {len(conns)} client process(es)"
        )
        first = 0
        if args.warmup:
            one_run(procs, capture, chosen, Run("warm-up", first, args.warmup, 0.0), quiet=True)
            first += args.warmup
        runs = [("burst", args.burst, 0.0)]
        runs += [(f"paced {r:,.0f}/s", int(r * args.paced), r) for r in args.rates]
        for label, count, rate in runs:
            one_run(procs, capture, chosen, Run(label, first, count, rate))
            first += count
        if args.profile_burst:
            profile(
                procs, capture, chosen, Run("burst+py-spy", first, args.profile_burst, 0.0), args
            )
        actions = ask(pbx_conn, "actions")
        print(f"  actions the gateway sent the PBX: {actions}")
    finally:
        gateway.send_signal(signal.SIGTERM)
        try:
            gateway.wait(15)
        except subprocess.TimeoutExpired:
            gateway.kill()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.send(("stop",))
        with contextlib.suppress(OSError):
            pbx_conn.send(("stop",))
        for child in [*client_procs, pbx]:
            child.join(5)
            if child.is_alive():
                child.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--burst", type=int, default=60_000, help="events in the burst")
    parser.add_argument(
        "--rates",
        type=lambda s: [float(r) for r in s.split(",") if r],
        default=[20_000.0, 5_000.0],
        help="events/s of the paced runs",
    )
    parser.add_argument("--paced", type=float, default=4.0, help="seconds per paced run")
    parser.add_argument("--warmup", type=int, default=5_000, help="events of an unreported burst")
    parser.add_argument(
        "--profile-burst", type=int, default=40_000, help="events of the py-spy burst (0: none)"
    )
    parser.add_argument("--profile-out", type=Path, help="keep py-spy's raw stacks in this file")
    parser.add_argument("--top", type=int, default=15, help="functions in the profile")
    parser.add_argument("--client-procs", type=int, default=2, help="client processes")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the processes to CPUs")
    parser.add_argument("--captures", type=Path, default=CAPTURES, help="folder of *.recv files")
    driver(parser.parse_args())


if __name__ == "__main__":
    main()
