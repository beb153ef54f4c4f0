package telgate_test

import (
	"context"
	"testing"

	"github.com/telgate/telgate/clients/go/telgate"
	telgatev1 "github.com/telgate/telgate/clients/go/telgate/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestBearerTokenMetadata(t *testing.T) {
	creds := telgate.BearerToken("s3cret")
	md, err := creds.GetRequestMetadata(context.Background())
	if err != nil || md["authorization"] != "Bearer s3cret" || len(md) != 1 {
		t.Fatalf("metadata %v, %v; want only authorization, scheme Bearer, with the token", md, err)
	}
	if creds.RequireTransportSecurity() {
		t.Fatal("the token must also be sent on plaintext connections")
	}
}

func TestReason(t *testing.T) {
	st, err := status.New(codes.NotFound, "no channel").WithDetails(&errdetails.ErrorInfo{
		Reason:   "ERROR_REASON_CHANNEL_NOT_FOUND",
		Domain:   telgate.ErrorDomain,
		Metadata: map[string]string{"backend": "pbx1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	reason, md := telgate.Reason(st.Err())
	if reason != telgatev1.ErrorReason_ERROR_REASON_CHANNEL_NOT_FOUND || md["backend"] != "pbx1" {
		t.Fatalf("Reason: %v %v", reason, md)
	}
	if reason, md := telgate.Reason(status.Error(codes.Unauthenticated, "no token")); reason != 0 || md != nil {
		t.Fatalf("Reason of an error without ErrorInfo: %v %v", reason, md)
	}
}

func TestDialRejectsMissingCAFile(t *testing.T) {
	if _, err := telgate.Dial(context.Background(), "127.0.0.1:1", "t", "/nonexistent/ca.pem"); err == nil {
		t.Fatal("Dial with a missing CA file succeeded")
	}
}
