import { Queue } from "../_util/queue.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { StreamClosedError } from "../schema/stream_closed_error.ts";
import type { CallControl } from "./call_control.ts";
import type { CallOptions } from "./call_options.ts";
import type { ClientCall } from "./transport.ts";

/** What {@linkcode ClientCallState} needs to know about a call. */
export interface ClientCallStateInit {
  /** The call's cancellation: the caller's signal and the deadline. */
  readonly control: CallControl;
  /** The caller's options: `onHeaders` and `onTrailers` are called from here, once each. */
  readonly options: CallOptions;
  /** Whether the client streams its input (client and bidi streaming): only then may it send. */
  readonly streamedInput: boolean;
}

const DONE: IteratorResult<unknown, undefined> = { done: true, value: undefined };
const ACCEPTED: Promise<void> = Promise.resolve();

/**
 * The state of one call as the client sees it, the same on every transport: a transport's
 * `ClientCall` extends this and supplies only the wire part.
 *
 * What is decided here, once:
 * - `send()` is refused, in this order, when the call has failed (with its error), when its
 *   input is not streamed (TypeError), when it has ended (StreamClosedError), and after `end()`
 *   (StreamClosedError); `end()` twice, or on a call whose input is not streamed, does nothing;
 * - `cancel()` fails the call with the reason if it is an RpcError, else with `cancelled` ("The
 *   call was cancelled"); so does the caller's signal, and the deadline with `deadline_exceeded`;
 * - `onHeaders` fires once, before the first message or the end, with empty headers when the
 *   server sent none; `onTrailers` fires once when the server ends the call (also with an error),
 *   not when the client gives up on it (cancel, lost connection);
 * - messages that arrived before a failure are still read, in order, and the error comes after
 *   them.
 *
 * The wire part: the `write*` methods send; the wire reports what arrives through `onHeaders`,
 * `onMessage`, `onEnd` and `onFailure`. A wire that reads on demand (a response body) implements
 * `pull()`; one that is pushed to (a socket) does not. The subclass calls `watchSignal()` at the
 * end of its constructor.
 */
export abstract class ClientCallState implements ClientCall {
  /** The call's cancellation: its signal aborts a request in flight. */
  protected readonly control: CallControl;
  #options: CallOptions;
  #streamedInput: boolean;
  #queue = new Queue<unknown>();
  #waiter: PromiseWithResolvers<IteratorResult<unknown, undefined>> | undefined;
  #pulling: Promise<void> | undefined;
  #ended = false;
  #finished = false;
  #failure: RpcError | undefined;
  #headersSeen = false;

  /**
   * Sets up the state; nothing is sent.
   *
   * @param init The call's control, options and input pattern.
   */
  constructor(init: ClientCallStateInit) {
    this.control = init.control;
    this.#options = init.options;
    this.#streamedInput = init.streamedInput;
  }

  // ---- ClientCall ----

  send(message: unknown): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (!this.#streamedInput) {
      return Promise.reject(
        new TypeError("This call's input is not streamed: the input was sent already"),
      );
    }
    if (this.#finished) {
      return Promise.reject(new StreamClosedError("Cannot send: the call has ended"));
    }
    if (this.#ended) return Promise.reject(new StreamClosedError("Cannot send after end()"));
    return this.writeMessage(message) ?? ACCEPTED;
  }

  end(): void {
    if (this.#ended || !this.#streamedInput) return;
    this.#ended = true;
    this.writeEnd();
  }

  receive(): Promise<IteratorResult<unknown, undefined>> {
    if (this.#queue.size > 0) {
      const value = this.#queue.take();
      this.consumed();
      return Promise.resolve({ done: false, value });
    }
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#finished) return Promise.resolve(DONE);
    if (this.pull) return this.#pull();
    // A second read while one waits gets the message after the first one's.
    if (this.#waiter) return this.#waiter.promise.then(() => this.receive(), () => this.receive());
    this.#waiter = Promise.withResolvers();
    return this.#waiter.promise;
  }

  cancel(reason?: unknown): void {
    if (this.#finished) return;
    const error = RpcError.is(reason)
      ? reason
      : new RpcError("cancelled", "The call was cancelled", { cause: reason });
    this.#fail(error);
    // Aborts a request in flight; a no-op when the signal is why the call is cancelled.
    this.control.abort(error);
    this.writeCancel(error);
  }

  // ---- for the wire: what it reads ----

  /** True once the call has ended, successfully or not. */
  protected get finished(): boolean {
    return this.#finished;
  }

  /** The error the call failed with, if it did. */
  protected get failure(): RpcError | undefined {
    return this.#failure;
  }

  /** Messages that arrived and wait to be read. */
  protected get buffered(): number {
    return this.#queue.size;
  }

  /**
   * Throws unless a message may still go out: the call's failure, or StreamClosedError when it
   * has ended. For a wire that waits before it writes (for room or credit): check again after the
   * wait.
   */
  protected assertOpen(): void {
    if (this.#failure) throw this.#failure;
    if (this.#finished) throw new StreamClosedError("Cannot send: the call has ended");
  }

  /**
   * For a wire whose write may have to wait: the wait, then the call's failure if it failed
   * meanwhile (what `send()` rejects with).
   *
   * @param room Resolves when the wire has room again.
   * @returns Resolves when the wire can take another message; rejects if the call failed.
   */
  protected async afterRoom(room: Promise<void>): Promise<void> {
    await room;
    if (this.#failure) throw this.#failure;
  }

  /**
   * Starts following the caller's signal and the deadline (a signal aborted already cancels the
   * call at once). The subclass calls it last in its constructor: from here on the `write*`
   * methods and `release()` may be called.
   */
  protected watchSignal(): void {
    this.control.listen((reason) => this.cancel(reason));
  }

  // ---- for the wire: what it reports ----

  /**
   * The response headers arrived. Only the first report counts.
   *
   * @param headers The headers.
   */
  protected onHeaders(headers: Headers): void {
    if (this.#headersSeen || this.#finished) return;
    this.#headersSeen = true;
    this.#options.onHeaders?.(headers);
  }

  /**
   * A message arrived. Ignored once the call has ended.
   *
   * @param message The message.
   */
  protected onMessage(message: unknown): void {
    if (this.#finished) return;
    // A server may send headers only when it has some; the callback fires anyway.
    if (!this.#headersSeen) this.#noHeaders();
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      this.consumed();
      waiter.resolve({ done: false, value: message });
    } else {
      this.#queue.push(message);
    }
  }

  /**
   * The server ended the call: with its status and trailers.
   *
   * @param error The call's error, or undefined for success.
   * @param trailers The trailers; undefined when the server sent none (`onTrailers` then gets
   * empty headers, made only when there is a callback).
   */
  protected onEnd(error: RpcError | undefined, trailers: Headers | undefined): void {
    if (this.#finished) return;
    if (!this.#headersSeen) this.#noHeaders();
    this.#options.onTrailers?.(trailers ?? new Headers());
    if (error) return this.#fail(error);
    this.#finish();
    this.#waiter?.resolve(DONE);
    this.#waiter = undefined;
  }

  /**
   * The call failed without a status from the server: the connection was lost or refused, or
   * the server broke the protocol. Ignored once the call has ended.
   *
   * @param error The error.
   */
  protected onFailure(error: RpcError): void {
    this.#fail(error);
  }

  // ---- the wire part, supplied by the transport ----

  /**
   * Writes one message. Called only while the input is open; `send()` returns what this returns.
   *
   * @param message The message.
   * @returns undefined when the wire can take another at once, or a promise that resolves when
   * it can and rejects, with the call's failure, if the call fails first (see
   * {@linkcode ClientCallState.afterRoom}).
   */
  protected abstract writeMessage(message: unknown): Promise<void> | undefined;

  /** Writes the end of the input (half-close). Called once, only for streamed input. */
  protected abstract writeEnd(): void;

  /**
   * Tells the server that the call is cancelled; the call has already failed with `error`.
   *
   * @param _error Why.
   */
  protected writeCancel(_error: RpcError): void {}

  /**
   * For a wire that reads on demand: reads until it has reported a message, the end or a
   * failure. Absent for a wire whose messages are pushed to it.
   *
   * @returns When it has reported one; a rejection fails the call (a network error becomes
   * `unavailable`).
   */
  protected pull?(): Promise<void>;

  /** The application took a message (return credit, make room). */
  protected consumed(): void {}

  /**
   * The call has ended: release what the wire holds. Called once.
   *
   * @param _failure The call's error, or undefined for success.
   */
  protected release(_failure: RpcError | undefined): void {}

  // ---- the machine ----

  async #pull(): Promise<IteratorResult<unknown, undefined>> {
    this.#pulling ??= this.pull!().then(
      () => {
        this.#pulling = undefined;
      },
      (error) => {
        this.#pulling = undefined;
        this.#fail(this.control.failure(error, "The connection was lost"));
      },
    );
    await this.#pulling;
    return await this.receive();
  }

  /** The call got no headers before its first message or its end: `onHeaders` gets empty ones. */
  #noHeaders(): void {
    this.#headersSeen = true;
    // Made only for a callback: most calls have none.
    this.#options.onHeaders?.(new Headers());
  }

  #fail(error: RpcError): void {
    if (this.#finished) return;
    this.#failure = error;
    // Messages already received stay readable; the error comes after them.
    this.#waiter?.reject(error);
    this.#waiter = undefined;
    this.#finish();
  }

  #finish(): void {
    this.#finished = true;
    this.#ended = true;
    this.control.dispose();
    this.release(this.#failure);
  }
}

/**
 * A unary call over a transport's `open()`: the one response message, then the end (its trailers,
 * and any late error).
 *
 * @param call The call, opened with the `unary` pattern.
 * @returns The response message.
 * @throws {RpcError} The call's error, or `internal` when the server ended it without a response.
 */
export async function unaryOverOpen(call: ClientCall): Promise<unknown> {
  const first = await call.receive();
  if (first.done) throw new RpcError("internal", "The server ended the call without a response");
  await call.receive();
  return first.value;
}

/**
 * A call's request metadata: the connection's, with the call's own added (a call's value replaces
 * the connection's for the same name).
 *
 * @param defaults The connection's metadata.
 * @param call The call's `metadata` option.
 * @returns A new Headers.
 */
export function mergeMetadata(defaults: Headers, call: HeadersInit | undefined): Headers {
  const metadata = new Headers(defaults);
  if (call) new Headers(call).forEach((value, name) => metadata.set(name, value));
  return metadata;
}
