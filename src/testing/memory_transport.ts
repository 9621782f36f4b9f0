import { Channel } from "../_util/channel.ts";
import { type Limits, resolveLimits } from "../protocol/limits.ts";
import { parseMessage } from "../protocol/message_shape.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import type { Route } from "../protocol/route.ts";
import type { Pattern } from "../schema/pattern.ts";
import { streamsInput } from "../schema/pattern.ts";
import { CallControl } from "../client/call_control.ts";
import type { CallOptions } from "../client/call_options.ts";
import { ClientCallState, mergeMetadata, unaryOverOpen } from "../client/call_state.ts";
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
 * A message to the server, copied through JSON as `wire()` does and held to the app's shape
 * limits (depth, keys, items) as every transport holds what it reads.
 */
function inbound(value: unknown, limits: Limits, what: string, index?: number): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? null : parseMessage(text, what, limits, index);
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
  #limits: Limits;
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
    this.#limits = resolveLimits(app.options.limits);
  }

  async unary(route: Route, input: unknown, options: CallOptions): Promise<unknown> {
    return await unaryOverOpen(this.open(route, "unary", options, input));
  }

  open(route: Route, pattern: Pattern, options: CallOptions, input?: unknown): ClientCall {
    const metadata = mergeMetadata(this.#metadata, options.metadata);
    const call = new MemoryCall({
      control: new CallControl(options, this.#timeoutMs),
      options,
      window: this.#window,
      limits: this.#limits,
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
      if (input !== undefined) call.deliver(input, "request");
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
  limits: Limits;
  streamedInput: boolean;
  done: (call: MemoryCall) => void;
}

/**
 * One call in memory: a channel from client to server, and the server's sink writing into the
 * client's {@linkcode ClientCallState}, which holds at most `window` unread messages before the
 * sink pushes back.
 */
class MemoryCall extends ClientCallState {
  /** Client to server. */
  readonly input: Channel<unknown>;
  /** Aborted to cancel the call on the server's side. */
  readonly peer: AbortController = new AbortController();
  readonly source: MessageSource;
  readonly sink: CallSink;
  #init: MemoryCallInit;
  #space: PromiseWithResolvers<void> | undefined;
  #sent = 0;

  constructor(init: MemoryCallInit) {
    super({ control: init.control, options: init.options, streamedInput: init.streamedInput });
    this.#init = init;
    this.input = new Channel(init.window);
    this.source = {
      next: () => this.input.next(),
      cancel: () => this.input.clear(),
    };
    this.sink = {
      open: (headers) => this.onHeaders(new Headers(headers)),
      send: (message) => {
        this.onMessage(wire(message));
        if (this.finished || this.buffered < init.window) return undefined;
        this.#space ??= Promise.withResolvers<void>();
        return this.#space.promise;
      },
      close: (error, trailers) =>
        this.onEnd(error ? RpcError.fromBody(error.toBody()) : undefined, new Headers(trailers)),
    };
    this.watchSignal();
  }

  get timeoutMs(): number | undefined {
    return this.control.timeoutMs;
  }

  /**
   * Ends the call for the client with the server's answer, an error, before the pipeline ran.
   *
   * @param error The error.
   */
  fail(error: RpcError): void {
    this.onEnd(error, new Headers());
  }

  /**
   * Hands a message to the server, copied and held to the shape limits; one over them fails the
   * server's read, as a bad message from the network would.
   *
   * @param message The message.
   * @param what What it is, for the error: `"request"`, `"message at index 2"`.
   * @param index Its index in a stream.
   * @returns As Channel.push().
   */
  deliver(message: unknown, what: string, index?: number): Promise<void> | undefined {
    let copy: unknown;
    try {
      copy = inbound(message, this.#init.limits, what, index);
    } catch (error) {
      // What JSON cannot carry (a bigint, a cycle) is the caller's mistake: it throws to them.
      if (!RpcError.is(error)) throw error;
      this.input.fail(error);
      return undefined;
    }
    return this.input.push(copy);
  }

  protected writeMessage(message: unknown): Promise<void> | undefined {
    const index = this.#sent++;
    const room = this.deliver(message, `message at index ${index}`, index);
    return room && this.afterRoom(room);
  }

  protected writeEnd(): void {
    this.input.end();
  }

  protected override writeCancel(): void {
    this.peer.abort();
  }

  protected override consumed(): void {
    if (this.buffered < this.#init.window) this.#makeRoom();
  }

  protected override release(failure: RpcError | undefined): void {
    if (failure) this.input.clear();
    this.#makeRoom();
    this.#init.done(this);
  }

  #makeRoom(): void {
    this.#space?.resolve();
    this.#space = undefined;
  }
}
