import { base64Decode } from "../base64.ts";
import { type Compression, compressionFromHeader, negotiateCompression } from "../compression.ts";
import { RpcError } from "../rpc_error.ts";
import {
  HEADER_TIMEOUT,
  HEADER_UNARY_ACCEPT_ENCODING,
  PARAM_BASE64,
  PARAM_COMPRESSION,
  PARAM_CONNECT,
  PARAM_CONNECT_VALUE,
  PARAM_ENCODING,
  PARAM_MESSAGE,
} from "./headers.ts";
import type { ConnectRequestHeader } from "./request_header.ts";
import { parseTimeoutHeader } from "./timeout.ts";

/**
 * Connect's unary GET requests, for side-effect-free methods: the whole request is in the URL,
 * `?connect=v1&encoding=json&message=<message>`, plus `base64=1` when the message is URL-safe
 * base64 (required for binary codecs and for compression) and `compression=gzip`. Parameters may
 * come in any order, next to unknown ones. The timeout and accept-encoding still come as headers.
 */

/** Options for {@linkcode parseGetRequest}. */
export interface ConnectGetOptions {
  /** The largest message accepted, in bytes as sent (before decompression). */
  maxMessageBytes: number;
  /** The compressions this server accepts. Default: gzip. */
  accepted?: readonly Compression[];
  /** Refuse requests without `connect=v1`. Default false. */
  requireProtocolVersion?: boolean;
}

/** What a Connect GET request says. */
export interface ConnectGetRequest extends ConnectRequestHeader {
  /** The codec named by `encoding`: check it is supported (answer 415 when not). */
  codec: string;
  /**
   * The message bytes: percent- or base64-decoded, still compressed when `compression` is set
   * (decompress them with `decompress()`, which holds the result to the size limit).
   */
  message: Uint8Array;
}

/**
 * Reads a Connect GET request.
 *
 * @param url The request URL.
 * @param headers The request headers (timeout, accept-encoding).
 * @param options The size limit, accepted compressions, and version policy.
 * @returns The codec, message, timeout and compressions.
 * @throws {RpcError} `invalid_argument` for a missing `encoding` or `message`, a wrong `connect`
 * version, bad base64, percent-encoding or timeout; `unimplemented` for an unsupported
 * compression; `resource_exhausted` for a message over the limit.
 */
export function parseGetRequest(
  url: URL,
  headers: Headers,
  options: ConnectGetOptions,
): ConnectGetRequest {
  const params = parseQuery(url.search);
  const text = (name: string) => {
    const value = params.get(name);
    return value === undefined ? undefined : utf8(value, name);
  };
  const version = text(PARAM_CONNECT);
  if (version === undefined ? options.requireProtocolVersion : version !== PARAM_CONNECT_VALUE) {
    throw new RpcError(
      "invalid_argument",
      version === undefined
        ? `Missing query parameter ${PARAM_CONNECT}: set it to "${PARAM_CONNECT_VALUE}"`
        : `Query parameter ${PARAM_CONNECT} must be "${PARAM_CONNECT_VALUE}", got ${
          JSON.stringify(version.slice(0, 40))
        }`,
    );
  }
  const codec = text(PARAM_ENCODING);
  if (codec === undefined || codec === "") {
    throw new RpcError("invalid_argument", `Missing query parameter ${PARAM_ENCODING}`);
  }
  const raw = params.get(PARAM_MESSAGE);
  if (raw === undefined) {
    throw new RpcError("invalid_argument", `Missing query parameter ${PARAM_MESSAGE}`);
  }
  const message = text(PARAM_BASE64) === "1"
    ? base64Decode(ascii.decode(raw), `query parameter ${PARAM_MESSAGE}`)
    : raw;
  if (message.length > options.maxMessageBytes) {
    throw new RpcError(
      "resource_exhausted",
      `The message is ${message.length} bytes, over the limit of ${options.maxMessageBytes} bytes`,
      { details: { limit: options.maxMessageBytes } },
    );
  }
  const compression = compressionFromHeader(text(PARAM_COMPRESSION) ?? null, {
    accepted: options.accepted,
    header: `query parameter ${PARAM_COMPRESSION}`,
  });
  return {
    codec: codec.toLowerCase(),
    message,
    timeoutMs: parseTimeoutHeader(headers.get(HEADER_TIMEOUT)),
    compression,
    responseCompression: negotiateCompression(
      headers.get(HEADER_UNARY_ACCEPT_ENCODING),
      compression,
      options.accepted,
    ),
  };
}

const ascii = new TextDecoder("latin1");
const encoder = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const PERCENT = 37, PLUS = 43, SPACE = 32;

function utf8(bytes: Uint8Array, name: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new RpcError("invalid_argument", `Query parameter ${name} is not valid UTF-8`);
  }
}

/**
 * Splits a query string into its parameters as bytes: `+` is a space and `%XX` a byte, as in
 * form encoding (what URLSearchParams and Go's url.Query do), but the bytes are kept exactly,
 * where URLSearchParams would replace invalid UTF-8. The first occurrence of a name wins.
 */
function parseQuery(search: string): Map<string, Uint8Array> {
  const params = new Map<string, Uint8Array>();
  const query = search.startsWith("?") ? search.slice(1) : search;
  if (query === "") return params;
  for (const pair of query.split("&")) {
    if (pair === "") continue;
    const equals = pair.indexOf("=");
    const name = utf8(percentDecode(equals === -1 ? pair : pair.slice(0, equals)), "name");
    if (params.has(name)) continue;
    params.set(name, percentDecode(equals === -1 ? "" : pair.slice(equals + 1)));
  }
  return params;
}

function percentDecode(text: string): Uint8Array {
  // The URL parser has percent-encoded everything outside ASCII already; encode() is for safety.
  const source = encoder.encode(text);
  const out = new Uint8Array(source.length);
  let length = 0;
  for (let i = 0; i < source.length; i++) {
    const byte = source[i]!;
    if (byte === PLUS) {
      out[length++] = SPACE;
    } else if (byte === PERCENT) {
      const high = hexValue(source[i + 1]);
      const low = hexValue(source[i + 2]);
      if (high < 0 || low < 0) {
        throw new RpcError(
          "invalid_argument",
          `The query string has a bad percent-encoding at ${JSON.stringify(text.slice(i, i + 3))}`,
        );
      }
      out[length++] = high * 16 + low;
      i += 2;
    } else {
      out[length++] = byte;
    }
  }
  return out.subarray(0, length);
}

function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 48 && byte <= 57) return byte - 48;
  if (byte >= 65 && byte <= 70) return byte - 55;
  if (byte >= 97 && byte <= 102) return byte - 87;
  return -1;
}
