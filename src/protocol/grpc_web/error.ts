import { base64Decode, base64Encode } from "../base64.ts";
import type { Code, ErrorCode } from "../codes.ts";
import { decodeStatus, detailsFromWire, detailsToWire, encodeStatus } from "../error_details.ts";
import { RpcError } from "../rpc_error.ts";
import { HEADER_MESSAGE, HEADER_STATUS, HEADER_STATUS_DETAILS } from "./headers.ts";

/**
 * gRPC status on the wire, as gRPC-Web carries it in its trailers (or in the headers of a
 * trailers-only response): `grpc-status` (the code number), `grpc-message` (percent-encoded
 * UTF-8) and `grpc-status-details-bin` (a base64 `google.rpc.Status` with the details).
 */

/** The gRPC code number of each code; our snake_case names are gRPC's, lower-cased. */
export const grpcCodeByCode: Readonly<Record<Code, number>> = {
  ok: 0,
  cancelled: 1,
  unknown: 2,
  invalid_argument: 3,
  deadline_exceeded: 4,
  not_found: 5,
  already_exists: 6,
  permission_denied: 7,
  resource_exhausted: 8,
  failed_precondition: 9,
  aborted: 10,
  out_of_range: 11,
  unimplemented: 12,
  internal: 13,
  unavailable: 14,
  data_loss: 15,
  unauthenticated: 16,
};

const codeByNumber: readonly Code[] = Object.entries(grpcCodeByCode)
  .sort(([, a], [, b]) => a - b)
  .map(([code]) => code as Code);

/**
 * The gRPC code number of a code.
 *
 * @param code The code.
 * @returns 0 to 16.
 */
export function codeToGrpc(code: Code): number {
  return grpcCodeByCode[code];
}

/**
 * The code of a gRPC code number.
 *
 * @param value The number.
 * @returns The code, or undefined when the number is not 0 to 16.
 */
export function codeFromGrpc(value: number): Code | undefined {
  return Number.isInteger(value) ? codeByNumber[value] : undefined;
}

/**
 * The code a gRPC client infers from the HTTP status of a response that carries no gRPC status
 * (gRPC's http-grpc-status-mapping.md).
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

const encoder = new TextEncoder();
const lenientUtf8 = new TextDecoder("utf-8");

/**
 * Percent-encodes a status message for `grpc-message`: UTF-8, with every byte outside printable
 * ASCII, and `%` itself, written as `%XX`.
 *
 * @param message The message.
 * @returns The header value.
 */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const byte of encoder.encode(message)) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25
      ? String.fromCharCode(byte)
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * Decodes a `grpc-message` value. As the gRPC spec requires, it never fails: a `%` not followed
 * by two hex digits is kept as it is, and bytes that are not UTF-8 become U+FFFD (a peer that
 * sent raw UTF-8 instead of percent-encoding it is understood too).
 *
 * @param value The header value.
 * @returns The message.
 */
export function decodeGrpcMessage(value: string): string {
  if (/^[\x20-\x24\x26-\x7e]*$/.test(value)) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const hex = value.slice(i + 1, i + 3);
    const char = value.charCodeAt(i);
    if (char === 0x25 && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (char <= 0xff) {
      // Header values are byte strings: a raw byte from the wire is one char up to 0xFF.
      bytes.push(char);
    } else {
      for (const byte of encoder.encode(value[i]!)) bytes.push(byte);
    }
  }
  return lenientUtf8.decode(Uint8Array.from(bytes));
}

/**
 * Writes a call's final status into trailers (or the headers of a trailers-only response):
 * `grpc-status`, and for an error `grpc-message` and, when it has details,
 * `grpc-status-details-bin`.
 *
 * @param target The headers to write into, changed in place.
 * @param error The error, or undefined for success.
 * @returns `target`.
 */
export function setStatus(target: Headers, error: RpcError | undefined): Headers {
  if (!error) {
    target.set(HEADER_STATUS, "0");
    return target;
  }
  const code = codeToGrpc(error.code);
  target.set(HEADER_STATUS, String(code));
  target.set(HEADER_MESSAGE, encodeGrpcMessage(error.message));
  const details = detailsToWire(error.details);
  if (details.length > 0) {
    const status = encodeStatus({ code, message: error.message, details });
    target.set(HEADER_STATUS_DETAILS, base64Encode(status, { pad: false }));
  }
  return target;
}

/** A status read from trailers or headers. */
export interface GrpcStatus {
  /** True when `grpc-status` was present (a trailers-only response has it in its headers). */
  found: boolean;
  /** The error, or undefined for `grpc-status: 0` (and when no status was found). */
  error: RpcError | undefined;
  /** The other entries: the trailers proper, without the `grpc-status*` and `grpc-message`. */
  trailers: Headers;
}

/**
 * Reads the status from trailers (or the headers of a trailers-only response). A `grpc-status`
 * that is not a number from 0 to 16 is `unknown`; details come from `grpc-status-details-bin`
 * when it decodes, and are ignored when it does not.
 *
 * @param headers The trailers or headers.
 * @returns Whether a status was found, the error, and the remaining trailers.
 */
export function statusFromHeaders(headers: Headers): GrpcStatus {
  const trailers = new Headers();
  headers.forEach((value, name) => {
    if (name !== HEADER_STATUS && name !== HEADER_MESSAGE && name !== HEADER_STATUS_DETAILS) {
      trailers.append(name, value);
    }
  });
  const status = headers.get(HEADER_STATUS);
  if (status === null) return { found: false, error: undefined, trailers };
  const message = decodeGrpcMessage(headers.get(HEADER_MESSAGE) ?? "");
  const code = /^\d{1,2}$/.test(status.trim()) ? codeFromGrpc(Number(status.trim())) : undefined;
  if (code === "ok") return { found: true, error: undefined, trailers };
  if (code === undefined) {
    const error = new RpcError(
      "unknown",
      `The peer sent an invalid ${HEADER_STATUS} ${JSON.stringify(status.slice(0, 20))}${
        message ? `: ${message}` : ""
      }`,
      { metadata: trailers },
    );
    return { found: true, error, trailers };
  }
  let details: unknown;
  const bin = headers.get(HEADER_STATUS_DETAILS);
  if (bin !== null) {
    try {
      const decoded = decodeStatus(base64Decode(bin, HEADER_STATUS_DETAILS));
      if (decoded) details = detailsFromWire(decoded.details);
    } catch {
      // Undecodable details are dropped; the code and message still stand.
    }
  }
  return {
    found: true,
    error: new RpcError(code, message, { details, metadata: trailers }),
    trailers,
  };
}
