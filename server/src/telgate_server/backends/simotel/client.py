"""The Simotel API client: one ``httpx.AsyncClient`` per backend, v4 POST with
JSON bodies, and the ``{success, message, data}`` envelope decoded in one
place (:func:`decode`) into data or a ``telgate_server.errors`` type."""

from __future__ import annotations

import base64
import json
import logging
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from telgate_server import errors
from telgate_server.backends.round_trips import RoundTrips
from telgate_server.backends.simotel.settings import SimotelBackendConfig

log = logging.getLogger("telgate.simotel")

# What Simotel's messages say when a `success: 0` has a better class than
# FAILED_PRECONDITION (compared lower-case).
_EXISTS = ("already exist",)
_INVALID = ("is missing", "is invalid", "invalid", "field ")


class AuthRefused(errors.Unavailable):
    """401: the backend's credentials are wrong or missing (misconfigured)."""


def api_base(url: str, version: str) -> str:
    """The URL request paths are joined to, ending in ``/``: the configured
    one plus the version unless it already ends in it (PHPC's default
    ``…/api/v4`` has no trailing slash, and must keep its last segment)."""
    base = url.rstrip("/")
    if base.rsplit("/", 1)[-1] != version:
        base = f"{base}/{version}"
    return base + "/"


def join(base: str, path: str) -> str:
    """``base`` (from :func:`api_base`) plus an API path such as ``call/originate/act``."""
    return base + path.strip("/")


def _message(body: Any) -> str:
    if isinstance(body, dict):
        msg = body.get("message")
        return "" if msg is None else str(msg)
    return ""


def decode(path: str, status: int, text: str) -> Any:
    """The ``data`` of an answer, or the error its status and envelope mean.

    The HTTP status first, then ``success`` (an HTTP 200 with ``success: 0``
    is a failed operation). Simotel's own message is passed on."""
    body: Any = None
    try:
        body = json.loads(text) if text else None
    except (ValueError, RecursionError):
        body = None
    msg = _message(body)
    meta = {"pbx_message": msg[:200], "path": path} if msg else {"path": path}
    said = f": {msg[:200]}" if msg else ""
    if status == 401:
        raise AuthRefused(
            f"Simotel refused the gateway's credentials ({path}){said}; check the backend's "
            "auth, username, password and api_key",
            metadata=meta,
        )
    if status == 403:
        who = (
            "the gateway's IP address is not on Simotel's allow-list"
            if "ip" in msg.lower().split()
            else "the API account lacks the permission for this endpoint"
        )
        raise errors.PermissionDenied(f"Simotel refused {path}: {who}{said}", metadata=meta)
    if status in (404, 501):
        raise errors.Unimplemented(
            f"Simotel has no service at {path!r} (HTTP {status}){said}", metadata=meta
        )
    if status == 400:
        raise errors.InvalidArgument(
            f"Simotel could not read the request to {path}{said}", metadata=meta
        )
    if status in (405, 415):
        raise errors.Internal(
            f"Simotel refused the gateway's request to {path} (HTTP {status}){said}", metadata=meta
        )
    if status >= 500:
        raise errors.Unavailable(f"Simotel failed on {path} (HTTP {status}){said}", metadata=meta)
    if status >= 300:
        raise errors.PbxError(f"Simotel answered HTTP {status} on {path}{said}", metadata=meta)
    if not isinstance(body, dict):
        raise errors.Unavailable(
            f"Simotel's answer to {path} is not a JSON envelope ({len(text)} bytes)",
            metadata={"path": path},
        )
    success = body.get("success")
    if success is None and "status" in body:
        # The users/add page's non-envelope shape (a DOC-BUG): accepted.
        success = 1 if str(body.get("status")).lower() == "success" else 0
        return body if success else _refused(path, msg, meta)
    if success in (1, True, "1", "true"):
        return body.get("data")
    return _refused(path, msg, meta)


def _refused(path: str, msg: str, meta: dict[str, str]) -> Any:
    low = msg.lower()
    text = f"Simotel refused {path}: {msg[:200] or 'no reason given'}"
    if any(k in low for k in _EXISTS):
        raise errors.AlreadyExists(text, metadata=meta)
    if any(k in low for k in _INVALID):
        raise errors.InvalidArgument(text, metadata=meta)
    raise errors.PbxError(text, metadata=meta)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a paginated answer."""

    rows: list[dict[str, Any]]
    start: int
    count: int
    # None when the answer gave none.
    total: int | None


def page_of(data: Any) -> Page:
    """A paginated answer's ``data`` (``{"pagination": {...}, "data": [...]}``)."""
    if not isinstance(data, dict):
        raise errors.Unavailable("Simotel's paginated answer has no pagination object")
    pag = data.get("pagination") or {}
    rows = data.get("data") or []
    if not isinstance(rows, list):
        rows = []

    def num(key: str) -> int | None:
        try:
            return int(pag[key])
        except (KeyError, TypeError, ValueError):
            return None

    return Page(
        [r for r in rows if isinstance(r, dict)],
        num("start") or 0,
        num("count") or 0,
        num("total"),
    )


class SimotelClient:
    """Calls the API of one Simotel; connections are reused."""

    def __init__(
        self,
        config: SimotelBackendConfig,
        *,
        on_auth: Callable[[bool, str], None] | None = None,
    ) -> None:
        self.config = config
        self.base = api_base(config.url, config.api_version)
        # Told of every 401 (False) and every answer past authentication (True).
        self._on_auth = on_auth
        # Each round trip timed for the request latency metric (RequestTimings).
        self.round_trips = RoundTrips()
        self._http = self._new_http()
        # Built once: no secret file is read per request.
        self._auth = self._auth_headers()

    def _new_http(self) -> httpx.AsyncClient:
        config = self.config
        verify: ssl.SSLContext | bool = config.verify_tls
        if config.verify_tls and config.ca_file is not None:
            verify = ssl.create_default_context(cafile=str(config.ca_file))
        return httpx.AsyncClient(
            verify=verify,
            timeout=httpx.Timeout(config.request_timeout, connect=config.connect_timeout),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            follow_redirects=False,
        )

    def _auth_headers(self) -> dict[str, str]:
        c = self.config
        headers: dict[str, str] = {}
        if c.auth in ("basic", "both"):
            token = base64.b64encode(f"{c.username}:{c.read_password()}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        if c.auth in ("token", "both"):
            headers["X-APIKEY"] = c.read_api_key()
        return headers

    async def call(self, path: str, body: Any = None) -> Any:
        """POSTs ``body`` (JSON) to ``path`` and returns the answer's ``data``."""
        return await self.round_trips.timed(path, self._call(path, body))

    async def _call(self, path: str, body: Any) -> Any:
        url = join(self.base, path)
        if self._http.is_closed:
            # Started again after a stop (a cluster instance won the link back).
            self._http = self._new_http()
        try:
            response = await self._http.post(
                url, content=json.dumps({} if body is None else body), headers=self._auth
            )
        except httpx.TimeoutException as exc:
            raise errors.DeadlineExceeded(
                f"Simotel did not answer {path} in time ({type(exc).__name__})",
                metadata={"path": path},
            ) from None
        except httpx.HTTPError as exc:
            raise errors.Unavailable(
                f"cannot reach Simotel for {path}: {type(exc).__name__}",
                metadata={"path": path},
            ) from None
        try:
            data = decode(path, response.status_code, response.text)
        except AuthRefused as exc:
            if self._on_auth is not None:
                self._on_auth(False, exc.message)
            raise
        if self._on_auth is not None:
            self._on_auth(True, "")
        return data

    async def page(
        self,
        path: str,
        body: dict[str, Any],
        start: int,
        count: int,
        sorting: dict[str, int] | None = None,
    ) -> Page:
        """One page of a paginated search."""
        full = dict(body)
        full["pagination"] = {"start": start, "count": count, "sorting": sorting or {}}
        return page_of(await self.call(path, full))

    async def pages(
        self, path: str, body: dict[str, Any], *, count: int, sorting: dict[str, int] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every row of a paginated search, page after page, until ``total``
        is reached or a page comes back empty (an answer without ``total``
        is walked to its empty page)."""
        start = 0
        while True:
            page = await self.page(path, body, start, count, sorting)
            for row in page.rows:
                yield row
            start += len(page.rows)
            if not page.rows or (page.total is not None and start >= page.total):
                return

    async def ordered(self, path: str, last_id: str = "") -> tuple[str, list[dict[str, Any]]]:
        """One step of an ``…/ordered/id`` cursor: (the next ``_id``, the rows)."""
        data = await self.call(path, {"_id": last_id})
        if not isinstance(data, dict):
            return last_id, []
        rows = [r for r in data.get("data") or [] if isinstance(r, dict)]
        next_id = str(data.get("last_id") or (rows[-1].get("_id") if rows else last_id) or "")
        return next_id, rows

    async def close(self) -> None:
        await self._http.aclose()
