"""One way to open a NATS connection from the settings (``events.nats``),
for the JetStream event hub and the link leases alike."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from nats.aio.client import Client

from telgate_server import errors
from telgate_server.config import NatsConfig

__all__ = ["connect"]


async def connect(
    cfg: NatsConfig,
    name: str,
    *,
    purpose: str = "",
    error_cb: Callable[[Exception], Awaitable[None]],
    reconnected_cb: Callable[[], Awaitable[None]] | None = None,
    last_error: Callable[[], BaseException | None] = lambda: None,
) -> Client:
    """A connected client; errors.Unavailable naming the URL (and ``purpose``,
    e.g. "for the link leases") when NATS cannot be reached.

    Reconnects never stop once connected; the first connect has a deadline,
    so a wrong address or password stops the start. The error names the
    last failure by its type only: the URL holds no credentials (config
    refuses them there), and no text from NATS is echoed."""
    options: dict[str, Any] = {
        "servers": [u.strip() for u in cfg.url.split(",")],
        "name": name,
        "connect_timeout": cfg.connect_timeout,
        "max_reconnect_attempts": -1,
        "error_cb": error_cb,
    }
    if reconnected_cb is not None:
        options["reconnected_cb"] = reconnected_cb
    password, token = cfg.read_password(), cfg.read_token()
    if cfg.user:
        options["user"], options["password"] = cfg.user, password
    if token is not None:
        options["token"] = token
    nc = Client()
    try:
        await asyncio.wait_for(nc.connect(**options), 3 * cfg.connect_timeout)
    except Exception as exc:
        with contextlib.suppress(Exception):
            await nc.close()
        last = last_error() or exc
        what = f"{cfg.url} {purpose}" if purpose else cfg.url
        raise errors.Unavailable(
            f"cannot connect to NATS at {what} (last error: {type(last).__name__})"
        ) from None
    return nc
