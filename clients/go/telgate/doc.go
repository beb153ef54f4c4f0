// Package telgate connects Go programs to a telgate gateway.
//
// The gateway's API is the generated package
// github.com/telgate/telgate/clients/go/telgate/v1 (imported as telgatev1):
// one client per service (CallControlService, EventService, CdrService, ...)
// and one Go type per message. This package adds only what the generated
// stubs leave to every caller:
//
//   - Dial: a connection that sends the bearer token on every call and uses
//     TLS when given a CA file (plaintext otherwise);
//   - Reason: the telgate ErrorReason and metadata an error carries.
//
// A minimal program:
//
//	conn, err := telgate.Dial(ctx, "127.0.0.1:50051", os.Getenv("TELGATE_TOKEN"), "")
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer conn.Close()
//	calls := telgatev1.NewCallControlServiceClient(conn)
//	resp, err := calls.ListChannels(ctx, &telgatev1.ListChannelsRequest{})
//
// 64-bit event sequences and CDR cursors are uint64 in Go.
package telgate
