import { RpcError } from "./rpc_error.ts";
import { parseJson } from "./json.ts";

/**
 * The lines of a streamed HTTP response (docs/protocol.md): each message is `{"message": <value>}`,
 * and the stream always ends with one `{"end": {...}}` line carrying the final status and trailers.
 * A response that stops without its end line was cut off, never completed.
 */

/** What one response line says. */
export type ResponseLine =
  | { kind: "message"; value: unknown }
  | { kind: "end"; error: RpcError | undefined; trailers: Headers };

/**
 * Encodes a message line.
 *
 * @param value The (already validated) message.
 * @returns The line, without newline.
 */
export function encodeMessageLine(value: unknown): string {
  return `{"message":${JSON.stringify(value) ?? "null"}}`;
}

/**
 * Encodes the end line.
 *
 * @param error The error the call ended with, or undefined for success.
 * @param trailers The trailers; omitted from the line when empty.
 * @returns The line, without newline.
 */
export function encodeEndLine(error: RpcError | undefined, trailers: Headers): string {
  const end: Record<string, unknown> = error ? { ...error.toBody() } : { code: "ok" };
  const record = headersToRecord(trailers);
  if (record) end.trailers = record;
  return JSON.stringify({ end });
}

/**
 * Decodes one response line.
 *
 * @param line The line, without newline.
 * @param index The line's position, for error messages.
 * @returns The message or the end.
 * @throws {RpcError} `internal` when the line is not a valid response line.
 */
export function decodeResponseLine(line: string, index: number): ResponseLine {
  let parsed: unknown;
  try {
    parsed = parseJson(line, `response line ${index}`);
  } catch (error) {
    throw new RpcError("internal", (error as Error).message);
  }
  if (typeof parsed === "object" && parsed !== null) {
    if ("message" in parsed) return { kind: "message", value: parsed.message };
    if ("end" in parsed && typeof parsed.end === "object" && parsed.end !== null) {
      const end = parsed.end as Record<string, unknown>;
      const trailers = recordToHeaders(end.trailers);
      const error = end.code === "ok" ? undefined : RpcError.fromBody(end);
      return { kind: "end", error, trailers };
    }
  }
  throw new RpcError("internal", `response line ${index} is neither a message nor an end line`);
}

/**
 * Converts headers to a plain object for JSON, or undefined when there are none.
 *
 * @param headers The headers.
 * @returns A record of lower-case names to values, or undefined.
 */
export function headersToRecord(headers: Headers): Record<string, string> | undefined {
  let record: Record<string, string> | undefined;
  headers.forEach((value, name) => {
    (record ??= {})[name] = value;
  });
  return record;
}

/**
 * Reads a JSON object of string values into Headers, ignoring anything that is not a valid header.
 *
 * @param value The parsed JSON value.
 * @returns The headers (empty when `value` is not an object).
 */
export function recordToHeaders(value: unknown): Headers {
  const headers = new Headers();
  if (typeof value !== "object" || value === null) return headers;
  for (const [name, entry] of Object.entries(value)) {
    if (typeof entry !== "string") continue;
    try {
      headers.set(name, entry);
    } catch {
      // An invalid header name or value from the peer is dropped, not fatal.
    }
  }
  return headers;
}
