import { readBodyText, tooLarge } from "../protocol/body.ts";
import { parseJson } from "../protocol/json.ts";
import type { Limits } from "../protocol/limits.ts";
import {
  checkShape,
  mayPassShape,
  parseMessage,
  scanShape,
  SHAPE_SCAN_CHARS,
  shapeError,
} from "../protocol/message_shape.ts";
import { NdjsonReader } from "../protocol/ndjson.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { bodyTimeout, type BodyWatch, type Watched } from "./body_watch.ts";
import type { MessageSource } from "./call.ts";

/** What the request body of an HTTP call holds. */
export type BodyFormat = "json" | "ndjson" | "json_array";

const DONE: IteratorResult<unknown, undefined> = { done: true, value: undefined };

/** How to read a request body. */
export interface SourceOptions {
  /** Size limits. */
  limits: Limits;
  /** The runtime's `request.json()` is its fast path (see RequestHooks.nativeJson). */
  nativeJson: boolean;
  /** Times bodies that arrive too slowly; none for no timeout. */
  watch?: BodyWatch | undefined;
}

/**
 * The messages in an HTTP request body.
 *
 * - `json`: one message (unary, server streaming); an empty body is no message (which the
 *   pipeline reads as `{}` when the method takes input).
 * - `ndjson`: one message per line, read as the lines arrive.
 * - `json_array`: a JSON array of messages (for curl), read whole, within `maxMessageBytes`.
 *
 * Every message is held to the shape limits (depth, keys, items) before the pipeline sees it: a
 * long body is scanned before it is parsed, so that a body over them costs no JSON.parse. A body,
 * or one message of a streamed body, that takes longer than the watch's timeout to arrive fails
 * the read with `deadline_exceeded` (see {@linkcode BodyWatch}).
 *
 * @param request The request.
 * @param format The body format.
 * @param options Limits, how best to read JSON.
 * @returns The source the pipeline reads.
 */
export function httpMessageSource(
  request: Request,
  format: BodyFormat,
  options: SourceOptions,
): MessageSource {
  switch (format) {
    case "json":
      return singleJson(request, options);
    case "ndjson":
      return new NdjsonSource(request, options);
    case "json_array":
      return jsonArray(request, options);
  }
}

function singleJson(request: Request, options: SourceOptions): MessageSource {
  let read = false;
  const message = (value: unknown) => ({ done: false as const, value });
  return {
    next() {
      if (read) return Promise.resolve(DONE);
      read = true;
      const { limits, watch } = options;
      if (options.nativeJson) {
        const declared = Number(request.headers.get("content-length") ?? "-1");
        if (declared > limits.maxMessageBytes) {
          return Promise.reject(tooLarge("request body", limits.maxMessageBytes));
        }
        // A long body is read as text instead, to be scanned before it is parsed.
        if (declared > 0 && declared < SHAPE_SCAN_CHARS) {
          const reading = readNativeJson(request).then((value) => {
            if (mayPassShape(declared, limits)) {
              const failure = checkShape(value, limits);
              if (failure) throw shapeError(failure, "request body");
            }
            return message(value);
          });
          return watch ? watch.guard(reading, "request body") : reading;
        }
      }
      const reading = readWhole(request, limits.maxMessageBytes, "request body");
      return (watch ? watch.guard(reading, "request body") : reading).then((text) => {
        if (text.trim() === "") return DONE;
        return message(parseMessage(text, "request body", limits));
      });
    },
    cancel() {
      if (!read && !request.bodyUsed) request.body?.cancel().catch(() => {});
    },
  };
}

/**
 * Reads a body whose length is known through the runtime's own `request.json()`. Its syntax
 * errors come in the engine's words; V8's say where (`... at position 14 (line 1 column 15)`),
 * which is kept as the line and column of ours.
 */
async function readNativeJson(request: Request): Promise<unknown> {
  try {
    return await request.json();
  } catch (error) {
    if (!(error instanceof SyntaxError)) return bodyError(error);
    const text = error.message;
    const at = /\s*in JSON at position \d+(?: \(line (\d+) column (\d+)\))?/.exec(text);
    const reason = (at ? text.slice(0, at.index) + text.slice(at.index + at[0].length) : text)
      .replace(/^\w/, (c) => c.toLowerCase());
    if (at?.[1] && at[2]) {
      const line = Number(at[1]);
      const column = Number(at[2]);
      throw new RpcError(
        "invalid_argument",
        `Malformed JSON in request body at line ${line}, column ${column}: ${reason}`,
        { details: { line, column } },
      );
    }
    throw new RpcError("invalid_argument", `Malformed JSON in request body: ${reason}`);
  }
}

/**
 * The messages of an NDJSON body, read line by line as they arrive. While the handler waits for a
 * message whose first bytes have arrived, the body watch times it (a tick at a time): quiet
 * between messages is a stream's nature, a message trickled a byte at a time is not.
 */
class NdjsonSource implements MessageSource, Watched {
  #reader: NdjsonReader | undefined;
  #index = 0;
  #finished = false;
  #watch: BodyWatch | undefined;
  #slot = -1;
  /** Counts the handler's waits for a message; odd while one is in progress. */
  #waits = 0;
  /** The wait in which the watch first saw a message begun, and the tick it saw it. */
  #seenWait = -1;
  #since = 0;
  #limits: Limits;

  constructor(request: Request, options: SourceOptions) {
    this.#limits = options.limits;
    this.#reader = request.body
      ? new NdjsonReader(request.body, {
        maxLineBytes: options.limits.maxLineBytes,
        what: "request body",
      })
      : undefined;
    const watch = options.watch;
    if (this.#reader && watch?.active) {
      this.#watch = watch;
      this.#slot = watch.watch(this);
    }
  }

  async next(): Promise<IteratorResult<unknown, undefined>> {
    const reader = this.#reader;
    if (!reader || this.#finished) return DONE;
    this.#waits++;
    const line = await reader.next().catch(bodyError).finally(() => this.#waits++);
    if (line === undefined) {
      this.#finish();
      return DONE;
    }
    const at = this.#index++;
    return { done: false, value: parseMessage(line, `message at index ${at}`, this.#limits, at) };
  }

  cancel(): void {
    if (!this.#finished) this.#reader?.cancel();
    this.#finish();
  }

  tick(now: number): boolean {
    if (this.#finished) return true;
    const reader = this.#reader!;
    if (this.#waits % 2 === 0 || reader.partialBytes === 0) {
      this.#seenWait = -1;
      return false;
    }
    if (this.#seenWait !== this.#waits) {
      this.#seenWait = this.#waits;
      this.#since = now;
      return false;
    }
    if (now - this.#since < this.#watch!.limitTicks) return false;
    reader.fail(
      bodyTimeout(`message at index ${this.#index} of the request body`, this.#watch!.timeoutMs),
    );
    this.#slot = -1;
    return true;
  }

  #finish(): void {
    this.#finished = true;
    if (this.#slot !== -1) this.#watch?.unwatch(this.#slot);
    this.#slot = -1;
  }
}

function jsonArray(request: Request, options: SourceOptions): MessageSource {
  const { limits } = options;
  let messages: unknown[] | undefined;
  let index = 0;
  // Whether each message still needs its shape checked (a long body was scanned whole instead).
  let walk = false;
  return {
    async next() {
      if (!messages) {
        const reading = readWhole(request, limits.maxMessageBytes, "request body");
        const text = await (options.watch ? options.watch.guard(reading, "request body") : reading);
        if (text.length >= SHAPE_SCAN_CHARS) {
          const failure = scanShape(text, limits, { elements: true });
          if (failure) {
            const [at, ...path] = failure.path;
            throw typeof at === "number"
              ? shapeError({ ...failure, path }, `message at index ${at}`, at)
              : shapeError(failure, "request body");
          }
        } else {
          walk = mayPassShape(text.length, limits);
        }
        const parsed = text.trim() === "" ? [] : parseJson(text, "request body");
        if (!Array.isArray(parsed)) {
          throw new RpcError(
            "invalid_argument",
            "A streamed input sent as application/json must be a JSON array of messages " +
              "(or send application/x-ndjson, one message per line)",
          );
        }
        messages = parsed;
      }
      if (index >= messages.length) return DONE;
      const at = index++;
      const value = messages[at];
      if (walk) {
        const failure = checkShape(value, limits);
        if (failure) throw shapeError(failure, `message at index ${at}`, at);
      }
      return { done: false, value };
    },
    cancel() {
      if (!messages && !request.bodyUsed) request.body?.cancel().catch(() => {});
    },
  };
}

function readWhole(request: Request, limit: number, what: string): Promise<string> {
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    if (Number(declared) > limit) {
      request.body?.cancel().catch(() => {});
      return Promise.reject(tooLarge(what, limit));
    }
    // The length is known and within the limit: read it in one go (HTTP framing holds the
    // client to the declared length). Invalid UTF-8 here becomes U+FFFD, as in any fetch body;
    // streamed bodies, read line by line, reject it.
    return request.text().catch(bodyError);
  }
  return readBodyText(request.body, limit, what).catch(bodyError);
}

/** A body that fails to read (not for a reason of ours) means the client went away. */
function bodyError(error: unknown): never {
  if (RpcError.is(error)) throw error;
  throw new RpcError("cancelled", "The request body ended abruptly: the client went away", {
    cause: error,
  });
}
