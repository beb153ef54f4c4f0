"""Where an unauthenticated gateway may listen: loopback only, unless the
configuration says otherwise."""

from __future__ import annotations

import ipaddress
import logging

from telgate_server.settings_strict import ConfigError

log = logging.getLogger("telgate.auth")


def listen_host(address: str) -> str:
    """The host part of a gRPC listen address (``host:port``, ``[v6]:port``)."""
    if address.startswith("["):
        return address[1:].partition("]")[0]
    host, _, _port = address.rpartition(":")
    return host


def is_local(address: str) -> bool:
    """True for a loopback address or a unix socket: only this machine can connect."""
    if address.startswith(("unix:", "unix-abstract:")):
        return True
    host = listen_host(address)
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        # A host name (or "" for every interface) may resolve to anything.
        return False


def check_listen(address: str, *, authenticated: bool, allow_unauthenticated: bool) -> None:
    """Refuses (ConfigError) to serve anonymous callers beyond this machine
    unless allowed, and warns when allowed."""
    if authenticated or is_local(address):
        return
    if not allow_unauthenticated:
        raise ConfigError(
            f"refusing to listen on {address} without authentication: configure "
            "[auth.tokens] or [[auth.client_certs]], listen on a loopback address, "
            "or set auth.allow_unauthenticated = true"
        )
    log.warning(
        "listening on %s with no authentication (auth.allow_unauthenticated = true): "
        "anyone who reaches this port can place and listen to calls",
        address,
    )
