import { RpcError } from "../rpc_error.ts";
import { setStatus, statusFromHeaders } from "./error.ts";
import { HEADER_MESSAGE, HEADER_STATUS, HEADER_STATUS_DETAILS } from "./headers.ts";

/**
 * The trailers frame: the last envelope of every gRPC-Web response, flagged
 * {@linkcode FLAG_END_STREAM} (the most significant bit), holding an HTTP/1-style header block
 * (`name: value\r\n` per entry) with `grpc-status`, `grpc-message`, `grpc-status-details-bin` and
 * the call's trailers. A response may instead be "trailers-only": no body, the status in the
 * HTTP headers (read those with `statusFromHeaders()`).
 */

/** Envelope flag of the trailers frame. */
export const FLAG_END_STREAM = 0b1000_0000;

/** What a trailers frame says. */
export interface EndStream {
  /** The error the call ended with, or undefined for success. */
  error: RpcError | undefined;
  /** The trailers, without the status entries. */
  trailers: Headers;
}

/**
 * Encodes a trailers frame's payload (frame it with {@linkcode FLAG_END_STREAM}).
 *
 * @param error The error, or undefined for success.
 * @param trailers The call's trailers (any `grpc-status`, `grpc-message` or
 * `grpc-status-details-bin` among them is replaced by the real status).
 * @returns The header block.
 */
export function encodeEndStream(error: RpcError | undefined, trailers: Headers): Uint8Array {
  const block = new Headers(trailers);
  // The status entries are the protocol's: a trailer of the same name must not fake one.
  for (const name of [HEADER_STATUS, HEADER_MESSAGE, HEADER_STATUS_DETAILS]) block.delete(name);
  setStatus(block, error);
  let text = "";
  block.forEach((value, name) => {
    text += `${name}: ${value}\r\n`;
  });
  return byteString(text);
}

/**
 * Decodes a trailers frame's payload. Names are case-insensitive; lines without a colon or with
 * an invalid name or value are skipped. A frame without `grpc-status` ends the call with
 * `unknown`, as the conformance suite expects.
 *
 * @param data The envelope's payload.
 * @returns The status and trailers.
 */
export function decodeEndStream(data: Uint8Array): EndStream {
  const headers = parseHeaderBlock(data);
  const status = statusFromHeaders(headers);
  if (!status.found) {
    return {
      error: new RpcError("unknown", "The trailers frame carries no grpc-status", {
        metadata: status.trailers,
      }),
      trailers: status.trailers,
    };
  }
  return { error: status.error, trailers: status.trailers };
}

/**
 * Parses an HTTP/1-style header block (`name: value` lines separated by CRLF or LF).
 *
 * @param data The block's bytes, read as bytes (latin-1), as header values are.
 * @returns The headers; entries that are not valid headers are dropped.
 */
export function parseHeaderBlock(data: Uint8Array): Headers {
  const headers = new Headers();
  let text = "";
  for (let at = 0; at < data.length; at += 8192) {
    text += String.fromCharCode(...data.subarray(at, at + 8192));
  }
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    try {
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    } catch {
      // Not a valid header name or value: dropped, not fatal.
    }
  }
  return headers;
}

/** Header values are byte strings: one char per byte, up to U+00FF. */
function byteString(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}
