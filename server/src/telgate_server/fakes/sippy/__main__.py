"""``python -m telgate_server.fakes.sippy``: the fake switch, with traffic,
for the demo (plain HTTP on 127.0.0.1; the password from a file or the
environment variable FAKE_SIPPY_PASSWORD)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import time
from pathlib import Path

from telgate_server.fakes.sippy.server import FakeSippy


async def _main(args: argparse.Namespace, password: str) -> None:
    fake = FakeSippy(username=args.username, password=password)
    now = time.time()
    for i in range(args.history):
        fake.add_cdr(now - 3000 + i * (2900 / max(args.history, 1)), talk=float(i % 90))
    port = await fake.start(args.host, args.port)
    logging.info(
        "fake Sippy on http://%s:%d/xmlapi/xmlapi (user %s)", args.host, port, args.username
    )
    traffic = asyncio.get_running_loop().create_task(fake.traffic(rate=args.rate))
    try:
        await asyncio.Event().wait()
    finally:
        traffic.cancel()
        await fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="A fake Sippy Softswitch XML-RPC API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--username", default="api-user")
    parser.add_argument("--password-file")
    parser.add_argument("--rate", type=float, default=1.0, help="new CDRs per second")
    parser.add_argument("--history", type=int, default=50, help="CDRs of the last hour at start")
    args = parser.parse_args()
    password = (
        Path(args.password_file).read_text(encoding="utf-8").strip()
        if args.password_file
        else os.environ.get("FAKE_SIPPY_PASSWORD", "PLACEHOLDER-API-PASSWORD")
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s fake-sippy %(message)s")
    # SIGTERM ends it as Ctrl-C does (as PID 1 in a container a signal with
    # no handler of ours would be ignored).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args, password))


if __name__ == "__main__":
    main()
