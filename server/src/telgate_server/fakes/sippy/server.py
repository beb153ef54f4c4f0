"""A fake Sippy Softswitch: real HTTP/1.1 (asyncio streams, keep-alive),
real Digest auth (RFC 2617 / 7616: MD5 by default, SHA-256 on request,
qop=auth, nonce counts checked, stale nonces), XML-RPC bodies as the
reference and fixtures show, faults and HTTP errors on demand, and a CDR
table that keeps growing (some rows late: written with a setup time in the
past, as a long call's CDR is).

The CDR methods filter on ``setup_time`` within [start_date, end_date]
(inclusive; what real Sippy filters on is not documented) and answer rows
in ``i_cdr`` order, ``limit`` from ``offset``."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import random
import re
import secrets
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from telgate_server.backends.sippy import xmlrpc
from telgate_server.backends.sippy.dates import format_date, parse_date

log = logging.getLogger("telgate.fake_sippy")

PATH = "/xmlapi/xmlapi"
REALM = "sippy-xmlapi-fake"
MAX_BODY = 1024 * 1024
_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')


# The Digest algorithms the fake can offer (which one real Sippy uses is not
# documented: MD5 is what its public clients negotiate).
_HASHES = {"MD5": "md5", "SHA-256": "sha256"}


def _digest(algorithm: str, text: str) -> str:
    return hashlib.new(_HASHES[algorithm], text.encode(), usedforsecurity=False).hexdigest()


@dataclass(slots=True)
class _Nonce:
    issued: float
    last_nc: int = 0
    stale: bool = False


@dataclass(slots=True)
class FakeCdr:
    """One row of the fake's CDR table (times in POSIX seconds)."""

    i_cdr: int
    setup: float
    connect: float | None
    disconnect: float
    cli: str
    cld: str
    result: int = 0
    i_account: int = 17
    # Text (as N8N's builds send it) or a float (a <double>, as others do).
    cost: str | float = "0.0100"

    def row(self) -> dict[str, Any]:
        duration = 0.0 if self.connect is None else self.disconnect - self.connect
        return {
            "i_cdr": self.i_cdr,
            "i_call": str(5550000 + self.i_cdr),
            "call_id": f"fake-{self.i_cdr}@203.0.113.10",
            "i_account": self.i_account,
            "setup_time": format_date(self.setup),
            "connect_time": None if self.connect is None else format_date(self.connect),
            "disconnect_time": format_date(self.disconnect),
            "duration": round(duration, 2),
            "billed_duration": int(-(-duration // 60) * 60) if duration else 0,
            "cli": self.cli,
            "cld": self.cld,
            "cli_in": self.cli,
            "cld_in": self.cld,
            "cost": self.cost if duration else "0.0000",
            "price_1": 0.012,
            "price_n": 0.012,
            "interval_1": 60,
            "interval_n": 60,
            "result": self.result,
            "release_source": "caller",
            "remote_ip": "198.51.100.23",
            "protocol": "SIP",
            "country": "Germany",
            "description": "Germany - Mobile",
            "lrn_cld": None,
            "p_asserted_id": None,
        }


@dataclass
class FakeSippy:
    """The fake switch's state and its HTTP server."""

    username: str = "api-user"
    password: str = "PLACEHOLDER-API-PASSWORD"
    # Nonces older than this are answered `stale=true`.
    nonce_ttl: float = 300.0
    # The challenge's algorithm ("MD5" or "SHA-256") and qop ("auth"; any
    # other value is offered as is, to test a client that cannot do it).
    algorithm: str = "MD5"
    qop: str = "auth"
    # Added before each CDR page answer (to make a page slow on purpose).
    page_delay: float = 0.0
    clock: Callable[[], float] = time.time
    cdrs: list[FakeCdr] = field(default_factory=list)
    # Each account's base currency (getAccountInfo); CDRs name their account.
    currencies: dict[int, str] = field(default_factory=lambda: {17: "USD"})
    # Counters and what was asked (for tests).
    requests: int = 0
    challenges: int = 0
    stale_answers: int = 0
    auth_failures: int = 0
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._nonces: dict[str, _Nonce] = {}
        self._opaque = secrets.token_hex(16)
        self._faults: list[tuple[str, int, str]] = []
        # (method or None for any, what to answer), in the order given.
        self._raw: list[tuple[str | None, bytes]] = []
        self._http_errors: list[tuple[str | None, int]] = []
        self._server: asyncio.Server | None = None
        self._traffic: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self.port = 0
        self._scheme = "http"
        # Set whenever a CDR page is answered (tests wait on it).
        self.page_served = asyncio.Event()
        self.pages_served = 0

    # -- control (tests and the demo) -----------------------------------------

    def fault_next(self, method: str, code: int, text: str) -> None:
        """The next call of ``method`` answers this fault (HTTP 200)."""
        self._faults.append((method, code, text))

    def http_error_next(self, status: int, method: str | None = None) -> None:
        """The next request for ``method`` (None: any request) answers this
        HTTP status with an empty body, as a proxy in front of a switch that
        is down does. Name the method a test means: a gateway's background
        calls (poller, probe) must not use up what the test set."""
        self._http_errors.append((method, status))

    def raw_next(self, body: bytes, method: str | None = None) -> None:
        """The next authenticated call of ``method`` (None: any) answers this body as is."""
        self._raw.append((method, body))

    def expire_nonces(self) -> None:
        """Every nonce handed out so far is now stale."""
        for nonce in self._nonces.values():
            nonce.stale = True

    def add_cdr(
        self,
        setup: float,
        *,
        talk: float = 30.0,
        answered: bool = True,
        result: int | None = None,
        cli: str = "442071230001",
        cld: str = "4915100000001",
        account: int = 17,
        cost: str | float = "0.0100",
    ) -> FakeCdr:
        """Writes one CDR row (as the switch does when the call ends)."""
        i_cdr = next(self._ids)
        connect = setup + 2.0 if answered else None
        end = (connect + talk) if connect is not None else setup + 8.0
        cdr = FakeCdr(
            i_cdr,
            setup,
            connect,
            end,
            cli,
            cld,
            result=(0 if answered else 486) if result is None else result,
            i_account=account,
            cost=cost,
        )
        self.cdrs.append(cdr)
        return cdr

    async def traffic(
        self, rate: float = 2.0, late_share: float = 0.1, late_by: float = 60.0
    ) -> None:
        """Writes about ``rate`` CDRs a second forever; ``late_share`` of them
        are late (their setup time ``late_by`` seconds further in the past)."""
        rng = random.Random(7)
        n = 0
        while True:
            await asyncio.sleep(1.0 / rate)
            n += 1
            now = self.clock()
            talk = rng.uniform(0, 120) if rng.random() > 0.2 else 0.0
            setup = now - talk - 3.0
            if rng.random() < late_share:
                setup -= late_by
            self.add_cdr(
                setup,
                talk=talk,
                answered=talk > 0,
                cli=f"4420712{n % 10000:04d}",
                cld=f"49151{rng.randrange(10**6):06d}",
            )

    # -- the server ------------------------------------------------------------

    async def start(
        self, host: str = "127.0.0.1", port: int = 0, *, tls: ssl.SSLContext | None = None
    ) -> int:
        """Listens (HTTPS with ``tls``); returns the port."""
        self._server = await asyncio.start_server(self._serve, host, port, ssl=tls)
        self.port = int(self._server.sockets[0].getsockname()[1])
        self._scheme = "https" if tls is not None else "http"
        return self.port

    @property
    def url(self) -> str:
        return f"{self._scheme}://127.0.0.1:{self.port}{PATH}"

    async def stop(self) -> None:
        if self._traffic is not None:
            self._traffic.cancel()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = ([*lines[0].split(" "), "", ""])[:3]
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0") or 0)
                if length > MAX_BODY:
                    await self._answer(writer, 413, b"")
                    return
                body = await reader.readexactly(length) if length else b""
                status, extra, out = await self._handle(method, target, headers, body)
                await self._answer(writer, status, out, extra)
        except (
            asyncio.IncompleteReadError,
            ConnectionError,
            asyncio.LimitOverrunError,
            ssl.SSLError,
        ):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    @staticmethod
    async def _answer(
        writer: asyncio.StreamWriter, status: int, body: bytes, extra: dict[str, str] | None = None
    ) -> None:
        reason = {
            200: "OK",
            401: "Unauthorized",
            404: "Not Found",
            405: "Method Not Allowed",
            502: "Bad Gateway",
            503: "Service Unavailable",
        }
        head = [f"HTTP/1.1 {status} {reason.get(status, 'Error')}"]
        for name, value in (extra or {}).items():
            head.append(f"{name}: {value}")
        head.append("Content-Type: text/xml")
        head.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()

    def _challenge(self, stale: bool = False) -> dict[str, str]:
        nonce = secrets.token_hex(16)
        self._nonces[nonce] = _Nonce(self.clock())
        self.challenges += 1
        value = (
            f'Digest realm="{REALM}", qop="{self.qop}", algorithm={self.algorithm}, '
            f'nonce="{nonce}", '
            f'opaque="{self._opaque}"'
        )
        if stale:
            self.stale_answers += 1
            value += ", stale=true"
        return {"WWW-Authenticate": value}

    def _authorized(self, method: str, headers: dict[str, str]) -> bool | None:
        """True: authorized; None: a stale nonce; False: refused."""
        value = headers.get("authorization", "")
        if not value.lower().startswith("digest "):
            return False
        p = {
            m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
            for m in _PARAM.finditer(value[7:])
        }
        nonce = self._nonces.get(p.get("nonce", ""))
        if (
            nonce is None
            or p.get("username") != self.username
            or p.get("realm") != REALM
            or p.get("uri") != PATH
            or p.get("qop") != "auth"
            or p.get("opaque") != self._opaque
            or p.get("algorithm", "MD5").upper() != self.algorithm
        ):
            return False
        h = self.algorithm
        ha1 = _digest(h, f"{self.username}:{REALM}:{self.password}")
        ha2 = _digest(h, f"{method}:{PATH}")
        nc, cnonce = p.get("nc", ""), p.get("cnonce", "")
        expected = _digest(h, f"{ha1}:{p['nonce']}:{nc}:{cnonce}:auth:{ha2}")
        if not secrets.compare_digest(expected, p.get("response", "")):
            return False
        if nonce.stale or self.clock() - nonce.issued > self.nonce_ttl:
            return None
        try:
            count = int(nc, 16)
        except ValueError:
            return False
        if count <= nonce.last_nc:
            # A replayed nonce count.
            return False
        nonce.last_nc = count
        return True

    async def _handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        self.requests += 1
        if (status := _take(self._http_errors, _method_of(body))) is not None:
            return status, {}, b""
        if target.split("?", maxsplit=1)[0] != PATH:
            return 404, {}, b""
        if method != "POST":
            return 405, {}, b""
        ok = self._authorized(method, headers)
        if ok is None:
            return 401, self._challenge(stale=True), b""
        if not ok:
            if "authorization" in headers:
                self.auth_failures += 1
            return 401, self._challenge(), b""
        if (raw := _take(self._raw, _method_of(body))) is not None:
            return 200, {}, raw
        try:
            name, params = xmlrpc.parse_call(body)
        except xmlrpc.XmlRpcBodyError as exc:
            return 200, {}, xmlrpc.fault_response(-32700, f"parse error: {exc}")
        struct: dict[str, Any] = params[0] if params and isinstance(params[0], dict) else {}
        self.calls.append((name, struct))
        for i, (fault_method, code, text) in enumerate(self._faults):
            if fault_method == name:
                del self._faults[i]
                return 200, {}, xmlrpc.fault_response(code, text)
        try:
            value = await self._method(name, struct)
        except _FaultError as fault:
            return 200, {}, xmlrpc.fault_response(fault.code, fault.text)
        return 200, {}, xmlrpc.method_response(value)

    async def _method(self, name: str, p: dict[str, Any]) -> Any:
        if name == "listAccounts":
            return {
                "result": "OK",
                "accounts": [
                    {
                        "i_account": 17,
                        "username": "acme-trunk-01",
                        "description": "ACME main trunk account",
                        "blocked": False,
                        "expired": False,
                        "balance": 125.5,
                        "credit_limit": 0.0,
                        "base_currency": "USD",
                        "registration_status": None,
                    }
                ][: int(p.get("limit", 1) or 1)],
            }
        if name == "getAccountInfo":
            account = p.get("i_account")
            if account not in self.currencies:
                raise _FaultError(404, "Account not found")
            # As the reference says: the balance comes with its sign inverted.
            return {
                "result": "OK",
                "i_account": account,
                "username": f"account-{account}",
                "i_customer": 43,
                "balance": -125.5,
                "credit_limit": 0.0,
                "base_currency": self.currencies[account],
                "blocked": False,
            }
        if name == "getRegistrationStatus":
            raise _FaultError(403, "Account is not registered")
        if name in ("getAccountCDRs", "getCustomerCDRs"):
            return await self._cdr_page(name, p)
        raise _FaultError(-32601, f"Method {name[:60]} is not supported")

    async def _cdr_page(self, name: str, p: dict[str, Any]) -> dict[str, Any]:
        try:
            start = parse_date(p.get("start_date"))
            end = parse_date(p.get("end_date"))
        except ValueError:
            field_name = "start_date" if "start_date" in p else "end_date"
            raise _FaultError(400, f"Invalid value for {field_name}") from None
        now = self.clock()
        if start is None:
            # Sippy's documented default: the last hour only.
            start = now - 3600
        if end is None:
            end = now
        offset = int(p.get("offset") or 0)
        limit = int(p.get("limit") or 100)
        if self.page_delay:
            await asyncio.sleep(self.page_delay)
        rows = [c for c in self.cdrs if start <= c.setup <= end]
        if p.get("type", "non_zero_and_errors") != "all":
            rows = [c for c in rows if c.connect is not None or c.result]
        page = rows[offset : offset + limit]
        self.pages_served += 1
        self.page_served.set()
        if name == "getCustomerCDRs":
            out = []
            for c in page:
                row = c.row()
                row["i_customer"] = 43
                for key in ("i_cdr", "i_account", "disconnect_time", "duration"):
                    row.pop(key, None)
                out.append(row)
            return {"result": "OK", "cdrs": out}
        return {"result": "OK", "cdrs": [c.row() for c in page]}


T = TypeVar("T")


def _method_of(body: bytes) -> str:
    """The XML-RPC method a request body calls ("" when it is not a call)."""
    try:
        return xmlrpc.parse_call(body)[0]
    except xmlrpc.XmlRpcBodyError:
        return ""


def _take(queue: list[tuple[str | None, T]], method: str) -> T | None:
    """Removes and returns the first entry meant for ``method`` (or any)."""
    for i, (wanted, value) in enumerate(queue):
        if wanted is None or wanted == method:
            del queue[i]
            return value
    return None


class _FaultError(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text
