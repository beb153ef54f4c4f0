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
import io.github.telgate.v1.EventPosition;
import io.github.telgate.v1.EventType;
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
import java.util.function.Predicate;
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

  private static SubscribeRequest after(EventPosition position, EventFilter filter) {
    return SubscribeRequest.newBuilder()
        .setFilter(filter)
        .setStart(StartPosition.START_POSITION_AFTER)
        .setAfter(position)
        .build();
  }

  /**
   * The events of a stream, in order, up to the one after which {@code done} (given the events so
   * far) is true; checks that the stream starts with `started` at {@code after}.
   */
  private static List<Event> read(
      Iterator<SubscribeResponse> responses, EventPosition after, Predicate<List<Event>> done) {
    assertTrue(responses.hasNext(), "the stream ended before its first message");
    SubscribeResponse first = responses.next();
    assertTrue(first.hasStarted(), "the first message is not `started`: " + first);
    assertEquals(after, first.getStarted().getPosition(), "started at another position");
    List<Event> got = new ArrayList<>();
    while (true) {
      assertTrue(responses.hasNext(), "the stream ended early, after " + got.size() + " events");
      SubscribeResponse response = responses.next();
      assertFalse(response.hasStarted(), "a second `started`");
      assertFalse(response.hasGap(), "events lost: " + response.getGap());
      for (Event event : response.getBatch().getEventsList()) {
        got.add(event);
        if (done.test(got)) {
          return got;
        }
      }
    }
  }

  private static String show(EventPosition position) {
    return position.getEpoch() + "/" + Long.toUnsignedString(position.getSequence());
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
    EventPosition start = call.getEventsAfter();
    assertFalse(start.getEpoch().isEmpty(), "Originate returned no event position");

    // Every event of the call, until each channel seen has hung up (hung up by us once bridged).
    EventFilter filter = EventFilter.newBuilder().addLinkedIds(call.getLinkedId()).build();
    Set<String> up = new HashSet<>();
    Set<String> channels = new HashSet<>();
    boolean[] hungUp = {false};
    List<Event> seen =
        streaming(
            () ->
                read(
                    events.withDeadlineAfter(60, TimeUnit.SECONDS).subscribe(after(start, filter)),
                    start,
                    got -> {
                      Event event = got.get(got.size() - 1);
                      if (!event.getUniqueId().isEmpty() && channels.add(event.getUniqueId())) {
                        up.add(event.getUniqueId());
                      }
                      if (event.hasChannelHungUp()) {
                        up.remove(event.getChannelHungUp().getChannel().getUniqueId());
                      }
                      if (!hungUp[0]
                          && event.hasBridgeEntered()
                          && event.getBridgeEntered().getBridge().getNumChannels() == 2) {
                        calls
                            .withDeadlineAfter(10, TimeUnit.SECONDS)
                            .hangup(
                                HangupRequest.newBuilder()
                                    .setChannel(
                                        ChannelRef.newBuilder().setUniqueId(call.getUniqueId()))
                                    .setCause(16)
                                    .build());
                        hungUp[0] = true;
                      }
                      return !channels.isEmpty() && up.isEmpty();
                    }));
    assertTrue(hungUp[0], "the call ended before both parties were bridged");

    for (int i = 0; i < seen.size(); i++) {
      Event event = seen.get(i);
      assertEquals(call.getLinkedId(), event.getLinkedId(), "an event of another call came");
      assertEquals(start.getEpoch(), event.getPosition().getEpoch());
      EventPosition previous = i == 0 ? start : seen.get(i - 1).getPosition();
      assertTrue(
          Long.compareUnsigned(event.getPosition().getSequence(), previous.getSequence()) > 0,
          show(event.getPosition()) + " after " + show(previous));
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

    // Resume from a position in the middle, as received: exactly the events after it come.
    int middle = seen.size() / 2;
    EventPosition stored = seen.get(middle - 1).getPosition();
    List<EventPosition> expected =
        seen.subList(middle, seen.size()).stream()
            .map(Event::getPosition)
            .collect(Collectors.toList());
    List<EventPosition> resumed =
        streaming(
                () ->
                    read(
                        events
                            .withDeadlineAfter(30, TimeUnit.SECONDS)
                            .subscribe(after(stored, filter)),
                        stored,
                        got -> got.size() >= expected.size()))
            .stream()
            .map(Event::getPosition)
            .collect(Collectors.toList());
    // Later events of the call (e.g. its CDRs recorded) may follow in the same batch.
    assertEquals(expected, resumed.subList(0, expected.size()), "resumed after " + show(stored));

    // A typed filter: exactly the call's hang-ups.
    List<EventPosition> hangups =
        seen.stream()
            .filter(Event::hasChannelHungUp)
            .map(Event::getPosition)
            .collect(Collectors.toList());
    EventFilter hangupsOnly =
        filter.toBuilder().addTypes(EventType.EVENT_TYPE_CHANNEL_HUNG_UP).build();
    List<Event> typed =
        streaming(
            () ->
                read(
                    events
                        .withDeadlineAfter(30, TimeUnit.SECONDS)
                        .subscribe(after(start, hangupsOnly)),
                    start,
                    got -> got.size() >= hangups.size()));
    assertEquals(
        hangups, typed.stream().map(Event::getPosition).collect(Collectors.toList()));
    assertTrue(typed.stream().allMatch(Event::hasChannelHungUp));

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
    assertEquals("endpoint", info.getMetadataMap().get("field"), info.toString());
    assertTrue(
        error.getStatus().getDescription().contains("endpoint is required"),
        error.getStatus().getDescription());
  }

  @Test
  void badFilterIsInvalidArgument() throws Exception {
    EventServiceBlockingStub events = EventServiceGrpc.newBlockingStub(channel);
    List<EventFilter> bad =
        List.of(
            EventFilter.newBuilder().addTypes(EventType.EVENT_TYPE_UNSPECIFIED).build(),
            EventFilter.newBuilder().addTypesValue(9999).build(),
            EventFilter.newBuilder().addRawNames("Var Set!").build());
    for (EventFilter filter : bad) {
      StatusRuntimeException error =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  streaming(
                      () ->
                          events
                              .withDeadlineAfter(10, TimeUnit.SECONDS)
                              .subscribe(SubscribeRequest.newBuilder().setFilter(filter).build())
                              .hasNext()),
              filter.toString());
      assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode(), error.toString());
      ErrorInfo info =
          Telgate.errorInfo(error).orElseGet(() -> fail("no ErrorInfo in " + error.getStatus()));
      assertEquals("ERROR_REASON_INVALID_FIELD", info.getReason(), filter.toString());
    }
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
