"""One AMI client session: authentication, permissions, event delivery, action dispatch.

Transport-agnostic: the session is given ``write(bytes)`` and ``close()``
callables by the TCP edge (server.py), and its :meth:`AmiSession.handle`
coroutine is awaited once per parsed action, in order, as Asterisk runs one
action at a time per session. The texts and header orders are those of a real
Asterisk 22 (reference/ami.md §2-§6, §13).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from ..backends.ami.codec import Header, Message, encode_message
from . import misc_actions, playback_actions, queue_actions, spy_actions, transfer_actions
from .action_catalog import ACTIONS
from .channels import UNKNOWN, Channel, event
from .commands import run_cli
from .engine import OriginateError, OriginateRequest
from .world import AmiUser, parse_classes

if TYPE_CHECKING:
    from .server import AmiSimulator

# Write classes an action needs (manager.c registrations); empty = always allowed.
ACTION_CLASSES: dict[str, frozenset[str]] = {
    name.lower(): (
        frozenset() if priv == "<none>" else frozenset(c for c in priv.split(",") if c != "all")
    )
    for name, _, priv in ACTIONS
}

# Actions answered before login (everything else: Permission denied).
_PRE_AUTH = frozenset({"login", "challenge", "logoff"})


@dataclass
class Faults:
    """Misbehaviour switched on by tests or the CLI (see AmiSimulator)."""

    slow_seconds: float = 0.0  # delay before every response
    never_answer: frozenset[str] | None = None  # action names (lower case); empty set = all
    refuse_logins: bool = False
    extra: dict[str, float] = field(default_factory=dict)

    def swallows(self, action: str) -> bool:
        """Whether the response to ``action`` must never be sent."""
        if self.never_answer is None:
            return False
        return not self.never_answer or action.lower() in self.never_answer


def _tv(epoch: float) -> str:
    """Asterisk's EventTV/SessionTV format: ``2026-11-22T20:52:53.898+0000``."""
    ms = int((epoch % 1) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{ms:03d}+0000"


class AmiSession:
    """The server side of one AMI connection."""

    def __init__(
        self,
        sim: AmiSimulator,
        write: Callable[[bytes], None],
        close: Callable[[], None],
        *,
        local: tuple[str, int],
        remote: tuple[str, int],
    ) -> None:
        self.sim = sim
        self._write = write
        self._close = close
        self.local = local
        self.remote = remote
        self.user: AmiUser | None = None
        self.events_on = True
        self.event_mask: frozenset[str] | None = None  # None: every readable class
        self.challenge = ""
        self.closed = False
        self._held: list[bytes] | None = None  # events held during a sync Originate
        # Filter action: compiled regexes matched against each event's text.
        self.include_filters: list[re.Pattern[str]] = []
        self.exclude_filters: list[re.Pattern[str]] = []
        self.session_id = f"0x{id(self) & 0xFFFFFFFFFFFF:x}"
        self.started = time.time()

    # ---------------------------------------------------------------- output

    @property
    def authenticated(self) -> bool:
        """Whether Login succeeded."""
        return self.user is not None

    def send(self, message: Message | list[Header]) -> None:
        """Writes one message (response or event) now."""
        if self.closed:
            return
        headers = message.headers if isinstance(message, Message) else message
        self._write(encode_message(headers))

    def wants(self, cls: str) -> bool:
        """Whether an event of class ``cls`` is delivered to this session."""
        if self.user is None or not self.events_on or cls not in self.user.read:
            return False
        return self.event_mask is None or cls in self.event_mask

    def deliver(self, message: Message, cls: str) -> None:
        """Delivers a broadcast event if this session reads its class."""
        if self.closed or not self.wants(cls):
            return
        data = encode_message(message.headers)
        if (self.include_filters or self.exclude_filters) and not self.passes_filters(data):
            return
        if self._held is not None:
            self._held.append(data)
        else:
            self._write(data)

    def add_filter(self, pattern: re.Pattern[str], *, exclude: bool) -> None:
        """Adds a Filter action regex (filters only stack up; Asterisk cannot remove them)."""
        (self.exclude_filters if exclude else self.include_filters).append(pattern)

    def passes_filters(self, data: bytes) -> bool:
        """manager.c's should_send_event: include filters first (any must match), then
        exclude filters (none may match); with no include filter everything is included."""
        text = data.decode("latin-1")
        if self.include_filters and not any(p.search(text) for p in self.include_filters):
            return False
        return not any(p.search(text) for p in self.exclude_filters)

    def close(self) -> None:
        """Closes the connection (after what was written)."""
        if not self.closed:
            self.closed = True
            self._close()

    # -------------------------------------------------------------- dispatch

    async def handle(self, msg: Message) -> None:
        """Runs one action and writes its response (and list events)."""
        self.sim.actions.append(msg)
        # The first non-empty Action header, as given (a trailing blank is part of it).
        action = next((v for k, v in msg.headers if k.lower() == "action" and v), "")
        lower = action.lower()
        faults = self.sim.faults
        if faults.slow_seconds > 0:
            await asyncio.sleep(faults.slow_seconds)
        if faults.swallows(action):
            return
        if not action:
            self.error(msg, "Missing action in request")
            self.security_event("RequestBadFormat", "Error", [("RequestType", "Action: NONE")])
            return
        if not self.authenticated and lower not in _PRE_AUTH:
            self.error(msg, "Permission denied")
            return
        handler = self._handlers().get(lower)
        if handler is None:
            self.error(
                msg,
                f"Invalid/unknown command: {action}. "
                "Use Action: ListCommands to show available commands.",
            )
            self.security_event("RequestBadFormat", "Error", [("RequestType", f"Action: {action}")])
            return
        needed = ACTION_CLASSES.get(lower, frozenset())
        if needed and self.user is not None and not (needed & self.user.write):
            self.error(msg, "Permission denied")
            return
        await handler(msg)

    def _handlers(self) -> dict[str, Callable[[Message], Awaitable[None]]]:
        return {
            "login": self._login,
            "challenge": self._challenge,
            "logoff": self._logoff,
            "ping": self._ping,
            "events": self._events,
            "originate": self._originate,
            "hangup": self._hangup,
            "status": self._status,
            "coreshowchannels": self._coreshowchannels,
            "command": self._command,
            "setvar": self._setvar,
            "getvar": self._getvar,
            "userevent": self._userevent,
            **{name: partial(h, self) for name, h in misc_actions.HANDLERS.items()},
            **{name: partial(h, self) for name, h in transfer_actions.HANDLERS.items()},
            **{name: partial(h, self) for name, h in queue_actions.HANDLERS.items()},
            **{name: partial(h, self) for name, h in spy_actions.HANDLERS.items()},
            **{name: partial(h, self) for name, h in playback_actions.HANDLERS.items()},
        }

    # ------------------------------------------------------------- responses

    @staticmethod
    def head(msg: Message, status: str) -> list[Header]:
        headers: list[Header] = [("Response", status)]
        aid = msg.get("ActionID")
        if aid:  # an empty ActionID is not echoed (astman_send_response_full)
            headers.append(("ActionID", aid))
        return headers

    def error(self, msg: Message, text: str) -> None:
        self.send([*self.head(msg, "Error"), ("Message", text)])

    def success(self, msg: Message, text: str | None = None, *extra: Header) -> None:
        headers = self.head(msg, "Success")
        if text is not None:
            headers.append(("Message", text))
        self.send([*headers, *extra])

    def list_event(self, msg: Message, name: str, headers: list[Header]) -> None:
        """A list item or Complete event: only for this session, no Privilege."""
        aid = msg.get("ActionID")
        head: list[Header] = [("Event", name)]
        if aid:
            head.append(("ActionID", aid))
        self.send(head + headers)

    def security_event(self, name: str, severity: str, extra: list[Header]) -> None:
        now = time.time()
        headers: list[Header] = [
            ("EventTV", _tv(now)),
            ("Severity", severity),
            ("Service", "AMI"),
            ("EventVersion", "1"),
        ]
        if name == "SuccessfulAuth":
            headers += [("AccountID", self.user.username if self.user else "")]
        headers += [
            ("SessionID", self.session_id),
            ("LocalAddress", f"IPV4/TCP/{self.local[0]}/{self.local[1]}"),
            ("RemoteAddress", f"IPV4/TCP/{self.remote[0]}/{self.remote[1]}"),
            *extra,
            ("SessionTV", _tv(self.started)),
        ]
        if name != "SuccessfulAuth":
            headers.append(("AccountID", self.user.username if self.user else ""))
        self.sim.engine.emit_message(event(name, "security,all", headers), "security")

    # --------------------------------------------------------------- actions

    async def _auth_failed(self, msg: Message) -> None:
        # Asterisk sleeps ~1 s on a failed login, answers, then hangs up.
        await asyncio.sleep(1.0 * self.sim.time_scale)
        self.error(msg, "Authentication failed")
        self.close()

    async def _login(self, msg: Message) -> None:
        if self.authenticated:
            self.success(msg, "Already authenticated")
            return
        self.sim.login_attempts += 1
        username = msg.get("Username") or ""
        user = self.sim.world.users.get(username)
        ok = False
        if user is not None and not self.sim.faults.refuse_logins:
            auth_type = (msg.get("AuthType") or "").lower()
            if auth_type == "md5":
                key = (msg.get("Key") or "").lower()
                if self.challenge:
                    expect = hashlib.md5(
                        (self.challenge + user.secret).encode(), usedforsecurity=False
                    ).hexdigest()
                    ok = key == expect
            else:
                ok = (msg.get("Secret") or "") == user.secret
        if not ok:
            await self._auth_failed(msg)
            return
        assert user is not None
        self.user = user
        self._apply_event_mask(msg.get("Events"), login=True)
        self.success(msg, "Authentication accepted")
        if self.wants("system"):
            uptime = str(self.sim.engine.uptime())
            self.send(
                event(
                    "FullyBooted",
                    "system,all",
                    [("Uptime", uptime), ("LastReload", uptime), ("Status", "Fully Booted")],
                )
            )
        self.security_event("SuccessfulAuth", "Informational", [("UsingPassword", "0")])

    async def _challenge(self, msg: Message) -> None:
        if (msg.get("AuthType") or "").lower() != "md5":
            self.error(msg, "Must specify AuthType")
            return
        if not self.challenge:
            self.challenge = self.sim.fixed_challenge or str(
                random.randint(100_000_000, 999_999_999)
            )
        self.send([*self.head(msg, "Success"), ("Challenge", self.challenge)])

    async def _logoff(self, msg: Message) -> None:
        self.send([*self.head(msg, "Goodbye"), ("Message", "Thanks for all the fish.")])
        self.close()

    async def _ping(self, msg: Message) -> None:
        self.send(
            [*self.head(msg, "Success"), ("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}")]
        )

    def _apply_event_mask(self, value: str | None, *, login: bool = False) -> bool:
        """Applies an ``Events:``/``EventMask:`` value; returns whether events are on."""
        if value is None:
            return self.events_on
        word = value.strip().lower()
        if word in {"on", "yes", "true", "1"}:
            self.events_on, self.event_mask = True, None
        elif word in {"off", "no", "false", "0"}:
            self.events_on = False
        else:
            classes = parse_classes(word)
            self.events_on = bool(classes)
            self.event_mask = classes or None
        del login
        return self.events_on

    async def _events(self, msg: Message) -> None:
        on = self._apply_event_mask(msg.get("EventMask") or "off")
        self.send([*self.head(msg, "Success"), ("Events", "On" if on else "Off")])

    async def _originate(self, msg: Message) -> None:
        channel = msg.get("Channel") or ""
        if not channel:
            self.error(msg, "Channel not specified")
            return
        app = msg.get("Application") or ""
        exten, context, priority = (msg.get(k) or "" for k in ("Exten", "Context", "Priority"))
        # manager.c action_originate's checks, in its order. A priority that is not a
        # number is a label, and the lab's dialplan has none.
        if priority and not priority.lstrip("-").isdigit():
            self.error(msg, "Invalid priority")
            return
        raw_timeout = msg.get("Timeout") or ""
        if raw_timeout and not raw_timeout.lstrip("-").isdigit():
            self.error(msg, "Invalid timeout")
            return
        timeout = int(raw_timeout) if raw_timeout else 30000
        if "/" not in channel:
            self.error(msg, "Invalid channel")
            return
        if priority and int(priority) > 0 and not self.sim.engine.world.has_exten(context, exten):
            self.error(msg, "Extension does not exist.")
            return
        if not app and not (exten and context and priority and int(priority) > 0):
            self.error(msg, "Originate with 'Exten' requires 'Context' and 'Priority'")
            return
        variables: dict[str, str] = {}
        for item in msg.get_all("Variable"):
            for pair in item.split(","):
                name, _, value = pair.partition("=")
                if name:
                    variables[name.strip()] = value
        is_async = (msg.get("Async") or "").lower() in {"true", "yes", "1", "on"}
        req = OriginateRequest(
            channel=channel,
            context=context,
            exten=exten,
            priority=priority,
            application=app,
            data=msg.get("Data") or "",
            callerid=msg.get("CallerID") or "",
            timeout_ms=timeout,
            variables=variables,
            account=msg.get("Account") or "",
            channel_id=msg.get("ChannelId") or "",
            other_channel_id=msg.get("OtherChannelId") or "",
            is_async=is_async,
            action_id=msg.get("ActionID"),
        )
        engine = self.sim.engine
        try:
            engine.check_originate(req)
        except OriginateError as exc:
            self.error(msg, str(exc))
            return
        if is_async:
            self.success(msg, "Originate successfully queued")
            engine.originate(req)
            return
        # Sync: this session gets nothing until the far end answers (fixture 11).
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()

        def finished(ok: bool) -> None:
            if not done.done():
                done.set_result(ok)

        self._held = []
        try:
            engine.originate(req, finished)
            ok = await done
        finally:
            held, self._held = self._held, None
        if ok:
            self.success(msg, "Originate successfully queued")
        else:
            self.error(msg, "Originate failed")
        for data in held or []:
            if not self.closed:
                self._write(data)

    def lookup(self, name: str) -> Channel | None:
        return self.sim.engine.find_channel(name)

    async def _hangup(self, msg: Message) -> None:
        name = msg.get("Channel") or ""
        if not name:
            self.error(msg, "No channel specified")
            return
        try:
            requested = int(msg.get("Cause") or "0")
        except ValueError:
            requested = 0
        cause = requested or 16
        engine = self.sim.engine
        if len(name) > 2 and name.startswith("/") and name.endswith("/"):
            try:
                matched = engine.match_channels(name[1:-1])
            except re.error:
                self.error(msg, "Invalid channel regex")
                return
            self.list_start(msg, "Channels hung up will follow")
            aid = msg.get("ActionID")
            for hit in matched:
                # Here the ActionID comes after Channel (fixture 15).
                item: list[Header] = [("Event", "ChannelHungup"), ("Channel", hit.name)]
                self.send(item + ([("ActionID", aid)] if aid else []))
            self.list_event(
                msg,
                "ChannelsHungupListComplete",
                [("EventList", "Complete"), ("ListItems", str(len(matched)))],
            )
            engine.hangup_many(matched, cause, requested=requested)
            return
        ch = self.lookup(name)
        if ch is None:
            self.error(msg, "No such channel")
            return
        self.success(msg, "Channel Hungup")
        engine.hangup(ch, cause, requested=requested)

    def list_start(self, msg: Message, text: str) -> None:
        self.send([*self.head(msg, "Success"), ("EventList", "start"), ("Message", text)])

    async def _status(self, msg: Message) -> None:
        engine = self.sim.engine
        name = msg.get("Channel") or ""
        if name:  # "all" is no channel name either (the lab answers No such channel)
            ch = self.lookup(name)
            if ch is None:
                self.error(msg, "No such channel")
                return
            chans = [ch]
        else:
            chans = engine.listed_channels()
        wanted = [v.strip() for v in (msg.get("Variables") or "").split(",") if v.strip()]
        self.list_start(msg, "Channel status will follow")
        aid = msg.get("ActionID")
        for ch in chans:
            headers: list[Header] = [
                *ch.block(),
                ("Type", "Local"),
                ("DNID", ""),
                ("EffectiveConnectedLineNum", ch.conn_num),
                ("EffectiveConnectedLineName", ch.conn_name),
                ("TimeToHangup", "0"),
                ("BridgeID", ch.bridge_id),
                ("Application", ch.app),
                ("Data", ch.app_data),
                ("Nativeformats", "(slin)"),
                ("Readformat", "slin"),
                ("Readtrans", ""),
                ("Writeformat", "slin"),
                ("Writetrans", ""),
                ("Callgroup", "0"),
                ("Pickupgroup", "0"),
                ("Seconds", str(int(engine.lab_elapsed(ch.created)))),
            ]
            for var in wanted:
                value = engine.get_var(ch, var)
                headers.append(("Variable", f"{var}={value if value is not None else '(null)'}"))
            if aid:
                headers.append(("ActionID", aid))
            self.send(event("Status", "Call", headers))
        n = str(len(chans))
        self.list_event(
            msg, "StatusComplete", [("EventList", "Complete"), ("ListItems", n), ("Items", n)]
        )

    async def _coreshowchannels(self, msg: Message) -> None:
        engine = self.sim.engine
        self.list_start(msg, "Channels will follow")
        chans = engine.listed_channels()
        for ch in chans:
            secs = int(engine.lab_elapsed(ch.created))
            duration = f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}"
            self.list_event(
                msg,
                "CoreShowChannel",
                [
                    *ch.block(),
                    ("Application", ch.app),
                    ("ApplicationData", ch.app_data),
                    ("Duration", duration),
                    ("BridgeId", ch.bridge_id),
                ],
            )
        self.list_event(
            msg,
            "CoreShowChannelsComplete",
            [("EventList", "Complete"), ("ListItems", str(len(chans)))],
        )

    async def _command(self, msg: Message) -> None:
        command = msg.get("Command") or ""
        if not command:
            self.error(msg, "No command provided")
            return
        ok, lines = run_cli(self.sim, command)
        headers = self.head(msg, "Success" if ok else "Error")
        headers.append(("Message", "Command output follows"))
        # A command that prints nothing still gives one empty Output line.
        headers += [("Output", line) for line in lines or [""]]
        self.send(headers)

    def _variable_target(self, msg: Message) -> tuple[str, Channel | None] | None:
        """Setvar/Getvar's variable and channel (None: global), or None after
        answering the error Asterisk gives."""
        var = msg.get("Variable") or ""
        if not var:
            self.error(msg, "No variable specified")
            return None
        name = msg.get("Channel") or ""
        ch = None
        if name:
            ch = self.lookup(name)
            if ch is None:
                self.error(msg, "No such channel")
                return None
        return var, ch

    async def _setvar(self, msg: Message) -> None:
        target = self._variable_target(msg)
        if target is None:
            return
        var, ch = target
        self.sim.engine.set_var(ch, var, msg.get("Value") or "")
        self.success(msg, "Variable Set")

    async def _getvar(self, msg: Message) -> None:
        target = self._variable_target(msg)
        if target is None:
            return
        var, ch = target
        value = self.sim.engine.get_var(ch, var)
        self.send([*self.head(msg, "Success"), ("Variable", var), ("Value", value or "")])

    async def _userevent(self, msg: Message) -> None:
        name = msg.get("UserEvent") or ""
        headers: list[Header] = [("UserEvent", name)]
        headers += [(k, v) for k, v in msg.headers if k.lower() not in {"action", "userevent"}]
        # Asterisk answers before the event goes out (32-misc-actions).
        self.success(msg, "Event Sent")
        self.sim.engine.emit_message(event("UserEvent", "user,all", headers), "user")


__all__ = ["ACTION_CLASSES", "UNKNOWN", "AmiSession", "Faults"]
