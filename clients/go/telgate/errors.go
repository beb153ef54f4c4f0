package telgate

import (
	telgatev1 "github.com/telgate/telgate/clients/go/telgate/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
)

// ErrorDomain is the google.rpc.ErrorInfo domain of the gateway's errors.
const ErrorDomain = "telgate.v1"

// Reason returns the telgate ErrorReason of an error a call returned, and the
// metadata of its google.rpc.ErrorInfo detail (`backend`, `field`,
// `pbx_message`, ...; see telgatev1.ErrorReason). It returns
// ERROR_REASON_UNSPECIFIED and nil when err carries no telgate ErrorInfo
// (an error raised in the client, or a status without one). The gRPC code and
// message are status.Code(err) and status.Convert(err).Message().
func Reason(err error) (telgatev1.ErrorReason, map[string]string) {
	st, ok := status.FromError(err)
	if !ok || st == nil {
		return telgatev1.ErrorReason_ERROR_REASON_UNSPECIFIED, nil
	}
	for _, detail := range st.Details() {
		info, ok := detail.(*errdetails.ErrorInfo)
		if !ok || info.GetDomain() != ErrorDomain {
			continue
		}
		// A reason this client does not know yet (a newer gateway) stays UNSPECIFIED.
		reason := telgatev1.ErrorReason(telgatev1.ErrorReason_value[info.GetReason()])
		return reason, info.GetMetadata()
	}
	return telgatev1.ErrorReason_ERROR_REASON_UNSPECIFIED, nil
}
