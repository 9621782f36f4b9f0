/** Header names, query parameters and the version of the Connect protocol (connectrpc.com/docs/protocol). */

/** The protocol version header; its only value is {@linkcode PROTOCOL_VERSION}. */
export const HEADER_PROTOCOL_VERSION = "connect-protocol-version";
/** The protocol version this implementation speaks. */
export const PROTOCOL_VERSION = "1";
/** The call timeout in milliseconds, at most 10 digits. */
export const HEADER_TIMEOUT = "connect-timeout-ms";
/** Unary: the compression of the whole body. */
export const HEADER_UNARY_ENCODING = "content-encoding";
/** Unary: the compressions the peer accepts for the whole body. */
export const HEADER_UNARY_ACCEPT_ENCODING = "accept-encoding";
/** Streaming: the compression of compressed envelopes. */
export const HEADER_STREAM_ENCODING = "connect-content-encoding";
/** Streaming: the compressions the peer accepts for envelopes. */
export const HEADER_STREAM_ACCEPT_ENCODING = "connect-accept-encoding";
/** Unary responses carry trailers as headers with this prefix. */
export const TRAILER_PREFIX = "trailer-";
/** Header (and `trailer-` header) names starting with this are reserved for the protocol. */
export const RESERVED_PREFIX = "connect-";

/** GET requests: the protocol version parameter, `v1`. */
export const PARAM_CONNECT = "connect";
/** GET requests: the value of {@linkcode PARAM_CONNECT}. */
export const PARAM_CONNECT_VALUE = "v1";
/** GET requests: the codec (`json`, `proto`). */
export const PARAM_ENCODING = "encoding";
/** GET requests: the message, percent-encoded text or (with `base64=1`) URL-safe base64. */
export const PARAM_MESSAGE = "message";
/** GET requests: `1` when the message is base64. */
export const PARAM_BASE64 = "base64";
/** GET requests: the message's compression. */
export const PARAM_COMPRESSION = "compression";
