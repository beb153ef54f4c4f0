"""telgate quickstart: place a call, follow its events to the hang-up, resume
the event stream from a stored position, and stream CDRs from a cursor.

    pip install telgate-client        # or: pip install -e clients/python
    TELGATE_TOKEN=... python quickstart.py

Configuration (environment):
    TELGATE_TARGET    host:port of the gateway (default 127.0.0.1:50051)
    TELGATE_TOKEN     bearer token (roles calls.control, events.read, cdrs.read)
    TELGATE_CA_FILE   CA certificate: use TLS and trust it (default: plaintext)
    TELGATE_ENDPOINT  who is called first (default Local/201@phones)
    TELGATE_EXTEN, TELGATE_CONTEXT
                      where that party is connected (default 202 in from-internal)

Sequences and cursors are uint64 on the wire and plain Python ints here.
"""

from __future__ import annotations

import asyncio
import os
import sys
from decimal import Decimal

import grpc
from google.protobuf import duration_pb2
from google.type import money_pb2
from telgate.client import (
    connect_from_env,
    follow_cdrs,
    list_all_cdrs,
    request_after,
    resume_events,
)
from telgate.v1 import (
    calls_pb2,
    calls_pb2_grpc,
    cdrs_pb2,
    cdrs_pb2_grpc,
    common_pb2,
    event_position_pb2,
    events_pb2,
    events_pb2_grpc,
)

HANGUP_NORMAL_CLEARING = 16
# The typed events this example prints (the PBX sends many more).
SHOWN = [
    events_pb2.EVENT_TYPE_CHANNEL_CREATED,
    events_pb2.EVENT_TYPE_CHANNEL_STATE_CHANGED,
    events_pb2.EVENT_TYPE_DIAL_STARTED,
    events_pb2.EVENT_TYPE_DIAL_ENDED,
    events_pb2.EVENT_TYPE_BRIDGE_ENTERED,
    events_pb2.EVENT_TYPE_BRIDGE_LEFT,
    events_pb2.EVENT_TYPE_CHANNEL_HUNG_UP,
    events_pb2.EVENT_TYPE_ORIGINATE_RESULT,
]


def describe(event: events_pb2.Event) -> str:
    """One line for a typed event ("" for the untyped ones)."""
    match event.WhichOneof("payload"):
        case "channel_created":
            return f"channel created  {event.channel_created.channel.name}"
        case "channel_state_changed":
            c = event.channel_state_changed.channel
            return f"state changed    {c.name} -> {c.state_description}"
        case "dial_started":
            return f"dial started     -> {event.dial_started.destination.name}"
        case "dial_ended":
            d = event.dial_ended
            return f"dial ended       {d.destination.name}: {d.status_text}"
        case "bridge_entered":
            b = event.bridge_entered
            return f"bridge entered   {b.channel.name} ({b.bridge.num_channels} in the bridge)"
        case "bridge_left":
            return f"bridge left      {event.bridge_left.channel.name}"
        case "channel_hung_up":
            h = event.channel_hung_up
            return f"hung up          {h.channel.name} cause {h.cause} ({h.cause_text})"
        case "originate_result":
            outcome = calls_pb2.OriginateOutcome.Name(event.originate_result.outcome)
            return f"originate result {outcome}"
        case None:
            return ""
        case other:
            return other


async def originate(calls: calls_pb2_grpc.CallControlServiceAsyncStub) -> calls_pb2.OriginatedCall:
    """Step 1: place the call."""
    answer = await calls.Originate(
        calls_pb2.OriginateRequest(
            endpoint=os.environ.get("TELGATE_ENDPOINT", "Local/201@phones"),
            destination=common_pb2.Destination(
                extension=common_pb2.ExtensionDestination(
                    context=os.environ.get("TELGATE_CONTEXT", "from-internal"),
                    extension=os.environ.get("TELGATE_EXTEN", "202"),
                )
            ),
            caller_id=common_pb2.CallerId(number="201", name="telgate quickstart"),
        ),
        timeout=10,
    )
    call = answer.call
    print(f"1. originated: unique id {call.unique_id}, linked id {call.linked_id}")
    return call


async def follow_call(
    calls: calls_pb2_grpc.CallControlServiceAsyncStub,
    events: events_pb2_grpc.EventServiceAsyncStub,
    call: calls_pb2.OriginatedCall,
) -> event_position_pb2.EventPosition:
    """Step 2: the call's events, from the position Originate returned, until
    every channel hung up; hangs up once both parties are in the bridge.
    Returns the last position received (what a client would store)."""
    after = call.events_after
    print(f"2. events of the call, after sequence {after.sequence} (epoch {after.epoch}):")
    request = events_pb2.SubscribeRequest(
        filter=events_pb2.EventFilter(linked_ids=[call.linked_id], types=SHOWN),
        start=events_pb2.START_POSITION_AFTER,
        after=call.events_after,
    )
    live: set[str] = set()
    last: event_position_pb2.EventPosition | None = None
    hung_up = False
    # resume_events subscribes again by itself if the connection drops.
    async for message in resume_events(events, request):
        for event in message.batch.events:
            last = event.position
            if text := describe(event):
                print(f"   #{event.position.sequence:<5} {text}")
            kind = event.WhichOneof("payload")
            if kind == "channel_created":
                live.add(event.unique_id)
            elif kind == "channel_hung_up":
                live.discard(event.unique_id)
            elif (
                kind == "bridge_entered"
                and event.bridge_entered.bridge.num_channels >= 2
                and not hung_up
            ):
                hung_up = True
                print(f"   both parties are connected: hanging up {call.unique_id}")
                await calls.Hangup(
                    calls_pb2.HangupRequest(
                        channel=common_pb2.ChannelRef(unique_id=call.unique_id),
                        cause=HANGUP_NORMAL_CLEARING,
                    ),
                    timeout=5,
                )
        if hung_up and not live:
            break
    if last is None:
        raise RuntimeError("the event stream ended before the call did")
    print(f"   call over; stored position: sequence {last.sequence}, epoch {last.epoch}")
    return last


async def resume(
    events: events_pb2_grpc.EventServiceAsyncStub, stored: event_position_pb2.EventPosition
) -> None:
    """Step 3: subscribe again after the stored position (as a client that
    restarted would): only later events come. Reads until the first heartbeat."""
    request = request_after(
        events_pb2.SubscribeRequest(heartbeat_interval=duration_pb2.Duration(seconds=1)),
        stored,
    )
    later: list[int] = []
    async for message in resume_events(events, request):
        match message.WhichOneof("kind"):
            case "started":
                start = message.started.position
                print(f"3. subscribed again: the stream starts after #{start.sequence}")
            case "batch":
                for event in message.batch.events:
                    at = event.position
                    if at.epoch == stored.epoch and at.sequence <= stored.sequence:
                        raise RuntimeError(f"event #{at.sequence} came again")
                    later.append(at.sequence)
            case "gap":
                print(f"   gap: {events_pb2.GapReason.Name(message.gap.reason)}")
            case "heartbeat":
                break
    if later:
        shown = f"events #{later[0]}..#{later[-1]} ({len(later)}), then a heartbeat"
    else:
        shown = "no event since, then a heartbeat (the stream is live)"
    print(f"   after #{stored.sequence}: {shown}")


def money(cost: money_pb2.Money) -> str:
    """A google.type.Money as text: units + nanos / 10^9 of the currency."""
    amount = Decimal(cost.units) + Decimal(cost.nanos).scaleb(-9)
    return f"{amount.normalize():f} {cost.currency_code}"


async def stream_cdrs(
    cdrs: cdrs_pb2_grpc.CdrServiceAsyncStub, call: calls_pb2.OriginatedCall
) -> None:
    """Step 4: CDRs from cursor 0 until the call's, then from its cursor."""
    found: cdrs_pb2.Cdr | None = None
    async for item in follow_cdrs(cdrs, after_cursor=0):
        if isinstance(item, cdrs_pb2.CdrGap):
            print(f"   gap at cursor {item.cursor}: {item.detail}")
        elif item.linked_call_id == call.linked_id:
            found = item
            break
    if found is None:
        raise RuntimeError("the CDR stream ended before the call's CDR came")
    print(
        f"4. CDR of the call: cursor {found.cursor} ({type(found.cursor).__name__}), "
        f"{found.caller.number} -> {found.callee}, "
        f"{cdrs_pb2.CdrDisposition.Name(found.disposition)}, "
        f"billable {found.billable.ToTimedelta()}, "
        f"cost {money(found.cost) if found.HasField('cost') else '(none from this PBX)'}"
    )
    later = [c async for c in follow_cdrs(cdrs, after_cursor=found.cursor, follow=False)]
    print(f"   after cursor {found.cursor}: {len(later)} CDRs, cursors {[c.cursor for c in later]}")
    stored = [c async for c in list_all_cdrs(cdrs, page_size=2)]
    print(f"   every stored CDR, by pages of 2: {len(stored)}")


async def main() -> int:
    async with connect_from_env() as channel:
        calls = calls_pb2_grpc.CallControlServiceStub(channel)
        events = events_pb2_grpc.EventServiceStub(channel)
        cdrs = cdrs_pb2_grpc.CdrServiceStub(channel)
        async with asyncio.timeout(120):
            call = await originate(calls)
            stored = await follow_call(calls, events, call)
            await resume(events, stored)
            await stream_cdrs(cdrs, call)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except grpc.aio.AioRpcError as error:
        print(f"error: {error.code().name}: {error.details()}", file=sys.stderr)
        sys.exit(2)
