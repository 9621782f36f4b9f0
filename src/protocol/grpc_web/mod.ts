/**
 * The gRPC-Web protocol on the wire (gRPC's PROTOCOL-WEB.md): content types (binary and base64
 * text), request headers, status codes and the `grpc-status` / `grpc-message` /
 * `grpc-status-details-bin` entries, the trailers frame, and `grpc-timeout`. Pure functions over
 * bytes and web-standard types, independent of the message codec: the envelope framing and
 * compression live one folder up (envelope.ts, envelope_writer.ts, compression.ts), shared with
 * Connect; base64.ts has the text-mode stream decoder.
 *
 * For the server and client integrations, not for applications; unstable.
 *
 * @module
 */

export {
  CONTENT_TYPE,
  CONTENT_TYPE_JSON,
  CONTENT_TYPE_PROTO,
  CONTENT_TYPE_TEXT,
  CONTENT_TYPE_TEXT_PROTO,
  contentTypeFor,
  type GrpcWebContentType,
  parseContentType,
} from "./content_type.ts";
export {
  decodeEndStream,
  encodeEndStream,
  type EndStream,
  FLAG_END_STREAM,
  parseHeaderBlock,
} from "./end_stream.ts";
export {
  codeFromGrpc,
  codeFromHttpStatus,
  codeToGrpc,
  decodeGrpcMessage,
  encodeGrpcMessage,
  grpcCodeByCode,
  type GrpcStatus,
  setStatus,
  statusFromHeaders,
} from "./error.ts";
export {
  HEADER_ACCEPT_ENCODING,
  HEADER_ENCODING,
  HEADER_MESSAGE,
  HEADER_STATUS,
  HEADER_STATUS_DETAILS,
  HEADER_TIMEOUT,
  HEADER_X_GRPC_WEB,
  RESERVED_PREFIX,
} from "./headers.ts";
export {
  type GrpcWebRequestHeader,
  type GrpcWebRequestHeaderOptions,
  parseRequestHeader,
} from "./request_header.ts";
export { parseTimeoutHeader, timeoutHeaderValue } from "./timeout.ts";
