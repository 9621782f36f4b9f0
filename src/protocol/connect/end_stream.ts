import type { ErrorCode } from "../codes.ts";
import { RpcError } from "../rpc_error.ts";
import { errorFromJson, errorToJson } from "./error.ts";

/**
 * The end-stream message: the last envelope of every Connect streaming response, flagged
 * {@linkcode FLAG_END_STREAM}, holding JSON `{ "error"?: <error JSON>, "metadata"?: { name:
 * [values] } }` whatever the call's codec. It carries the final status and the trailers; a
 * stream without it was cut off.
 */

/** Envelope flag of the end-stream message. */
export const FLAG_END_STREAM = 0b0000_0010;

/** What an end-stream message says. */
export interface EndStream {
  /** The error the call ended with, or undefined for success. */
  error: RpcError | undefined;
  /** The trailers. */
  trailers: Headers;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Encodes an end-stream message (the envelope's payload; frame it with
 * {@linkcode FLAG_END_STREAM}).
 *
 * @param error The error, or undefined for success.
 * @param trailers The trailers; omitted when empty.
 * @returns UTF-8 JSON: `{}` for a success without trailers.
 */
export function encodeEndStream(error: RpcError | undefined, trailers: Headers): Uint8Array {
  const json: Record<string, unknown> = {};
  if (error) json.error = errorToJson(error);
  let metadata: Record<string, string[]> | undefined;
  trailers.forEach((value, name) => {
    metadata ??= {};
    (metadata[name] ??= []).push(value);
  });
  if (metadata) json.metadata = metadata;
  return encoder.encode(JSON.stringify(json));
}

/**
 * Decodes an end-stream message. As the spec and the conformance suite ask, `"error": null` is a
 * success, and an error without a valid code is `unknown`; metadata entries that are not arrays
 * of strings, or not valid header names and values, are dropped.
 *
 * @param data The envelope's payload.
 * @param malformedCode The code for a payload that is not a JSON object. Default `internal` (a
 * client reads end-stream messages, and a broken one is the server's fault).
 * @returns The status and trailers.
 * @throws {RpcError} When the payload is not a JSON object.
 */
export function decodeEndStream(
  data: Uint8Array,
  malformedCode: ErrorCode = "internal",
): EndStream {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch {
    throw new RpcError(malformedCode, "The end-stream message is not valid JSON");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new RpcError(malformedCode, "The end-stream message is not a JSON object");
  }
  const { error, metadata } = json as Record<string, unknown>;
  const trailers = new Headers();
  if (typeof metadata === "object" && metadata !== null && !Array.isArray(metadata)) {
    for (const [name, values] of Object.entries(metadata)) {
      if (!Array.isArray(values)) continue;
      for (const value of values) {
        if (typeof value !== "string") continue;
        try {
          trailers.append(name, value);
        } catch {
          // An invalid header name or value from the peer is dropped, not fatal.
        }
      }
    }
  }
  return {
    error: error === undefined || error === null
      ? undefined
      : errorFromJson(error, { fallback: "unknown", metadata: trailers }),
    trailers,
  };
}
