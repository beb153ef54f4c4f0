"""The example router (clients/python/examples/router.py), a process of its
own, decides queries; killed mid-query, the query falls back at once."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from telgate_server.routing import model as m
from telgate_server.routing.model import Outcome, RouteKind

from tests.routing.conftest import RoutingServer, route_query

ROUTER = Path(__file__).resolve().parents[2] / "clients" / "python" / "examples" / "router.py"


class RouterProcess:
    """The example router running in a subprocess; its output read line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []

    async def line_with(self, text: str) -> str:
        """The next output line holding ``text`` (20 s at most)."""
        assert self.process.stdout is not None

        async def find() -> str:
            assert self.process.stdout is not None
            while True:
                raw = await self.process.stdout.readline()
                if not raw:
                    raise AssertionError(f"the router exited; its output: {self.lines}")
                line = raw.decode().rstrip("\n")
                self.lines.append(line)
                if text in line:
                    return line

        return await asyncio.wait_for(find(), 20)


@asynccontextmanager
async def router_process(address: str, *args: str) -> AsyncIterator[RouterProcess]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROUTER),
        "--target",
        address,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        yield RouterProcess(process)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def test_the_example_router_sends_debtors_to_billing(routing: RoutingServer) -> None:
    async with router_process(
        routing.address, "--route", "crm", "--debtor", "09121234567=1200"
    ) as router:
        await router.line_with("registered as router-1 for routes ['crm']")
        hub = routing.hub
        debtor, other = "09121234567", "09350000000"
        exten = await hub.ask(route_query("crm", RouteKind.SIMOTEL_EXTEN, caller_number=debtor))
        assert exten.decision == m.RouteToExtension("300") and exten.router_id == "router-1"
        exten = await hub.ask(route_query("crm", RouteKind.SIMOTEL_EXTEN, caller_number=other))
        assert exten.decision == m.RouteToExtension("200")
        smart = route_query("crm", RouteKind.SIMOTEL_SMART, caller_number=debtor)
        assert (await hub.ask(smart)).decision == m.RunSteps(
            (m.PlayAnnouncement("debt-reminder"), m.SayNumber(1200)), "1"
        )
        ivr = await hub.ask(route_query("crm", RouteKind.SIMOTEL_IVR, caller_number=other))
        assert ivr.decision == m.ExitCase("2")
        agi = await hub.ask(route_query("crm", RouteKind.ASTERISK_AGI, caller_number=debtor))
        assert agi.decision == m.RunSteps(
            (m.PlaySound("debt-reminder"), m.SayNumber(1200), m.GoTo("phones", "300", 1))
        )
        trunk = await hub.ask(route_query("crm", RouteKind.SIMOTEL_TRUNK))
        assert trunk.decision == m.Fail("this router places no trunk calls")
        # How the call went reaches the router.
        hub.ended(smart, Outcome.APPLIED)
        await router.line_with(f"ended {smart.id}: QUERY_OUTCOME_APPLIED")


async def test_a_router_killed_mid_query_does_not_hold_the_call(routing: RoutingServer) -> None:
    async with router_process(routing.address, "--route", "crm", "--think", "60") as router:
        await router.line_with("registered as")
        # Far away: an answer before it cannot be the deadline's.
        query = route_query("crm", RouteKind.SIMOTEL_EXTEN, within=30)
        asking = asyncio.create_task(routing.hub.ask(query))
        await router.line_with(f"query {query.id} exten route 'crm'")
        router.process.send_signal(signal.SIGKILL)
        answer = await asking
        assert answer.decision is None
        assert answer.why == "router router-1 disconnected before deciding"
        assert routing.observed[-1][:2] == ("pbx", "fallback_router_gone")
        await routing.wait_routers(0)
