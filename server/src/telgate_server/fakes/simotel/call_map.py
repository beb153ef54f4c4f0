"""The fake Simotel's call map: a call driven through a chain of API
components (Smart, Exten, Trunk, IVR) as Simotel does it, over real HTTP.

Each component is asked at its URL with Simotel's request fields (src, dst,
data, unique_id, app_name, originated_call_id) in the configured encoding,
and given Simotel's one second: a late, failed or unreadable answer takes
the error exit ``e``. A Smart API answer is parsed as Simotel's command
language (commands split at ``;``, ``Exit`` last, an unknown command is an
error); the digits the test says the caller presses at a GetData arrive in
``data`` of the next request, as in the reference's flow example
(../shared/reference/simotel.md §3). The exit taken leads to the next
component through the map, or ends the call there."""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp

Kind = Literal["smart", "exten", "trunk", "ivr"]
Encoding = Literal["json", "form", "query"]
# Simotel's `[api] client_api_caller_timeout`.
SIMOTEL_TIMEOUT = 1.0
# The error exit of a Smart API component.
ERROR_EXIT = "e"

_COMMAND = re.compile(r"^([A-Za-z]+)\((.*)\)$")
_QUOTED = re.compile(r"^'([^']*)'$")
_INT = re.compile(r"^-?\d+$")
# Each command's arguments: q a quoted text, i an integer.
ARITY: dict[str, str] = {
    "PlayAnnouncement": "q",
    "Playback": "q",
    "SayNumber": "i",
    "SayDigit": "i",
    "SayDuration": "q",
    "SayClock": "q",
    "SayDate": "qq",
    "GetData": "qii",
    "MusicOnHold": "qi",
    "SetExten": "q",
    "SetLimitOnCall": "i",
    "ClearUserData": "",
    "Exit": "q",
}


class CommandError(ValueError):
    """A Smart API answer Simotel cannot run (the component takes ``e``)."""


def parse_commands(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """Simotel's command string as (command, arguments) pairs; CommandError
    when a command is unknown, malformed, or ``Exit`` is not last."""
    parts = [part.strip() for part in text.split(";")]
    if parts and parts[-1] == "":
        parts.pop()  # `Exit('go-b');`: a final separator
    out: list[tuple[str, tuple[str, ...]]] = []
    for part in parts:
        match = _COMMAND.match(part)
        if match is None or match[1] not in ARITY:
            raise CommandError(f"not a command: {part[:40]!r}")
        name, raw = match[1], match[2].strip()
        args = tuple(a.strip() for a in raw.split(",")) if raw else ()
        shape = ARITY[name]
        if len(args) != len(shape):
            raise CommandError(f"{name} takes {len(shape)} arguments, got {len(args)}")
        values: list[str] = []
        for arg, want in zip(args, shape, strict=True):
            quoted = _QUOTED.match(arg)
            if want == "q" and quoted is not None:
                values.append(quoted[1])
            elif want == "i" and _INT.match(arg):
                values.append(arg)
            else:
                raise CommandError(f"{name}: bad argument {arg[:20]!r}")
        out.append((name, tuple(values)))
    if not out or out[-1][0] != "Exit" or any(n == "Exit" for n, _ in out[:-1]):
        raise CommandError("Exit must come once, last")
    return out


@dataclass
class Component:
    """One API component of the call map: its kind, its URL, and where each
    of its exits leads (a component name; an exit not in ``exits`` ends the call)."""

    kind: Kind
    url: str
    exits: dict[str, str] = field(default_factory=dict)


@dataclass
class Visit:
    """One component asked: what was sent, what came back, the exit taken."""

    app_name: str
    request: dict[str, str]
    status: int = 0
    answer: dict[str, Any] = field(default_factory=dict)
    commands: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    exit: str = ""
    # Why the error exit was taken ("" when it was not).
    error: str = ""


@dataclass
class CallTrace:
    """A call's way through the map; ``end`` is the last component's exit."""

    visits: list[Visit] = field(default_factory=list)

    @property
    def end(self) -> str:
        return self.visits[-1].exit if self.visits else ""

    def visit(self, app_name: str) -> Visit:
        """The (first) visit of ``app_name``."""
        return next(v for v in self.visits if v.app_name == app_name)


class CallMap:
    """Components by app name (names may hold spaces), and a driver of calls through them."""

    def __init__(
        self,
        components: Mapping[str, Component],
        *,
        username: str = "",
        password: str = "",
        encoding: Encoding = "json",
        timeout: float = SIMOTEL_TIMEOUT,
    ) -> None:
        self.components = dict(components)
        self.encoding = encoding
        self.timeout = timeout
        self._headers: dict[str, str] = {}
        if username:
            token = base64.b64encode(f"{username}:{password}".encode()).decode()
            self._headers["Authorization"] = f"Basic {token}"

    async def call(
        self,
        first: str,
        *,
        src: str,
        dst: str,
        unique_id: str,
        originated_call_id: str = "",
        pressed: Mapping[str, str] | None = None,
        max_steps: int = 20,
    ) -> CallTrace:
        """Drives one call from component ``first``; ``pressed`` gives the
        digits the caller presses at a GetData in each component (none: the
        GetData times out and ``data`` is empty)."""
        pressed = pressed or {}
        trace = CallTrace()
        data = ""
        name: str | None = first
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(headers=self._headers, timeout=timeout) as session:
            while name is not None and len(trace.visits) < max_steps:
                component = self.components[name]
                request = {
                    "src": src,
                    "dst": dst,
                    "data": data,
                    "unique_id": unique_id,
                    "app_name": name,
                }
                if originated_call_id and component.kind == "smart":
                    request["originated_call_id"] = originated_call_id
                visit = Visit(name, request)
                trace.visits.append(visit)
                await self._ask(session, component, visit)
                if visit.error:
                    visit.exit = ERROR_EXIT if component.kind in ("smart", "ivr") else "F"
                else:
                    data = self._run(component, visit, data, pressed.get(name, ""))
                name = component.exits.get(visit.exit)
        return trace

    async def _ask(
        self, session: aiohttp.ClientSession, component: Component, visit: Visit
    ) -> None:
        try:
            if self.encoding == "json":
                resp = await session.post(component.url, json=visit.request)
            elif self.encoding == "form":
                resp = await session.post(component.url, data=visit.request)
            else:
                resp = await session.get(component.url, params=visit.request)
            async with resp:
                visit.status = resp.status
                body = await resp.json(content_type=None)
        except TimeoutError:
            visit.error = f"no answer within {self.timeout} s"
            return
        except (aiohttp.ClientError, ValueError) as exc:
            visit.error = f"unreadable answer: {exc}"
            return
        if visit.status != 200 or not isinstance(body, dict):
            visit.error = f"HTTP {visit.status}"
            return
        visit.answer = body
        if str(body.get("ok", "0")) != "1":
            visit.error = "ok is not 1"

    def _run(self, component: Component, visit: Visit, data: str, digits: str) -> str:
        """Carries out the answer: sets ``visit.exit``; returns the next ``data``."""
        body = visit.answer
        if component.kind == "smart":
            try:
                visit.commands = parse_commands(str(body.get("commands", "")))
            except CommandError as exc:
                visit.error, visit.exit = str(exc), ERROR_EXIT
                return data
            for name, args in visit.commands:
                if name == "ClearUserData":
                    data = ""
                elif name == "GetData":
                    data = digits[: int(args[2])]
            visit.exit = visit.commands[-1][1][0]
        elif component.kind == "ivr":
            visit.exit = str(body.get("case", ""))
        else:
            # Exten / Trunk: the call is put through; the fake's callee answers.
            visit.exit = "S" if body.get("extension") else "F"
        return data


# -- the demo's call map ------------------------------------------------------


def demo_map(components: str, *, username: str = "", password: str = "") -> CallMap:
    """The demo's map: Smart API ``debt check`` leaves by exit 1 to the Exten
    API ``billing desk`` or by exit 2 to ``sales desk`` (the example router's
    exits); ``components`` is the gateway's ``<webhook path>/components`` URL."""
    base = components.rstrip("/")
    return CallMap(
        {
            "debt check": Component(
                "smart", base + "/smart", {"1": "billing desk", "2": "sales desk"}
            ),
            "billing desk": Component("exten", base + "/exten"),
            "sales desk": Component("exten", base + "/exten"),
        },
        username=username,
        password=password,
    )


def describe(trace: CallTrace) -> list[str]:
    """One line per component asked: its name, what Simotel got, the exit taken."""
    lines = []
    for visit in trace.visits:
        if visit.error:
            got = f"error ({visit.error})"
        elif "commands" in visit.answer:
            got = str(visit.answer["commands"])
        else:
            got = ", ".join(f"{k}={v}" for k, v in visit.answer.items() if k != "ok")
        lines.append(
            f"{visit.app_name} (data {visit.request['data']!r}): {got} -> exit {visit.exit}"
        )
    return lines


async def _demo(args: argparse.Namespace, password: str) -> None:
    calls = demo_map(args.components, username=args.user, password=password)
    trace = await calls.call(
        "debt check",
        src=args.caller,
        dst=args.dialed,
        unique_id=f"{time.time():.4f}",
    )
    print(f"Simotel call from {args.caller} through the call map:")
    for line in describe(trace):
        print("  " + line)


def main() -> None:
    """``python -m telgate_server.fakes.simotel.call_map``: one call through the demo's map."""
    parser = argparse.ArgumentParser(prog="python -m telgate_server.fakes.simotel.call_map")
    parser.add_argument("--components", required=True, help="<webhook URL>/components")
    parser.add_argument("--user", default="", help="webhook Basic user")
    parser.add_argument("--from", dest="caller", default="09121234567")
    parser.add_argument("--to", dest="dialed", default="02100000000")
    args = parser.parse_args()
    # The webhook password from the environment, as the fake's other secrets.
    asyncio.run(_demo(args, os.environ.get("FAKE_SIMOTEL_HOOK_PASSWORD", "")))


if __name__ == "__main__":
    main()
