import type { AppState, Context } from "../schema/context.ts";
import type { DependencyMap } from "../schema/dependency.ts";
import { createOutcome, type Middleware, type Outcome } from "../schema/middleware.ts";
import { streamsOutput } from "../schema/pattern.ts";
import type { MethodDefinition } from "../schema/service.ts";
import type { Stream } from "../schema/stream.ts";
import { summarizeIssues, validate, type Validation } from "../schema/validate.ts";
import { DEPRECATION_HEADER } from "../protocol/headers.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { routeLabel } from "../protocol/route.ts";
import type {
  AdmittedCall,
  CallSink,
  IncomingCall,
  MessageSource,
  MethodEntry,
  RunOptions,
} from "./call.ts";
import { CallContext, EMPTY_HEADERS, peerGone } from "./call_context.ts";
import type { Overrides } from "./dependencies.ts";
import { drainingError, type InFlight } from "./in_flight.ts";
import { inboundStream, invalid } from "./inbound_stream.ts";
import { runChain } from "./middleware_chain.ts";

/** What the pipeline needs from the app around it. */
export interface PipelineEnv {
  /**
   * Reports an error the client only sees as `internal` (a handler bug, an invalid response, a
   * failed cleanup).
   *
   * @param error The original error.
   * @param ctx The call it happened in.
   */
  reportError(error: unknown, ctx: Context): void;
  /** The calls in flight, and whether the app is draining. */
  readonly inFlight: InFlight;
  /** The app's middleware, outermost first. */
  readonly middleware: readonly Middleware[];
  /** The app's dependencies, resolved before every method. */
  readonly deps: Readonly<DependencyMap>;
  /** True when the app declares dependencies (so calls without any skip resolving). */
  readonly declaresDeps: boolean;
  /** The app's state. */
  readonly state: AppState;
  /** Dependency overrides. */
  readonly overrides: Overrides;
}

/** The reason a successful call's signal aborts with: one shared instance, made once. */
const CALL_ENDED = new RpcError("cancelled", "The call has ended");

/**
 * One call from admission to its final status: what admission's `admit()` returns, and the
 * pipeline every transport's calls run through. `run()` creates the call's context (signal,
 * deadline, metadata, dependencies), runs the middleware, resolves the declared dependencies,
 * validates every message in and out, runs the handler, streams its output into the sink, and
 * turns whatever happens into exactly one final status. Dependencies are cleaned up after that,
 * once the handler has finished.
 *
 * The call's state lives in this one object (no closures or boxes per step), and a call without
 * middleware or dependencies goes straight from `run()` to the handler without an async layer in
 * between (each one costs, most on JavaScriptCore).
 */
export class PipelineCall implements AdmittedCall {
  readonly entry: MethodEntry;
  readonly timeoutMs: number | undefined;
  #env: PipelineEnv;
  #call: IncomingCall;
  #ctx!: CallContext;
  #messages!: MessageSource;
  #sink!: CallSink;
  #ran = false;
  #opened = false;
  /** The first bad message of a streamed input, which decides the call's status. */
  #inboundFailure: RpcError | undefined;
  /** Settles once the handler has finished, also after the call has ended. */
  #handlerSettled: Promise<unknown> | undefined;
  /** Unary and client streaming: the validated response, sent once the middleware is done. */
  #output: unknown;
  /** Messages sent (streams). */
  #sent = 0;
  /** Why the transport ended the call before it ran. */
  #cancelled: RpcError | undefined;

  /**
   * Prepares an admitted call.
   *
   * @param env The app.
   * @param entry The method.
   * @param call What the transport announced.
   * @param timeoutMs The checked timeout.
   */
  constructor(env: PipelineEnv, entry: MethodEntry, call: IncomingCall, timeoutMs?: number) {
    this.#env = env;
    this.entry = entry;
    this.#call = call;
    this.timeoutMs = timeoutMs;
  }

  run(messages: MessageSource, sink: CallSink, options?: RunOptions): Promise<void> {
    if (this.#ran) return Promise.reject(new TypeError("An admitted call can run only once"));
    this.#ran = true;
    if (this.#env.inFlight.draining) {
      // Shutdown began between admission and now.
      messages.cancel();
      sink.open(EMPTY_HEADERS);
      sink.close(drainingError(), EMPTY_HEADERS);
      return Promise.resolve();
    }
    const { entry } = this;
    this.#messages = messages;
    this.#sink = sink;
    this.#ctx = new CallContext({
      service: entry.service,
      method: entry.method.name,
      version: entry.version,
      pattern: entry.method.pattern,
      transport: this.#call.transport,
      metadata: this.#call.metadata,
      timeoutMs: this.timeoutMs,
      state: this.#env.state,
      overrides: this.#env.overrides,
      watchPeer: options?.watchPeer,
    });
    // In flight from here until the call has ended and its dependencies are cleaned up.
    return this.#run(this.#env.inFlight.add(this.#ctx), options?.signal);
  }

  cancel(reason?: unknown): void {
    // A transport may end the call with the reason it should end with (a WebSocket call that broke
    // the protocol); otherwise the peer went away or cancelled.
    const error = RpcError.is(reason) ? reason : peerGone();
    if (this.#ctx) this.#ctx.abort(error);
    else this.#cancelled ??= error;
  }

  async #run(ticket: number, peer: AbortSignal | undefined): Promise<void> {
    const ctx = this.#ctx;
    const { entry } = this;
    const env = this.#env;
    const sink = this.#sink;
    if (this.#cancelled) ctx.abort(this.#cancelled);
    const onPeerAbort = peer && (() => this.cancel(peer.reason));
    if (peer?.aborted) onPeerAbort!();
    else if (onPeerAbort) peer!.addEventListener("abort", onPeerAbort);
    let error: RpcError | undefined;
    try {
      if (entry.deprecated) ctx.responseHeaders.set(DEPRECATION_HEADER, "true");
      const middleware = env.middleware.length + entry.serviceMiddleware.length +
        entry.method.middleware.length;
      if (middleware === 0) {
        await this.#core();
      } else {
        const chain = [...env.middleware, ...entry.serviceMiddleware, ...entry.method.middleware];
        await ctx.race(runChain(chain, ctx, () => this.#outcome(), () => this.#notReturned()));
      }
      if (this.#inboundFailure) throw this.#inboundFailure;
      if (!streamsOutput(entry.method.pattern)) {
        const accepted = sink.send(this.#output);
        if (accepted) await ctx.race(accepted);
      }
    } catch (thrown) {
      error = this.#finalError(thrown);
    } finally {
      if (onPeerAbort) peer!.removeEventListener("abort", onPeerAbort);
      ctx.dispose();
      this.#messages.cancel();
    }
    // The call is over for the handler too: anything it still awaits should stop.
    ctx.abort(error ?? CALL_ENDED);
    this.#open();
    sink.close(error, ctx.sentTrailers);
    if (ctx.needsCleanup) {
      // Resources a dependency lent the handler are taken back only when it has let go of them.
      await this.#handlerSettled?.catch(() => {});
      await ctx.cleanup((e) => env.reportError(e, ctx));
    }
    env.inFlight.delete(ticket);
  }

  /** The centre of the onion for middleware: the rest of the call, then its outcome. */
  #outcome(): Promise<Outcome> {
    return this.#core().then(() =>
      createOutcome(this.#output, streamsOutput(this.entry.method.pattern) ? this.#sent : 1)
    );
  }

  /** The error of a middleware that did not resolve with next()'s outcome, reported. */
  #notReturned(): RpcError {
    const error = new RpcError(
      "internal",
      `A middleware of ${routeLabel(this.#ctx)} resolved without returning next()'s result`,
    );
    this.#env.reportError(error, this.#ctx);
    return error;
  }

  /**
   * The centre of the onion, written without an async wrapper: a call without middleware or
   * dependencies goes straight to the handler.
   */
  #core(): Promise<void> {
    const ctx = this.#ctx;
    if (ctx.abortReason) return Promise.reject(ctx.abortReason);
    ctx.endMiddleware();
    const { entry } = this;
    if (!entry.declaresDeps && !this.#env.declaresDeps) return this.#invoke();
    return ctx.race(ctx.resolveDeclared([this.#env.deps, entry.serviceDeps, entry.method.deps]))
      .then(() => this.#invoke());
  }

  /**
   * Reads the input, runs the handler, and streams its output. For unary and client streaming the
   * checked output is kept, to be sent once the middleware is done. Either way the response
   * headers are final when this resolves: they went out with the first message.
   */
  async #invoke(): Promise<void> {
    const { method } = this.entry;
    const ctx = this.#ctx;
    switch (method.pattern) {
      case "unary": {
        const input = await this.#readSingle();
        let output = settle(ctx, this.#callHandler(method, input));
        if (output instanceof Promise) output = await output;
        let value = this.#checkOutput(output);
        if (value instanceof Promise) value = await value;
        this.#output = value;
        break;
      }
      case "server_streaming": {
        const input = await this.#readSingle();
        await this.#pump(this.#callHandler(method, input));
        break;
      }
      case "client_streaming": {
        const input = this.#inboundStream();
        let output = settle(ctx, this.#callHandler(method, input));
        if (output instanceof Promise) output = await output;
        if (this.#inboundFailure) throw this.#inboundFailure;
        let value = this.#checkOutput(output);
        if (value instanceof Promise) value = await value;
        this.#output = value;
        break;
      }
      case "bidi_streaming": {
        const input = this.#inboundStream();
        await this.#pump(this.#callHandler(method, input));
        break;
      }
    }
    this.#open();
  }

  /** The response headers are final: seals them and hands them to the sink, once. */
  #open(): void {
    if (this.#opened) return;
    this.#opened = true;
    this.#ctx.sealHeaders();
    this.#sink.open(this.#ctx.sentHeaders);
  }

  #callHandler(method: MethodDefinition, input: unknown): unknown {
    try {
      const result = method.handler(input, this.#ctx);
      if (isThenable(result)) {
        // Observed, so a thenable that is not a native promise (wrapped anew by every use) cannot
        // reject unhandled; its failure reaches the call through settle() or pump().
        const settled = Promise.resolve(result);
        settled.catch(() => {});
        this.#handlerSettled = settled;
      }
      return result;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The one input of unary and server streaming; none means `{}` when the method takes input. */
  async #readSingle(): Promise<unknown> {
    const ctx = this.#ctx;
    // A disconnect fails the read by itself; only a deadline needs the race (a slow body).
    const next = this.#messages.next();
    const step = await (ctx.deadline === undefined ? next : ctx.race(next));
    const schema = this.entry.method.input;
    if (!schema) return undefined;
    const result = validate(schema, step.done ? {} : step.value);
    return inputOf(result instanceof Promise ? await ctx.race(result) : result);
  }

  /** The handler's input stream; its first bad message decides the call's status. */
  #inboundStream(): Stream<unknown> {
    const ctx = this.#ctx;
    return inboundStream(this.#messages, this.entry.method.input, {
      fail: (error) => {
        this.#inboundFailure ??= error;
        ctx.abort(error);
      },
      reportError: (error) => this.#env.reportError(error, ctx),
    });
  }

  /**
   * Validates an output message: synchronously when the schema allows (the common case, with no
   * promise to wait for), asynchronously only for async refinements.
   */
  #checkOutput(value: unknown): unknown {
    const { output } = this.entry.method;
    if (!output) return null;
    const result = validate(output, value);
    if (result instanceof Promise) return this.#ctx.race(result).then((r) => this.#outputOf(r));
    return this.#outputOf(result);
  }

  #outputOf(result: Validation): unknown {
    if (result.ok) return result.value;
    const error = new RpcError(
      "internal",
      `The server produced an invalid response message: ${summarizeIssues(result.issues)}`,
    );
    this.#env.reportError(error, this.#ctx);
    throw error;
  }

  /**
   * Sends what a streaming handler yields, one message at a time, waiting for the transport when
   * it pushes back. If the call ends early (error, cancel, deadline), the generator is told to
   * return, which runs its `finally` blocks.
   */
  async #pump(result: unknown): Promise<void> {
    const ctx = this.#ctx;
    const sink = this.#sink;
    if (result instanceof Promise) await result; // a rejected handler surfaces here
    if (typeof result !== "object" || result === null || !(Symbol.asyncIterator in result)) {
      this.#env.reportError(
        new TypeError(
          `Handler of ${routeLabel(ctx)} must return an async iterable (async function*)`,
        ),
        ctx,
      );
      throw new RpcError("internal", "internal error");
    }
    const iterator = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    const finished = Promise.withResolvers<unknown>();
    this.#handlerSettled = finished.promise;
    let done = false;
    // One race for the whole loop, not one per message: if the call is aborted, this pump is
    // abandoned at once (the call ends for the client), and the loop notices at its next step.
    const loop = async () => {
      for (;;) {
        const step = await iterator.next();
        if (ctx.abortReason) return;
        if (step.done) {
          done = true;
          finished.resolve(undefined);
          return;
        }
        let value = this.#checkOutput(step.value);
        if (value instanceof Promise) value = await value;
        this.#open();
        this.#sent++;
        const accepted = sink.send(value);
        if (accepted) await accepted;
      }
    };
    try {
      await ctx.race(loop());
    } finally {
      if (!done) {
        // Not awaited: a generator paused inside an await returns when it next yields, and its
        // finally blocks run then.
        Promise.resolve().then(() => iterator.return?.()).then(finished.resolve, finished.resolve);
      }
    }
  }

  #finalError(thrown: unknown): RpcError {
    if (this.#inboundFailure) return this.#inboundFailure;
    if (RpcError.is(thrown)) return thrown;
    const ctx = this.#ctx;
    // A handler that passed ctx.signal on (to fetch, say) fails with its own abort error.
    if (ctx.abortReason) return ctx.abortReason;
    const error = RpcError.from(thrown);
    if (error.code === "internal") this.#env.reportError(thrown, ctx);
    return error;
  }
}

/** Waits for a handler's result, unless the call is aborted first. */
function settle(ctx: CallContext, result: unknown): unknown {
  if (isThenable(result)) return ctx.race(Promise.resolve(result));
  return result;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

function inputOf(result: Validation): unknown {
  if (!result.ok) throw invalid("Invalid request", result.issues);
  return result.value;
}
