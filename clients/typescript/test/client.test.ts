// The package against a live gateway (with the AMI simulator behind it):
//   TELGATE_TARGET=127.0.0.1:50051 TELGATE_TOKEN=... npm test
// tests/clients/test_typescript_client.py starts both and runs this file.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  connect,
  errorInfo,
  isServiceError,
  StartPosition,
  status,
  type Cdr,
  type Event,
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

/** Rejects with the gRPC status code of a failed call. */
async function codeOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isServiceError(error), `not a gRPC error: ${String(error)}`);
    return error.code;
  }
  assert.fail("the call succeeded");
}

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
      assert.equal(typeof call.eventSequence, "bigint");
    });

    test("the call's events, hung up after it bridged, end with ChannelHungUp for every channel", async () => {
      assert.ok(call, "no call (Originate failed)");
      const stream = gw.events.subscribe(
        {
          filter: { linkedIds: [call.linkedId] },
          start: StartPosition.START_POSITION_AFTER_SEQUENCE,
          afterSequence: call.eventSequence,
          epoch: call.epoch,
        },
        { timeoutMs: TIMEOUT_MS },
      );
      const live = new Set<string>();
      const hungUp = new Set<string>();
      let hangupSent = false;
      for await (const response of stream) {
        for (const event of response.events) {
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
      assert.ok(hangupSent, "no BridgeEntered with 2 channels in the bridge");
      assert.ok(hungUp.has(call.uniqueId), "no ChannelHungUp for the originated channel");
      assert.ok(hungUp.size >= 2, `expected both channels of the bridged call to hang up, saw ${hungUp.size}`);
      const hangup = events.find((e) => e.payload?.$case === "channelHungUp" && e.uniqueId === call.uniqueId);
      assert.equal(hangup?.payload?.$case === "channelHungUp" && hangup.payload.value.channel?.uniqueId, call.uniqueId);
      assert.ok(events.every((e) => e.linkedId === call.linkedId), "an event of another call passed the filter");
      // Sequences are bigints, after the Originate's position, one stream in order.
      for (const [i, e] of events.entries()) {
        assert.equal(typeof e.sequence, "bigint");
        assert.ok(e.sequence > (i === 0 ? call.eventSequence : events[i - 1].sequence));
      }
    });

    test("a subscription resumed from a stored position starts right after it", async () => {
      assert.ok(events.length >= 4, `too few events to resume from (${events.length})`);
      const stored = events[2];
      const resumed: Event[] = [];
      const stream = gw.events.subscribe(
        {
          filter: { linkedIds: [call.linkedId] },
          start: StartPosition.START_POSITION_AFTER_SEQUENCE,
          afterSequence: stored.sequence,
          epoch: stored.epoch,
          heartbeatInterval: { seconds: 0n, nanos: 200_000_000 },
        },
        { timeoutMs: TIMEOUT_MS },
      );
      for await (const response of stream) {
        resumed.push(...response.events);
        if (response.heartbeatTime && resumed.length > 0) break; // replay done, now idle
      }
      // The events seen after the stored one come again, from the very next one on; the
      // call's late events (after its last hang-up, when the first loop stopped) may follow.
      const rest = events.slice(3).map((e) => e.sequence);
      assert.deepEqual(
        resumed.slice(0, rest.length).map((e) => e.sequence),
        rest,
      );
      for (const [i, e] of resumed.entries()) {
        assert.ok(e.sequence > (i === 0 ? stored.sequence : resumed[i - 1].sequence));
      }
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
