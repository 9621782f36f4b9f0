import { RpcError } from "../rpc_error.ts";
import { MAX_TIMEOUT_MS } from "../timeout.ts";
import { HEADER_TIMEOUT } from "./headers.ts";

/** Milliseconds per unit of `grpc-timeout`. */
const UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1_000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

const TIMEOUT = /^(\d{1,8})([HMSmun])$/;

/**
 * Reads `grpc-timeout`: at most 8 digits and a unit, `H` hours, `M` minutes, `S` seconds, `m`
 * milliseconds, `u` microseconds, `n` nanoseconds (gRPC's PROTOCOL-HTTP2.md).
 *
 * @param value The header value, or null when absent.
 * @returns The timeout in whole milliseconds, rounded up (so `1n` is 1 ms, not 0) and at most
 * 2^31 - 1; undefined when absent.
 * @throws {RpcError} `invalid_argument` for anything else.
 */
export function parseTimeoutHeader(value: string | null): number | undefined {
  if (value === null) return undefined;
  const match = TIMEOUT.exec(value);
  if (!match) {
    throw new RpcError(
      "invalid_argument",
      `Header ${HEADER_TIMEOUT} must be up to 8 digits and a unit (H, M, S, m, u, n), got ${
        JSON.stringify(value.slice(0, 40))
      }`,
    );
  }
  const ms = Number(match[1]) * UNIT_MS[match[2]!]!;
  return Math.min(Math.ceil(ms), MAX_TIMEOUT_MS);
}

/**
 * The `grpc-timeout` value for a timeout: milliseconds when they fit in 8 digits, else seconds,
 * minutes or hours (rounded up).
 *
 * @param ms The timeout in milliseconds, >= 0.
 * @returns For example `1500m`, or `100000S`.
 */
export function timeoutHeaderValue(ms: number): string {
  const total = Math.max(ms, 0);
  for (const [unit, size] of [["m", 1], ["S", 1_000], ["M", 60_000], ["H", 3_600_000]] as const) {
    const value = Math.ceil(total / size);
    if (value <= 99_999_999) return `${value}${unit}`;
  }
  return "99999999H";
}
