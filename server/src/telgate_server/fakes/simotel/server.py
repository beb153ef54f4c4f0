"""A fake Simotel for tests and the demo: the v4 API over real HTTP (aiohttp)
with the error table of the official docs, pagination with ``total``, the
ordered CDR cursor, queues, and two-way calls that progress and fire their
webhooks (G or Rest style; JSON, form or query) at a configured URL, ending in
a Cdr webhook. Faults on demand: HTTP 500s, slow answers, dropped connections.

Texts come from the reference (../shared/reference/simotel.md §1.4)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import datetime
import hmac
import itertools
import json
import logging
import secrets
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

log = logging.getLogger("telgate.fake_simotel")

PREFIX = "/api/v4/"
MISSING = "BasicAuth or ApiKey is missing"
INVALID = "BasicAuth or ApiKey is invalid"
IP_REFUSED = "IP is not permitted"
PARSE = "Unable to parse content"
MEDIA = "Unsupported Media Type"
METHOD = "Method not allowed"
NO_SERVICE = "Requested service does not exist"
DONE = "Requested operation is done successfully"
PING = "If the 'Ping' event is enabled in the settings menu, you'll receive it when it's sent"
NOT_FOUND_PAGE = (
    "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>"
)
# Rows per `reports/cdr/ordered/id` answer (the docs say 20).
ORDERED_ROWS = 20

Style = Literal["G", "Rest"]
Encoding = Literal["json", "form", "query"]


@dataclass
class WebhookTarget:
    """Where and how the fake sends its webhooks."""

    url: str
    style: Style = "G"
    encoding: Encoding = "json"
    username: str = ""
    password: str = ""
    # Rest style: the event name's case in the path ("lower" as one doc sample).
    lower_path: bool = False


@dataclass
class CallPlan:
    """How calls placed by originate go: seconds to ring, to talk; parties
    that never answer or are busy."""

    ring: float = 0.05
    talk: float = 0.1
    never_answer: set[str] = field(default_factory=set)
    busy: set[str] = field(default_factory=set)
    # When set, the first party answers once the event is set (instead of
    # after `ring`), and the call ends once `hang_up` is set (instead of after
    # `talk`): a test holds a call in a state for as long as it looks at it.
    answer: asyncio.Event | None = None
    hang_up: asyncio.Event | None = None


@dataclass
class Faults:
    """Injected faults, consumed one request at a time.

    With ``only`` set, only requests for that service (``setting/ping/act``, say)
    take a fault, so a background request of the gateway cannot use it up.
    """

    only: str = ""
    errors_500: int = 0
    slow: float = 0.0
    slow_count: int = 0
    drops: int = 0
    # The next requests answered with the documented error of each status
    # (400, 401, 403, 404, 405, 415 or 501: DOCUMENTED), one request each.
    documented: list[int] = field(default_factory=list)
    # The next requests answered HTTP 200 with `success: 0` and each message.
    refusals: list[str] = field(default_factory=list)


def envelope(
    success: int, message: str | None, data: Any = None, status: int = 200
) -> web.Response:
    return web.json_response({"success": success, "message": message, "data": data}, status=status)


# The answers of the docs' error table, by HTTP status (§1.4).
DOCUMENTED = {
    400: PARSE,
    401: INVALID,
    403: "Access denied",
    405: METHOD,
    415: MEDIA,
    501: NO_SERVICE,
}


def documented(status: int, service: str) -> web.Response:
    """The documented answer of ``status`` to a request for ``service``."""
    if status == 404:
        return web.Response(status=404, text=NOT_FOUND_PAGE, content_type="text/html")
    if status == 403:
        return envelope(0, f'"{service}";Access denied', status=403)
    return envelope(0, DOCUMENTED[status], status=status)


# The fake's credentials unless given: made per process, never literals, so a
# test or the demo always says which ones the gateway must use.
FAKE_PASSWORD = secrets.token_urlsafe(12)
FAKE_API_KEY = secrets.token_urlsafe(12)


class FakeSimotel:
    """The fake PBX; ``start()`` binds it to a free port (or the one given)."""

    def __init__(
        self,
        *,
        username: str = "telgate-api",
        password: str = FAKE_PASSWORD,
        api_key: str = FAKE_API_KEY,
        auth: Literal["basic", "token", "both"] = "basic",
        timezone: str = "Asia/Tehran",
        webhook: WebhookTarget | None = None,
        plan: CallPlan | None = None,
    ) -> None:
        self.username, self.password, self.api_key, self.auth = username, password, api_key, auth
        self.zone = ZoneInfo(timezone)
        self.webhook = webhook
        self.plan = plan or CallPlan()
        self.faults = Faults()
        # Refused with 403 "IP is not permitted" / ";Access denied" for these paths.
        self.ip_allowed = True
        # Whether `setting/ping/act` fires a Ping webhook (the "Ping" event ticked).
        self.ping_event = False
        self.denied_paths: set[str] = set()
        # Whether paginated answers carry `total` (False: as a PBX that leaves it out).
        self.page_total = True
        self.queues: dict[str, dict[str, Any]] = {
            "900": {
                "_id": "65f0a1b2c3d4e5f601234599",
                "name": "Support",
                "number": "900",
                "strategy": "ringall",
                "maxlen": "0",
            }
        }
        # Queue -> agent -> paused. 216 is a member added on the PBX itself.
        self.agents: dict[str, dict[str, bool]] = {"900": {"216": False}}
        # Extensions (number -> name); `pbx/users/search` lists each one's
        # queues as their numbers (the docs' sample shows only `queues: []`).
        self.users: dict[str, str] = {"215": "Sara Ahmadi", "216": "Reza Karimi"}
        self.cdrs: list[dict[str, Any]] = []
        # The queue report (`reports/queue/ordered/id`), ordered by `_id`.
        self.queue_records: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.webhooks_sent = 0
        self.webhook_failures = 0
        self._ids = itertools.count(1)
        self._uids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0
        self._tls = False
        self.app = web.Application()
        self.app.router.add_route("*", "/{tail:.*}", self._entry)

    @property
    def url(self) -> str:
        scheme = "https" if self._tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}/api"

    async def start(
        self, host: str = "127.0.0.1", port: int = 0, *, tls: ssl.SSLContext | None = None
    ) -> int:
        """Serves on ``port`` (0: a free one), over TLS with ``tls``."""
        self._tls = tls is not None
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, ssl_context=tls)
        await site.start()
        server: Any = site._server
        self.port = int(server.sockets[0].getsockname()[1])
        self._session = aiohttp.ClientSession()
        return self.port

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- the API ---------------------------------------------------------------

    def _auth_ok(self, request: web.Request) -> str | None:
        """None when authenticated, else the 401 message."""
        header = request.headers.get("Authorization", "")
        key = request.headers.get("X-APIKEY")
        need_basic = self.auth in ("basic", "both")
        need_key = self.auth in ("token", "both")
        if not header and key is None:
            return MISSING
        if need_basic:
            scheme, _, token = header.partition(" ")
            try:
                user, _, pwd = base64.b64decode(token, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return INVALID
            if scheme.lower() != "basic" or not (
                hmac.compare_digest(user, self.username) and hmac.compare_digest(pwd, self.password)
            ):
                return INVALID
        if need_key and not hmac.compare_digest(key or "", self.api_key):
            return INVALID
        return None

    async def _entry(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if not path.startswith(PREFIX):
            return documented(404, path)
        service = path[len(PREFIX) :].strip("/")
        faults = self.faults if self.faults.only in ("", service) else Faults()
        if faults.drops > 0:
            faults.drops -= 1
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=500)
        if faults.slow_count > 0:
            faults.slow_count -= 1
            await asyncio.sleep(faults.slow)
        if faults.errors_500 > 0:
            faults.errors_500 -= 1
            return web.Response(status=500, text="Internal Server Error")
        if faults.documented:
            return documented(faults.documented.pop(0), service)
        if faults.refusals:
            return envelope(0, faults.refusals.pop(0))
        if request.method != "POST" and not (
            service == "setting/ping/act" and request.method == "PUT"
        ):
            return envelope(0, METHOD, status=405)
        if not self.ip_allowed:
            return envelope(0, IP_REFUSED, status=403)
        refused = self._auth_ok(request)
        if refused is not None:
            return envelope(0, refused, status=401)
        if request.content_type != "application/json":
            return envelope(0, MEDIA, status=415)
        raw = await request.read()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return envelope(0, PARSE, status=400)
        if isinstance(body, list) and not body:
            body = {}  # PHPC sends `[]` as the body of ping.
        if not isinstance(body, dict):
            return envelope(0, PARSE, status=400)
        handler = HANDLERS.get(service)
        if handler is None:
            return envelope(0, NO_SERVICE, status=501)
        if "/" + service in self.denied_paths:
            return documented(403, service)
        self.requests.append((request.method, service, dict(request.headers)))
        return await handler(self, body)

    async def _ping(self, body: dict[str, Any]) -> web.Response:
        if self.ping_event:
            self._fire({"event_name": "Ping"})
        return envelope(1, PING, None)

    async def _originate(self, body: dict[str, Any]) -> web.Response:
        for key in ("caller", "callee", "context", "caller_id"):
            if not str(body.get(key, "")):
                return envelope(0, f"Field '{key}':value is missing")
        orig = f"orig.call.{int(time.time())}.{next(self._uids)}"
        self._spawn(self._call(orig, body))
        return envelope(1, None, {"originated_call_id": orig})

    async def _queue_search(self, body: dict[str, Any]) -> web.Response:
        number = str((body.get("conditions") or {}).get("number", ""))
        rows = [q for q in self.queues.values() if not number or q["number"] == number]
        return envelope(1, "", rows)

    async def _user_search(self, body: dict[str, Any]) -> web.Response:
        number = str((body.get("conditions") or {}).get("number", ""))
        rows = [
            {
                "_id": f"66ac9f1e2b7d4c0a1f3e{int(n):04d}",
                "name": name,
                "number": n,
                "secret": "******",
                "queues": sorted(q for q, agents in self.agents.items() if n in agents),
            }
            for n, name in sorted(self.users.items())
            if not number or n == number
        ]
        return envelope(1, "", rows)

    async def _agent_op(self, body: dict[str, Any], op: str) -> web.Response:
        queue, agent = str(body.get("queue", "")), str(body.get("agent", ""))
        if queue not in self.queues:
            return envelope(0, "Requested operation failed")
        agents = self.agents.setdefault(queue, {})
        if op == "add":
            if agent in agents:
                return envelope(0, "This agent already exists")
            agents[agent] = False
            return envelope(1, "", {"message": "Added successfully", "ok": 1})
        if agent not in agents:
            return envelope(0, "Requested operation failed")
        if op == "remove":
            del agents[agent]
            return envelope(1, "", {"message": "Removed successfully", "ok": 1})
        agents[agent] = op == "pause"
        text = "Paused successfully" if op == "pause" else "UnPaused successfully"
        return envelope(1, "", {"message": text, "ok": 1})

    async def _cdr_search(self, body: dict[str, Any]) -> web.Response:
        pag = body.get("pagination") or {}
        start, count = int(pag.get("start", 0)), int(pag.get("count", 20) or 20)
        rows = self.cdrs
        cuid = str((body.get("conditions") or {}).get("cuid", ""))
        if cuid:
            rows = [r for r in rows if r["cuid"] == cuid]
        pagination: dict[str, Any] = {
            "start": start,
            "count": count,
            "sorting": pag.get("sorting") or {"starttime": -1},
        }
        if self.page_total:
            pagination["total"] = len(rows)
        out = {
            "pagination": pagination,
            "target": "cdr",
            "useGroupBy": False,
            "data": rows[start : start + count],
        }
        return envelope(1, DONE, out)

    async def _cdr_ordered(self, body: dict[str, Any]) -> web.Response:
        return _ordered(self.cdrs, body)

    async def _queue_ordered(self, body: dict[str, Any]) -> web.Response:
        return _ordered(self.queue_records, body)

    # -- calls and webhooks ----------------------------------------------------

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _local(self, seconds: float) -> str:
        return datetime.datetime.fromtimestamp(seconds, self.zone).strftime("%Y-%m-%d %H:%M:%S.%f")

    def add_cdr(
        self,
        *,
        src: str,
        dst: str,
        start: float,
        wait: float,
        billsec: float,
        disposition: str,
        uid: str,
        kind: str = "outgoing",
        originated_call_id: str = "",
    ) -> dict[str, Any]:
        """Stores a CDR in the report (ordered by `_id`) and returns its webhook body."""
        end = start + wait + billsec
        row: dict[str, Any] = {
            "_id": self._object_id(),
            "type": kind,
            "cuid": uid,
            "uniqueid": uid,
            "src": src,
            "dst": dst,
            "start": self._local(start)[:19],
            "answer": self._local(start + wait)[:19] if disposition == "ANSWERED" else "",
            "duration": round(wait + billsec),
            "billsec": round(billsec),
            "wait": round(wait),
            "disposition": disposition,
            "starttime": self._local(start)[:19],
            "endtime": {"$date": {"$numberLong": str(int(end * 1000))}},
            "originated_call_id": originated_call_id,
            "comment": f"originated call: {originated_call_id}" if originated_call_id else "",
        }
        self.cdrs.append(row)
        return {
            "event_name": "Cdr",
            "starttime": self._local(start),
            "endtime": self._local(end),
            "src": src,
            "dst": dst,
            "type": kind,
            "disposition": disposition,
            "duration": round(wait + billsec),
            "billsec": round(billsec),
            "wait": round(wait),
            "unique_id": uid,
            "originated_call_id": originated_call_id,
        }

    def _object_id(self) -> str:
        # As MongoDB's ObjectIds: the second it was written, then a counter.
        return f"{int(time.time()):08x}{next(self._ids):016x}"

    def add_queue_cdr(
        self,
        *,
        src: str,
        agent: str,
        queue: str,
        start: float,
        wait: float,
        billsec: float,
        uid: str,
        disposition: str = "ANSWERED",
        with_cuid: bool = True,
    ) -> dict[str, Any]:
        """Stores a queued call's record in the queue report and returns its
        CdrQueue webhook body (``with_cuid`` False: a row as the docs' ordered
        sample shows it, without the call id)."""
        end = start + wait + billsec
        row: dict[str, Any] = {
            "_id": self._object_id(),
            "src": src,
            "dst": agent,
            "qnum": queue,
            "starttime": self._local(start)[:19],
            "endtime": self._local(end)[:19],
            "answeredtime": {"$date": {"$numberLong": str(int((start + wait) * 1000))}},
            "disposition": disposition,
            "duration": round(wait + billsec),
            "billsec": round(billsec),
            "wait": round(wait),
            "queue_status": "CONTINUE",
        }
        if with_cuid:
            row["cuid"] = uid
        self.queue_records.append(row)
        return {
            "event_name": "CdrQueue",
            "unique_id": uid,
            "src": src,
            "dst": agent,
            "queue": queue,
            "billsec": str(round(billsec)),
            "wait": str(round(wait)),
            "duration": str(round(wait + billsec)),
            "disposition": disposition,
            "queue_status": "CONTINUE",
            "starttime": self._local(start),
            "endtime": self._local(end),
        }

    async def _call(self, orig: str, body: dict[str, Any]) -> None:
        caller, callee = str(body["caller"]), str(body["callee"])
        timeout = float(str(body.get("timeout") or 30))
        uid = f"{time.time():.0f}.{next(self._uids)}"
        begin = time.time()
        ring = {
            "event_name": "NewState",
            "exten": caller,
            "state": "Ringing",
            "participant": callee,
            "direction": "out",
            "queue": "",
            "unique_id": uid,
            "dialer": "no",
        }
        await self.send(ring)
        if caller in self.plan.never_answer:
            # The docs: no CDR webhook when the first party never answers.
            await asyncio.sleep(min(timeout, self.plan.ring * 2))
            await self.send({**ring, "state": "Idle"})
            return
        await _hold(self.plan.ring, self.plan.answer)
        if caller in self.plan.busy:
            await self.send({**ring, "state": "Idle"})
            await self.send(
                self.add_cdr(
                    src=caller,
                    dst=callee,
                    start=begin,
                    wait=self.plan.ring,
                    billsec=0,
                    disposition="BUSY",
                    uid=uid,
                    originated_call_id=orig,
                )
            )
            return
        await self.send({**ring, "state": "InUse"})
        await self.send(
            {
                "event_name": "OutgoingCall",
                "number": callee,
                "outgoing_point": "Trunk-Main",
                "unique_id": uid,
                "originated_call_id": orig,
            }
        )
        await _hold(self.plan.talk, self.plan.hang_up)
        await self.send({**ring, "state": "Idle"})
        await self.send(
            self.add_cdr(
                src=caller,
                dst=callee,
                start=begin,
                wait=self.plan.ring,
                billsec=self.plan.talk,
                disposition="ANSWERED",
                uid=uid,
                originated_call_id=orig,
            )
        )

    def _fire(self, values: dict[str, Any]) -> None:
        self._spawn(self.send(values))

    async def send(self, values: dict[str, Any]) -> None:
        """Sends one webhook to the target (logged and counted when it fails)."""
        target = self.webhook
        if target is None or self._session is None or self._session.closed:
            return
        name = str(values.get("event_name") or values.get("event") or "")
        url = target.url.rstrip("/")
        if target.style == "Rest":
            url += "/" + (name.lower() if target.lower_path else name)
        headers = {}
        if target.username:
            token = base64.b64encode(f"{target.username}:{target.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        flat = {
            k: v if isinstance(v, str) else json.dumps(v) if isinstance(v, (dict, list)) else str(v)
            for k, v in values.items()
        }
        try:
            if target.encoding == "json":
                resp = await self._session.post(url, json=values, headers=headers)
            elif target.encoding == "form":
                resp = await self._session.post(url, data=flat, headers=headers)
            else:
                resp = await self._session.get(url, params=flat, headers=headers)
            async with resp:
                await resp.read()
                ok = resp.status == 200
        except aiohttp.ClientError as exc:
            log.warning("webhook %s to %s failed: %s", name, url, exc)
            ok = False
        if ok:
            self.webhooks_sent += 1
        else:
            self.webhook_failures += 1


def _ordered(rows: list[dict[str, Any]], body: dict[str, Any]) -> web.Response:
    """One step of an `…/ordered/id` cursor: the rows after `_id`."""
    after = str(body.get("_id", ""))
    page = [r for r in rows if r["_id"] > after][:ORDERED_ROWS]
    last = page[-1]["_id"] if page else after
    return envelope(1, DONE, {"last_id": last, "data": page})


async def _hold(seconds: float, gate: asyncio.Event | None) -> None:
    """Waits ``seconds``, or for ``gate`` when there is one."""
    if gate is None:
        await asyncio.sleep(seconds)
    else:
        await gate.wait()


async def _agent(op: str, fake: FakeSimotel, body: dict[str, Any]) -> web.Response:
    return await fake._agent_op(body, op)


Handler = Callable[["FakeSimotel", dict[str, Any]], Awaitable[web.Response]]
HANDLERS: dict[str, Handler] = {
    "setting/ping/act": FakeSimotel._ping,
    "call/originate/act": FakeSimotel._originate,
    "pbx/queues/search": FakeSimotel._queue_search,
    "pbx/users/search": FakeSimotel._user_search,
    "pbx/queues/addagent": lambda f, b: _agent("add", f, b),
    "pbx/queues/removeagent": lambda f, b: _agent("remove", f, b),
    "pbx/queues/pauseagent": lambda f, b: _agent("pause", f, b),
    "pbx/queues/resumeagent": lambda f, b: _agent("resume", f, b),
    "reports/cdr": FakeSimotel._cdr_search,
    "reports/cdr/search": FakeSimotel._cdr_search,
    "reports/quick/search": FakeSimotel._cdr_search,
    "reports/cdr/ordered/id": FakeSimotel._cdr_ordered,
    "reports/queue/ordered/id": FakeSimotel._queue_ordered,
}
