/**
 * The Connect protocol on the wire (connectrpc.com/docs/protocol): content types, request
 * headers and GET requests, errors and their HTTP statuses, the end-stream message, unary
 * trailers and timeouts. Pure functions over bytes and web-standard types, independent of the
 * message codec: the envelope framing and compression they rely on live one folder up
 * (envelope.ts, envelope_writer.ts, compression.ts), shared with gRPC-Web.
 *
 * For the server and client integrations, not for applications; unstable.
 *
 * @module
 */

export {
  type ConnectContentType,
  CONTENT_TYPE_JSON,
  CONTENT_TYPE_PROTO,
  CONTENT_TYPE_STREAM_JSON,
  CONTENT_TYPE_STREAM_PROTO,
  contentTypeFor,
  parseContentType,
} from "./content_type.ts";
export { decodeEndStream, encodeEndStream, type EndStream, FLAG_END_STREAM } from "./end_stream.ts";
export {
  codeFromConnect,
  codeFromHttpStatus,
  codeToConnect,
  type ConnectErrorDetailJson,
  type ConnectErrorJson,
  errorFromJson,
  errorFromUnaryResponse,
  errorToJson,
  errorToJsonBytes,
  httpStatusFromCode,
  type UnaryErrorOptions,
} from "./error.ts";
export { type ConnectGetOptions, type ConnectGetRequest, parseGetRequest } from "./get_request.ts";
export {
  HEADER_PROTOCOL_VERSION,
  HEADER_STREAM_ACCEPT_ENCODING,
  HEADER_STREAM_ENCODING,
  HEADER_TIMEOUT,
  HEADER_UNARY_ACCEPT_ENCODING,
  HEADER_UNARY_ENCODING,
  PARAM_BASE64,
  PARAM_COMPRESSION,
  PARAM_CONNECT,
  PARAM_CONNECT_VALUE,
  PARAM_ENCODING,
  PARAM_MESSAGE,
  PROTOCOL_VERSION,
  RESERVED_PREFIX,
  TRAILER_PREFIX,
} from "./headers.ts";
export {
  type ConnectRequestHeader,
  type ConnectRequestHeaderOptions,
  parseRequestHeader,
} from "./request_header.ts";
export { parseTimeoutHeader, timeoutHeaderValue } from "./timeout.ts";
export { setUnaryTrailers, splitUnaryTrailers } from "./trailers.ts";
