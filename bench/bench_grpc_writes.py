"""What one server-stream write costs in grpcio's asyncio server, with no
gateway code at all: the floor under every EventService batch.

A bare ``grpc.aio`` server (a child process pinned to CPU 0, as the gateway
is in bench_events.py) streams pre-encoded ~1 KB messages to clients in this
process (CPU 1), in two patterns:

- ``back to back``: one stream writes as fast as it can (writes pipeline,
  completions arrive together);
- ``paced``: ``--streams`` streams each write one message per tick of about
  1 ms, as the EventService does when the simulator paces events and every
  subscriber has something in every tick.

It prints the server's CPU time per write. The events bench's subscribers
cost at least this much per batch, whatever the gateway does; at 10 streams
and 1,000 ticks a second that is 10,000 writes a second. Nothing is asserted.

Usage: .venv/bin/python bench/bench_grpc_writes.py [--streams 10] [--ticks 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import platform
import resource
import time
from collections.abc import AsyncIterator
from multiprocessing.connection import Connection

import grpc

MESSAGE = b"x" * 1000
SERVICE, METHOD = "bench.Writes", "Stream"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _pin(cpu: int) -> None:
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {cpu})


def server_main(conn: Connection, mode: str, streams: int, count: int) -> None:
    """The server process: serves ``streams`` streams, reports its CPU time."""
    _pin(0)
    asyncio.run(_serve(conn, mode, streams, count))


async def _serve(conn: Connection, mode: str, streams: int, count: int) -> None:
    queues: list[asyncio.Queue[bytes | None]] = [asyncio.Queue() for _ in range(streams)]
    opened: list[int] = []
    all_open = asyncio.Event()

    async def handler(request: bytes, context: object) -> AsyncIterator[bytes]:
        queue = queues[len(opened)]
        opened.append(1)
        if len(opened) == streams:
            all_open.set()
        if mode == "back to back":
            for _ in range(count):
                yield MESSAGE
            return
        while (item := await queue.get()) is not None:
            yield item

    handlers: dict[str, grpc.RpcMethodHandler[bytes, bytes]] = {
        METHOD: grpc.unary_stream_rpc_method_handler(handler)
    }
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    conn.send(port)
    await all_open.wait()
    cpu, started = _cpu(), time.perf_counter()
    if mode == "paced":
        for _ in range(count):
            for queue in queues:
                queue.put_nowait(MESSAGE)
            await asyncio.sleep(0.001)
        for queue in queues:
            queue.put_nowait(None)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, conn.recv)  # the clients got everything
    conn.send((_cpu() - cpu, time.perf_counter() - started))
    await server.stop(0)


async def _read_all(port: int, streams: int) -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stream: grpc.aio.UnaryStreamMultiCallable[bytes, bytes] = channel.unary_stream(
            f"/{SERVICE}/{METHOD}"
        )

        async def one() -> int:
            return sum([1 async for _ in stream(b"")])

        return sum(await asyncio.gather(*(one() for _ in range(streams))))


def run(mode: str, streams: int, count: int) -> None:
    ours, theirs = mp.Pipe()
    proc = mp.get_context("spawn").Process(
        target=server_main, args=(theirs, mode, streams, count), daemon=True
    )
    proc.start()
    port = ours.recv()
    received = asyncio.run(_read_all(port, streams))
    ours.send("done")
    cpu, elapsed = ours.recv()
    proc.join(10)
    writes = streams * count
    print(
        f"  {mode:<13} {streams:>2} stream(s): {writes:>7,} writes in {elapsed:5.2f} s "
        f"({writes / elapsed:>9,.0f}/s, received {received:,}): "
        f"server CPU {cpu / writes * 1e6:5.1f} us per write, {cpu / elapsed * 100:3.0f}% of a core"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=10, help="streams in the paced run")
    parser.add_argument("--ticks", type=int, default=3000, help="ticks in the paced run")
    parser.add_argument("--writes", type=int, default=20_000, help="writes back to back")
    args = parser.parse_args()
    _pin(1)
    print(
        f"bench_grpc_writes: Python {platform.python_version()}, grpcio {grpc.__version__}, "
        f"{os.cpu_count()} CPUs; server CPU 0, clients CPU 1"
    )
    run("back to back", 1, args.writes)
    run("paced", args.streams, args.ticks)


if __name__ == "__main__":
    main()
