/** Header names of gRPC and gRPC-Web (gRPC's PROTOCOL-HTTP2.md and PROTOCOL-WEB.md). */

/** The call timeout: digits and a unit (`200m`). */
export const HEADER_TIMEOUT = "grpc-timeout";
/** The compression of compressed envelopes. */
export const HEADER_ENCODING = "grpc-encoding";
/** The compressions the peer accepts for envelopes. */
export const HEADER_ACCEPT_ENCODING = "grpc-accept-encoding";
/** The status code number, in the trailers (or the headers of a trailers-only response). */
export const HEADER_STATUS = "grpc-status";
/** The status message, percent-encoded. */
export const HEADER_MESSAGE = "grpc-message";
/** A base64 `google.rpc.Status` with the error details. */
export const HEADER_STATUS_DETAILS = "grpc-status-details-bin";
/** Sent by gRPC-Web clients (`1`); browsers' CORS preflights name it. */
export const HEADER_X_GRPC_WEB = "x-grpc-web";
/** Header names starting with this are reserved for the protocol. */
export const RESERVED_PREFIX = "grpc-";
