// The package against a live gateway (with the AMI simulator behind it):
//   TELGATE_TARGET=127.0.0.1:50051 TELGATE_TOKEN=... npm test
// tests/clients/test_typescript_client.py starts both and runs this file.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import {
  connect,
  ERROR_DOMAIN,
  ErrorInfo,
  errorInfo,
  Metadata,
  isServiceError,
  EventType,
  StartPosition,
  status,
  type Cdr,
  type Event,
  type EventPosition,
  type OriginatedCall,
  type TelgateClient,
} from "@telgate/client";

const target = process.env.TELGATE_TARGET ?? "";
const token = process.env.TELGATE_TOKEN ?? "";
const endpoint = process.env.TELGATE_ENDPOINT ?? "Local/201@phones";
const context = process.env.TELGATE_CONTEXT ?? "from-internal";
const exten = process.env.TELGATE_EXTEN ?? "202";
/** Bound on every call and stream, so a broken gateway fails the test instead of hanging it. */
const TIMEOUT_MS = 30_000;

/** An event's sequence (a uint64: bigint). */
function seq(event: Event): bigint {
  assert.ok(event.position, "an event without a position");
  return event.position.sequence;
}

/** The gRPC status code a call failed with (an assertion error if it succeeded). */
async function codeOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isServiceError(error), `not a gRPC error: ${String(error)}`);
    return error.code;
  }
  assert.fail("the call succeeded");
}

/** A failed call's error whose google.rpc.Status details hold `infos` (as `Any`s). */
function failedWith(...infos: ErrorInfo[]): Error {
  const details = new BinaryWriter().uint32(8).int32(status.UNAVAILABLE);
  for (const info of infos) {
    details.uint32(26).fork();
    details.uint32(10).string("type.googleapis.com/google.rpc.ErrorInfo");
    details.uint32(18).bytes(ErrorInfo.encode(info).finish());
    details.join();
  }
  const metadata = new Metadata();
  metadata.set("grpc-status-details-bin", Buffer.from(details.finish()));
  return Object.assign(new Error("failed"), { code: status.UNAVAILABLE, details: "failed", metadata });
}

test("errorInfo is the gateway's ErrorInfo (domain telgate.v1), never another domain's", () => {
  const proxy = ErrorInfo.fromPartial({ reason: "UPSTREAM_GONE", domain: "proxy.example.com" });
  const gateway = ErrorInfo.fromPartial({ reason: "ERROR_REASON_SUBSCRIBER_TOO_SLOW", domain: ERROR_DOMAIN });
  assert.equal(errorInfo(failedWith(proxy, gateway))?.reason, "ERROR_REASON_SUBSCRIBER_TOO_SLOW");
  assert.equal(errorInfo(failedWith(proxy)), undefined);
  assert.equal(errorInfo(failedWith()), undefined);
});

describe("@telgate/client against a live gateway", () => {
  let gw: TelgateClient;

  before(() => {
    // Fail (not skip) when the wrapper did not say where the gateway is.
    assert.ok(target, "TELGATE_TARGET (host:port of a running gateway) is not set");
    assert.ok(token, "TELGATE_TOKEN (a bearer token) is not set");
    gw = connect(target, { token });
  });

  after(() => gw?.close());

  test("a call without the token is UNAUTHENTICATED", async () => {
    const anonymous = connect(target);
    try {
      const code = await codeOf(anonymous.backends.listBackends({}, { timeoutMs: TIMEOUT_MS }));
      assert.equal(code, status.UNAUTHENTICATED);
    } finally {
      anonymous.close();
    }
  });

  test("a token that cannot be a header value is refused before any call, without echoing it", () => {
    assert.throws(
      () => connect(target, { token: "secret with spaces" }),
      (error: Error) => error instanceof TypeError && !error.message.includes("secret"),
    );
  });

  test("Originate with an empty endpoint is INVALID_ARGUMENT, saying which field", async () => {
    try {
      await gw.calls.originate(
        { endpoint: "", target: { $case: "destination", value: { target: { $case: "extension", value: { extension: exten, context } } } } },
        { timeoutMs: TIMEOUT_MS },
      );
      assert.fail("Originate with an empty endpoint succeeded");
    } catch (error) {
      assert.ok(isServiceError(error), String(error));
      assert.equal(error.code, status.INVALID_ARGUMENT);
      assert.match(error.details, /endpoint/);
      assert.equal(errorInfo(error)?.domain, "telgate.v1");
    }
  });

  test("a malformed raw event name or an UNSPECIFIED EventType in a filter is INVALID_ARGUMENT", async () => {
    for (const filter of [{ rawNames: ["Var Set;"] }, { types: [EventType.EVENT_TYPE_UNSPECIFIED] }]) {
      const stream = gw.events.subscribe({ filter }, { timeoutMs: TIMEOUT_MS });
      try {
        for await (const _ of stream) assert.fail(`a stream opened with filter ${JSON.stringify(filter)}`);
        assert.fail("the stream ended without a status");
      } catch (error) {
        assert.ok(isServiceError(error), String(error));
        assert.equal(error.code, status.INVALID_ARGUMENT, error.details);
      }
    }
  });

  test("an AbortSignal ends a live subscription without an error, and cancels a unary call", async () => {
    const controller = new AbortController();
    const stream = gw.events.subscribe({ start: StartPosition.START_POSITION_LIVE }, { signal: controller.signal });
    let messages = 0;
    for await (const _ of stream) {
      messages++;
      controller.abort(); // after the first message (the subscription is live)
    }
    assert.equal(messages, 1);
    const code = await codeOf(gw.backends.listBackends({}, { signal: AbortSignal.abort() }));
    assert.equal(code, status.CANCELLED);
  });

  describe("one call from originate to its CDRs", () => {
    let call: OriginatedCall;
    const events: Event[] = [];
    const cdrs: Cdr[] = [];

    test("Originate returns the call's unique id", async () => {
      const response = await gw.calls.originate(
        {
          endpoint,
          target: { $case: "destination", value: { target: { $case: "extension", value: { extension: exten, context } } } },
          requestId: `ts-test-${process.pid}-${Date.now()}`,
        },
        { timeoutMs: TIMEOUT_MS },
      );
      assert.ok(response.call, "OriginateResponse without a call");
      call = response.call;
      assert.notEqual(call.uniqueId, "");
      assert.equal(call.linkedId, call.uniqueId);
      assert.ok(call.eventsAfter, "OriginatedCall without events_after");
      assert.equal(typeof call.eventsAfter.sequence, "bigint");
      assert.notEqual(call.eventsAfter.epoch, "");
    });

    test("the call's events, hung up after it bridged, end with ChannelHungUp for every channel", async () => {
      assert.ok(call, "no call (Originate failed)");
      const stream = gw.events.subscribe(
        {
          filter: { linkedIds: [call.linkedId] },
          start: StartPosition.START_POSITION_AFTER,
          after: call.eventsAfter,
        },
        { timeoutMs: TIMEOUT_MS },
      );
      const live = new Set<string>();
      const hungUp = new Set<string>();
      let hangupSent = false;
      const kinds: string[] = [];
      for await (const { kind } of stream) {
        kinds.push(kind?.$case ?? "none");
        if (kind?.$case === "started") {
          assert.deepEqual(kind.value.position, call.eventsAfter, "the stream did not start at the position asked for");
        }
        if (kind?.$case !== "batch") continue;
        for (const event of kind.value.events) {
          events.push(event);
          if (event.uniqueId && !hungUp.has(event.uniqueId)) live.add(event.uniqueId);
          const payload = event.payload;
          if (payload?.$case === "bridgeEntered" && payload.value.bridge?.numChannels === 2 && !hangupSent) {
            hangupSent = true;
            await gw.calls.hangup(
              { channel: { ref: { $case: "uniqueId", value: call.uniqueId } }, cause: 16 },
              { timeoutMs: TIMEOUT_MS },
            );
          } else if (payload?.$case === "channelHungUp") {
            live.delete(event.uniqueId);
            hungUp.add(event.uniqueId);
          }
        }
        if (hangupSent && live.size === 0) break;
      }
      assert.equal(kinds[0], "started");
      assert.ok(!kinds.slice(1).includes("started"), "a second SubscriptionStarted");
      assert.ok(!kinds.includes("gap"), "a gap on a fresh position");
      assert.ok(hangupSent, "no BridgeEntered with 2 channels in the bridge");
      assert.ok(hungUp.has(call.uniqueId), "no ChannelHungUp for the originated channel");
      assert.ok(hungUp.size >= 2, `expected both channels of the bridged call to hang up, saw ${hungUp.size}`);
      const hangup = events.find((e) => e.payload?.$case === "channelHungUp" && e.uniqueId === call.uniqueId);
      assert.equal(hangup?.payload?.$case === "channelHungUp" && hangup.payload.value.channel?.uniqueId, call.uniqueId);
      assert.ok(events.every((e) => e.linkedId === call.linkedId), "an event of another call passed the filter");
      // Positions: bigint sequences in the Originate's epoch, after its position, in order.
      for (const [i, e] of events.entries()) {
        assert.equal(typeof seq(e), "bigint");
        assert.equal(e.position?.epoch, call.eventsAfter?.epoch);
        assert.ok(seq(e) > (i === 0 ? call.eventsAfter!.sequence : seq(events[i - 1])));
      }
    });

    test("a subscription resumed from a stored position starts right after it", async () => {
      assert.ok(events.length >= 4, `too few events to resume from (${events.length})`);
      const stored = events[2].position!;
      const resumed: Event[] = [];
      let started: EventPosition | undefined;
      const stream = gw.events.subscribe(
        {
          filter: { linkedIds: [call.linkedId] },
          start: StartPosition.START_POSITION_AFTER,
          after: stored,
          heartbeatInterval: { seconds: 0n, nanos: 200_000_000 },
        },
        { timeoutMs: TIMEOUT_MS },
      );
      for await (const { kind } of stream) {
        if (kind?.$case === "started") started = kind.value.position;
        if (kind?.$case === "batch") resumed.push(...kind.value.events);
        if (kind?.$case === "heartbeat" && resumed.length > 0) break; // replay done, now idle
      }
      assert.deepEqual(started, stored);
      // The events seen after the stored one come again, from the very next one on; the
      // call's late events (after its last hang-up, when the first loop stopped) may follow.
      const rest = events.slice(3).map(seq);
      assert.deepEqual(resumed.slice(0, rest.length).map(seq), rest);
      for (const [i, e] of resumed.entries()) {
        assert.ok(seq(e) > (i === 0 ? stored.sequence : seq(resumed[i - 1])));
      }
    });

    test("a filter on typed kinds (EventType) passes those kinds only", async () => {
      assert.ok(events.length > 0, "no events (a previous step failed)");
      const got: Event[] = [];
      const stream = gw.events.subscribe(
        {
          filter: { linkedIds: [call.linkedId], types: [EventType.EVENT_TYPE_CHANNEL_HUNG_UP] },
          start: StartPosition.START_POSITION_AFTER,
          after: call.eventsAfter,
          heartbeatInterval: { seconds: 0n, nanos: 200_000_000 },
        },
        { timeoutMs: TIMEOUT_MS },
      );
      for await (const { kind } of stream) {
        if (kind?.$case === "batch") got.push(...kind.value.events);
        if (kind?.$case === "heartbeat") break; // replay done
      }
      const hangups = events.filter((e) => e.payload?.$case === "channelHungUp");
      assert.ok(hangups.length >= 2);
      assert.deepEqual(got.map(seq), hangups.map(seq));
    });

    test("StreamCdrs from cursor 0 delivers the call's CDR with a cursor > 0", async () => {
      assert.ok(call, "no call (Originate failed)");
      const stream = gw.cdrs.streamCdrs({ afterCursor: 0n, follow: true }, { timeoutMs: TIMEOUT_MS });
      for await (const response of stream) {
        cdrs.push(...response.cdrs);
        if (cdrs.some((c) => c.linkedCallId === call.linkedId)) break;
      }
      const mine = cdrs.find((c) => c.linkedCallId === call.linkedId);
      assert.ok(mine, "no CDR of the call");
      assert.equal(typeof mine.cursor, "bigint");
      assert.ok(mine.cursor > 0n);
    });

    test("StreamCdrs after a cursor delivers only the CDRs stored after it", async () => {
      assert.ok(cdrs.length > 0, "no CDRs (the previous step failed)");
      const first = cdrs[0];
      const later: bigint[] = [];
      for await (const response of gw.cdrs.streamCdrs({ afterCursor: first.cursor }, { timeoutMs: TIMEOUT_MS })) {
        later.push(...response.cdrs.map((c) => c.cursor));
      }
      const all: bigint[] = [];
      for await (const response of gw.cdrs.streamCdrs({ afterCursor: 0n }, { timeoutMs: TIMEOUT_MS })) {
        all.push(...response.cdrs.map((c) => c.cursor));
      }
      // Read second, `all` may hold CDRs stored meanwhile, only ever after `later`'s.
      const after = all.filter((c) => c > first.cursor);
      assert.ok(all.includes(first.cursor));
      assert.deepEqual(later, after.slice(0, later.length));
      assert.ok(later.every((c) => c > first.cursor));
    });
  });
});
