/** Header names and content types of the HTTP protocol (docs/protocol.md). */

/** Call timeout in whole milliseconds, sent by the client; the server derives the deadline. */
export const TIMEOUT_HEADER = "microapi-timeout-ms";
/**
 * The pattern the client calls a method with (`unary`, `server_streaming`, ...), so that a call
 * with the wrong one fails with a clear error instead of a confusing answer.
 */
export const PATTERN_HEADER = "microapi-pattern";
/** Prefix of unary trailers, which travel as response headers (`trailer-x-count: 3`). */
export const TRAILER_PREFIX = "trailer-";
/** Set on responses of deprecated methods. */
export const DEPRECATION_HEADER = "deprecation";

/** A single JSON value: unary requests and responses, server-stream requests, errors. */
export const JSON_TYPE = "application/json";
/** Newline-delimited JSON: streamed requests and responses. */
export const NDJSON_TYPE = "application/x-ndjson";

/**
 * The media type of a Content-Type header, lower-cased and without parameters.
 *
 * @param header The header value, or null when absent.
 * @returns For example `application/json` for `Application/JSON; charset=utf-8`; `""` when absent.
 */
export function mediaType(header: string | null): string {
  if (header === null) return "";
  const semicolon = header.indexOf(";");
  return (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
}
