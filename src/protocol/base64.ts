import type { ErrorCode } from "./codes.ts";
import { RpcError } from "./rpc_error.ts";

/**
 * Base64 as the Connect and gRPC wire uses it: binary metadata (`-bin` headers), error details,
 * GET messages, and gRPC-Web-text bodies. Decoding is lenient where the specs ask for it (both
 * alphabets, padding optional) and strict about everything else.
 */

/**
 * Encodes bytes as base64.
 *
 * @param bytes The bytes.
 * @param options `url` for the URL-safe alphabet, `pad: false` to omit `=` padding.
 * @returns The text.
 */
export function base64Encode(
  bytes: Uint8Array,
  options: { url?: boolean; pad?: boolean } = {},
): string {
  return bytes.toBase64({
    alphabet: options.url ? "base64url" : "base64",
    omitPadding: options.pad === false,
  });
}

/**
 * Decodes base64 in either alphabet (`+/` or `-_`), with or without padding. A space is read as
 * `+`, since a form-decoded query string turns an unescaped `+` into one.
 *
 * @param text The text.
 * @param what What the text is, for the message.
 * @param code The error code for text that is not base64. Default `invalid_argument`.
 * @returns The bytes.
 * @throws {RpcError} When the text is not base64.
 */
export function base64Decode(
  text: string,
  what: string,
  code: ErrorCode = "invalid_argument",
): Uint8Array {
  const standard = text.replace(/[-_ ]/g, (c) => (c === "-" ? "+" : c === "_" ? "/" : "+"));
  try {
    return Uint8Array.fromBase64(standard, { lastChunkHandling: "loose" });
  } catch {
    throw new RpcError(code, `The ${what} is not valid base64`);
  }
}

const A = 65, Z = 90, a = 97, z = 122, ZERO = 48, NINE = 57, PLUS = 43, SLASH = 47;
const EQUALS = 61, CR = 13, LF = 10;
const ascii = new TextDecoder("latin1");

function isBase64Byte(byte: number): boolean {
  return (byte >= A && byte <= Z) || (byte >= a && byte <= z) ||
    (byte >= ZERO && byte <= NINE) || byte === PLUS || byte === SLASH || byte === EQUALS;
}

/**
 * A stream that decodes base64 text as it arrives, for `application/grpc-web-text` bodies. The
 * text is a run of base64 blocks, each possibly padded: a sender may flush (and pad) at any point,
 * not only between messages, so padding in the middle of the stream is accepted. Line breaks are
 * skipped; any other byte outside the alphabet fails the stream with an RpcError.
 *
 * @param what What the stream is, for the message.
 * @param code The error code for bad input. Default `invalid_argument`.
 * @returns A transform from base64 bytes to decoded bytes.
 */
export function base64DecodeStream(
  what: string,
  code: ErrorCode = "invalid_argument",
): TransformStream<Uint8Array, Uint8Array> {
  // Up to three characters of an unfinished four-character group.
  let carry = "";
  const fail = () => new RpcError(code, `The ${what} is not valid base64`);
  return new TransformStream({
    transform(chunk, controller) {
      let breaks = 0;
      for (const byte of chunk) {
        if (byte === CR || byte === LF) breaks++;
        else if (!isBase64Byte(byte)) return controller.error(fail());
      }
      const bytes = breaks === 0 ? chunk : chunk.filter((byte) => byte !== CR && byte !== LF);
      const text = carry + ascii.decode(bytes);
      // Cut after the last complete group; padding only ever ends a group.
      const end = text.length - (text.length % 4);
      carry = text.slice(end);
      if (end === 0) return;
      const decoded = decodeGroups(text.slice(0, end));
      if (decoded === undefined) return controller.error(fail());
      controller.enqueue(decoded);
    },
    flush(controller) {
      if (carry === "") return;
      // A final group without its padding.
      const decoded = decodeGroups(carry);
      if (decoded === undefined) return controller.error(fail());
      controller.enqueue(decoded);
    },
  });
}

/** Decodes complete groups, where a padded group may appear anywhere. */
function decodeGroups(text: string): Uint8Array | undefined {
  try {
    if (!text.includes("=")) return Uint8Array.fromBase64(text, { lastChunkHandling: "loose" });
    const parts: Uint8Array[] = [];
    let start = 0;
    for (let at = text.indexOf("="); at !== -1; at = text.indexOf("=", start)) {
      // The padded group ends at the next multiple of four; it must be complete.
      const groupEnd = (Math.floor(at / 4) + 1) * 4;
      parts.push(
        Uint8Array.fromBase64(text.slice(start, groupEnd), { lastChunkHandling: "strict" }),
      );
      start = groupEnd;
    }
    if (start < text.length) {
      parts.push(Uint8Array.fromBase64(text.slice(start), { lastChunkHandling: "loose" }));
    }
    return concatBytes(parts);
  } catch {
    return undefined;
  }
}

/**
 * Joins byte arrays into one.
 *
 * @param parts The arrays.
 * @returns One array (the only part itself when there is one).
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let size = 0;
  for (const part of parts) size += part.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
