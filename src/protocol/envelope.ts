import type { ErrorCode } from "./codes.ts";
import { type Compression, decompress } from "./compression.ts";
import { RpcError } from "./rpc_error.ts";

/**
 * Envelopes: the framing Connect streams, gRPC and gRPC-Web share. Each message travels as a
 * 5-byte prefix (one flags byte, then the message length as a big-endian uint32) followed by the
 * message. Bit 0 of the flags marks a compressed message in every protocol; the other bits mean
 * different things per protocol (Connect's end-stream is 0x02, gRPC-Web's trailers 0x80), so the
 * reader takes the bits a protocol allows as an option.
 */

/** Bytes in an envelope prefix. */
export const ENVELOPE_PREFIX_BYTES = 5;
/** Flag bit: the message is compressed with the negotiated encoding. */
export const FLAG_COMPRESSED = 0b0000_0001;
/** The largest length a prefix can declare. */
const MAX_UINT32 = 0xffff_ffff;

/** One envelope. */
export interface Envelope {
  /**
   * The flags. When read by {@linkcode EnvelopeReader} the compression bit is cleared, since
   * `data` is already decompressed.
   */
  flags: number;
  /** The message bytes. */
  data: Uint8Array;
}

/**
 * Frames one message.
 *
 * @param flags The flags byte.
 * @param data The message bytes.
 * @returns Prefix and message in one array.
 * @throws {RangeError} When the flags are not a byte or the message is too long to frame.
 */
export function encodeEnvelope(flags: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(ENVELOPE_PREFIX_BYTES + data.length);
  writeEnvelope(out, 0, flags, data);
  return out;
}

/**
 * Writes one envelope into a buffer that has room for it.
 *
 * @param target The buffer.
 * @param offset Where the envelope starts.
 * @param flags The flags byte.
 * @param data The message bytes.
 * @throws {RangeError} When the flags are not a byte or the message is too long to frame.
 */
export function writeEnvelope(
  target: Uint8Array,
  offset: number,
  flags: number,
  data: Uint8Array,
): void {
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xff) {
    throw new RangeError(`Cannot encode envelope: flags must be a byte, got ${flags}`);
  }
  if (data.length > MAX_UINT32) {
    throw new RangeError(`Cannot encode envelope: length ${data.length} exceeds ${MAX_UINT32}`);
  }
  target[offset] = flags;
  new DataView(target.buffer, target.byteOffset + offset + 1, 4).setUint32(0, data.length);
  target.set(data, offset + ENVELOPE_PREFIX_BYTES);
}

/** Options for {@linkcode EnvelopeReader}. */
export interface EnvelopeReaderOptions {
  /**
   * The largest message, in bytes: checked against the declared length before any of the
   * message is buffered, and against the decompressed size while decompressing.
   */
  maxMessageBytes: number;
  /**
   * The flag bits the peer may set besides {@linkcode FLAG_COMPRESSED} (which is always
   * understood): 0 for requests, Connect's end-stream bit or gRPC-Web's trailers bit for
   * responses. Any other bit is an error.
   */
  allowedFlags?: number;
  /**
   * A flag bit that marks the last envelope of the stream; anything after it is an error. Must be
   * part of `allowedFlags`.
   */
  endFlag?: number;
  /**
   * The compression negotiated for this stream (`connect-content-encoding`, `grpc-encoding`), or
   * undefined for identity: then a compressed envelope is an error (`internal`, as Connect's
   * implementations and conformance tests have it).
   */
  compression?: Compression | undefined;
  /** What the stream is, for messages. Default `"request body"`. */
  what?: string;
  /**
   * The code for malformed framing: `invalid_argument` (default) for a server reading a request,
   * `internal` for a client reading a response.
   */
  malformedCode?: ErrorCode;
}

/**
 * Reads envelopes from a byte stream as the bytes arrive: an envelope is handed out as soon as its
 * last byte is read, never after the whole body. Hostile input becomes an RpcError, once, and the
 * stream is cancelled: a prefix or message cut off by the end of the body, unknown flag bits, a
 * compressed message with no negotiated compression, a declared length over the limit (refused
 * before the message is buffered), or a decompressed size over the limit (refused while
 * decompressing). Errors of the underlying stream (a peer that went away) pass through.
 */
export class EnvelopeReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #max: number;
  #allowed: number;
  #endFlag: number;
  #compression: Compression | undefined;
  #what: string;
  #malformed: ErrorCode;
  // Buffered input: whole chunks, the first one consumed up to #head. The last chunk may still be
  // the runtime's own memory (#borrowed); it is copied before the next read, since a runtime may
  // reuse a chunk's memory once read() is called again.
  #chunks: Uint8Array[] = [];
  #head = 0;
  #buffered = 0;
  #borrowed = false;
  #eof = false;
  #index = 0;
  #ended = false;
  #error: unknown;
  #failed = false;

  /**
   * Starts reading a stream; the reader locks it.
   *
   * @param stream The byte stream, for example a request body.
   * @param options Limits, allowed flags, compression, and names for messages.
   */
  constructor(stream: ReadableStream<Uint8Array>, options: EnvelopeReaderOptions) {
    this.#reader = stream.getReader();
    this.#max = options.maxMessageBytes;
    this.#allowed = (options.allowedFlags ?? 0) | FLAG_COMPRESSED;
    this.#endFlag = options.endFlag ?? 0;
    this.#compression = options.compression;
    this.#what = options.what ?? "request body";
    this.#malformed = options.malformedCode ?? "invalid_argument";
  }

  /** How many envelopes have been handed out. */
  get count(): number {
    return this.#index;
  }

  /**
   * The next envelope.
   *
   * @returns The envelope (decompressed), or undefined once the stream has ended cleanly.
   * @throws {RpcError} For malformed, oversize or undecodable input; errors of the underlying
   * stream pass through.
   */
  async next(): Promise<Envelope | undefined> {
    if (this.#failed) throw this.#error;
    try {
      return await this.#next();
    } catch (error) {
      this.#failed = true;
      this.#error = error;
      this.#chunks = [];
      this.#buffered = 0;
      await this.#reader.cancel(error).catch(() => {});
      throw error;
    }
  }

  /**
   * Stops reading and cancels the underlying stream.
   *
   * @param reason Passed to the stream's cancel.
   */
  async cancel(reason?: unknown): Promise<void> {
    this.#ended = true;
    this.#eof = true;
    this.#chunks = [];
    this.#buffered = 0;
    await this.#reader.cancel(reason).catch(() => {});
  }

  async #next(): Promise<Envelope | undefined> {
    if (this.#ended) {
      if (this.#eof && this.#buffered === 0) return undefined;
      if (await this.#fill(1)) {
        throw this.#fail(`${this.#what} has data after its end-of-stream envelope`);
      }
      return undefined;
    }
    if (!(await this.#fill(ENVELOPE_PREFIX_BYTES))) {
      if (this.#buffered === 0) return undefined;
      throw this.#fail(
        `${this.#what} ends inside an envelope prefix: ${this.#buffered} of ${ENVELOPE_PREFIX_BYTES} bytes`,
      );
    }
    const prefix = this.#take(ENVELOPE_PREFIX_BYTES);
    const flags = prefix[0]!;
    const length = new DataView(prefix.buffer).getUint32(1);
    const index = this.#index;
    if ((flags & ~this.#allowed) !== 0) {
      throw this.#fail(
        `Envelope ${index} in ${this.#what} has unknown flags ${hex(flags)} (allowed: ${
          hex(this.#allowed)
        })`,
      );
    }
    const compressed = (flags & FLAG_COMPRESSED) !== 0;
    if (compressed && this.#compression === undefined) {
      throw new RpcError(
        "internal",
        `Envelope ${index} in ${this.#what} is marked compressed, but no compression was negotiated`,
      );
    }
    if (length > this.#max) {
      throw new RpcError(
        "resource_exhausted",
        `Message ${index} in ${this.#what} is ${length} bytes, over the limit of ${this.#max} bytes`,
        { details: { limit: this.#max, size: length } },
      );
    }
    if (!(await this.#fill(length))) {
      throw this.#fail(
        `${this.#what} ends inside message ${index}: its envelope declares ${length} bytes, ${this.#buffered} arrived`,
      );
    }
    let data = this.#take(length);
    if (compressed && length > 0) {
      data = await decompress(data, this.#compression!, {
        maxBytes: this.#max,
        what: `message ${index} in ${this.#what}`,
        malformedCode: this.#malformed,
      });
    }
    this.#index++;
    if ((flags & this.#endFlag) !== 0) this.#ended = true;
    return { flags: flags & ~FLAG_COMPRESSED, data };
  }

  #fail(message: string): RpcError {
    return new RpcError(this.#malformed, message);
  }

  /** Reads until `n` bytes are buffered; false when the stream ends first. */
  async #fill(n: number): Promise<boolean> {
    while (this.#buffered < n && !this.#eof) {
      if (this.#borrowed) this.#own();
      const { value, done } = await this.#reader.read();
      if (done) {
        this.#eof = true;
        break;
      }
      if (value.length === 0) continue;
      this.#chunks.push(value);
      this.#buffered += value.length;
      this.#borrowed = true;
    }
    return this.#buffered >= n;
  }

  /** Copies the unread part of the last chunk out of the runtime's memory. */
  #own(): void {
    this.#borrowed = false;
    const last = this.#chunks.length - 1;
    if (last < 0) return;
    const chunk = this.#chunks[last]!;
    const start = last === 0 ? this.#head : 0;
    this.#chunks[last] = chunk.slice(start);
    if (last === 0) this.#head = 0;
  }

  /** Removes `n` buffered bytes (there are at least `n`) into a new array. */
  #take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0]!;
      const available = chunk.length - this.#head;
      const count = Math.min(available, n - filled);
      out.set(chunk.subarray(this.#head, this.#head + count), filled);
      filled += count;
      if (count === available) {
        this.#chunks.shift();
        this.#head = 0;
      } else {
        this.#head += count;
      }
    }
    this.#buffered -= n;
    if (this.#chunks.length === 0) this.#borrowed = false;
    return out;
  }
}

function hex(value: number): string {
  return `0x${value.toString(16).padStart(2, "0")}`;
}
