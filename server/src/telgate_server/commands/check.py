"""`telgate check-config`: validates the settings the way `serve` reads them,
then tests every backend link (connect, log in, a round trip) and says in
plain words what failed. Exit 0: all good; 1: a check failed; 2: the
configuration itself is wrong."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from telgate_server.api.events import encoder
from telgate_server.auth.listen import check_listen
from telgate_server.auth.policy import AccessPolicy
from telgate_server.auth.tls import ServerCertificates
from telgate_server.backends.kinds import BackendDeps, build_backend
from telgate_server.cdr.postgres import describe_dsn, is_postgres_url
from telgate_server.commands.terminal import Styled
from telgate_server.config import Settings, load_settings
from telgate_server.events.hub import EventHub
from telgate_server.gateway.backend import Backend
from telgate_server.gateway.model import CheckStep, LinkState, LinkStatus
from telgate_server.settings_strict import ConfigError

DEFAULT_TIMEOUT = 15.0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds `check-config` to the `telgate` subcommands."""
    p = sub.add_parser(
        "check-config",
        help="validate the configuration and test every backend link",
        description=(
            "Reads the settings as `telgate serve` would (the file, then TELGATE_* variables "
            "over it; token and certificate files included), then connects to every backend, "
            "logs in and makes one round trip, and prints what passed and what failed. "
            "Exit status 0 when everything passed, 1 when a check failed, 2 when the "
            "configuration is invalid."
        ),
    )
    p.add_argument(
        "--config", type=Path, help="TOML settings file (TELGATE_* variables override it)"
    )
    p.add_argument(
        "--no-connect",
        action="store_true",
        help="only validate the configuration; do not contact any backend",
    )
    p.add_argument(
        "--backend",
        dest="backends",
        action="append",
        metavar="NAME",
        help="test only this backend (repeat for several; default: every backend)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds each backend may take to connect and log in (default {DEFAULT_TIMEOUT:g})",
    )
    p.add_argument(
        "-v", "--verbose", action="store_true", help="also show the gateway's log lines (stderr)"
    )


@dataclass(frozen=True)
class Summary:
    """What the configuration holds, once it was found valid."""

    backends: list[str]
    default: str | None
    tokens: int
    listen: str


def validate(settings: Settings) -> Summary:
    """Everything `serve` checks before it starts; ConfigError names what is wrong."""
    access = AccessPolicy.from_config(settings.auth)
    if settings.server.tls is not None:
        ServerCertificates(settings.server.tls)
    check_listen(
        settings.server.listen,
        authenticated=access.enabled,
        allow_unauthenticated=settings.auth.allow_unauthenticated,
    )
    return Summary(
        list(settings.backends),
        settings.default_backend_name,
        len(access.tokens),
        settings.server.listen,
    )


def check_data_dir(settings: Settings) -> CheckStep:
    """Can this user create and write the CDR store where it is configured?"""
    data_dir = settings.cdr.data_dir.absolute()
    if not settings.cdr.enabled:
        return CheckStep("cdr store", True, "disabled (cdr.enabled = false)")
    if settings.cdr.store == "postgres":
        try:
            dsn = settings.cdr.read_dsn()
        except ConfigError as exc:
            return CheckStep("cdr store", False, str(exc))
        if not is_postgres_url(dsn):
            return CheckStep("cdr store", False, "cdr.dsn is not a postgresql:// URL (not shown)")
        dsn_at = describe_dsn(dsn)
        # Reached on start (tables created then); the DSN's password is never shown.
        return CheckStep("cdr store", True, f"PostgreSQL at {dsn_at}")
    existing = data_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return CheckStep("cdr store", False, f"{existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        return CheckStep(
            "cdr store",
            False,
            f"{existing} is not writable by this user (uid {os.getuid()}); "
            f"the store goes in {data_dir}",
        )
    database = data_dir / settings.cdr.database
    if database.exists() and not os.access(database, os.R_OK | os.W_OK):
        return CheckStep(
            "cdr store", False, f"{database} exists but this user cannot read and write it"
        )
    where = database if database.exists() else f"{database} (created on first start)"
    return CheckStep("cdr store", True, f"writable: {where}")


async def _first_outcome(backend: Backend, timeout: float) -> None:
    """Starts the backend and waits for its first connection attempt to end."""
    settled = asyncio.Event()

    def seen(status: LinkStatus) -> None:
        if status.state is not LinkState.CONNECTING:
            settled.set()

    backend.on_status(seen)
    await backend.start()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(settled.wait(), timeout)


async def check_backend(backend: Backend, timeout: float) -> list[CheckStep]:
    """The backend's own check after one connection attempt (never raises)."""
    started = time.perf_counter()
    try:
        await _first_outcome(backend, timeout)
        steps = await asyncio.wait_for(backend.check(), timeout)
        if backend.status.state is LinkState.CONNECTING:
            steps.insert(
                0,
                CheckStep(
                    "connect",
                    False,
                    f"no answer from {backend.address} within {timeout:g} s",
                    time.perf_counter() - started,
                ),
            )
        return steps
    except TimeoutError:
        return [CheckStep("check", False, f"no result within {timeout:g} s")]
    except Exception as exc:  # a check must report, never crash the command
        return [CheckStep("check", False, f"{type(exc).__name__}: {exc}")]
    finally:
        with contextlib.suppress(Exception):
            await backend.stop()


def _print_step(out: Styled, step: CheckStep) -> None:
    mark = out.good("ok    ") if step.ok else out.bad("FAILED")
    took = f" ({step.latency * 1000:.0f} ms)" if step.latency is not None else ""
    out.line(f"  {mark} {step.name}: {step.detail}{out.dim(took)}")


async def _check_backends(
    settings: Settings, names: list[str], timeout: float, out: Styled
) -> tuple[int, int]:
    hub = EventHub(encoder(settings.events.max_message_bytes))
    passed = failed = 0
    for name in names:
        backend = build_backend(
            name,
            settings.backends[name],
            BackendDeps(hub, request_id_ttl=settings.server.request_id_ttl),
        )
        out.line(f"backend {name} ({backend.kind}, {backend.address}):")
        out.progress(f"  connecting to {backend.address} ...")
        steps = await check_backend(backend, timeout)
        for step in steps:
            _print_step(out, step)
            passed += step.ok
            failed += not step.ok
    return passed, failed


def run(args: argparse.Namespace) -> int:
    """Validates, then checks the links; prints one line per step."""
    out = Styled(sys.stdout)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.CRITICAL,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    where = str(args.config) if args.config is not None else "(no file; TELGATE_* variables only)"
    try:
        settings = load_settings(args.config)
        summary = validate(settings)
    except ConfigError as exc:
        out.line(f"configuration {where}: {out.bad('INVALID')}")
        print(f"telgate: invalid configuration: {exc}", file=sys.stderr)
        return 2
    names = args.backends or summary.backends
    unknown = [n for n in names if n not in settings.backends]
    if unknown:
        known = ", ".join(summary.backends) or "none"
        print(
            f"telgate: no backend named {', '.join(unknown)} in the configuration "
            f"(configured: {known})",
            file=sys.stderr,
        )
        return 2
    out.line(f"configuration {where}: {out.good('valid')}")
    backends = ", ".join(summary.backends) or "none"
    out.line(
        f"  backends: {backends}; default: {summary.default or 'none'}; "
        f"tokens: {summary.tokens}; listen: {summary.listen}"
    )
    store = check_data_dir(settings)
    _print_step(out, store)
    passed, failed = int(store.ok), int(not store.ok)
    if args.no_connect:
        out.line(out.dim("backend links not tested (--no-connect)"))
    else:
        more_passed, more_failed = asyncio.run(_check_backends(settings, names, args.timeout, out))
        passed += more_passed
        failed += more_failed
    if failed:
        out.line(out.bad(f"{failed} of {passed + failed} checks failed"))
        return 1
    out.line(out.good(f"all {passed} checks passed"))
    return 0
