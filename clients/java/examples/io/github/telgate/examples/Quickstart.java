package io.github.telgate.examples;

import com.google.protobuf.Duration;
import com.google.type.Money;
import io.github.telgate.client.Telgate;
import io.github.telgate.v1.CallControlServiceGrpc;
import io.github.telgate.v1.CallControlServiceGrpc.CallControlServiceBlockingStub;
import io.github.telgate.v1.Cdr;
import io.github.telgate.v1.CdrServiceGrpc;
import io.github.telgate.v1.CdrServiceGrpc.CdrServiceBlockingStub;
import io.github.telgate.v1.ChannelRef;
import io.github.telgate.v1.Destination;
import io.github.telgate.v1.Event;
import io.github.telgate.v1.EventFilter;
import io.github.telgate.v1.EventPosition;
import io.github.telgate.v1.EventServiceGrpc;
import io.github.telgate.v1.EventServiceGrpc.EventServiceBlockingStub;
import io.github.telgate.v1.ExtensionDestination;
import io.github.telgate.v1.HangupRequest;
import io.github.telgate.v1.OriginateRequest;
import io.github.telgate.v1.OriginatedCall;
import io.github.telgate.v1.StartPosition;
import io.github.telgate.v1.StreamCdrsRequest;
import io.github.telgate.v1.StreamCdrsResponse;
import io.github.telgate.v1.SubscribeRequest;
import io.github.telgate.v1.SubscribeResponse;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.math.BigDecimal;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Places a call through telgate, prints its events until it is over, resumes the event stream
 * from the last position seen, and streams CDRs from a cursor.
 *
 * <pre>
 * TELGATE_TARGET=127.0.0.1:50051 TELGATE_TOKEN=... java -cp ... io.github.telgate.examples.Quickstart
 * </pre>
 *
 * Environment: TELGATE_TARGET (default 127.0.0.1:50051), TELGATE_TOKEN (bearer token, sent on
 * every call), TELGATE_CA_FILE (set: TLS trusting that CA; unset: plaintext), TELGATE_ENDPOINT
 * (default Local/201@phones), TELGATE_CONTEXT (default from-internal), TELGATE_EXTEN (default
 * 202).
 *
 * <p>Sequences and cursors are uint64 in the API and Java {@code long} here: they are printed
 * with {@link Long#toUnsignedString(long)} and compared with {@link Long#compareUnsigned}. A
 * position received (an event's, a heartbeat's, {@code OriginatedCall.events_after}) is stored
 * and sent back as is.
 */
public final class Quickstart {
  private Quickstart() {}

  public static void main(String[] args) throws Exception {
    try {
      run();
    } catch (StatusRuntimeException e) {
      // e.g. UNAUTHENTICATED (no or unknown token), UNAVAILABLE (no gateway there)
      System.err.println("error: " + e.getStatus().getCode() + ": " + e.getStatus().getDescription());
      Telgate.errorInfo(e).ifPresent(info -> System.err.println("  reason: " + info.getReason()));
      System.exit(1);
    }
  }

  private static void run() throws Exception {
    // TELGATE_TARGET, TELGATE_TOKEN and TELGATE_CA_FILE (TLS when set).
    ManagedChannel channel = Telgate.channelFromEnvironment();
    try {
      CallControlServiceBlockingStub calls = CallControlServiceGrpc.newBlockingStub(channel);
      EventServiceBlockingStub events = EventServiceGrpc.newBlockingStub(channel);
      CdrServiceBlockingStub cdrs = CdrServiceGrpc.newBlockingStub(channel);

      // 1. Place the call: ring the endpoint, then connect it to an extension.
      OriginatedCall call =
          calls
              .withDeadlineAfter(10, TimeUnit.SECONDS)
              .originate(
                  OriginateRequest.newBuilder()
                      .setEndpoint(env("TELGATE_ENDPOINT", "Local/201@phones"))
                      .setDestination(
                          Destination.newBuilder()
                              .setExtension(
                                  ExtensionDestination.newBuilder()
                                      .setContext(env("TELGATE_CONTEXT", "from-internal"))
                                      .setExtension(env("TELGATE_EXTEN", "202"))))
                      .build())
              .getCall();
      System.out.println("call placed: unique id " + call.getUniqueId());

      // 2. Every event of the call, from just before it was placed.
      EventFilter filter = EventFilter.newBuilder().addLinkedIds(call.getLinkedId()).build();
      EventPosition last;
      try (Context.CancellableContext stream = Context.current().withCancellation()) {
        last =
            stream.call(
                () -> {
                  EventPosition position = call.getEventsAfter();
                  Set<String> up = new HashSet<>();
                  Set<String> seen = new HashSet<>();
                  Iterator<SubscribeResponse> responses =
                      events
                          .withDeadlineAfter(60, TimeUnit.SECONDS)
                          .subscribe(subscribeAfter(position, filter));
                  while (responses.hasNext()) {
                    SubscribeResponse response = responses.next();
                    switch (response.getKindCase()) {
                      case STARTED:
                        System.out.println(
                            "subscribed: events after "
                                + show(response.getStarted().getPosition())
                                + " follow");
                        break;
                      case GAP:
                        System.out.println("  events lost: " + response.getGap().getReason());
                        break;
                      case HEARTBEAT:
                        break;
                      case BATCH:
                        for (Event event : response.getBatch().getEventsList()) {
                          position = event.getPosition();
                          System.out.println(
                              "  event " + show(position) + "  " + Describe.event(event));
                          if (!event.getUniqueId().isEmpty() && seen.add(event.getUniqueId())) {
                            up.add(event.getUniqueId());
                          }
                          if (event.hasChannelHungUp()) {
                            up.remove(event.getChannelHungUp().getChannel().getUniqueId());
                          }
                          if (event.hasBridgeEntered()
                              && event.getBridgeEntered().getBridge().getNumChannels() == 2) {
                            System.out.println("  both parties are in the bridge: hanging up");
                            calls
                                .withDeadlineAfter(10, TimeUnit.SECONDS)
                                .hangup(
                                    HangupRequest.newBuilder()
                                        .setChannel(
                                            ChannelRef.newBuilder().setUniqueId(call.getUniqueId()))
                                        .setCause(16)
                                        .build());
                          }
                        }
                        if (!seen.isEmpty() && up.isEmpty()) {
                          return position; // every channel of the call has hung up
                        }
                        break;
                      default:
                        break;
                    }
                  }
                  throw new IllegalStateException("the event stream ended before the call did");
                });
      }
      System.out.println("call over; last position seen " + show(last));

      // 3. Resume from the stored position, as is: the stream starts right after it.
      try (Context.CancellableContext stream = Context.current().withCancellation()) {
        EventPosition stored = last;
        stream.run(
            () -> {
              Iterator<SubscribeResponse> responses =
                  events
                      .withDeadlineAfter(30, TimeUnit.SECONDS)
                      .subscribe(
                          subscribeAfter(stored, EventFilter.getDefaultInstance()).toBuilder()
                              .setHeartbeatInterval(Duration.newBuilder().setNanos(500_000_000))
                              .build());
              // Show what follows until the stream goes quiet (a heartbeat) or a few events came.
              int shown = 0;
              while (shown < 5 && responses.hasNext()) {
                SubscribeResponse response = responses.next();
                if (response.hasStarted()) {
                  System.out.println(
                      "resumed: events after " + show(response.getStarted().getPosition()) + " follow");
                } else if (response.hasHeartbeat()) {
                  System.out.println(
                      "  heartbeat: passed " + show(response.getHeartbeat().getPosition()));
                  break;
                } else if (response.hasGap()) {
                  System.out.println("  events lost: " + response.getGap().getReason());
                } else {
                  for (Event event : response.getBatch().getEventsList()) {
                    System.out.println(
                        "  resumed event "
                            + show(event.getPosition())
                            + "  "
                            + Describe.event(event));
                    shown++;
                  }
                }
              }
            });
      }

      // 4. CDRs from cursor 0 until the call's CDR arrives, then only the later ones.
      long cursor;
      try (Context.CancellableContext stream = Context.current().withCancellation()) {
        cursor =
            stream.call(
                () -> {
                  Iterator<StreamCdrsResponse> responses =
                      cdrs.withDeadlineAfter(30, TimeUnit.SECONDS)
                          .streamCdrs(
                              StreamCdrsRequest.newBuilder().setAfterCursor(0).setFollow(true).build());
                  while (responses.hasNext()) {
                    for (Cdr cdr : responses.next().getCdrsList()) {
                      if (cdr.getLinkedCallId().equals(call.getLinkedId())) {
                        System.out.println(
                            "CDR of the call: cursor "
                                + Long.toUnsignedString(cdr.getCursor())
                                + ", "
                                + cdr.getChannel()
                                + " -> "
                                + cdr.getDestinationChannel()
                                + ", "
                                + cdr.getDisposition()
                                + ", cost "
                                + (cdr.hasCost() ? show(cdr.getCost()) : "none"));
                        return cdr.getCursor();
                      }
                    }
                  }
                  throw new IllegalStateException("the CDR stream ended before the call's CDR");
                });
      }
      Iterator<StreamCdrsResponse> later =
          cdrs.withDeadlineAfter(30, TimeUnit.SECONDS)
              .streamCdrs(StreamCdrsRequest.newBuilder().setAfterCursor(cursor).build());
      System.out.println("CDRs after cursor " + Long.toUnsignedString(cursor) + ":");
      while (later.hasNext()) {
        for (Cdr cdr : later.next().getCdrsList()) {
          System.out.println(
              "  later CDR cursor " + Long.toUnsignedString(cdr.getCursor()) + "  " + cdr.getChannel());
        }
      }
    } finally {
      channel.shutdown().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** A Subscribe request for the events after {@code position} (one received earlier, as is). */
  static SubscribeRequest subscribeAfter(EventPosition position, EventFilter filter) {
    return SubscribeRequest.newBuilder()
        .setFilter(filter)
        .setStart(StartPosition.START_POSITION_AFTER)
        .setAfter(position)
        .build();
  }

  /** A position as {@code epoch/sequence}; the sequence is a uint64 held in a long. */
  static String show(EventPosition position) {
    return position.getEpoch() + "/" + Long.toUnsignedString(position.getSequence());
  }

  /** A cost as a decimal amount and its currency, e.g. {@code 0.035 EUR}. */
  static String show(Money money) {
    BigDecimal amount =
        BigDecimal.valueOf(money.getUnits()).add(BigDecimal.valueOf(money.getNanos(), 9));
    return amount.stripTrailingZeros().toPlainString() + " " + money.getCurrencyCode();
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isEmpty() ? fallback : value;
  }
}
