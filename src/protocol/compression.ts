import { concatBytes } from "./base64.ts";
import { readBodyBytes, tooLarge } from "./body.ts";
import type { ErrorCode } from "./codes.ts";
import { RpcError } from "./rpc_error.ts";

/**
 * Compression of whole bodies (`content-encoding`) and of single envelopes
 * (`connect-content-encoding`, `grpc-encoding`), with the web-standard CompressionStream and
 * DecompressionStream (Deno and Bun both have them), and the negotiation rules the Connect and
 * gRPC specs share.
 *
 * Decompression is where a small input can become a huge one (a "gzip bomb": 1 MB of gzip holds
 * 1 GB of zeros), so the size limit is enforced on the decompressed bytes while they are produced,
 * and the compressed input is fed in small slices: Deno's DecompressionStream emits everything a
 * written chunk expands to at once, so a slice of {@linkcode SLICE_BYTES} bounds what is in
 * memory to about 4 MB (deflate expands at most ~1032:1) however the input arrives.
 */

/** A compression a peer can negotiate: its name on the wire and the web-standard format. */
export interface Compression {
  /** The name in `*-encoding` headers, lower case: `gzip`. */
  readonly name: string;
  /** The CompressionStream format that implements it. */
  readonly format: CompressionFormat;
}

/** gzip, the one compression every Connect and gRPC implementation offers. */
export const GZIP: Compression = { name: "gzip", format: "gzip" };

/** The compressions MicroAPI accepts and offers, in order of preference. */
export const COMPRESSIONS: readonly Compression[] = [GZIP];

/** The name of no compression; always accepted, never listed as a Compression. */
export const IDENTITY = "identity";

/**
 * The compressed input is fed to the decompressor this much at a time. Measured on Deno: 4 KiB
 * slices decompress a 1 MB gzip body as fast as one write does.
 */
const SLICE_BYTES = 4 * 1024;

/** Options for decompression. */
export interface DecompressOptions {
  /** The most decompressed bytes accepted; more fails with `resource_exhausted`. */
  maxBytes: number;
  /** What is decompressed, for messages: `"request body"`, `"message"`. */
  what: string;
  /**
   * The code for input that is not valid compressed data. Default `invalid_argument` (a bad
   * request); a client reading a response uses `internal`, as Connect's do.
   */
  malformedCode?: ErrorCode;
}

/**
 * Compresses bytes.
 *
 * @param data The bytes.
 * @param compression The compression.
 * @returns The compressed bytes.
 */
export async function compress(data: Uint8Array, compression: Compression): Promise<Uint8Array> {
  const stream = new CompressionStream(compression.format);
  const writer = stream.writable.getWriter();
  writer.write(data as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  const parts: Uint8Array[] = [];
  for await (const part of stream.readable) parts.push(part);
  return concatBytes(parts);
}

/**
 * Decompresses bytes, enforcing the limit on the output as it is produced.
 *
 * @param data The compressed bytes. Zero bytes decompress to zero bytes, as the specs require.
 * @param compression The compression.
 * @param options The limit, a name for messages, the code for malformed input.
 * @returns The decompressed bytes.
 * @throws {RpcError} `resource_exhausted` past the limit; `malformedCode` for corrupt input.
 */
export function decompress(
  data: Uint8Array,
  compression: Compression,
  options: DecompressOptions,
): Promise<Uint8Array> {
  if (data.length === 0) return Promise.resolve(data);
  return readLimited(decompressStream(streamOf(data), compression, options), options);
}

/**
 * Reads a whole body, decompressing it when a compression is given. Both the compressed and the
 * decompressed size are held to the limit, while reading.
 *
 * @param body The body, or null for none.
 * @param compression The body's compression, or undefined for identity.
 * @param options The limit, a name for messages, the code for malformed input.
 * @returns The (decompressed) bytes.
 * @throws {RpcError} `resource_exhausted` past the limit; `malformedCode` for corrupt input.
 */
export async function readBody(
  body: ReadableStream<Uint8Array> | null,
  compression: Compression | undefined,
  options: DecompressOptions,
): Promise<Uint8Array> {
  const raw = await readBodyBytes(body, options.maxBytes, options.what);
  return compression === undefined ? raw : decompress(raw, compression, options);
}

/**
 * Decompresses a stream as it arrives (a gRPC-Web body sent with `content-encoding`, for
 * instance). The output has no size limit of its own; the reader of the output applies one (the
 * envelope reader holds each message to `maxMessageBytes`). Cancelling the output cancels the
 * input.
 *
 * @param input The compressed stream.
 * @param compression The compression.
 * @param options A name for messages and the code for malformed input (`maxBytes` is not used).
 * @returns The decompressed stream; it errors with an RpcError on corrupt input.
 */
export function decompressStream(
  input: ReadableStream<Uint8Array>,
  compression: Compression,
  options: Omit<DecompressOptions, "maxBytes">,
): ReadableStream<Uint8Array> {
  const malformed = () =>
    new RpcError(
      options.malformedCode ?? "invalid_argument",
      `The ${options.what} is not valid ${compression.name} data`,
    );
  const inflater = new DecompressionStream(compression.format);
  const writer = inflater.writable.getWriter();
  const output = inflater.readable.getReader();
  const source = input.getReader();
  let inputError: { error: unknown } | undefined;
  // Feeds the input in slices; each write waits until the output side has room again. It never
  // rejects: an input error is kept for the reader, a decompressor error shows up on the reader.
  const pump = async () => {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await source.read();
      } catch (error) {
        inputError = { error };
        await writer.abort(error).catch(() => {});
        return;
      }
      if (chunk.done) break;
      const bytes = chunk.value;
      for (let at = 0; at < bytes.length; at += SLICE_BYTES) {
        try {
          await writer.write(bytes.subarray(at, at + SLICE_BYTES) as Uint8Array<ArrayBuffer>);
        } catch {
          await source.cancel().catch(() => {});
          return;
        }
      }
    }
    await writer.close().catch(() => {});
  };
  let pumping: Promise<void> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      pumping ??= pump();
      try {
        const { value, done } = await output.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch {
        controller.error(inputError ? inputError.error : malformed());
      }
    },
    async cancel(reason) {
      await Promise.all([
        output.cancel(reason).catch(() => {}),
        source.cancel(reason).catch(() => {}),
      ]);
    },
  }, { highWaterMark: 0 });
}

async function readLimited(
  stream: ReadableStream<Uint8Array>,
  options: DecompressOptions,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return concatBytes(parts);
    size += value.length;
    if (size > options.maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(`decompressed ${options.what}`, options.maxBytes);
    }
    parts.push(value);
  }
}

function streamOf(data: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(data);
      controller.close();
    },
  });
}

/**
 * Finds the compression a peer names in an encoding header (`content-encoding`,
 * `connect-content-encoding`, `grpc-encoding`, or Connect GET's `compression` parameter).
 *
 * @param name The header value, or null when absent.
 * @param options The compressions accepted, and the header's name for the message.
 * @returns The compression, or undefined for identity (absent, empty or `identity`).
 * @throws {RpcError} `unimplemented` for any other name, with a message and `details.accepted`
 * that list what is accepted, as the Connect spec asks.
 */
export function compressionFromHeader(
  name: string | null,
  options: { accepted?: readonly Compression[]; header: string },
): Compression | undefined {
  if (name === null) return undefined;
  const wanted = name.trim().toLowerCase();
  if (wanted === "" || wanted === IDENTITY) return undefined;
  const accepted = options.accepted ?? COMPRESSIONS;
  const found = accepted.find((c) => c.name === wanted);
  if (found) return found;
  const names = [...accepted.map((c) => c.name), IDENTITY];
  throw new RpcError(
    "unimplemented",
    `Unsupported ${options.header} ${JSON.stringify(name.slice(0, 40))}: supported encodings are ${
      names.join(", ")
    }`,
    { details: { accepted: names } },
  );
}

/**
 * Picks the compression for a response from the peer's accept list (`accept-encoding`,
 * `connect-accept-encoding`, `grpc-accept-encoding`): the first entry, in the peer's order, that
 * is also accepted here. Quality values are honoured only as far as `q=0` meaning "not this one".
 * Without an accept header the request's own compression is assumed acceptable, as the Connect
 * spec says; identity is always acceptable.
 *
 * @param accept The accept header's value, or null when absent.
 * @param requestCompression The compression the request used, or undefined.
 * @param accepted The compressions offered here. Default {@linkcode COMPRESSIONS}.
 * @returns The compression to use, or undefined for identity.
 */
export function negotiateCompression(
  accept: string | null,
  requestCompression: Compression | undefined,
  accepted: readonly Compression[] = COMPRESSIONS,
): Compression | undefined {
  if (accept === null) return requestCompression;
  for (const entry of accept.split(",")) {
    const [token = "", ...params] = entry.split(";");
    const name = token.trim().toLowerCase();
    if (name === IDENTITY) return undefined;
    if (params.some((p) => /^\s*q\s*=\s*0(?:\.0*)?\s*$/i.test(p))) continue;
    const found = accepted.find((c) => c.name === name);
    if (found) return found;
  }
  return undefined;
}

/**
 * The value of an accept-encoding header that offers the given compressions.
 *
 * @param accepted The compressions. Default {@linkcode COMPRESSIONS}.
 * @returns For example `gzip`.
 */
export function acceptEncodingValue(accepted: readonly Compression[] = COMPRESSIONS): string {
  return accepted.map((c) => c.name).join(",");
}
