"""`telgate serve | sim | check-config | health | token` (the others in commands/)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from telgate_server.app import Gateway
from telgate_server.auth.policy import AccessPolicy
from telgate_server.auth.tls import ServerCertificates
from telgate_server.collector import PeriodicCollections, tune_gc
from telgate_server.commands import check, health, sim, token
from telgate_server.config import Settings, load_settings
from telgate_server.ops import logs
from telgate_server.scheduling import HelperThreads
from telgate_server.settings_strict import ConfigError

log = logging.getLogger("telgate")


async def serve(settings: Settings, listen: str | None) -> None:
    gateway = Gateway(settings)
    await gateway.start(listen)
    tune_gc()
    collections = PeriodicCollections(settings.server.gc_interval)
    collections.start()
    helpers = HelperThreads()
    if settings.server.batch_helper_threads:
        helpers.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGHUP, gateway.reload)
    await stop.wait()
    # README "Stopping": the first SIGTERM / SIGINT drains; a second one, or
    # shutdown.timeout, ends the process at once.
    shutdown = settings.shutdown
    log.info(
        "stopping: draining (%.0f s at most; a second SIGTERM exits at once)", shutdown.timeout
    )
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, force_exit, "a second signal")
    collections.stop()
    helpers.stop()
    try:
        await asyncio.wait_for(gateway.stop(shutdown.grace), shutdown.timeout)
    except TimeoutError:
        force_exit(f"the shutdown took longer than shutdown.timeout ({shutdown.timeout:g} s)")
    log.info("stopped")


#: The exit status of a shutdown cut short (second signal or timeout).
EXIT_FORCED = 1


def force_exit(why: str) -> None:
    """Ends the process now: no more waiting for streams, the PBX or the store."""
    log.error("exiting without finishing the shutdown: %s", why)
    logging.shutdown()
    os._exit(EXIT_FORCED)


def build_parser() -> argparse.ArgumentParser:
    """The `telgate` command line: one subcommand per job."""
    parser = argparse.ArgumentParser(
        prog="telgate",
        description="telgate: a gRPC telephony gateway (Asterisk AMI, Simotel, SippySoft).",
        epilog="`telgate COMMAND --help` explains each command's options. Settings come "
        "from the --config TOML file, with TELGATE_* environment variables over it "
        "(e.g. TELGATE_BACKENDS__PBX__SECRET).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser(
        "serve",
        help="run the gateway",
        description="Runs the gateway until SIGTERM or SIGINT; SIGHUP re-reads tokens and "
        "certificates.",
    )
    p.add_argument("--config", type=Path, help="TOML settings file (env TELGATE_* overrides)")
    p.add_argument("--listen", help="host:port for gRPC (overrides server.listen)")
    check.add_parser(sub)
    health.add_parser(sub)
    token.add_parser(sub)
    sim.add_parser(sub)
    return parser


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "check-config": check.run,
    "health": health.run,
    "token": token.run,
    "sim": sim.run,
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `telgate` command."""
    args = build_parser().parse_args(argv)
    if args.command in _COMMANDS:
        return _COMMANDS[args.command](args)
    try:
        settings = load_settings(args.config)
        # The files serve would read (tokens, TLS) are read now: a wrong one stops the start.
        AccessPolicy.from_config(settings.auth)
        if settings.server.tls is not None:
            ServerCertificates(settings.server.tls)
    except ConfigError as exc:
        print(f"telgate: invalid configuration: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level, settings.log_format, logs.configured_secrets(settings))
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(settings, args.listen))
    except ConfigError as exc:
        print(f"telgate: invalid configuration: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
