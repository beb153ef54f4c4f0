"""The receiving end of Simotel's webhooks for one backend (an aiohttp handler;
the gateway's webhook server mounts it at the backend's path).

Both delivery styles (G: one URL, the name in ``event_name``; Rest: the name
as the last path segment, any case), JSON, form and query payloads on GET and
POST, Basic auth and an optional IP allow-list. A request is answered at
once: the event is handed over synchronously and never waits on the PBX.
Outcomes counted: accepted, duplicate (a repeated delivery, see dedup.py),
bad_request, unauthorized, forbidden (and component_ok / component_failed
for the call-map components served beside, components.py)."""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import json
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from telgate_server import errors
from telgate_server.backends.simotel.events import event_name

log = logging.getLogger("telgate.simotel.webhook")

# A JSON number with a leading zero (the IncomingCall sample's `09331112233`):
# invalid JSON, read as the string it stands for.
_LEADING_ZERO = re.compile(r"(:\s*)(0\d+)(\s*[,}\]])")
# The largest webhook body read.
MAX_BODY = 1024 * 1024

Outcome = str
Networks = list[ipaddress.IPv4Network | ipaddress.IPv6Network]


class BadWebhook(ValueError):
    """A webhook the receiver refuses (HTTP 400)."""


def parse_json(raw: bytes) -> dict[str, Any]:
    """A JSON object body (leading-zero numbers read as strings)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadWebhook("the body is not UTF-8") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise BadWebhook("the JSON body is nested too deeply") from None
    except ValueError:
        try:
            value = json.loads(_LEADING_ZERO.sub(r'\1"\2"\3', text))
        except (ValueError, RecursionError):
            raise BadWebhook(f"the body is not JSON (starts {text[:20]!r})") from None
    if not isinstance(value, dict):
        raise BadWebhook(f"the JSON body is a {type(value).__name__}, not an object")
    return value


def networks(allow: list[str]) -> Networks:
    """The allow-list as networks (a plain address is a /32 or /128)."""
    try:
        return [ipaddress.ip_network(item, strict=False) for item in allow]
    except ValueError as exc:
        raise errors.InvalidArgument(f"webhook_allow_ips: {exc}") from None


class WebhookReceiver:
    """One Simotel backend's webhook endpoint."""

    def __init__(
        self,
        backend: str,
        path: str,
        deliver: Callable[[str, dict[str, Any]], bool],
        *,
        username: str = "",
        password: str = "",
        allow_ips: list[str] | None = None,
    ) -> None:
        self.backend = backend
        self.path = "/" + path.strip("/")
        self._deliver = deliver
        self._username = username
        self._password = password.encode()
        self._allow = networks(allow_ips or [])
        # Neither Basic auth nor an allow-list: anyone could post calls and
        # CDRs, so every webhook is refused until one is configured (an
        # allow-list of 0.0.0.0/0 opens it on purpose).
        self.closed = not username and not self._allow
        if self.closed:
            log.warning(
                "backend %s: its webhooks are refused: set webhook_username and "
                "webhook_password, or webhook_allow_ips",
                backend,
            )
        # Told of every request's outcome (metrics).
        self.on_outcome: Callable[[Outcome], None] = lambda outcome: None
        self.counts: dict[Outcome, int] = {}
        # Routes served beside the webhooks on the same listener, auth and
        # counter (the call-map components, components.py).
        self.more_routes: list[web.RouteDef] = []

    def routes(self) -> list[web.RouteDef]:
        """The aiohttp routes: the path itself (G; with or without a final
        slash, as the docs' `<url>/?event_name=…`) and the path plus an event
        name (Rest)."""
        return [
            *self.more_routes,
            web.route("*", self.path, self.handle),
            web.route("*", self.path + "/", self.handle),
            web.route("*", self.path + "/{event}", self.handle),
        ]

    def count(self, outcome: Outcome) -> None:
        """Counts one request's outcome (and tells the metrics hook)."""
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        self.on_outcome(outcome)

    def _authorized(self, request: web.Request) -> bool:
        if not self._username:
            return True
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(token, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        ok_user = hmac.compare_digest(user.encode(), self._username.encode())
        ok_pass = hmac.compare_digest(password.encode(), self._password)
        return ok_user and ok_pass

    def _allowed(self, request: web.Request) -> bool:
        if not self._allow:
            return True
        try:
            address = ipaddress.ip_address(request.remote or "")
        except ValueError:
            return False
        return any(address in net for net in self._allow)

    async def values(self, request: web.Request) -> dict[str, Any]:
        """The event's fields: the query string, then the body (JSON or form)."""
        values: dict[str, Any] = dict(request.query)
        if request.method not in ("POST", "PUT") or not request.can_read_body:
            return values
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise BadWebhook(f"the body is larger than {MAX_BODY} bytes")
        raw = await request.content.read(MAX_BODY + 1)
        if len(raw) > MAX_BODY:
            raise BadWebhook(f"the body is larger than {MAX_BODY} bytes")
        if not raw.strip():
            return values
        ctype = request.content_type
        if ctype == "application/x-www-form-urlencoded":
            try:
                form = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
            except (UnicodeDecodeError, ValueError):
                raise BadWebhook("the form body cannot be read") from None
            values.update(form)
            return values
        values.update(parse_json(raw))
        return values

    def refusal(self, request: web.Request) -> web.Response | None:
        """The 403/401 answer (counted and logged) for a request that may not
        come in; None when it may. The component endpoint shares it."""
        if self.closed:
            self.count("forbidden")
            log.warning(
                "backend %s: webhook from %s refused: no webhook credentials or allow-list "
                "configured",
                self.backend,
                request.remote,
            )
            return web.json_response(
                {"ok": 0, "error": "the receiver has no credentials or allow-list configured"},
                status=403,
            )
        if not self._allowed(request):
            self.count("forbidden")
            log.warning(
                "backend %s: webhook from %s refused: not on the allow-list",
                self.backend,
                request.remote,
            )
            return web.json_response({"ok": 0, "error": "address not allowed"}, status=403)
        if not self._authorized(request):
            self.count("unauthorized")
            log.warning(
                "backend %s: webhook from %s refused: wrong or missing credentials",
                self.backend,
                request.remote,
            )
            return web.json_response(
                {"ok": 0, "error": "authentication required"},
                status=401,
                headers={"WWW-Authenticate": 'Basic realm="telgate"'},
            )
        return None

    async def handle(self, request: web.Request) -> web.Response:
        """One webhook: refused (401/403/400) or handed over and answered 200 at once."""
        refused = self.refusal(request)
        if refused is not None:
            return refused
        try:
            values = await self.values(request)
            name = event_name(values, request.match_info.get("event", ""))
            if not name:
                raise BadWebhook("no event name (event_name, event, or the path's last segment)")
            if len(name) > 64 or not name.isprintable():
                raise BadWebhook(f"the event name {name[:20]!r} is not a name")
        except BadWebhook as exc:
            self.count("bad_request")
            log.warning(
                "backend %s: webhook from %s refused: %s", self.backend, request.remote, exc
            )
            return web.json_response({"ok": 0, "error": str(exc)}, status=400)
        # A repeated delivery is answered as a new one (so the PBX stops
        # resending it) but counted apart and not published again.
        self.count("accepted" if self._deliver(name, values) else "duplicate")
        return web.json_response({"ok": 1})
