/**
 * The error details the gateway attaches to a failed call: a
 * `google.rpc.Status` (metadata `grpc-status-details-bin`) holding a
 * `google.rpc.ErrorInfo` whose `reason` is an `ErrorReason` name.
 */
import * as grpc from "@grpc/grpc-js";
import { ErrorInfo } from "./gen/google/rpc/error_details";
import { Status } from "./gen/google/rpc/status";

const ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo";
/** The ErrorInfo domain of the gateway's errors (a proxy's ErrorInfo is not its). */
export const ERROR_DOMAIN = "telgate.v1";

/** Whether `error` is a failed gRPC call (it has a numeric `code` and `metadata`). */
export function isServiceError(error: unknown): error is grpc.ServiceError {
  return (
    error instanceof Error &&
    typeof (error as Partial<grpc.ServiceError>).code === "number" &&
    (error as Partial<grpc.ServiceError>).metadata instanceof grpc.Metadata
  );
}

/**
 * The gateway's `google.rpc.ErrorInfo` (domain `telgate.v1`) of a failed call, if it sent one.
 *
 * @example
 * catch (e) { if (errorInfo(e)?.reason === "ERROR_REASON_CHANNEL_NOT_FOUND") ... }
 */
export function errorInfo(error: unknown): ErrorInfo | undefined {
  if (!isServiceError(error)) return undefined;
  for (const value of error.metadata.get("grpc-status-details-bin")) {
    if (!Buffer.isBuffer(value)) continue;
    for (const detail of Status.decode(value).details) {
      if (detail.typeUrl !== ERROR_INFO_TYPE) continue;
      const info = ErrorInfo.decode(detail.value);
      if (info.domain === ERROR_DOMAIN) return info;
    }
  }
  return undefined;
}
