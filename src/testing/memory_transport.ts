import { Channel } from "../_util/channel.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import type { Route } from "../protocol/route.ts";
import type { Pattern } from "../schema/pattern.ts";
import { streamsInput } from "../schema/pattern.ts";
import { StreamClosedError } from "../schema/stream.ts";
import { CallControl } from "../client/call_control.ts";
import type { CallOptions } from "../client/call_options.ts";
import type { ClientCall, ClientTransport } from "../client/transport.ts";
import type { MicroAPI } from "../server/app.ts";
import type { CallSink, MessageSource } from "../server/call.ts";

/** How the in-memory transport is set up. */
export interface MemoryTransportOptions {
  /** Metadata sent with every call. */
  metadata?: HeadersInit;
  /** The default timeout of every call. */
  timeoutMs?: number;
  /** Messages that may wait unread in each direction of a call. Default 256. */
  window?: number;
}

/** JSON in and out, so a test sees exactly what would cross the wire (no shared objects). */
function wire(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? null : JSON.parse(text);
}

/**
 * Calls an app in the same process, without sockets, through the same pipeline as HTTP and
 * WebSocket calls: middleware, dependencies (and their overrides), validation, deadlines,
 * cancellation, metadata and errors all behave as over the network. Messages are copied through
 * JSON, and each direction of a call holds at most `window` unread messages, so backpressure
 * works as well.
 */
export class MemoryTransport implements ClientTransport {
  #app: MicroAPI;
  #metadata: Headers;
  #timeoutMs: number | undefined;
  #window: number;
  #calls = new Set<MemoryCall>();

  /**
   * Creates the transport.
   *
   * @param app The app to call.
   * @param options Default metadata and timeout, window.
   */
  constructor(app: MicroAPI, options: MemoryTransportOptions = {}) {
    this.#app = app;
    this.#metadata = new Headers(options.metadata);
    this.#timeoutMs = options.timeoutMs;
    this.#window = options.window ?? 256;
  }

  async unary(route: Route, input: unknown, options: CallOptions): Promise<unknown> {
    const call = this.open(route, "unary", options, input);
    const first = await call.receive();
    if (first.done) throw new RpcError("internal", "The server ended the call without a response");
    await call.receive();
    return first.value;
  }

  open(route: Route, pattern: Pattern, options: CallOptions, input?: unknown): ClientCall {
    const metadata = new Headers(this.#metadata);
    if (options.metadata) new Headers(options.metadata).forEach((v, k) => metadata.set(k, v));
    const call = new MemoryCall({
      control: new CallControl(options, this.#timeoutMs),
      options,
      window: this.#window,
      streamedInput: streamsInput(pattern),
      done: (c) => this.#calls.delete(c),
    });
    this.#calls.add(call);
    const admitted = this.#app.admission.admit({
      route,
      pattern,
      transport: "memory",
      metadata,
      timeout: call.timeoutMs,
      timeoutSource: "frame",
    });
    if (admitted instanceof RpcError) {
      call.fail(admitted);
      return call;
    }
    if (!streamsInput(pattern)) {
      // No input is no message, which the pipeline reads as {} (as over HTTP and WebSocket).
      if (input !== undefined) call.input.push(wire(input));
      call.input.end();
    }
    admitted.run(call.source, call.sink, { signal: call.peer.signal });
    return call;
  }

  close(): Promise<void> {
    const reason = new RpcError("cancelled", "The connection was closed");
    for (const call of this.#calls) call.cancel(reason);
    return Promise.resolve();
  }
}

interface MemoryCallInit {
  control: CallControl;
  options: CallOptions;
  window: number;
  streamedInput: boolean;
  done: (call: MemoryCall) => void;
}

/** One call in memory: a channel each way, and the server-side views of them. */
class MemoryCall implements ClientCall {
  /** Client to server. */
  readonly input: Channel<unknown>;
  /** Server to client. */
  readonly output: Channel<unknown>;
  /** Aborted to cancel the call on the server's side. */
  readonly peer: AbortController = new AbortController();
  readonly source: MessageSource;
  readonly sink: CallSink;
  #init: MemoryCallInit;
  #ended = false;
  #finished = false;
  #failure: RpcError | undefined;

  constructor(init: MemoryCallInit) {
    this.#init = init;
    this.input = new Channel(init.window);
    this.output = new Channel(init.window);
    this.source = {
      next: () => this.input.next(),
      cancel: () => this.input.clear(),
    };
    this.sink = {
      open: (headers) => init.options.onHeaders?.(new Headers(headers)),
      send: (message) => this.output.push(wire(message)),
      close: (error, trailers) => {
        init.options.onTrailers?.(new Headers(trailers));
        if (error) this.fail(RpcError.fromBody(error.toBody()));
        else this.#finish();
      },
    };
    const signal = init.control.signal;
    if (signal.aborted) this.cancel(signal.reason);
    else signal.addEventListener("abort", () => this.cancel(signal.reason), { once: true });
  }

  get timeoutMs(): number | undefined {
    return this.#init.control.timeoutMs;
  }

  async send(message: unknown): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (!this.#init.streamedInput) {
      throw new TypeError("This call's input is not streamed: the input was sent already");
    }
    if (this.#finished) throw new StreamClosedError("Cannot send: the call has ended");
    if (this.#ended) throw new StreamClosedError("Cannot send after end()");
    const accepted = this.input.push(wire(message));
    if (accepted) await accepted;
    if (this.#failure) throw this.#failure;
  }

  end(): void {
    if (this.#ended || !this.#init.streamedInput) return;
    this.#ended = true;
    this.input.end();
  }

  receive(): Promise<IteratorResult<unknown, undefined>> {
    return this.output.next();
  }

  cancel(reason?: unknown): void {
    if (this.#finished) return;
    const error = RpcError.is(reason)
      ? reason
      : new RpcError("cancelled", "The call was cancelled", { cause: reason });
    this.peer.abort();
    this.fail(error);
  }

  /** Ends the call for the client with an error, after the messages already sent. */
  fail(error: RpcError): void {
    if (this.#finished) return;
    this.#failure = error;
    this.output.fail(error);
    this.input.clear();
    this.#finish();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.output.end();
    this.#init.control.dispose();
    this.#init.done(this);
  }
}
