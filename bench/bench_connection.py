"""The gateway's AMI connection path alone: socket -> AmiConnection -> on_event,
and action round trips (ActionID correlation), without the hub or gRPC.

The PBX side is a child process (a tiny AMI server on 127.0.0.1:0 using the
gateway's codec), so the figures are the client's own: wall time and the
client process's CPU time (time.process_time) per message.

Rows:
- ``events``: the recorded Asterisk 22 events of every transcript under
  shared/fixtures/ami (events only, those carrying an ActionID left out),
  repeated to --events messages and written in one burst after the login;
  msg/s = messages / time from the request to the last on_event, and CPU us
  per message;
- ``ping x1``: --pings sequential Ping actions (one in flight);
- ``ping x100``: 100 tasks sending Pings concurrently, --pings in all.

Usage: .venv/bin/python bench/bench_connection.py [--events 200000] [--pings 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telgate_server.backends.ami.codec import Message, Parser, encode_banner, encode_message
from telgate_server.backends.ami.connection import AmiConnection
from telgate_server.backends.ami.settings import AmiBackendConfig

from tests.shared import ami_fixture_names, load_ami_fixture


def recorded_events() -> list[bytes]:
    """Every recorded event without an ActionID, as wire bytes, in capture order."""
    out: list[bytes] = []
    for name in ami_fixture_names():
        recv = load_ami_fixture(name).recv
        body = recv[recv.index(b"\r\n") + 2 :]
        for block in body.split(b"\r\n\r\n"):
            if block.startswith(b"Event: ") and b"\r\nActionID: " not in block:
                out.append(block + b"\r\n\r\n")
    return out


def event_stream(count: int) -> bytes:
    events = recorded_events()
    return b"".join(events[i % len(events)] for i in range(count))


# --- the PBX side (child process) -------------------------------------------------


async def _serve(pipe: Connection, burst: bytes) -> None:
    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        parser = Parser(expect_banner=False)
        writer.write(encode_banner())
        while data := await reader.read(1 << 16):
            out: list[bytes] = []
            for msg in parser.feed(data):
                assert isinstance(msg, Message)
                reply = [("Response", "Success"), ("ActionID", msg.action_id or "")]
                if msg.name == "Login":
                    reply.append(("Message", "Authentication accepted"))
                elif msg.name == "Ping":
                    reply += [("Ping", "Pong"), ("Timestamp", "1795380110.000000")]
                elif msg.name == "Burst":
                    reply.append(("Message", "Events follow"))
                    out.append(encode_message(reply))
                    out.append(burst)
                    continue
                out.append(encode_message(reply))
            writer.write(b"".join(out))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(session, "127.0.0.1", 0)
    pipe.send(server.sockets[0].getsockname()[1])
    await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
    server.close()


def _server_main(pipe: Connection, events: int) -> None:
    asyncio.run(_serve(pipe, event_stream(events)))


# --- the client side --------------------------------------------------------------


async def run(port: int, events: int, pings: int) -> list[tuple[str, int, float, float]]:
    got = 0
    done = asyncio.Event()

    def on_event(msg: Message) -> None:
        nonlocal got
        got += 1
        if got == events:
            done.set()

    config = AmiBackendConfig.model_validate(
        {
            "host": "127.0.0.1",
            "port": port,
            "username": "bench",
            "secret": "bench",
            "auth": "plain",
            "event_queue_size": events + 10,
            "ping_interval": 3600,
        }
    )
    conn = AmiConnection("bench", config, on_event=on_event, on_link=lambda _: None)
    await conn.start()
    rows: list[tuple[str, int, float, float]] = []
    try:
        assert await conn.wait_up(10)
        # Warm up (and pass the login's events).
        for _ in range(200):
            await conn.action("Ping")
        got = 0

        wall, cpu = time.perf_counter(), time.process_time()
        await conn.action("Burst")
        await asyncio.wait_for(done.wait(), 300)
        rows.append(("events", events, time.perf_counter() - wall, time.process_time() - cpu))

        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(pings):
            await conn.action("Ping")
        rows.append(("ping x1", pings, time.perf_counter() - wall, time.process_time() - cpu))

        async def pinger(n: int) -> None:
            for _ in range(n):
                await conn.action("Ping")

        wall, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(pinger(pings // 100) for _ in range(100)))
        rows.append(
            ("ping x100", pings // 100 * 100, time.perf_counter() - wall, time.process_time() - cpu)
        )
    finally:
        await conn.stop()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--pings", type=int, default=20_000)
    args = ap.parse_args()
    ours, theirs = mp.Pipe()
    child = mp.Process(target=_server_main, args=(theirs, args.events), daemon=True)
    child.start()
    try:
        port = ours.recv()
        rows = asyncio.run(run(port, args.events, args.pings))
    finally:
        ours.send("stop")
        child.join(10)
    print(f"{'row':<10} {'messages':>9} {'msg/s':>10} {'CPU us/msg':>11}")
    for name, count, wall, cpu in rows:
        print(f"{name:<10} {count:>9} {count / wall:>10,.0f} {cpu / count * 1e6:>11.2f}")


if __name__ == "__main__":
    main()
