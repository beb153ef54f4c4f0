"""The metrics listener: ``GET /metrics`` in Prometheus' text format, on its
own port, in the gateway's event loop.

A few lines of asyncio rather than prometheus_client's threaded server: no
thread reading the gateway's objects while the loop changes them, and no web
framework to pin for one route. Requests are read with a size and time limit,
answered, and the connection closed (Prometheus opens one per scrape)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from telgate_server.settings_strict import ConfigError

log = logging.getLogger("telgate.metrics")

MAX_REQUEST_HEAD = 8192
READ_TIMEOUT = 10.0


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` too) as a pair; ConfigError when it is not one."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"metrics.listen {address[:60]!r} is not host:port")
    return host.strip("[]") or "0.0.0.0", int(port)


class MetricsServer:
    """Serves one registry over HTTP."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self, address: str) -> int:
        """Listens on ``address`` (port 0: any free one); returns the bound port."""
        host, port = split_address(address)
        self._server = await asyncio.start_server(self._serve, host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("metrics on http://%s:%d/metrics", host, self.port)
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
            status, ctype, body = self._answer(head)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            status, ctype, body = "400 Bad Request", "text/plain", b"bad request\n"
        except ConnectionError:
            writer.close()
            return
        try:
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _answer(self, head: bytes) -> tuple[str, str, bytes]:
        if len(head) > MAX_REQUEST_HEAD:
            return "431 Request Header Fields Too Large", "text/plain", b"too large\n"
        parts = head.split(b"\r\n", 1)[0].split(b" ")
        if len(parts) != 3:
            return "400 Bad Request", "text/plain", b"bad request\n"
        method, target = parts[0], parts[1].split(b"?", 1)[0]
        if target != b"/metrics":
            return "404 Not Found", "text/plain", b"only /metrics is served here\n"
        if method not in (b"GET", b"HEAD"):
            return "405 Method Not Allowed", "text/plain", b"GET /metrics\n"
        body = generate_latest(self.registry)
        return "200 OK", CONTENT_TYPE_LATEST, b"" if method == b"HEAD" else body
