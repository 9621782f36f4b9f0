import { base64Decode, base64Encode } from "../base64.ts";
import { type Code, type ErrorCode, httpStatusByCode, isCode } from "../codes.ts";
import { type Compression, compressionFromHeader, readBody } from "../compression.ts";
import { detailsFromWire, detailsToWire, type WireDetail } from "../error_details.ts";
import { mediaType } from "../headers.ts";
import { RpcError } from "../rpc_error.ts";
import { CONTENT_TYPE_JSON } from "./content_type.ts";
import { HEADER_UNARY_ENCODING } from "./headers.ts";
import { splitUnaryTrailers } from "./trailers.ts";

/**
 * Connect errors: the code names, the code <-> HTTP status tables, and the error JSON
 * `{ code, message?, details?: [{ type, value, debug? }] }` that unary error bodies and
 * end-stream messages carry (connectrpc.com/docs/protocol#error-end-stream).
 */

/** One detail in Connect's error JSON. */
export interface ConnectErrorDetailJson {
  /** The fully-qualified protobuf message name. */
  type: string;
  /** The message's binary encoding, base64 without padding. */
  value: string;
  /** The message as JSON, for people; clients must not depend on it. */
  debug?: unknown;
}

/** Connect's error JSON. */
export interface ConnectErrorJson {
  /** The code, in Connect's spelling (`canceled`). */
  code: string;
  /** The message; omitted when empty. */
  message?: string;
  /** The details; omitted when there are none. */
  details?: ConnectErrorDetailJson[];
}

/**
 * A code as Connect spells it. Connect's codes are ours, except that Connect writes `canceled`
 * where we write `cancelled`.
 *
 * @param code Our code.
 * @returns The Connect name.
 */
export function codeToConnect(code: ErrorCode): string {
  return code === "cancelled" ? "canceled" : code;
}

/**
 * Reads a Connect code name.
 *
 * @param value The `code` field from the wire.
 * @returns Our code, or undefined for anything that is not a Connect error code (including
 * `ok`, which Connect never sends as an error). `cancelled` is accepted as well as `canceled`.
 */
export function codeFromConnect(value: unknown): ErrorCode | undefined {
  if (value === "canceled") return "cancelled";
  if (!isCode(value) || value === "ok") return undefined;
  return value;
}

/**
 * The HTTP status of a unary Connect error. It is the same table as MicroAPI's own
 * (`httpStatusByCode` in codes.ts), which was taken from Connect's.
 *
 * @param code The error code.
 * @returns The HTTP status.
 */
export function httpStatusFromCode(code: Code): number {
  return httpStatusByCode[code];
}

/**
 * The code a Connect client infers from the HTTP status of a unary error response that carries
 * no valid error JSON (connectrpc.com/docs/protocol#http-to-error-code). This differs from
 * MicroAPI's own `codeFromHttpStatus`: Connect maps 400 to `internal`, 404 to `unimplemented`,
 * 429 and 504 to `unavailable`.
 *
 * @param status The HTTP status.
 * @returns The code.
 */
export function codeFromHttpStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return "internal";
    case 401:
      return "unauthenticated";
    case 403:
      return "permission_denied";
    case 404:
      return "unimplemented";
    case 429:
    case 502:
    case 503:
    case 504:
      return "unavailable";
    default:
      return "unknown";
  }
}

/**
 * The error JSON for an error. `details` travels as one `google.protobuf.Value` detail, with the
 * plain JSON in `debug` (see error_details.ts).
 *
 * @param error The error.
 * @returns The JSON object.
 */
export function errorToJson(error: RpcError): ConnectErrorJson {
  const json: ConnectErrorJson = { code: codeToConnect(error.code) };
  if (error.message !== "") json.message = error.message;
  const details = detailsToWire(error.details);
  if (details.length > 0) {
    json.details = details.map((detail) => {
      const entry: ConnectErrorDetailJson = {
        type: detail.type,
        value: base64Encode(detail.value, { pad: false }),
      };
      if (detail.debug !== undefined) entry.debug = detail.debug;
      return entry;
    });
  }
  return json;
}

/**
 * Reads an error from its JSON. Never throws: the peer's mistakes become a fallback, so a client
 * cannot be crashed by a bad error body. A missing, null or unknown `code` becomes `fallback`
 * (the code inferred from the HTTP status for a unary response, `unknown` in an end-stream); a
 * `message` that is not a string is ignored; details that are not `{ type, value }` with a
 * base64 value are skipped.
 *
 * @param json The parsed JSON value.
 * @param options The fallback code, and metadata to attach.
 * @returns The error.
 */
export function errorFromJson(
  json: unknown,
  options: { fallback: ErrorCode; metadata?: HeadersInit },
): RpcError {
  const { fallback, metadata } = options;
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return new RpcError(fallback, "the peer sent an error without a valid body", { metadata });
  }
  const { code, message, details } = json as Record<string, unknown>;
  const wire: WireDetail[] = [];
  if (Array.isArray(details)) {
    for (const detail of details) {
      if (typeof detail !== "object" || detail === null) continue;
      const { type, value, debug } = detail as Record<string, unknown>;
      if (typeof type !== "string" || typeof value !== "string") continue;
      let bytes: Uint8Array;
      try {
        bytes = base64Decode(value, "error detail");
      } catch {
        continue;
      }
      wire.push(debug === undefined ? { type, value: bytes } : { type, value: bytes, debug });
    }
  }
  return new RpcError(
    codeFromConnect(code) ?? fallback,
    typeof message === "string" ? message : "",
    { details: detailsFromWire(wire), metadata },
  );
}

/**
 * The bytes of an error JSON, for a unary error body or inside an end-stream message.
 *
 * @param error The error.
 * @returns UTF-8 JSON.
 */
export function errorToJsonBytes(error: RpcError): Uint8Array {
  return encoder.encode(JSON.stringify(errorToJson(error)));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Options for {@linkcode errorFromUnaryResponse}. */
export interface UnaryErrorOptions {
  /** The largest error body read, in bytes (after decompression). */
  maxBytes: number;
  /** The compressions accepted for the body. Default: gzip. */
  accepted?: readonly Compression[];
}

/**
 * Reads the error of a unary Connect response whose HTTP status is not 200. The body is used when
 * it is JSON (`application/json`, possibly compressed per `content-encoding`) and valid; otherwise
 * the code comes from the HTTP status, as the spec requires. The error's metadata holds the
 * response headers and the trailers (`trailer-` prefix removed).
 *
 * @param response The response.
 * @param options The body size limit and accepted compressions.
 * @returns The error; never throws for anything the peer sent.
 */
export async function errorFromUnaryResponse(
  response: Response,
  options: UnaryErrorOptions,
): Promise<RpcError> {
  const fallback = codeFromHttpStatus(response.status);
  const { headers, trailers } = splitUnaryTrailers(response.headers);
  trailers.forEach((value, name) => headers.append(name, value));
  const fromStatus = () => new RpcError(fallback, `HTTP ${response.status}`, { metadata: headers });
  if (mediaType(response.headers.get("content-type")) !== CONTENT_TYPE_JSON) {
    await response.body?.cancel().catch(() => {});
    return fromStatus();
  }
  let json: unknown;
  try {
    const compression = compressionFromHeader(response.headers.get(HEADER_UNARY_ENCODING), {
      accepted: options.accepted,
      header: HEADER_UNARY_ENCODING,
    });
    const bytes = await readBody(response.body, compression, {
      maxBytes: options.maxBytes,
      what: "error body",
      malformedCode: "internal",
    });
    json = JSON.parse(decoder.decode(bytes));
  } catch {
    await response.body?.cancel().catch(() => {});
    return fromStatus();
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return fromStatus();
  return errorFromJson(json, { fallback, metadata: headers });
}
