"""A CRM-style call router: debtors hear a reminder, then go to billing; others go to sales.

    TELGATE_TOKEN=... python clients/python/examples/router.py --target 127.0.0.1:50051 \\
        --debtor 09121234567=1200000 --debtor 202=35000

It opens CallRoutingService.Route (the token needs the role calls.route),
registers for the routes given (`*`, every route, by default) and answers
each live call the gateway asks about, by the kind of step that asks:

- Simotel Exten API: the billing or the sales extension;
- Simotel Smart API: a debtor hears the reminder announcement and the amount
  owed, then the component leaves by the billing exit; others by the sales exit;
- Simotel IVR API: the billing or the sales exit;
- Simotel Trunk API: the call fails (this CRM places no trunk calls);
- Asterisk AGI: a debtor hears the reminder sound and the amount; the call then
  continues at the billing (or sales) extension of --agi-context.

Each query and how it ended is printed, one line each. With --think the
router waits that long before deciding (a slow CRM lookup): past the
gateway's budget the call gets the gateway's fallback and the router is told
its decision came LATE. When the stream breaks the router connects again
(after 1 s, doubling up to 30 s).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
from telgate.client import connect, keepalive_options
from telgate.v1 import routing_pb2, routing_pb2_grpc

KIND_NAMES = {
    routing_pb2.ROUTE_KIND_SIMOTEL_SMART: "smart",
    routing_pb2.ROUTE_KIND_SIMOTEL_EXTEN: "exten",
    routing_pb2.ROUTE_KIND_SIMOTEL_TRUNK: "trunk",
    routing_pb2.ROUTE_KIND_SIMOTEL_IVR: "ivr",
    routing_pb2.ROUTE_KIND_ASTERISK_AGI: "agi",
}


@dataclass(frozen=True)
class Crm:
    """What the router knows: who owes what, and where calls go."""

    debtors: dict[str, int]
    billing: str
    sales: str
    billing_exit: str
    sales_exit: str
    reminder: str
    agi_context: str

    def decide(self, query: routing_pb2.RoutingQuery) -> routing_pb2.RoutingDecision:
        """The decision for one query."""
        owed = self.debtors.get(query.caller.number)
        debtor = owed is not None
        decision = routing_pb2.RoutingDecision(query_id=query.id)
        reminder = [
            routing_pb2.RoutingStep(say_number=routing_pb2.SayNumber(number=owed or 0)),
        ]
        match query.kind:
            case routing_pb2.ROUTE_KIND_SIMOTEL_EXTEN:
                decision.extension.extension = self.billing if debtor else self.sales
            case routing_pb2.ROUTE_KIND_SIMOTEL_IVR:
                decision.exit.case = self.billing_exit if debtor else self.sales_exit
            case routing_pb2.ROUTE_KIND_SIMOTEL_SMART:
                if debtor:
                    decision.steps.steps.append(
                        routing_pb2.RoutingStep(
                            play_announcement=routing_pb2.PlayAnnouncement(name=self.reminder)
                        )
                    )
                    decision.steps.steps.extend(reminder)
                decision.steps.exit = self.billing_exit if debtor else self.sales_exit
            case routing_pb2.ROUTE_KIND_ASTERISK_AGI:
                if debtor:
                    decision.steps.steps.append(
                        routing_pb2.RoutingStep(
                            play_sound=routing_pb2.PlaySound(file=self.reminder)
                        )
                    )
                    decision.steps.steps.extend(reminder)
                decision.steps.steps.append(
                    routing_pb2.RoutingStep(
                        go_to=routing_pb2.GoTo(
                            context=self.agi_context,
                            extension=self.billing if debtor else self.sales,
                            priority=1,
                        )
                    )
                )
            case _:
                decision.fail.reason = "this router places no trunk calls"
        return decision


def describe(decision: routing_pb2.RoutingDecision) -> str:
    """A short line for a decision."""
    match decision.WhichOneof("action"):
        case "extension":
            return f"extension {decision.extension.extension}"
        case "exit":
            return f"exit {decision.exit.case}"
        case "steps":
            names = [step.WhichOneof("step") or "?" for step in decision.steps.steps]
            tail = f" then exit {decision.steps.exit}" if decision.steps.exit else ""
            return f"steps [{', '.join(names)}]{tail}"
        case "fail":
            return f"fail ({decision.fail.reason})"
    return "nothing"


class Router:
    """One Route stream at a time, answered from the Crm."""

    def __init__(self, crm: Crm, routes: list[str], think: float) -> None:
        self.crm = crm
        self.routes = routes
        self.think = think

    async def serve(self, channel: grpc.aio.Channel) -> None:
        """Registers, then answers queries until the stream ends."""
        outbox: asyncio.Queue[routing_pb2.RouteRequest] = asyncio.Queue()
        outbox.put_nowait(
            routing_pb2.RouteRequest(
                registration=routing_pb2.RouterRegistration(routes=self.routes)
            )
        )

        async def requests() -> AsyncIterator[routing_pb2.RouteRequest]:
            while True:
                yield await outbox.get()

        stub = routing_pb2_grpc.CallRoutingServiceStub(channel)
        deciding: set[asyncio.Task[None]] = set()
        try:
            async for response in stub.Route(requests()):
                match response.WhichOneof("message"):
                    case "registered":
                        rid = response.registered.router_id
                        say(f"registered as {rid} for routes {self.routes}")
                    case "query":
                        task = asyncio.create_task(self._answer(response.query, outbox))
                        deciding.add(task)
                        task.add_done_callback(deciding.discard)
                    case "ended":
                        e = response.ended
                        outcome = routing_pb2.QueryOutcome.Name(e.outcome)
                        say(f"ended {e.query_id}: {outcome} {e.detail}".rstrip())
        finally:
            for task in deciding:
                task.cancel()

    async def _answer(
        self, query: routing_pb2.RoutingQuery, outbox: asyncio.Queue[routing_pb2.RouteRequest]
    ) -> None:
        say(
            f"query {query.id} {KIND_NAMES.get(query.kind, '?')} route {query.route!r} "
            f"from {query.caller.number or '(unknown)'} data {query.data!r}"
        )
        if self.think:
            await asyncio.sleep(self.think)
        decision = self.crm.decide(query)
        await outbox.put(routing_pb2.RouteRequest(decision=decision))
        say(f"decision {query.id}: {describe(decision)}")


def say(line: str) -> None:
    print(line, flush=True)


def open_channel(args: argparse.Namespace) -> grpc.aio.Channel:
    """The channel (telgate.client.connect): TELGATE_TOKEN on every call,
    plaintext or TLS (mutual with a client certificate) when asked, with
    keepalive pings (--keepalive, --keepalive-timeout; the gateway accepts a
    client's pings every `server.keepalive_min_client_interval`, 10 s by
    default, and closes a connection that pings more often)."""
    return connect(
        args.target,
        os.environ.get("TELGATE_TOKEN") or None,
        args.ca_file,
        client_cert_file=args.cert_file,
        client_key_file=args.key_file,
        options=keepalive_options(args.keepalive, args.keepalive_timeout),
    )


# Statuses a router cannot cure by connecting again.
FINAL = {
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.INVALID_ARGUMENT,
}


async def run(args: argparse.Namespace) -> int:
    crm = Crm(
        debtors=dict(args.debtor),
        billing=args.billing,
        sales=args.sales,
        billing_exit=args.billing_exit,
        sales_exit=args.sales_exit,
        reminder=args.reminder,
        agi_context=args.agi_context,
    )
    router = Router(crm, args.route or ["*"], args.think)
    pause = 1.0
    async with open_channel(args) as channel:
        while True:
            try:
                await router.serve(channel)
                say("the gateway ended the stream")
            except grpc.aio.AioRpcError as exc:
                say(f"stream broke: {exc.code().name}: {exc.details()}")
                if exc.code() in FINAL:
                    return 2
            await asyncio.sleep(pause)
            pause = min(pause * 2, 30.0)


def debtor(text: str) -> tuple[str, int]:
    """`number=amount`."""
    number, sep, amount = text.partition("=")
    if not sep or not number or not amount.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: give number=amount, e.g. 0912123=1200")
    return number, int(amount)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--target", default="127.0.0.1:50051")
    parser.add_argument(
        "--route", action="append", help="a route served (repeat); `*` (every route) by default"
    )
    parser.add_argument("--debtor", action="append", type=debtor, default=[], metavar="N=AMOUNT")
    parser.add_argument("--billing", default="300", help="billing's extension")
    parser.add_argument("--sales", default="200", help="sales' extension")
    parser.add_argument("--billing-exit", default="1", help="the component's exit to billing")
    parser.add_argument("--sales-exit", default="2", help="the component's exit to sales")
    parser.add_argument("--reminder", default="debt-reminder", help="announcement / sound")
    parser.add_argument("--agi-context", default="phones", help="where AGI calls continue")
    parser.add_argument("--think", type=float, default=0.0, help="seconds before each decision")
    parser.add_argument("--ca-file", type=Path, help="TLS: the CA that signed the gateway")
    parser.add_argument("--cert-file", type=Path, help="mutual TLS: this client's certificate")
    parser.add_argument("--key-file", type=Path, help="mutual TLS: this client's key")
    parser.add_argument(
        "--keepalive",
        type=float,
        default=20.0,
        help="seconds of quiet before pinging the gateway (at least the gateway's "
        "server.keepalive_min_client_interval, 10 s by default)",
    )
    parser.add_argument(
        "--keepalive-timeout",
        type=float,
        default=10.0,
        help="seconds a ping may go unanswered before the connection is given up",
    )
    args = parser.parse_args()
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
