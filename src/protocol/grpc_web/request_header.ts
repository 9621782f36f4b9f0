import { type Compression, compressionFromHeader, negotiateCompression } from "../compression.ts";
import { HEADER_ACCEPT_ENCODING, HEADER_ENCODING, HEADER_TIMEOUT } from "./headers.ts";
import { parseTimeoutHeader } from "./timeout.ts";

/** Options for {@linkcode parseRequestHeader}. */
export interface GrpcWebRequestHeaderOptions {
  /** The compressions this server accepts. Default: gzip. */
  accepted?: readonly Compression[];
}

/** What the headers of a gRPC-Web request say about the call. */
export interface GrpcWebRequestHeader {
  /** The client's timeout in milliseconds (clamped to 2^31 - 1), or undefined for none. */
  timeoutMs: number | undefined;
  /** The compression of compressed envelopes (`grpc-encoding`), or undefined for identity. */
  compression: Compression | undefined;
  /** The compression to use for response envelopes, negotiated from `grpc-accept-encoding`. */
  responseCompression: Compression | undefined;
}

/**
 * Reads and checks the headers of a gRPC-Web request: timeout and envelope compression. The
 * content type is read first, with `parseContentType()`.
 *
 * @param headers The request headers.
 * @param options The accepted compressions.
 * @returns Timeout and compressions.
 * @throws {RpcError} `invalid_argument` for a bad `grpc-timeout`, `unimplemented` for an
 * unsupported `grpc-encoding` (answer with `grpc-accept-encoding` set).
 */
export function parseRequestHeader(
  headers: Headers,
  options: GrpcWebRequestHeaderOptions = {},
): GrpcWebRequestHeader {
  const timeoutMs = parseTimeoutHeader(headers.get(HEADER_TIMEOUT));
  const compression = compressionFromHeader(headers.get(HEADER_ENCODING), {
    accepted: options.accepted,
    header: HEADER_ENCODING,
  });
  const responseCompression = negotiateCompression(
    headers.get(HEADER_ACCEPT_ENCODING),
    compression,
    options.accepted,
  );
  return { timeoutMs, compression, responseCompression };
}
