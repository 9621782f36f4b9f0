import { type Compression, compressionFromHeader, negotiateCompression } from "../compression.ts";
import { RpcError } from "../rpc_error.ts";
import {
  HEADER_PROTOCOL_VERSION,
  HEADER_STREAM_ACCEPT_ENCODING,
  HEADER_STREAM_ENCODING,
  HEADER_TIMEOUT,
  HEADER_UNARY_ACCEPT_ENCODING,
  HEADER_UNARY_ENCODING,
  PROTOCOL_VERSION,
} from "./headers.ts";
import { parseTimeoutHeader } from "./timeout.ts";

/** Options for {@linkcode parseRequestHeader}. */
export interface ConnectRequestHeaderOptions {
  /** Whether the call streams (`application/connect+*`): that picks the encoding headers. */
  streaming: boolean;
  /** The compressions this server accepts. Default: gzip. */
  accepted?: readonly Compression[];
  /**
   * Refuse requests without `connect-protocol-version: 1` (the spec allows servers to). Default
   * false: Connect clients send it, but curl users rarely do.
   */
  requireProtocolVersion?: boolean;
}

/** What the headers of a Connect request say about the call. */
export interface ConnectRequestHeader {
  /** The client's timeout in milliseconds (clamped to 2^31 - 1), or undefined for none. */
  timeoutMs: number | undefined;
  /**
   * The request's compression: of the whole body for unary (`content-encoding`), of compressed
   * envelopes for streams (`connect-content-encoding`). Undefined for identity.
   */
  compression: Compression | undefined;
  /** The compression to use for the response, negotiated from the accept header. */
  responseCompression: Compression | undefined;
}

/**
 * Reads and checks the headers of a Connect request: protocol version, timeout, compression.
 * The content type is read first, with `parseContentType()` (an unknown one is a 415, not a
 * call error).
 *
 * @param headers The request headers.
 * @param options Whether the call streams, the accepted compressions, the version policy.
 * @returns Timeout and compressions.
 * @throws {RpcError} `invalid_argument` for a bad version or timeout, `unimplemented` for an
 * unsupported compression (its message and `details.accepted` list the supported ones; answer
 * with the accept-encoding header set, see `acceptEncodingValue()`).
 */
export function parseRequestHeader(
  headers: Headers,
  options: ConnectRequestHeaderOptions,
): ConnectRequestHeader {
  checkProtocolVersion(headers.get(HEADER_PROTOCOL_VERSION), options.requireProtocolVersion);
  const timeoutMs = parseTimeoutHeader(headers.get(HEADER_TIMEOUT));
  const encodingHeader = options.streaming ? HEADER_STREAM_ENCODING : HEADER_UNARY_ENCODING;
  const acceptHeader = options.streaming
    ? HEADER_STREAM_ACCEPT_ENCODING
    : HEADER_UNARY_ACCEPT_ENCODING;
  const compression = compressionFromHeader(headers.get(encodingHeader), {
    accepted: options.accepted,
    header: encodingHeader,
  });
  const responseCompression = negotiateCompression(
    headers.get(acceptHeader),
    compression,
    options.accepted,
  );
  return { timeoutMs, compression, responseCompression };
}

function checkProtocolVersion(value: string | null, required = false): void {
  if (value === null) {
    if (!required) return;
    throw new RpcError(
      "invalid_argument",
      `Missing header ${HEADER_PROTOCOL_VERSION}: set it to "${PROTOCOL_VERSION}"`,
    );
  }
  if (value.trim() !== PROTOCOL_VERSION) {
    throw new RpcError(
      "invalid_argument",
      `Header ${HEADER_PROTOCOL_VERSION} must be "${PROTOCOL_VERSION}", got ${
        JSON.stringify(value.slice(0, 40))
      }`,
    );
  }
}
