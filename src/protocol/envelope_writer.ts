import { BatchedBody, type BatchedBodyOptions } from "./batched_body.ts";
import { compress, type Compression } from "./compression.ts";
import { ENVELOPE_PREFIX_BYTES, FLAG_COMPRESSED, writeEnvelope } from "./envelope.ts";
import { RpcError } from "./rpc_error.ts";

/** Options for {@linkcode EnvelopeWriter}. */
export interface EnvelopeWriterOptions extends BatchedBodyOptions {
  /**
   * Compress messages with this compression (negotiated with the peer), setting
   * {@linkcode FLAG_COMPRESSED} on each compressed envelope. Undefined: no compression.
   */
  compression?: Compression | undefined;
  /**
   * Messages smaller than this many bytes are sent uncompressed even when a compression is set:
   * compressing them costs more than it saves. Default 1 KiB.
   */
  compressMinBytes?: number;
  /**
   * Base64-encode every chunk (gRPC-Web-text). Each chunk is padded on its own, which the
   * gRPC-Web spec allows: readers decode group by group.
   */
  base64?: boolean;
}

/**
 * Turns messages into a stream of envelopes, for a response or request body. Envelopes are
 * written straight into one growing chunk, so a burst of small messages becomes one chunk (and
 * one write on the socket) instead of one per message; batching and backpressure are those of
 * {@linkcode BatchedBody} (the high-water mark counts bytes).
 *
 * With a compression set, messages of at least `compressMinBytes` are compressed before framing.
 * Compression is asynchronous, so writes queue behind it: envelopes always leave in the order
 * they were written, and `write()` returns a promise while compression is in flight.
 */
export class EnvelopeWriter extends BatchedBody {
  #buffer = new Uint8Array(0);
  #length = 0;
  #compression: Compression | undefined;
  #compressMinBytes: number;
  #base64: boolean;
  /** Settles when every write queued behind a compression has been framed. */
  #tail: Promise<void> | undefined;

  /**
   * Creates the writer and its readable side.
   *
   * @param options Compression, high-water mark (bytes), base64 mode, and cancel callback.
   */
  constructor(options: EnvelopeWriterOptions = {}) {
    super(options);
    this.#compression = options.compression;
    this.#compressMinBytes = options.compressMinBytes ?? 1024;
    this.#base64 = options.base64 ?? false;
  }

  /**
   * Queues one message.
   *
   * @param data The encoded message.
   * @param flags The envelope flags (0 for a message; the protocol's end-stream or trailers bit
   * for the last envelope). The compression bit is set here, never by the caller.
   * @param compressible False for an envelope that must go uncompressed whatever its size
   * (gRPC-Web's trailers frame, which some clients read without decompressing). Default true.
   * @returns undefined when more may be written at once, or a promise that resolves when the
   * consumer has caught up (or cancelled) and any compression in front of it is done.
   */
  write(data: Uint8Array, flags = 0, compressible = true): Promise<void> | undefined {
    if (!this.accepting) return undefined;
    const compression = this.#compression;
    if (compression === undefined || !compressible || data.length < this.#compressMinBytes) {
      if (this.#tail === undefined) return this.#frame(flags, data);
      return this.#after(() => this.#frame(flags, data));
    }
    return this.#after(async () => {
      let compressed: Uint8Array;
      try {
        compressed = await compress(data, compression);
      } catch (cause) {
        this.error(new RpcError("internal", "Failed to compress a message", { cause }));
        return;
      }
      await this.#frame(flags | FLAG_COMPRESSED, compressed);
    });
  }

  /** Ends the stream once every queued envelope is read. */
  override close(): void {
    if (this.#tail === undefined) super.close();
    else void this.#after(() => super.close());
  }

  /**
   * Ends the stream with an error after the queued envelopes (the consumer's read fails).
   *
   * @param error The error.
   */
  override error(error: unknown): void {
    if (this.#tail === undefined) super.error(error);
    else void this.#after(() => super.error(error));
  }

  /** Runs `step` after everything queued so far; the returned promise is the backpressure. */
  #after(step: () => Promise<void> | void | undefined): Promise<void> {
    const tail = (this.#tail ?? Promise.resolve()).then(step).catch((error) => {
      super.error(RpcError.from(error));
    });
    this.#tail = tail;
    void tail.then(() => {
      if (this.#tail === tail) this.#tail = undefined;
    });
    return tail;
  }

  #frame(flags: number, data: Uint8Array): Promise<void> | undefined {
    if (!this.accepting) return undefined;
    const needed = this.#length + ENVELOPE_PREFIX_BYTES + data.length;
    if (needed > this.#buffer.length) {
      const grown = new Uint8Array(Math.max(needed, this.#buffer.length * 2, 4096));
      grown.set(this.#buffer.subarray(0, this.#length));
      this.#buffer = grown;
    }
    writeEnvelope(this.#buffer, this.#length, flags, data);
    this.#length = needed;
    return this.queued();
  }

  /** The bytes waiting. */
  protected override get pendingSize(): number {
    return this.#length;
  }

  /** @returns The waiting envelopes as one chunk (base64 text in base64 mode). */
  protected override takePending(): Uint8Array {
    const chunk = this.#buffer.subarray(0, this.#length);
    this.#buffer = new Uint8Array(0);
    this.#length = 0;
    return this.#base64 ? encoder.encode(chunk.toBase64()) : chunk;
  }

  /** Forgets the waiting envelopes. */
  protected override dropPending(): void {
    this.#buffer = new Uint8Array(0);
    this.#length = 0;
  }
}

const encoder = new TextEncoder();
