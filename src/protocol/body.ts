import { RpcError } from "./rpc_error.ts";

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a whole body as UTF-8 text, failing as soon as it passes the limit, so an oversize body is
 * never buffered first.
 *
 * @param body The body stream, or null for an empty body.
 * @param limit The most bytes accepted.
 * @param what What the body is, for error messages.
 * @returns The text.
 * @throws {RpcError} `resource_exhausted` past the limit, `invalid_argument` for invalid UTF-8.
 */
export async function readBodyText(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  what: string,
): Promise<string> {
  return decodeUtf8(await readBodyBytes(body, limit, what), what);
}

/**
 * Reads a whole body as bytes, failing as soon as it passes the limit, so an oversize body is
 * never buffered first.
 *
 * @param body The body stream, or null for an empty body.
 * @param limit The most bytes accepted.
 * @param what What the body is, for error messages.
 * @returns The bytes.
 * @throws {RpcError} `resource_exhausted` past the limit; errors of the stream pass through.
 */
export async function readBodyBytes(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  what: string,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(what, limit);
    }
    chunks.push(value.slice());
  }
  return chunks.length === 1 ? chunks[0]! : concat(chunks, size);
}

/**
 * Decodes UTF-8 strictly: invalid bytes are an error, not a replacement character.
 *
 * @param bytes The bytes.
 * @param what What they are, for the message.
 * @returns The text.
 * @throws {RpcError} `invalid_argument` for invalid UTF-8.
 */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new RpcError("invalid_argument", `The ${what} is not valid UTF-8`);
  }
}

/**
 * The error for a message over the size limit.
 *
 * @param what What was too large.
 * @param limit The limit in bytes.
 * @returns A `resource_exhausted` RpcError.
 */
export function tooLarge(what: string, limit: number): RpcError {
  return new RpcError("resource_exhausted", `The ${what} exceeds the limit of ${limit} bytes`, {
    details: { limit },
  });
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
