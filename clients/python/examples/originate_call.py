"""Place a call through telgate, print its typed events until it is over, list
channels while it is up, and hang it up.

    TELGATE_TOKEN=... python clients/python/examples/originate_call.py --target 127.0.0.1:50051

The bearer token comes from the environment (TELGATE_TOKEN) and goes in every
call's `authorization` metadata; it needs the roles calls.control (Originate,
Hangup) and events.read (Subscribe, ListChannels). With --ca-file the channel
uses TLS, trusting that CA (add --cert-file / --key-file for mutual TLS).

With the simulator's lab (the default): agent 201 is rung first and, once it
answers, the PBX dials extension 202 in context `from-internal`; after the two
are bridged the example lists the active channels and hangs the call up.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

import grpc
from telgate.client import connect, keepalive_options
from telgate.v1 import (
    calls_pb2,
    calls_pb2_grpc,
    common_pb2,
    events_pb2,
    events_pb2_grpc,
)


def describe(event: events_pb2.Event) -> str:
    """One line for a typed event."""
    kind = event.WhichOneof("payload")
    match kind:
        case "channel_created":
            c = event.channel_created.channel
            return f"channel created   {c.name} ({c.caller_id.number})"
        case "channel_state_changed":
            c = event.channel_state_changed.channel
            return f"state changed     {c.name} -> {c.state_description}"
        case "dial_started":
            ds = event.dial_started
            return f"dial started      {ds.caller.name or '(originate)'} -> {ds.destination.name}"
        case "dial_ended":
            de = event.dial_ended
            return f"dial ended        {de.destination.name}: {de.status_text}"
        case "bridge_entered":
            b = event.bridge_entered
            return f"bridge entered    {b.channel.name} ({b.bridge.num_channels} in bridge)"
        case "bridge_left":
            return f"bridge left       {event.bridge_left.channel.name}"
        case "channel_hung_up":
            h = event.channel_hung_up
            return f"hung up           {h.channel.name}: {h.cause} {h.cause_text}"
        case "originate_result":
            r = event.originate_result
            return f"originate result  {calls_pb2.OriginateOutcome.Name(r.outcome)}"
        case _:
            return f"{event.name}"


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


async def run(args: argparse.Namespace) -> int:
    async with open_channel(args) as channel:
        calls = calls_pb2_grpc.CallControlServiceStub(channel)
        events = events_pb2_grpc.EventServiceStub(channel)

        answer = await calls.Originate(
            calls_pb2.OriginateRequest(
                endpoint=args.endpoint,
                destination=common_pb2.Destination(
                    extension=common_pb2.ExtensionDestination(
                        context=args.context, extension=args.exten
                    )
                ),
                caller_id=common_pb2.CallerId(number="201", name="telgate example"),
                request_id=args.request_id,
            ),
            timeout=10,
        )
        call = answer.call
        print(f"originated: unique id {call.unique_id}, channel {call.channel or '(pending)'}")

        # The call's unique id was assigned before the PBX saw the request, and
        # events_after marks where its events start: resume from there with a
        # linked-id filter and nothing of this call is missed.
        stream = events.Subscribe(
            events_pb2.SubscribeRequest(
                filter=events_pb2.EventFilter(linked_ids=[call.linked_id]),
                start=events_pb2.START_POSITION_AFTER,
                after=call.events_after,
            ),
            timeout=args.max_seconds,
        )
        live: set[str] = set()
        seen_any = False
        listed = False
        async for message in stream:
            # The first message (started), gaps and heartbeats carry no events.
            for event in message.batch.events:
                if event.WhichOneof("payload") is None and not args.raw:
                    continue
                print(f"  #{event.position.sequence:<6} {describe(event)}")
                kind = event.WhichOneof("payload")
                if kind == "channel_created":
                    live.add(event.unique_id)
                    seen_any = True
                elif kind == "channel_hung_up":
                    live.discard(event.unique_id)
                elif kind == "originate_result" and (
                    event.originate_result.outcome != calls_pb2.ORIGINATE_OUTCOME_ANSWERED
                ):
                    print("the call was not answered")
                    return 1
                elif kind == "bridge_entered" and not listed and two_in_bridge(event):
                    listed = True
                    await show_channels(calls)
                    print(f"hanging up {call.channel}")
                    ref = common_pb2.ChannelRef(unique_id=call.unique_id)
                    await calls.Hangup(calls_pb2.HangupRequest(channel=ref, cause=16), timeout=5)
            if seen_any and not live:
                print("call over: every channel hung up")
                stream.cancel()
                return 0
    return 1


def two_in_bridge(event: events_pb2.Event) -> bool:
    """Both parties are connected."""
    return event.bridge_entered.bridge.num_channels >= 2


async def show_channels(calls: calls_pb2_grpc.CallControlServiceAsyncStub) -> None:
    """Prints the active channels (ListChannels never waits on the PBX)."""
    page = await calls.ListChannels(calls_pb2.ListChannelsRequest(page_size=50), timeout=5)
    print(f"active channels ({page.total_size}):")
    for c in page.channels:
        print(f"    {c.name:<36} {c.state_description:<8} {c.caller_id.number}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="127.0.0.1:50051")
    parser.add_argument("--endpoint", default="Local/201@phones")
    parser.add_argument("--context", default="from-internal")
    parser.add_argument("--exten", default="202")
    parser.add_argument("--request-id", default="", help="idempotency key")
    parser.add_argument("--raw", action="store_true", help="also print untyped events")
    parser.add_argument("--max-seconds", type=float, default=60.0)
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
    except grpc.aio.AioRpcError as exc:
        print(f"error: {exc.code().name}: {exc.details()}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
