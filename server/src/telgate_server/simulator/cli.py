"""``telgate-sim``: run the AMI simulator from the command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
from collections.abc import Mapping

from .server import AmiSimulator
from .world import World, lab_world

# The lab's AMI account, and the variable that gives it another secret.
LAB_USER = "telgate"
SECRET_VARIABLE = "TELGATE_SIM_SECRET"
# The FastAGI server the [agi-test] context calls (the lab's LAB_AGI_ADDR).
AGI_ADDR_VARIABLE = "TELGATE_SIM_AGI_ADDR"


def build_parser() -> argparse.ArgumentParser:
    """The command-line options."""
    p = argparse.ArgumentParser(
        prog="telgate-sim",
        description=(
            "A fake Asterisk 22 speaking AMI (the telgate fixture lab's world). Its AMI "
            f"account is {LAB_USER!r}, with the fixture lab's secret unless "
            f"{SECRET_VARIABLE} is set. Its [agi-test] context calls FastAGI at "
            f"{AGI_ADDR_VARIABLE} (HOST:PORT, default 127.0.0.1:4573)."
        ),
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=5038, help="TCP port (0 = any free port)")
    p.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiplies every lab delay (0.1 = 10x faster)",
    )
    p.add_argument("--traffic", action="store_true", help="background calls agent -> customer")
    p.add_argument(
        "--traffic-interval", type=float, default=5.0, help="lab seconds between background calls"
    )
    p.add_argument(
        "--drop-every",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="drop every client socket every SECONDS",
    )
    p.add_argument(
        "--drop-mid-message",
        action="store_true",
        help="with --drop-every: write half a message before dropping",
    )
    p.add_argument(
        "--slow",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="delay every action's response by SECONDS",
    )
    p.add_argument(
        "--never-answer",
        default=None,
        metavar="ACTIONS",
        help="comma-separated actions never answered ('all' for every action)",
    )
    p.add_argument(
        "--garbage-every",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="send non-AMI bytes to every client every SECONDS",
    )
    p.add_argument("--refuse-logins", action="store_true", help="every Login fails")
    p.add_argument(
        "--flood-rate",
        type=float,
        default=0.0,
        metavar="N",
        help="send N synthetic UserEvent events per second to every session",
    )
    p.add_argument(
        "--flood-kind",
        default="UserEvent",
        choices=["UserEvent", "VarSet"],
        help="the event --flood-rate sends (default UserEvent)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def world_from_env(environ: Mapping[str, str]) -> World:
    """The lab's world, its AMI account's secret taken from ``SECRET_VARIABLE``
    when set (a deployment, compose or the demo, makes one of its own)."""
    world = lab_world()
    secret = environ.get(SECRET_VARIABLE, "")
    if secret:
        world.users[LAB_USER] = dataclasses.replace(world.users[LAB_USER], secret=secret)
    agi_addr = environ.get(AGI_ADDR_VARIABLE, "").strip()
    if agi_addr:
        world.agi_addr = check_agi_addr(agi_addr)
    return world


def check_agi_addr(text: str) -> str:
    """``HOST:PORT`` as the [agi-test] context's FastAGI address; ValueError otherwise."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(
            f"{AGI_ADDR_VARIABLE} must be HOST:PORT with a port from 1 to 65535, not {text[:40]!r}"
        )
    return text


async def run(args: argparse.Namespace) -> None:
    """Starts the simulator with the given options and serves until interrupted."""
    try:
        world = world_from_env(os.environ)
    except ValueError as exc:
        raise SystemExit(f"telgate-sim: {exc}") from None
    sim = AmiSimulator(world, time_scale=args.time_scale)
    port = await sim.start(args.host, args.port)
    logging.getLogger(__name__).info("telgate-sim ready on %s:%d", args.host, port)
    if args.slow > 0:
        sim.set_slow(args.slow)
    if args.never_answer:
        names = [n for n in args.never_answer.split(",") if n and n.lower() != "all"]
        sim.set_never_answer(names)
    if args.refuse_logins:
        sim.set_refuse_logins(True)
    sim.start_periodic_faults(
        drop_every=args.drop_every,
        garbage_every=args.garbage_every,
        mid_message=args.drop_mid_message,
    )
    if args.flood_rate > 0:
        sim.start_flood(args.flood_rate, kind=args.flood_kind)
    if args.traffic:
        sim.start_traffic(args.traffic_interval)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await sim.stop()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``telgate-sim`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args))
