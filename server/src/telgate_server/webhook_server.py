"""The HTTP server PBXs send webhooks to (``[webhooks] listen``): one aiohttp
server for every backend that receives webhooks (a backend with a ``webhook``
attribute offering ``path``, ``routes()`` and an ``on_outcome`` hook), each
on its own path. Requests are counted in ``webhook_requests_total``.

In a cluster (docs/cluster.md), a webhook for a backend whose link another
instance runs is answered 503 with ``Retry-After`` (counted ``not_owner``):
the owner alone holds the calls its webhooks build (Simotel has no
active-calls endpoint), so a webhook taken elsewhere would leave a hole in
the owner's view; a load balancer that re-sends on 503 (nginx
``proxy_next_upstream http_503 non_idempotent``, HAProxy ``retry-on 503``)
delivers it to the owner instead, and a Cdr webhook lost anyway is read back
by the owner's reconciliation of the CDR report."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from telgate_server.gateway.backend import Backend
from telgate_server.settings_strict import ConfigError

log = logging.getLogger("telgate.webhooks")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Receiver(Protocol):
    path: str
    on_outcome: Callable[[str], None]

    def routes(self) -> list[web.RouteDef]: ...


def receivers(backends: list[Backend]) -> dict[str, Receiver]:
    """The backends that take webhooks, by name."""
    return {b.name: r for b in backends if (r := getattr(b, "webhook", None)) is not None}


class WebhookServer:
    """One listener, every backend's webhook path."""

    def __init__(
        self,
        found: dict[str, Receiver],
        count: Callable[[str, str], None],
        *,
        runs_here: Callable[[str], bool] | None = None,
    ) -> None:
        paths: dict[str, str] = {}
        self._paths = paths
        self._count = count
        self._runs_here = runs_here
        middlewares = [self._owner_only] if runs_here is not None else []
        self.app = web.Application(client_max_size=1024 * 1024, middlewares=middlewares)
        for name, receiver in found.items():
            if receiver.path in paths:
                raise ConfigError(
                    f"backends {paths[receiver.path]!r} and {name!r} use the same webhook path "
                    f"{receiver.path!r}"
                )
            paths[receiver.path] = name
            receiver.on_outcome = lambda outcome, name=name: count(name, outcome)  # type: ignore[misc]
            self.app.add_routes(receiver.routes())
        self._runner: web.AppRunner | None = None
        self.port = 0

    @web.middleware
    async def _owner_only(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """503 for a backend whose link this instance does not run."""
        path = request.path.rstrip("/")
        name = self._paths.get(path) or self._paths.get(path.rpartition("/")[0])
        if name is not None and self._runs_here is not None and not self._runs_here(name):
            self._count(name, "not_owner")
            return web.json_response(
                {"ok": 0, "error": f"backend {name} is run by another gateway instance"},
                status=503,
                headers={"Retry-After": "1"},
            )
        return await handler(request)

    async def start(self, listen: str) -> int:
        """Listens on ``listen`` (host:port; port 0 picks one); returns the port."""
        host, _, port = listen.rpartition(":")
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host or "127.0.0.1", int(port))
        await site.start()
        server: Any = site._server
        self.port = int(server.sockets[0].getsockname()[1]) if server is not None else int(port)
        log.info("webhooks listening on %s:%d", host, self.port)
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
