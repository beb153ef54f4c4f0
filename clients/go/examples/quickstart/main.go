// Command quickstart places a call through a telgate gateway, prints the
// call's events until it has hung up, resumes the event stream from a stored
// position, and streams CDRs from a cursor.
//
// Configuration comes from the environment:
//
//	TELGATE_TARGET    host:port of the gateway (default 127.0.0.1:50051)
//	TELGATE_TOKEN     bearer token (roles: calls.control, events.read, cdrs.read)
//	TELGATE_CA_FILE   CA certificate (PEM): TLS trusting it; plaintext when unset
//	TELGATE_ENDPOINT  what to ring first (default Local/201@phones)
//	TELGATE_EXTEN     extension it is connected to (default 202)
//	TELGATE_CONTEXT   context of that extension (default from-internal)
//
// Run it with:
//
//	TELGATE_TOKEN=... go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/telgate/telgate/clients/go/telgate"
	telgatev1 "github.com/telgate/telgate/clients/go/telgate/v1"
	"google.golang.org/genproto/googleapis/type/money"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

func main() {
	log.SetFlags(0)
	// The whole run is bounded: a call that never ends must not hang the example.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	if err := run(ctx); err != nil {
		log.Fatalf("quickstart: %v", err)
	}
}

func getenv(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func run(ctx context.Context) error {
	target := getenv("TELGATE_TARGET", "127.0.0.1:50051")
	conn, err := telgate.Dial(ctx, target, os.Getenv("TELGATE_TOKEN"), os.Getenv("TELGATE_CA_FILE"))
	if err != nil {
		return err
	}
	defer conn.Close()
	calls := telgatev1.NewCallControlServiceClient(conn)
	events := telgatev1.NewEventServiceClient(conn)
	cdrs := telgatev1.NewCdrServiceClient(conn)

	// 1. Place the call.
	resp, err := calls.Originate(ctx, &telgatev1.OriginateRequest{
		Endpoint: getenv("TELGATE_ENDPOINT", "Local/201@phones"),
		Target: &telgatev1.OriginateRequest_Destination{Destination: &telgatev1.Destination{
			Target: &telgatev1.Destination_Extension{Extension: &telgatev1.ExtensionDestination{
				Context:   getenv("TELGATE_CONTEXT", "from-internal"),
				Extension: getenv("TELGATE_EXTEN", "202"),
			}},
		}},
	})
	if err != nil {
		return fmt.Errorf("originate: %w", err)
	}
	call := resp.GetCall()
	fmt.Printf("originated call %s (linked id %s)\n", call.GetUniqueId(), call.GetLinkedId())

	// 2. Follow the call's events from just before it was placed.
	filter := &telgatev1.EventFilter{LinkedIds: []string{call.GetLinkedId()}}
	last, err := followCall(ctx, events, calls, call, filter)
	if err != nil {
		return err
	}
	// A client stores the position as is (epoch + sequence), e.g. as bytes
	// in its database, to resume later. Sequences (and CDR cursors) are uint64 in Go.
	stored, err := proto.Marshal(last)
	if err != nil {
		return err
	}
	fmt.Printf("stored position: epoch %s, sequence %d (%d bytes)\n", last.GetEpoch(), last.GetSequence(), len(stored))

	// 3. Resume from the stored position.
	from := &telgatev1.EventPosition{}
	if err := proto.Unmarshal(stored, from); err != nil {
		return err
	}
	if err := resume(ctx, events, from); err != nil {
		return err
	}

	// 4. CDRs from a cursor.
	return streamCdrs(ctx, cdrs, call.GetLinkedId())
}

// followCall prints the call's events, hangs the call up once both parties
// are bridged, and returns the position of the last event once every channel
// it saw has hung up.
func followCall(ctx context.Context, events telgatev1.EventServiceClient,
	calls telgatev1.CallControlServiceClient, call *telgatev1.OriginatedCall,
	filter *telgatev1.EventFilter) (*telgatev1.EventPosition, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream when we return
	// The Originate response holds the position just before the call was
	// placed: subscribing after it misses none of the call's events.
	stream, err := events.Subscribe(ctx, &telgatev1.SubscribeRequest{
		Filter: filter,
		Start:  telgatev1.StartPosition_START_POSITION_AFTER,
		After:  call.GetEventsAfter(),
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	last := call.GetEventsAfter()
	up := map[string]bool{} // unique id -> still up
	hungUp := false
	for {
		msg, err := stream.Recv()
		if err != nil {
			return last, fmt.Errorf("events: %w", err)
		}
		switch kind := msg.GetKind().(type) {
		case *telgatev1.SubscribeResponse_Started:
			fmt.Printf("subscribed after sequence %d\n", kind.Started.GetPosition().GetSequence())
		case *telgatev1.SubscribeResponse_Gap:
			fmt.Println(describeGap(kind.Gap))
		case *telgatev1.SubscribeResponse_Heartbeat:
			// Nothing new for this filter up to kind.Heartbeat.Position.
		case *telgatev1.SubscribeResponse_Batch:
			for _, ev := range kind.Batch.GetEvents() {
				last = ev.GetPosition()
				if text := describe(ev); text != "" {
					fmt.Printf("  #%d %s\n", last.GetSequence(), text)
				}
				switch p := ev.GetPayload().(type) {
				case *telgatev1.Event_ChannelCreated:
					up[p.ChannelCreated.GetChannel().GetUniqueId()] = true
				case *telgatev1.Event_BridgeEntered:
					if p.BridgeEntered.GetBridge().GetNumChannels() == 2 && !hungUp {
						hungUp = true
						_, err := calls.Hangup(ctx, &telgatev1.HangupRequest{
							Channel: &telgatev1.ChannelRef{Ref: &telgatev1.ChannelRef_UniqueId{UniqueId: call.GetUniqueId()}},
							Cause:   16, // normal clearing
						})
						if err != nil {
							return last, fmt.Errorf("hangup: %w", err)
						}
						fmt.Printf("hung up call %s\n", call.GetUniqueId())
					}
				case *telgatev1.Event_ChannelHungUp:
					up[p.ChannelHungUp.GetChannel().GetUniqueId()] = false
					if allDown(up) {
						fmt.Println("call over: every channel hung up")
						return last, nil
					}
				}
			}
		}
	}
}

// describeGap says which events a gap lost (last is unset when the epoch changed).
func describeGap(gap *telgatev1.EventGap) string {
	if gap.GetLast() == nil {
		return fmt.Sprintf("gap: events from %d on lost (%s)", gap.GetFirst().GetSequence(), gap.GetReason())
	}
	return fmt.Sprintf("gap: events %d..%d lost (%s)", gap.GetFirst().GetSequence(), gap.GetLast().GetSequence(), gap.GetReason())
}

func allDown(up map[string]bool) bool {
	for _, isUp := range up {
		if isUp {
			return false
		}
	}
	return len(up) > 0
}

// describe is one line for a typed event this example shows, "" for others.
func describe(ev *telgatev1.Event) string {
	switch p := ev.GetPayload().(type) {
	case *telgatev1.Event_ChannelCreated:
		return "channel created  " + p.ChannelCreated.GetChannel().GetName()
	case *telgatev1.Event_ChannelStateChanged:
		c := p.ChannelStateChanged.GetChannel()
		return fmt.Sprintf("state changed    %s -> %s", c.GetName(), c.GetState())
	case *telgatev1.Event_DialStarted:
		return "dial started     " + p.DialStarted.GetDestination().GetName()
	case *telgatev1.Event_DialEnded:
		return fmt.Sprintf("dial ended       %s: %s", p.DialEnded.GetDestination().GetName(), p.DialEnded.GetStatus())
	case *telgatev1.Event_BridgeEntered:
		b := p.BridgeEntered
		return fmt.Sprintf("bridge entered   %s (%d in bridge)", b.GetChannel().GetName(), b.GetBridge().GetNumChannels())
	case *telgatev1.Event_BridgeLeft:
		return "bridge left      " + p.BridgeLeft.GetChannel().GetName()
	case *telgatev1.Event_ChannelHungUp:
		h := p.ChannelHungUp
		return fmt.Sprintf("channel hung up  %s: cause %d %s", h.GetChannel().GetName(), h.GetCause(), h.GetCauseText())
	case *telgatev1.Event_OriginateResult:
		return "originate result " + p.OriginateResult.GetOutcome().String()
	case *telgatev1.Event_CdrRecorded:
		return fmt.Sprintf("CDR recorded     cursor %d", p.CdrRecorded.GetCdr().GetCursor())
	default:
		return "" // an event this example does not show (VarSet, Newexten, ...)
	}
}

// resume subscribes again from a stored position (no filter) and shows the
// stream picks up right after it: every event it delivers comes later.
func resume(ctx context.Context, events telgatev1.EventServiceClient, from *telgatev1.EventPosition) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := events.Subscribe(ctx, &telgatev1.SubscribeRequest{
		Start:             telgatev1.StartPosition_START_POSITION_AFTER,
		After:             from, // sent back unchanged
		HeartbeatInterval: durationpb.New(500 * time.Millisecond),
	})
	if err != nil {
		return fmt.Errorf("resume: %w", err)
	}
	for {
		msg, err := stream.Recv()
		if err != nil {
			return fmt.Errorf("resumed events: %w", err)
		}
		switch kind := msg.GetKind().(type) {
		case *telgatev1.SubscribeResponse_Started:
			at := kind.Started.GetPosition()
			fmt.Printf("resumed: events after epoch %s, sequence %d follow\n", at.GetEpoch(), at.GetSequence())
			if !proto.Equal(at, from) {
				return fmt.Errorf("resumed at %v, not at the stored position %v", at, from)
			}
		case *telgatev1.SubscribeResponse_Gap:
			fmt.Println("  " + describeGap(kind.Gap))
		case *telgatev1.SubscribeResponse_Batch:
			for _, ev := range kind.Batch.GetEvents() {
				seq := ev.GetPosition().GetSequence()
				if seq <= from.GetSequence() {
					return fmt.Errorf("resumed stream repeated event %d", seq)
				}
				fmt.Printf("  #%d %s\n", seq, ev.GetName())
			}
		case *telgatev1.SubscribeResponse_Heartbeat:
			// Every event held after the stored position has been delivered.
			fmt.Printf("resumed stream caught up at sequence %d: no event twice\n", kind.Heartbeat.GetPosition().GetSequence())
			return nil
		}
	}
}

// streamCdrs waits for the call's first CDR from the oldest held, then
// streams again from its cursor: only later CDRs come.
func streamCdrs(ctx context.Context, cdrs telgatev1.CdrServiceClient, linkedID string) error {
	followCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := cdrs.StreamCdrs(followCtx, &telgatev1.StreamCdrsRequest{AfterCursor: 0, Follow: true})
	if err != nil {
		return fmt.Errorf("stream cdrs: %w", err)
	}
	var cursor uint64
	for cursor == 0 {
		msg, err := stream.Recv()
		if err != nil {
			return fmt.Errorf("cdrs: %w", err)
		}
		for _, cdr := range msg.GetCdrs() {
			if cdr.GetLinkedCallId() == linkedID {
				cursor = cdr.GetCursor()
				fmt.Printf("CDR cursor %d: %s to %s, %s, billable %s, cost %s\n", cursor,
					cdr.GetChannel(), cdr.GetCallee(), cdr.GetDisposition(),
					cdr.GetBillable().AsDuration(), cost(cdr.GetCost()))
				break
			}
		}
	}
	cancel()

	// From that cursor, without follow: the CDRs stored after it, then the end.
	later, err := cdrs.StreamCdrs(ctx, &telgatev1.StreamCdrsRequest{AfterCursor: cursor})
	if err != nil {
		return fmt.Errorf("stream cdrs after %d: %w", cursor, err)
	}
	n := 0
	for {
		msg, err := later.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("cdrs after %d: %w", cursor, err)
		}
		for _, cdr := range msg.GetCdrs() {
			n++
			fmt.Printf("  later CDR cursor %d (%s)\n", cdr.GetCursor(), cdr.GetChannel())
		}
	}
	fmt.Printf("%d CDRs after cursor %d\n", n, cursor)
	return nil
}

// cost shows a google.type.Money amount (units + nanos / 10^9 of a currency);
// "none" when the source gives no cost (Asterisk).
func cost(m *money.Money) string {
	if m == nil {
		return "none"
	}
	units, nanos, sign := m.GetUnits(), m.GetNanos(), ""
	if units < 0 || nanos < 0 { // units and nanos have the same sign
		units, nanos, sign = -units, -nanos, "-"
	}
	return fmt.Sprintf("%s%d.%09d %s", sign, units, nanos, m.GetCurrencyCode())
}
