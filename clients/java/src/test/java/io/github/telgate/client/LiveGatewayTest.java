package io.github.telgate.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.rpc.ErrorInfo;
import io.github.telgate.v1.CallControlServiceGrpc;
import io.github.telgate.v1.CallControlServiceGrpc.CallControlServiceBlockingStub;
import io.github.telgate.v1.Cdr;
import io.github.telgate.v1.CdrServiceGrpc;
import io.github.telgate.v1.CdrServiceGrpc.CdrServiceBlockingStub;
import io.github.telgate.v1.ChannelRef;
import io.github.telgate.v1.Destination;
import io.github.telgate.v1.Event;
import io.github.telgate.v1.EventFilter;
import io.github.telgate.v1.EventServiceGrpc;
import io.github.telgate.v1.EventServiceGrpc.EventServiceBlockingStub;
import io.github.telgate.v1.ExtensionDestination;
import io.github.telgate.v1.HangupRequest;
import io.github.telgate.v1.ListChannelsRequest;
import io.github.telgate.v1.OriginateRequest;
import io.github.telgate.v1.OriginatedCall;
import io.github.telgate.v1.StartPosition;
import io.github.telgate.v1.StreamCdrsRequest;
import io.github.telgate.v1.StreamCdrsResponse;
import io.github.telgate.v1.SubscribeRequest;
import io.github.telgate.v1.SubscribeResponse;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The client against a live gateway (the AMI simulator behind it), named by TELGATE_TARGET and
 * TELGATE_TOKEN; tests/clients/test_java_client.py runs it. Without TELGATE_TARGET every test
 * fails: it never passes without having talked to a gateway.
 */
class LiveGatewayTest {
  private static String target;
  private static String token;
  private static ManagedChannel channel;

  @BeforeAll
  static void connect() {
    target = System.getenv("TELGATE_TARGET");
    token = System.getenv("TELGATE_TOKEN");
    assertNotNull(target, "TELGATE_TARGET must name a running gateway (host:port)");
    assertNotNull(token, "TELGATE_TOKEN must hold a bearer token for it");
    channel = Telgate.channel(target, null, token);
  }

  @AfterAll
  static void disconnect() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isEmpty() ? fallback : value;
  }

  private static OriginateRequest.Builder originate() {
    return OriginateRequest.newBuilder()
        .setEndpoint(env("TELGATE_ENDPOINT", "Local/201@phones"))
        .setDestination(
            Destination.newBuilder()
                .setExtension(
                    ExtensionDestination.newBuilder()
                        .setContext(env("TELGATE_CONTEXT", "from-internal"))
                        .setExtension(env("TELGATE_EXTEN", "202"))));
  }

  /** Runs {@code body} in a context that is cancelled after it, ending its streams. */
  private static <T> T streaming(Callable<T> body) throws Exception {
    try (Context.CancellableContext context = Context.current().withCancellation()) {
      return context.call(body);
    }
  }

  private static SubscribeRequest after(String epoch, long sequence, EventFilter filter) {
    return SubscribeRequest.newBuilder()
        .setFilter(filter)
        .setStart(StartPosition.START_POSITION_AFTER_SEQUENCE)
        .setEpoch(epoch)
        .setAfterSequence(sequence)
        .build();
  }

  @Test
  void callEventsResumeAndCdrs() throws Exception {
    CallControlServiceBlockingStub calls = CallControlServiceGrpc.newBlockingStub(channel);
    EventServiceBlockingStub events = EventServiceGrpc.newBlockingStub(channel);
    CdrServiceBlockingStub cdrs = CdrServiceGrpc.newBlockingStub(channel);

    OriginatedCall call =
        calls.withDeadlineAfter(10, TimeUnit.SECONDS).originate(originate().build()).getCall();
    assertFalse(call.getUniqueId().isEmpty(), "Originate returned no unique id");
    assertEquals(call.getUniqueId(), call.getLinkedId(), "the originated channel starts its call");
    assertFalse(call.getEpoch().isEmpty(), "Originate returned no event epoch");

    // Every event of the call, until each channel seen has hung up (hung up by us once bridged).
    EventFilter filter = EventFilter.newBuilder().addLinkedIds(call.getLinkedId()).build();
    List<Event> seen =
        streaming(
            () -> {
              List<Event> got = new ArrayList<>();
              Set<String> up = new HashSet<>();
              Set<String> channels = new HashSet<>();
              boolean hungUp = false;
              Iterator<SubscribeResponse> responses =
                  events
                      .withDeadlineAfter(60, TimeUnit.SECONDS)
                      .subscribe(after(call.getEpoch(), call.getEventSequence(), filter));
              while (responses.hasNext()) {
                for (Event event : responses.next().getEventsList()) {
                  got.add(event);
                  if (!event.getUniqueId().isEmpty() && channels.add(event.getUniqueId())) {
                    up.add(event.getUniqueId());
                  }
                  if (event.hasChannelHungUp()) {
                    up.remove(event.getChannelHungUp().getChannel().getUniqueId());
                  }
                  if (!hungUp
                      && event.hasBridgeEntered()
                      && event.getBridgeEntered().getBridge().getNumChannels() == 2) {
                    calls
                        .withDeadlineAfter(10, TimeUnit.SECONDS)
                        .hangup(
                            HangupRequest.newBuilder()
                                .setChannel(ChannelRef.newBuilder().setUniqueId(call.getUniqueId()))
                                .setCause(16)
                                .build());
                    hungUp = true;
                  }
                }
                if (!channels.isEmpty() && up.isEmpty()) {
                  assertTrue(hungUp, "the call ended before both parties were bridged");
                  return got;
                }
              }
              return fail("the event stream ended before the call did");
            });

    for (int i = 0; i < seen.size(); i++) {
      Event event = seen.get(i);
      assertEquals(call.getLinkedId(), event.getLinkedId(), "an event of another call came");
      assertEquals(call.getEpoch(), event.getEpoch());
      long previous = i == 0 ? call.getEventSequence() : seen.get(i - 1).getSequence();
      assertTrue(
          Long.compareUnsigned(event.getSequence(), previous) > 0,
          "sequence " + Long.toUnsignedString(event.getSequence()) + " after " + previous);
    }
    assertTrue(
        seen.stream()
            .anyMatch(
                e ->
                    e.hasChannelHungUp()
                        && e.getChannelHungUp()
                            .getChannel()
                            .getUniqueId()
                            .equals(call.getUniqueId())),
        "no ChannelHungUp for the originated channel " + call.getUniqueId());

    // Resume from a position in the middle: exactly the events after it come, none twice.
    int middle = seen.size() / 2;
    Event stored = seen.get(middle - 1);
    List<Long> expected =
        seen.subList(middle, seen.size()).stream()
            .map(Event::getSequence)
            .collect(Collectors.toList());
    List<Long> resumed =
        streaming(
            () -> {
              List<Long> got = new ArrayList<>();
              Iterator<SubscribeResponse> responses =
                  events
                      .withDeadlineAfter(30, TimeUnit.SECONDS)
                      .subscribe(after(stored.getEpoch(), stored.getSequence(), filter));
              while (got.size() < expected.size() && responses.hasNext()) {
                for (Event event : responses.next().getEventsList()) {
                  got.add(event.getSequence());
                }
              }
              return got;
            });
    // Later events of the call (e.g. its CDRs recorded) may follow in the same batch.
    assertTrue(resumed.size() >= expected.size(), "resumed stream ended early: " + resumed);
    assertEquals(
        expected,
        resumed.subList(0, expected.size()),
        "resumed after " + Long.toUnsignedString(stored.getSequence()));

    // CDRs from the start, following, until the call's; then only those after its cursor.
    Cdr cdr =
        streaming(
            () -> {
              Iterator<StreamCdrsResponse> responses =
                  cdrs.withDeadlineAfter(30, TimeUnit.SECONDS)
                      .streamCdrs(
                          StreamCdrsRequest.newBuilder().setAfterCursor(0).setFollow(true).build());
              while (responses.hasNext()) {
                for (Cdr each : responses.next().getCdrsList()) {
                  if (each.getLinkedCallId().equals(call.getLinkedId())) {
                    return each;
                  }
                }
              }
              return fail("the CDR stream ended before the call's CDR came");
            });
    assertTrue(Long.compareUnsigned(cdr.getCursor(), 0) > 0, "a stored CDR has a cursor > 0");
    List<Cdr> later = new ArrayList<>();
    cdrs.withDeadlineAfter(30, TimeUnit.SECONDS)
        .streamCdrs(StreamCdrsRequest.newBuilder().setAfterCursor(cdr.getCursor()).build())
        .forEachRemaining(response -> later.addAll(response.getCdrsList()));
    for (Cdr each : later) {
      assertTrue(
          Long.compareUnsigned(each.getCursor(), cdr.getCursor()) > 0,
          "cursor "
              + Long.toUnsignedString(each.getCursor())
              + " came after asking for those after "
              + Long.toUnsignedString(cdr.getCursor()));
    }
  }

  @Test
  void withoutTokenIsUnauthenticated() throws InterruptedException {
    ManagedChannel anonymous = Telgate.channel(target, null, null);
    try {
      StatusRuntimeException error =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  CallControlServiceGrpc.newBlockingStub(anonymous)
                      .withDeadlineAfter(10, TimeUnit.SECONDS)
                      .listChannels(ListChannelsRequest.getDefaultInstance()));
      assertEquals(Status.Code.UNAUTHENTICATED, error.getStatus().getCode(), error.toString());
    } finally {
      anonymous.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void emptyEndpointIsInvalidArgument() {
    StatusRuntimeException error =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                CallControlServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .originate(originate().setEndpoint("").build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode(), error.toString());
    ErrorInfo info =
        Telgate.errorInfo(error).orElseGet(() -> fail("no ErrorInfo in " + error.getStatus()));
    assertEquals("ERROR_REASON_INVALID_FIELD", info.getReason());
    assertTrue(
        error.getStatus().getDescription().contains("endpoint is required"),
        error.getStatus().getDescription());
  }

  @Test
  void bearerTokenIsNeverShown() {
    BearerToken credentials = new BearerToken("s3cret-token");
    assertFalse(credentials.toString().contains("s3cret"));
    IllegalArgumentException error =
        assertThrows(IllegalArgumentException.class, () -> new BearerToken("bad token"));
    assertFalse(error.getMessage().contains("bad"), error.getMessage());
  }
}
