// Quickstart: place a call, follow its events to the hang-up, resume the event
// stream from a stored position, and stream CDRs from a cursor.
//
//   TELGATE_TARGET=127.0.0.1:50051 TELGATE_TOKEN=... node build/examples/quickstart.js
//
// TELGATE_CA_FILE=ca.pem switches to TLS trusting that CA (plaintext without it).
import {
  connect,
  gapReasonToJSON,
  StartPosition,
  type Event,
  type EventPosition,
  type OriginatedCall,
  type TelgateClient,
} from "@telgate/client";

const target = process.env.TELGATE_TARGET ?? "127.0.0.1:50051";
const endpoint = process.env.TELGATE_ENDPOINT ?? "Local/201@phones";
const exten = process.env.TELGATE_EXTEN ?? "202";
const context = process.env.TELGATE_CONTEXT ?? "from-internal";

async function main(): Promise<void> {
  const gw = connect(target, {
    token: process.env.TELGATE_TOKEN, // sent in the `authorization` metadata, scheme Bearer
    caFile: process.env.TELGATE_CA_FILE, // TLS when set
  });
  try {
    const call = await originate(gw);
    const last = await followCall(gw, call);
    await resume(gw, call, last);
    await streamCdrs(gw, call);
  } finally {
    gw.close();
  }
}

// 1. Originate: ring the endpoint, then connect it to an extension.
async function originate(gw: TelgateClient): Promise<OriginatedCall> {
  const { call } = await gw.calls.originate({
    endpoint,
    target: { $case: "destination", value: { target: { $case: "extension", value: { extension: exten, context } } } },
  });
  if (!call?.eventsAfter) throw new Error("OriginateResponse carried no call position");
  console.log(`originated call ${call.uniqueId} (linked id ${call.linkedId})`);
  return call;
}

// 2. The call's events from the position Originate returned, until every
//    channel has hung up; hang up once both parties are bridged. Returns the
//    last position seen (an EventPosition: epoch + sequence, stored as is).
async function followCall(gw: TelgateClient, call: OriginatedCall): Promise<EventPosition> {
  const stream = gw.events.subscribe({
    filter: { linkedIds: [call.linkedId] },
    start: StartPosition.START_POSITION_AFTER,
    after: call.eventsAfter,
  });
  const live = new Set<string>();
  let hangupSent = false;
  let last = call.eventsAfter!;
  for await (const { kind } of stream) {
    switch (kind?.$case) {
      case "started": // always first: events after this position follow
        last = kind.value.position ?? last;
        break;
      case "gap":
        console.log(`events lost: ${gapReasonToJSON(kind.value.reason)}`); // an enum is a number; ...ToJSON names it
        break;
      case "heartbeat": // idle; every event up to this position was sent or filtered out
        last = kind.value.position ?? last;
        break;
      case "batch":
        for (const event of kind.value.events) {
          console.log(describe(event));
          last = event.position ?? last;
          const payload = event.payload;
          if (payload?.$case === "channelCreated") live.add(event.uniqueId);
          if (payload?.$case === "channelHungUp") live.delete(event.uniqueId);
          if (payload?.$case === "bridgeEntered" && payload.value.bridge?.numChannels === 2 && !hangupSent) {
            hangupSent = true;
            console.log(`both parties bridged: hanging up ${call.uniqueId}`);
            await gw.calls.hangup({ channel: { ref: { $case: "uniqueId", value: call.uniqueId } }, cause: 16 });
          }
        }
        break;
    }
    if (hangupSent && live.size === 0) break; // leaving the loop cancels the stream
  }
  console.log(`call hung up; last position: epoch ${last.epoch} sequence ${last.sequence}`);
  return last;
}

// 3. Resume from the stored position: the stream goes on right after it.
async function resume(gw: TelgateClient, call: OriginatedCall, from: EventPosition): Promise<void> {
  const stream = gw.events.subscribe({
    filter: { linkedIds: [call.linkedId] },
    start: StartPosition.START_POSITION_AFTER,
    after: from,
    heartbeatInterval: { seconds: 1n, nanos: 0 },
  });
  let replayed = 0;
  for await (const { kind } of stream) {
    if (kind?.$case === "started") {
      console.log(`resumed after epoch ${kind.value.position?.epoch} sequence ${kind.value.position?.sequence}`);
    } else if (kind?.$case === "batch") {
      for (const event of kind.value.events) {
        if (event.position!.sequence <= from.sequence) throw new Error(`event ${event.position!.sequence} came twice`);
        replayed++;
        console.log(`resumed: ${describe(event)}`);
      }
    } else if (kind?.$case === "heartbeat") {
      break; // idle: everything after the stored position was delivered
    }
  }
  // Any events here are the call's late ones (e.g. after its last hang-up), never one seen before.
  console.log(`resumed after sequence ${from.sequence}: ${replayed} later events, none seen twice`);
}

// 4. CDRs from a cursor (uint64: bigint), then only the ones after it.
async function streamCdrs(gw: TelgateClient, call: OriginatedCall): Promise<void> {
  let cursor = 0n;
  for await (const { cdrs } of gw.cdrs.streamCdrs({ afterCursor: 0n, follow: true })) {
    const mine = cdrs.find((cdr) => cdr.linkedCallId === call.linkedId);
    if (mine) {
      cursor = mine.cursor;
      console.log(`CDR cursor ${mine.cursor}: ${mine.channel} -> ${mine.callee}, billable ${mine.billable?.seconds ?? 0n} s`);
      break;
    }
  }
  for await (const { cdrs } of gw.cdrs.streamCdrs({ afterCursor: cursor })) {
    for (const cdr of cdrs) console.log(`CDR after cursor ${cursor}: cursor ${cdr.cursor} ${cdr.channel}`);
  }
  console.log(`streamed CDRs after cursor ${cursor}`);
}

/** One line per event: its sequence (a bigint), its typed kind and a detail or two. */
function describe(event: Event): string {
  const payload = event.payload; // a union on $case: TypeScript narrows `value` in each branch
  let detail = "";
  switch (payload?.$case) {
    case "bridgeEntered":
      detail = ` bridge ${payload.value.bridge?.id} now has ${payload.value.bridge?.numChannels} channels`;
      break;
    case "channelHungUp":
      detail = ` cause ${payload.value.cause} (${payload.value.causeText})`;
      break;
  }
  const kind = payload?.$case ?? event.name; // the typed kind, else the PBX's event name
  return `[${event.position?.sequence}] ${kind} ${event.channel}${detail}`;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
