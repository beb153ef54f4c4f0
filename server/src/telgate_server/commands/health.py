"""`telgate health`: asks a running gateway's grpc.health.v1 service, for a
container HEALTHCHECK or a load balancer's probe. Exit 0 when SERVING, 1 when
not (or unreachable), 2 for a wrong configuration."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from telgate_server.auth.listen import listen_host
from telgate_server.config import load_settings
from telgate_server.settings_strict import ConfigError

# Wildcard listen hosts: the probe connects to this machine's loopback instead.
_ANY_V4 = {"", "0.0.0.0"}
_ANY_V6 = {"::", "[::]"}


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds `health` to the `telgate` subcommands."""
    p = sub.add_parser(
        "health",
        help="ask a running gateway whether it is serving (grpc.health.v1)",
        description=(
            "Asks the gateway's grpc.health.v1 Check and prints the answer. Exit status 0 "
            "when SERVING, 1 when NOT_SERVING or unreachable, 2 for a wrong configuration. "
            "The address is server.listen from the settings (a wildcard host becomes "
            "loopback) unless --address is given."
        ),
    )
    p.add_argument(
        "--config", type=Path, help="TOML settings file to read server.listen and server.tls from"
    )
    p.add_argument("--address", help="host:port to ask instead of server.listen")
    target = p.add_mutually_exclusive_group()
    target.add_argument(
        "--service",
        default="",
        help="grpc.health.v1 service name to ask about (default: the whole server)",
    )
    target.add_argument(
        "--backend",
        help="ask about one backend's PBX link (service telgate.backend.NAME)",
    )
    p.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for the answer")
    p.add_argument(
        "--ca-file",
        type=Path,
        help="TLS: the CA that signed the gateway's certificate (default: the system's CAs "
        "when server.tls is set)",
    )
    p.add_argument("--cert-file", type=Path, help="mutual TLS: this probe's certificate")
    p.add_argument("--key-file", type=Path, help="mutual TLS: this probe's key")
    p.add_argument(
        "--token-file",
        type=Path,
        help="a file holding a bearer token, when auth.open_health = false",
    )


def probe_address(listen: str) -> str:
    """Where a local probe reaches a server listening on ``listen``."""
    if listen.startswith(("unix:", "unix-abstract:")):
        return listen
    host = listen_host(listen)
    port = listen.rpartition(":")[2]
    if host in _ANY_V4:
        return f"127.0.0.1:{port}"
    if host in _ANY_V6 or listen.startswith("[::]"):
        return f"[::1]:{port}"
    return listen


def _channel(address: str, args: argparse.Namespace, tls: bool) -> grpc.Channel:
    if not tls and args.ca_file is None:
        return grpc.insecure_channel(address)
    client = (
        (args.key_file.read_bytes(), args.cert_file.read_bytes())
        if args.cert_file is not None and args.key_file is not None
        else (None, None)
    )
    roots = args.ca_file.read_bytes() if args.ca_file is not None else None
    return grpc.secure_channel(address, grpc.ssl_channel_credentials(roots, *client))


def run(args: argparse.Namespace) -> int:
    """Checks once and prints SERVING / NOT_SERVING / why it could not ask."""
    tls = False
    address = args.address
    if address is None or args.config is not None:
        try:
            settings = load_settings(args.config)
        except ConfigError as exc:
            print(f"telgate health: invalid configuration: {exc}", file=sys.stderr)
            return 2
        tls = settings.server.tls is not None
        address = address or probe_address(settings.server.listen)
    service = f"telgate.backend.{args.backend}" if args.backend else args.service
    metadata: list[tuple[str, str]] = []
    try:
        if args.token_file is not None:
            token = args.token_file.read_text(encoding="utf-8").strip()
            metadata.append(("authorization", f"Bearer {token}"))
        channel = _channel(address, args, tls)
    except OSError as exc:
        print(f"telgate health: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    with channel:
        # Typed as Any: the grpcio-health-checking stubs declare no methods on HealthStub.
        stub: Any = health_pb2_grpc.HealthStub(channel)
        try:
            answer = stub.Check(
                health_pb2.HealthCheckRequest(service=service),
                timeout=args.timeout,
                metadata=metadata,
            )
        except grpc.RpcError as exc:
            code = exc.code() if isinstance(exc, grpc.Call) else grpc.StatusCode.UNKNOWN
            details = exc.details() if isinstance(exc, grpc.Call) else str(exc)
            print(f"{address}: {code.name}: {details}", file=sys.stderr)
            return 1
    state = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
    what = f" ({service})" if service else ""
    print(f"{address}{what}: {state}")
    return 0 if answer.status == health_pb2.HealthCheckResponse.SERVING else 1
