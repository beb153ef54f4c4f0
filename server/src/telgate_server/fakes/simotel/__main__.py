"""Runs the fake Simotel (for the demo): ``python -m telgate_server.fakes.simotel``.

Credentials come from the environment: FAKE_SIMOTEL_PASSWORD (API Basic
password), FAKE_SIMOTEL_API_KEY, FAKE_SIMOTEL_HOOK_PASSWORD (the webhook
Basic password it sends)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal

from telgate_server.fakes.simotel.server import CallPlan, FakeSimotel, WebhookTarget


async def _main(args: argparse.Namespace) -> None:
    target = None
    if args.webhook_url:
        target = WebhookTarget(
            args.webhook_url,
            style=args.style,
            encoding=args.encoding,
            username=args.webhook_user,
            password=os.environ.get("FAKE_SIMOTEL_HOOK_PASSWORD", ""),
        )
    fake = FakeSimotel(
        username=args.user,
        password=os.environ["FAKE_SIMOTEL_PASSWORD"],
        api_key=os.environ.get("FAKE_SIMOTEL_API_KEY", ""),
        auth=args.auth,
        webhook=target,
        plan=CallPlan(ring=args.ring, talk=args.talk, never_answer=set(args.never_answer)),
    )
    port = await fake.start(args.host, args.port)
    logging.info("fake Simotel API on http://%s:%d/api/v4/", args.host, port)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m telgate_server.fakes.simotel")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8088)
    parser.add_argument("--user", default="telgate-api")
    parser.add_argument("--auth", choices=["basic", "token", "both"], default="basic")
    parser.add_argument("--webhook-url", default="")
    parser.add_argument("--webhook-user", default="")
    parser.add_argument("--style", choices=["G", "Rest"], default="G")
    parser.add_argument("--encoding", choices=["json", "form", "query"], default="json")
    parser.add_argument("--ring", type=float, default=2.0)
    parser.add_argument("--talk", type=float, default=5.0)
    parser.add_argument("--never-answer", nargs="*", default=[])
    args = parser.parse_args()
    if not os.environ.get("FAKE_SIMOTEL_PASSWORD"):
        parser.error("set FAKE_SIMOTEL_PASSWORD: the API password the gateway will use")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s fake-simotel %(message)s")
    # SIGTERM ends it as Ctrl-C does (as PID 1 in a container a signal with
    # no handler of ours would be ignored).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args))


if __name__ == "__main__":
    main()
