"""`telgate sim`: the AMI simulator (the same as the `telgate-sim` command)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

from telgate_server.simulator import cli as sim_cli


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds `sim` to the `telgate` subcommands, with telgate-sim's options."""
    sub.add_parser(
        "sim",
        parents=[sim_cli.build_parser()],
        add_help=False,
        help="run the AMI simulator (a fake Asterisk 22; same as telgate-sim)",
        description=(
            "A fake Asterisk 22 speaking AMI on a TCP port: the lab world the tests use, "
            "with calls that ring, answer, bridge and hang up, and fault injection. "
            "Its AMI account is telgate, with the fixture lab's secret unless "
            f"{sim_cli.SECRET_VARIABLE} is set (compose and the demo make one per run)."
        ),
    )


def run(args: argparse.Namespace) -> int:
    """Serves until SIGINT or SIGTERM."""
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(sim_cli.run(args))
    return 0
