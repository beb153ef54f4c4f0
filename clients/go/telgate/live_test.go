package telgate_test

// Tests against a live gateway with the AMI simulator behind it
// (tests/clients/test_go_client.py starts one and runs `go test`). They fail,
// never skip, when TELGATE_TARGET is not set.

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/telgate/telgate/clients/go/telgate"
	telgatev1 "github.com/telgate/telgate/clients/go/telgate/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// live is a connection to the gateway the environment names.
type live struct {
	conn   *grpc.ClientConn
	calls  telgatev1.CallControlServiceClient
	events telgatev1.EventServiceClient
	cdrs   telgatev1.CdrServiceClient
}

func getenv(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// dial connects to TELGATE_TARGET with the given bearer token ("" for none).
func dial(t *testing.T, ctx context.Context, token string) *live {
	t.Helper()
	target := os.Getenv("TELGATE_TARGET")
	if target == "" {
		t.Fatal("TELGATE_TARGET is not set: these tests need a live gateway " +
			"(run tests/clients/test_go_client.py, or set TELGATE_TARGET and TELGATE_TOKEN)")
	}
	conn, err := telgate.Dial(ctx, target, token, os.Getenv("TELGATE_CA_FILE"))
	if err != nil {
		t.Fatalf("dial %s: %v", target, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &live{
		conn:   conn,
		calls:  telgatev1.NewCallControlServiceClient(conn),
		events: telgatev1.NewEventServiceClient(conn),
		cdrs:   telgatev1.NewCdrServiceClient(conn),
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func originateRequest(endpoint string) *telgatev1.OriginateRequest {
	return &telgatev1.OriginateRequest{
		Endpoint: endpoint,
		Target: &telgatev1.OriginateRequest_Destination{Destination: &telgatev1.Destination{
			Target: &telgatev1.Destination_Extension{Extension: &telgatev1.ExtensionDestination{
				Context:   getenv("TELGATE_CONTEXT", "from-internal"),
				Extension: getenv("TELGATE_EXTEN", "202"),
			}},
		}},
	}
}

func TestLiveWithoutTokenIsUnauthenticated(t *testing.T) {
	ctx := testContext(t)
	gw := dial(t, ctx, "")
	_, err := gw.calls.ListChannels(ctx, &telgatev1.ListChannelsRequest{})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("ListChannels without a token: got %v, want UNAUTHENTICATED", err)
	}
	// A wrong token is refused the same way, and the message does not echo it.
	gw = dial(t, ctx, "not-a-token-of-this-gateway")
	_, err = gw.calls.ListChannels(ctx, &telgatev1.ListChannelsRequest{})
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("ListChannels with a wrong token: got %v, want UNAUTHENTICATED", err)
	}
	if msg := status.Convert(err).Message(); strings.Contains(msg, "not-a-token") {
		t.Fatalf("the error message echoes the token: %q", msg)
	}
}

func TestLiveOriginateEmptyEndpointIsInvalidArgument(t *testing.T) {
	ctx := testContext(t)
	gw := dial(t, ctx, os.Getenv("TELGATE_TOKEN"))
	_, err := gw.calls.Originate(ctx, originateRequest(""))
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("Originate with an empty endpoint: got %v, want INVALID_ARGUMENT", err)
	}
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "endpoint") {
		t.Fatalf("Originate with an empty endpoint: message %q does not name the field", msg)
	}
	if reason, _ := telgate.Reason(err); reason != telgatev1.ErrorReason_ERROR_REASON_INVALID_FIELD {
		t.Fatalf("Originate with an empty endpoint: reason %v, want ERROR_REASON_INVALID_FIELD", reason)
	}
}

// TestLiveCall places a call, follows its events (listing the channels while
// it is up, hanging it up once bridged) until every channel has hung up,
// resumes from a position in the middle, and streams its CDRs from a cursor.
func TestLiveCall(t *testing.T) {
	ctx := testContext(t)
	gw := dial(t, ctx, os.Getenv("TELGATE_TOKEN"))

	resp, err := gw.calls.Originate(ctx, originateRequest(getenv("TELGATE_ENDPOINT", "Local/201@phones")))
	if err != nil {
		t.Fatalf("Originate: %v", err)
	}
	call := resp.GetCall()
	if call.GetUniqueId() == "" || call.GetLinkedId() != call.GetUniqueId() {
		t.Fatalf("Originate: unique id %q, linked id %q; want a unique id, equal to the linked id",
			call.GetUniqueId(), call.GetLinkedId())
	}
	if call.GetEventsAfter().GetEpoch() == "" {
		t.Fatalf("Originate: no events_after position (%v)", call.GetEventsAfter())
	}
	filter := &telgatev1.EventFilter{LinkedIds: []string{call.GetLinkedId()}}

	got := followCall(t, ctx, gw, call, filter)

	// The originated channel hung up, and every event belongs to the call.
	var hangup *telgatev1.ChannelHungUp
	for _, ev := range got {
		if ev.GetLinkedId() != call.GetLinkedId() {
			t.Errorf("event %d (%s) has linked id %q, not the call's", ev.GetPosition().GetSequence(), ev.GetName(), ev.GetLinkedId())
		}
		if h := ev.GetChannelHungUp(); h != nil && h.GetChannel().GetUniqueId() == call.GetUniqueId() {
			hangup = h
		}
	}
	if hangup == nil {
		t.Fatalf("no ChannelHungUp for the call's channel %s among %d events", call.GetUniqueId(), len(got))
	}
	if hangup.GetChannel().GetName() == "" || hangup.GetCause() != 16 {
		t.Errorf("ChannelHungUp: channel %q, cause %d; want a channel name and cause 16",
			hangup.GetChannel().GetName(), hangup.GetCause())
	}

	checkResume(t, ctx, gw, filter, got)
	checkTypedFilter(t, ctx, gw, call, got)
	checkCdrs(t, ctx, gw, call.GetLinkedId())
}

// batches reads a subscription until it has delivered n events (n < 0: until
// stop says so), checking the stream's shape on the way: SubscriptionStarted
// first (at want when given), then batches and heartbeats, no gap.
func batches(t *testing.T, stream telgatev1.EventService_SubscribeClient, want *telgatev1.EventPosition,
	stop func(*telgatev1.Event) bool) []*telgatev1.Event {
	t.Helper()
	var got []*telgatev1.Event
	for first := true; ; first = false {
		msg, err := stream.Recv()
		if err != nil {
			t.Fatalf("Subscribe after %d events: %v", len(got), err)
		}
		if first != (msg.GetStarted() != nil) {
			t.Fatalf("Subscribe: message %v; SubscriptionStarted comes first and only first", msg)
		}
		switch kind := msg.GetKind().(type) {
		case *telgatev1.SubscribeResponse_Started:
			if !proto.Equal(kind.Started.GetPosition(), want) {
				t.Fatalf("Subscribe started at %v, want %v", kind.Started.GetPosition(), want)
			}
		case *telgatev1.SubscribeResponse_Gap:
			t.Fatalf("Subscribe: unexpected gap %v", kind.Gap)
		case *telgatev1.SubscribeResponse_Batch:
			for _, ev := range kind.Batch.GetEvents() {
				prev := want
				if len(got) > 0 {
					prev = got[len(got)-1].GetPosition()
				}
				if ev.GetPosition().GetEpoch() != prev.GetEpoch() || ev.GetPosition().GetSequence() <= prev.GetSequence() {
					t.Fatalf("event at %v after %v: same epoch, increasing sequences expected", ev.GetPosition(), prev)
				}
				got = append(got, ev)
				if stop(ev) {
					return got
				}
			}
		}
	}
}

// followCall subscribes from the position the Originate response gave and
// returns the call's events until every channel it saw has hung up.
func followCall(t *testing.T, ctx context.Context, gw *live, call *telgatev1.OriginatedCall,
	filter *telgatev1.EventFilter) []*telgatev1.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := gw.events.Subscribe(ctx, &telgatev1.SubscribeRequest{
		Filter: filter,
		Start:  telgatev1.StartPosition_START_POSITION_AFTER,
		After:  call.GetEventsAfter(),
	})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	up := map[string]bool{}
	hungUp := false
	return batches(t, stream, call.GetEventsAfter(), func(ev *telgatev1.Event) bool {
		switch {
		case ev.GetChannelCreated() != nil:
			up[ev.GetChannelCreated().GetChannel().GetUniqueId()] = true
		case ev.GetBridgeEntered() != nil && ev.GetBridgeEntered().GetBridge().GetNumChannels() == 2 && !hungUp:
			hungUp = true
			checkListed(t, ctx, gw, call.GetUniqueId())
			_, err := gw.calls.Hangup(ctx, &telgatev1.HangupRequest{
				Channel: &telgatev1.ChannelRef{Ref: &telgatev1.ChannelRef_UniqueId{UniqueId: call.GetUniqueId()}},
				Cause:   16,
			})
			if err != nil {
				t.Fatalf("Hangup: %v", err)
			}
		case ev.GetChannelHungUp() != nil:
			up[ev.GetChannelHungUp().GetChannel().GetUniqueId()] = false
			return hungUp && allDown(up)
		}
		return false
	})
}

func allDown(up map[string]bool) bool {
	for _, isUp := range up {
		if isUp {
			return false
		}
	}
	return len(up) > 0
}

// checkListed asserts ListChannels shows the call's channel while it is up.
func checkListed(t *testing.T, ctx context.Context, gw *live, uniqueID string) {
	t.Helper()
	resp, err := gw.calls.ListChannels(ctx, &telgatev1.ListChannelsRequest{})
	if err != nil {
		t.Fatalf("ListChannels: %v", err)
	}
	for _, c := range resp.GetChannels() {
		if c.GetUniqueId() == uniqueID {
			if c.GetName() == "" || c.GetState() != telgatev1.ChannelState_CHANNEL_STATE_UP {
				t.Errorf("ListChannels: the call's channel is %q in state %v; want a name, UP", c.GetName(), c.GetState())
			}
			return
		}
	}
	t.Fatalf("ListChannels: the call's channel %s is not among %d channels", uniqueID, len(resp.GetChannels()))
}

// checkResume subscribes again from the position of an event in the middle
// of the call, sent back as received, and asserts the stream goes on with
// exactly the events that followed it the first time: none twice, none missing.
func checkResume(t *testing.T, ctx context.Context, gw *live, filter *telgatev1.EventFilter, first []*telgatev1.Event) {
	t.Helper()
	if len(first) < 3 {
		t.Fatalf("only %d events for the call", len(first))
	}
	stored := first[len(first)/2].GetPosition()
	replay(t, ctx, gw, filter, stored, first[len(first)/2+1:], "resumed after the middle")
}

// checkTypedFilter replays the call with a typed filter (hang-ups only) and
// asserts it delivers exactly the hang-ups the unfiltered stream had.
func checkTypedFilter(t *testing.T, ctx context.Context, gw *live, call *telgatev1.OriginatedCall, all []*telgatev1.Event) {
	t.Helper()
	var want []*telgatev1.Event
	for _, ev := range all {
		if ev.GetChannelHungUp() != nil {
			want = append(want, ev)
		}
	}
	filter := &telgatev1.EventFilter{
		LinkedIds: []string{call.GetLinkedId()},
		Types:     []telgatev1.EventType{telgatev1.EventType_EVENT_TYPE_CHANNEL_HUNG_UP},
	}
	replay(t, ctx, gw, filter, call.GetEventsAfter(), want, "hang-ups only")
}

// replay subscribes with filter after the position given and asserts the
// stream delivers exactly want (at least one event), in order.
func replay(t *testing.T, ctx context.Context, gw *live, filter *telgatev1.EventFilter,
	after *telgatev1.EventPosition, want []*telgatev1.Event, what string) {
	t.Helper()
	if len(want) == 0 {
		t.Fatalf("%s: no event to expect", what)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := gw.events.Subscribe(ctx, &telgatev1.SubscribeRequest{
		Filter: filter,
		Start:  telgatev1.StartPosition_START_POSITION_AFTER,
		After:  after,
	})
	if err != nil {
		t.Fatalf("Subscribe (%s): %v", what, err)
	}
	last := want[len(want)-1].GetPosition().GetSequence()
	got := batches(t, stream, after, func(ev *telgatev1.Event) bool {
		return ev.GetPosition().GetSequence() >= last
	})
	if len(got) != len(want) {
		t.Fatalf("%s (after %d): got sequences %v, want %v", what, after.GetSequence(), sequences(got), sequences(want))
	}
	for i := range want {
		if !proto.Equal(got[i], want[i]) {
			t.Fatalf("%s (after %d): event %d is %v, want %v", what, after.GetSequence(), i, got[i], want[i])
		}
	}
}

func sequences(events []*telgatev1.Event) []uint64 {
	out := make([]uint64, len(events))
	for i, ev := range events {
		out[i] = ev.GetPosition().GetSequence()
	}
	return out
}

// checkCdrs streams CDRs from the start until the call's arrives, then from
// its cursor: only CDRs with greater cursors come, and the stream ends.
func checkCdrs(t *testing.T, ctx context.Context, gw *live, linkedID string) {
	t.Helper()
	followCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := gw.cdrs.StreamCdrs(followCtx, &telgatev1.StreamCdrsRequest{AfterCursor: 0, Follow: true})
	if err != nil {
		t.Fatalf("StreamCdrs: %v", err)
	}
	var cdr *telgatev1.Cdr
	for cdr == nil {
		msg, err := stream.Recv()
		if err != nil {
			t.Fatalf("StreamCdrs: %v", err)
		}
		for _, c := range msg.GetCdrs() {
			if c.GetLinkedCallId() == linkedID {
				cdr = c
				break
			}
		}
	}
	cancel()
	if cdr.GetCursor() == 0 || cdr.GetChannel() == "" {
		t.Fatalf("the call's CDR: cursor %d, channel %q; want a cursor > 0 and a channel", cdr.GetCursor(), cdr.GetChannel())
	}

	later, err := gw.cdrs.StreamCdrs(ctx, &telgatev1.StreamCdrsRequest{AfterCursor: cdr.GetCursor()})
	if err != nil {
		t.Fatalf("StreamCdrs after %d: %v", cdr.GetCursor(), err)
	}
	for {
		msg, err := later.Recv()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("StreamCdrs after %d: %v", cdr.GetCursor(), err)
		}
		for _, c := range msg.GetCdrs() {
			if c.GetCursor() <= cdr.GetCursor() {
				t.Fatalf("StreamCdrs after %d delivered cursor %d", cdr.GetCursor(), c.GetCursor())
			}
		}
	}
}

func TestLiveHangupUnknownChannelNamesTheReason(t *testing.T) {
	ctx := testContext(t)
	gw := dial(t, ctx, os.Getenv("TELGATE_TOKEN"))
	_, err := gw.calls.Hangup(ctx, &telgatev1.HangupRequest{
		Channel: &telgatev1.ChannelRef{Ref: &telgatev1.ChannelRef_UniqueId{UniqueId: "1700000000.999"}},
	})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("Hangup of an unknown channel: got %v, want NOT_FOUND", err)
	}
	reason, metadata := telgate.Reason(err)
	if reason != telgatev1.ErrorReason_ERROR_REASON_CHANNEL_NOT_FOUND || metadata["backend"] == "" {
		t.Fatalf("Hangup of an unknown channel: reason %v, metadata %v; want CHANNEL_NOT_FOUND naming the backend", reason, metadata)
	}
}

func TestLiveBadEventFilterIsInvalidArgument(t *testing.T) {
	ctx := testContext(t)
	gw := dial(t, ctx, os.Getenv("TELGATE_TOKEN"))
	for name, filter := range map[string]*telgatev1.EventFilter{
		"an unknown type":     {Types: []telgatev1.EventType{telgatev1.EventType(9999)}},
		"an unspecified type": {Types: []telgatev1.EventType{telgatev1.EventType_EVENT_TYPE_UNSPECIFIED}},
		"a malformed name":    {RawNames: []string{"Var Set"}},
	} {
		stream, err := gw.events.Subscribe(ctx, &telgatev1.SubscribeRequest{Filter: filter})
		if err == nil {
			_, err = stream.Recv() // a server stream's status comes with the first read
		}
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("Subscribe with a filter with %s: got %v, want INVALID_ARGUMENT", name, err)
		}
	}
}
