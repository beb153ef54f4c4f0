package telgate

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// bearerToken sends the token in the `authorization` metadata (scheme
// Bearer) with every call.
type bearerToken string

// BearerToken returns per-call credentials that put token in the
// `authorization` metadata of every call, as the gateway expects. They work
// on TLS and on plaintext connections alike (RequireTransportSecurity is
// false), so a gateway on loopback without TLS can be used too; on any other
// network use TLS, or the token travels in the clear.
func BearerToken(token string) credentials.PerRPCCredentials {
	return bearerToken(token)
}

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (t bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(t)}, nil
}

// RequireTransportSecurity implements credentials.PerRPCCredentials: false,
// so that the token is also sent on plaintext connections.
func (bearerToken) RequireTransportSecurity() bool { return false }

// String never shows the token, so printing the credentials cannot leak it.
func (bearerToken) String() string { return "telgate.BearerToken(***)" }

// Dial opens a connection to the gateway at target (host:port).
//
// A non-empty token is sent as a bearer token on every call (see
// BearerToken). With a non-empty caFile the connection uses TLS and trusts
// the CA certificate (PEM) in that file; with an empty caFile it is
// plaintext. Further options (keepalive, interceptors, grpc.WithBlock, ...)
// are passed on to grpc.DialContext. Like grpc.DialContext, Dial does not
// wait for the connection unless grpc.WithBlock is given: an unreachable
// gateway shows up as an UNAVAILABLE error on the first call.
func Dial(ctx context.Context, target, token, caFile string, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	if target == "" {
		return nil, errors.New("telgate: no target given (host:port of the gateway)")
	}
	var dialOpts []grpc.DialOption
	if caFile != "" {
		creds, err := credentials.NewClientTLSFromFile(caFile, "")
		if err != nil {
			// The error names the file, never its content.
			return nil, fmt.Errorf("telgate: reading the CA file: %w", err)
		}
		dialOpts = append(dialOpts, grpc.WithTransportCredentials(creds))
	} else {
		dialOpts = append(dialOpts, grpc.WithInsecure())
	}
	if token != "" {
		dialOpts = append(dialOpts, grpc.WithPerRPCCredentials(BearerToken(token)))
	}
	dialOpts = append(dialOpts, opts...)
	return grpc.DialContext(ctx, target, dialOpts...)
}
