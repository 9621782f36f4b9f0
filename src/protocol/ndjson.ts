import { BatchedBody, type BatchedBodyOptions } from "./batched_body.ts";
import { RpcError } from "./rpc_error.ts";

const NEWLINE = 10;

/** Options for {@linkcode NdjsonReader}. */
export interface NdjsonReaderOptions {
  /** The longest line accepted, in bytes; checked while the line is still arriving. */
  maxLineBytes: number;
  /** What the stream is, for error messages (`"request body"`). */
  what?: string;
}

/**
 * Reads newline-delimited text lines from a byte stream, one at a time, as the bytes arrive: a line
 * is handed out as soon as its newline is read, never after the whole body. Blank lines are
 * skipped; a final line without a newline is accepted. A line longer than the limit fails the read
 * as soon as the limit is passed, without buffering the rest of it.
 */
export class NdjsonReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #decoder = new TextDecoder("utf-8", { fatal: true });
  #maxLineBytes: number;
  #what: string;
  #lines: string[] = [];
  #lineIndex = 0;
  #partial: Uint8Array[] = [];
  #partialBytes = 0;
  #done = false;
  #error: RpcError | undefined;

  /**
   * Starts reading a stream; the reader locks it.
   *
   * @param stream The byte stream, for example a request body.
   * @param options The line limit and a name for messages.
   */
  constructor(stream: ReadableStream<Uint8Array>, options: NdjsonReaderOptions) {
    this.#reader = stream.getReader();
    this.#maxLineBytes = options.maxLineBytes;
    this.#what = options.what ?? "stream";
  }

  /**
   * The next non-blank line, without its newline. Lines that arrived before a bad one are handed
   * out first; the error comes after them.
   *
   * @returns The line, or undefined once the stream has ended.
   * @throws {RpcError} `resource_exhausted` for an oversize line, `invalid_argument` for bytes that
   * are not UTF-8; errors of the underlying stream pass through.
   */
  async next(): Promise<string | undefined> {
    for (;;) {
      if (this.#lineIndex < this.#lines.length) {
        const line = this.#lines[this.#lineIndex++]!;
        if (this.#lineIndex === this.#lines.length) {
          this.#lines = [];
          this.#lineIndex = 0;
        }
        return line;
      }
      if (this.#error) throw this.#error;
      if (this.#done) return undefined;
      const { value, done } = await this.#reader.read();
      if (this.#error) throw this.#error;
      if (done) {
        this.#done = true;
        if (this.#partialBytes > 0) this.#pushLine(this.#takePartial());
      } else {
        this.#accept(value);
        if (this.#error) await this.#reader.cancel(this.#error).catch(() => {});
      }
    }
  }

  /** Bytes of a line that has begun to arrive but not ended yet. */
  get partialBytes(): number {
    return this.#partialBytes;
  }

  /**
   * Fails the read from outside (a line that took too long, say): a pending `next()` and every
   * later one reject with the error, and the underlying stream is cancelled.
   *
   * @param error The error.
   */
  fail(error: RpcError): void {
    this.#error = error;
    this.#lines = [];
    this.#lineIndex = 0;
    this.#partial = [];
    this.#partialBytes = 0;
    this.#reader.cancel(error).catch(() => {});
  }

  /**
   * Stops reading and cancels the underlying stream.
   *
   * @param reason Passed to the stream's cancel.
   */
  async cancel(reason?: unknown): Promise<void> {
    this.#done = true;
    this.#lines = [];
    await this.#reader.cancel(reason).catch(() => {});
  }

  #accept(chunk: Uint8Array): void {
    const max = this.#maxLineBytes;
    let start = 0;
    let newline = chunk.indexOf(NEWLINE);
    if (this.#partialBytes > 0) {
      // Finish the line that began in an earlier chunk.
      const end = newline === -1 ? chunk.length : newline;
      if (this.#partialBytes + end > max) return this.#tooLong();
      this.#partial.push(newline === -1 ? chunk.slice() : chunk.subarray(0, newline));
      this.#partialBytes += end;
      if (newline === -1) return;
      this.#pushLine(this.#takePartial());
      start = newline + 1;
      newline = chunk.indexOf(NEWLINE, start);
    }
    // Every complete line in the chunk, checked for length, then decoded with one call.
    let lineStart = start;
    let last = -1;
    let oversize = false;
    while (newline !== -1) {
      if (newline - lineStart > max) {
        oversize = true;
        break;
      }
      last = newline;
      lineStart = newline + 1;
      newline = chunk.indexOf(NEWLINE, lineStart);
    }
    if (last !== -1) {
      for (const line of this.#decode(chunk.subarray(start, last)).split("\n")) {
        this.#pushText(line);
      }
      start = last + 1;
    }
    if (oversize || chunk.length - start > max) return this.#tooLong();
    if (start < chunk.length) {
      // Copy: the runtime may reuse the chunk's memory after read() resolves again.
      this.#partial.push(chunk.slice(start));
      this.#partialBytes += chunk.length - start;
    }
  }

  #tooLong(): void {
    this.#partial = [];
    this.#partialBytes = 0;
    this.#error = new RpcError(
      "resource_exhausted",
      `Line in ${this.#what} exceeds the limit of ${this.#maxLineBytes} bytes`,
      { details: { limit: this.#maxLineBytes } },
    );
  }

  #takePartial(): Uint8Array {
    const parts = this.#partial;
    this.#partial = [];
    const size = this.#partialBytes;
    this.#partialBytes = 0;
    if (parts.length === 1) return parts[0]!;
    const joined = new Uint8Array(size);
    let offset = 0;
    for (const part of parts) {
      joined.set(part, offset);
      offset += part.length;
    }
    return joined;
  }

  #pushLine(bytes: Uint8Array): void {
    this.#pushText(this.#decode(bytes));
  }

  #pushText(line: string): void {
    // Tolerate CRLF and blank keep-alive lines.
    const text = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (text.trim() !== "") this.#lines.push(text);
  }

  #decode(bytes: Uint8Array): string {
    try {
      return this.#decoder.decode(bytes);
    } catch {
      throw new RpcError("invalid_argument", `${this.#what} is not valid UTF-8`);
    }
  }
}

/** Options for {@linkcode NdjsonWriter}. */
export type NdjsonWriterOptions = BatchedBodyOptions;

const encoder = new TextEncoder();

/**
 * Turns lines into a byte stream, for a response or request body. Lines are joined into one chunk
 * until the producer goes quiet or the chunk reaches the high-water mark (in characters), and
 * `write()` returns a promise only when the consumer has fallen behind: see
 * {@linkcode BatchedBody} for the batching and the backpressure.
 */
export class NdjsonWriter extends BatchedBody {
  #buffer = "";

  /**
   * Creates the writer and its readable side.
   *
   * @param options High-water mark (characters) and cancel callback.
   */
  constructor(options: NdjsonWriterOptions = {}) {
    super(options);
  }

  /**
   * Queues one line (a newline is appended).
   *
   * @param line The line, without a newline.
   * @returns undefined when more may be written at once, or a promise that resolves when the
   * consumer has caught up (or cancelled).
   */
  write(line: string): Promise<void> | undefined {
    if (!this.accepting) return undefined;
    this.#buffer += line + "\n";
    return this.queued();
  }

  /** The characters waiting. */
  protected override get pendingSize(): number {
    return this.#buffer.length;
  }

  /** @returns The waiting lines, encoded. */
  protected override takePending(): Uint8Array {
    const chunk = encoder.encode(this.#buffer);
    this.#buffer = "";
    return chunk;
  }

  /** Forgets the waiting lines. */
  protected override dropPending(): void {
    this.#buffer = "";
  }
}
