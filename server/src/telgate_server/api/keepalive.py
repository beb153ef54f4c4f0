"""HTTP/2 keepalive of the gRPC server: the channel arguments from ``[server]``.

Without them gRPC core pings a quiet connection only after 2 hours, so a
peer that vanished without a FIN or RST (host down, NAT or firewall state
dropped) keeps its streams open: a router stays registered and each query
sent to it waits its whole budget; a dead Subscribe holds its stream slot.
(grpc/doc/keepalive.md documents each argument.)"""

from __future__ import annotations

from telgate_server.config import ServerConfig

# gRPC core's "never" for GRPC_ARG_KEEPALIVE_TIME_MS.
NEVER_MS = 2**31 - 1


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def server_options(config: ServerConfig) -> list[tuple[str, int]]:
    """The ``grpc.aio.server(options=...)`` keepalive arguments for ``config``."""
    return [
        (
            "grpc.keepalive_time_ms",
            _ms(config.keepalive_time) if config.keepalive_time else NEVER_MS,
        ),
        ("grpc.keepalive_timeout_ms", _ms(config.keepalive_timeout)),
        # gRPC 1.85 times every ping, keepalive ones included, by this
        # (internal) argument, 60 s by default; keepalive_timeout_ms alone was
        # measured not to close a blackholed connection (tests/routing/test_keepalive.py).
        ("grpc.http2.ping_timeout_ms", _ms(config.keepalive_timeout)),
        # Idle connections are pinged too (their peer may be gone as well), and
        # clients may ping while they have no call in flight (between a
        # router's reconnects) without it counting as a bad ping.
        ("grpc.keepalive_permit_without_calls", 1),
        # A quiet Route stream (no query for minutes) sends no data frames:
        # the default (2) would stop the gateway's pings there after two.
        ("grpc.http2.max_pings_without_data", 0),
        (
            "grpc.http2.min_recv_ping_interval_without_data_ms",
            _ms(config.keepalive_min_client_interval),
        ),
    ]
