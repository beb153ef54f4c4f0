package telgate_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/telgate/telgate/clients/go/telgate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// tokenChecker is a health service that answers SERVING only to calls
// carrying want in the `authorization` metadata (scheme Bearer), as the
// gateway checks tokens.
type tokenChecker struct {
	grpc_health_v1.UnimplementedHealthServer
	want string
}

func (c tokenChecker) Check(ctx context.Context, _ *grpc_health_v1.HealthCheckRequest) (*grpc_health_v1.HealthCheckResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer "+c.want {
		return nil, status.Error(codes.Unauthenticated, "missing or wrong bearer token")
	}
	return &grpc_health_v1.HealthCheckResponse{Status: grpc_health_v1.HealthCheckResponse_SERVING}, nil
}

// serve runs a tokenChecker on a free loopback port (TLS when creds is set).
func serve(t *testing.T, creds credentials.TransportCredentials, token string) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var opts []grpc.ServerOption
	if creds != nil {
		opts = append(opts, grpc.Creds(creds))
	}
	srv := grpc.NewServer(opts...)
	grpc_health_v1.RegisterHealthServer(srv, tokenChecker{want: token})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// selfSigned writes a CA-capable certificate for 127.0.0.1 to dir and returns
// the server's TLS credentials and the certificate's path.
func selfSigned(t *testing.T, dir string) (credentials.TransportCredentials, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "telgate test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatal(err)
	}
	return credentials.NewServerTLSFromCert(&pair), caFile
}

func check(ctx context.Context, t *testing.T, target, token, caFile string) error {
	t.Helper()
	conn, err := telgate.Dial(ctx, target, token, caFile)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()
	_, err = grpc_health_v1.NewHealthClient(conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{})
	return err
}

func TestDialPlaintextSendsTheToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	target := serve(t, nil, "s3cret")
	if err := check(ctx, t, target, "s3cret", ""); err != nil {
		t.Fatalf("plaintext call with the token: %v", err)
	}
	if err := check(ctx, t, target, "", ""); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("plaintext call without a token: %v, want UNAUTHENTICATED", err)
	}
}

func TestDialTLSTrustsTheCAFile(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	creds, caFile := selfSigned(t, t.TempDir())
	target := serve(t, creds, "s3cret")
	if err := check(ctx, t, target, "s3cret", caFile); err != nil {
		t.Fatalf("TLS call with the token: %v", err)
	}
	// Without the CA (plaintext to a TLS server) the call cannot succeed.
	if err := check(ctx, t, target, "s3cret", ""); status.Code(err) != codes.Unavailable {
		t.Fatalf("plaintext call to a TLS server: %v, want UNAVAILABLE", err)
	}
	// A CA that did not sign the server's certificate is refused.
	_, otherCA := selfSigned(t, t.TempDir())
	if err := check(ctx, t, target, "s3cret", otherCA); status.Code(err) != codes.Unavailable {
		t.Fatalf("TLS call trusting another CA: %v, want UNAVAILABLE", err)
	}
}
