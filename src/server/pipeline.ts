import type { AppState, Context } from "../schema/context.ts";
import type { DependencyMap } from "../schema/dependency.ts";
import type { Middleware } from "../schema/middleware.ts";
import { streamsOutput } from "../schema/pattern.ts";
import type { MethodDefinition } from "../schema/service.ts";
import { Stream, StreamClosedError } from "../schema/stream.ts";
import { type Issue, summarizeIssues, validate, type Validation } from "../schema/validate.ts";
import { DEPRECATION_HEADER } from "../protocol/headers.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { routeLabel } from "../protocol/route.ts";
import type { CallSink, IncomingCall } from "./call.ts";
import { CallContext, peerGone } from "./context.ts";
import type { Overrides } from "./dependencies.ts";

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
  /**
   * Registers a call as in flight, for graceful shutdown.
   *
   * @param ctx The call.
   * @returns A ticket for `untrack`.
   */
  track(ctx: CallContext): number;
  /**
   * Unregisters a call that has ended.
   *
   * @param ticket What `track` returned.
   */
  untrack(ticket: number): void;
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

/** What the handler is doing: settled once it has finished, also after the call has ended. */
interface HandlerState {
  settled: Promise<unknown>;
}

/**
 * Runs one call from start to final status: creates its context (signal, deadline, metadata,
 * dependencies), runs the middleware, resolves the declared dependencies, validates every message
 * in and out, runs the handler, streams its output into the sink, and turns whatever happens into
 * exactly one final status. Never throws: every outcome, including a handler bug or a disconnect,
 * ends in `sink.close()`. Dependencies are cleaned up after that, once the handler has finished.
 *
 * @param call The call, from a transport.
 * @param sink Where the response goes.
 * @param env The app.
 * @returns When the call has ended and its dependencies are cleaned up.
 */
export async function runCall(call: IncomingCall, sink: CallSink, env: PipelineEnv): Promise<void> {
  const { entry } = call;
  const ctx = new CallContext({
    service: entry.service,
    method: entry.method.name,
    version: entry.version,
    pattern: entry.method.pattern,
    transport: call.transport,
    metadata: call.metadata,
    timeoutMs: call.timeoutMs,
    state: env.state,
    overrides: env.overrides,
    watchPeer: call.watchPeer,
  });
  const ticket = env.track(ctx);
  const peer = call.signal;
  // A transport may abort with the reason the call should end with (a WebSocket call that broke
  // the protocol); otherwise the peer went away or cancelled.
  const onPeerAbort = () => ctx.abort(RpcError.is(peer?.reason) ? peer.reason : peerGone());
  if (peer?.aborted) onPeerAbort();
  else peer?.addEventListener("abort", onPeerAbort);

  let opened = false;
  const open = () => {
    if (opened) return;
    opened = true;
    ctx.sealHeaders();
    sink.open(ctx.sentHeaders);
  };
  const inbound = new InboundState();
  const handler: HandlerState = { settled: Promise.resolve() };
  let single: { value: unknown } | undefined;
  let error: RpcError | undefined;
  try {
    if (entry.deprecated) ctx.responseHeaders.set(DEPRECATION_HEADER, "true");
    // The centre of the onion, written without an async wrapper: a call without middleware or
    // dependencies goes straight to invoke (each async layer costs, most on JavaScriptCore).
    const core = (): Promise<void> => {
      if (ctx.abortReason) return Promise.reject(ctx.abortReason);
      const run = () =>
        invoke(call, ctx, sink, open, inbound, handler, env).then((value) => {
          single = value;
        });
      if (!entry.declaresDeps && !env.declaresDeps) return run();
      return ctx.race(ctx.resolveDeclared([env.deps, entry.serviceDeps, entry.method.deps]))
        .then(run);
    };
    const middleware = env.middleware.length + entry.serviceMiddleware.length +
      entry.method.middleware.length;
    if (middleware === 0) {
      await core();
    } else {
      const chain = [...env.middleware, ...entry.serviceMiddleware, ...entry.method.middleware];
      await ctx.race(runChain(chain, ctx, core));
    }
    if (inbound.failure) throw inbound.failure;
    if (!streamsOutput(entry.method.pattern)) {
      if (!single) {
        throw new RpcError(
          "internal",
          "A middleware ended the call without a response or an error",
        );
      }
      open();
      const accepted = sink.send(single.value);
      if (accepted) await ctx.race(accepted);
    }
  } catch (thrown) {
    error = finalError(thrown, ctx, inbound, env);
  } finally {
    peer?.removeEventListener("abort", onPeerAbort);
    ctx.dispose();
    call.messages.cancel();
  }
  // The call is over for the handler too: anything it still awaits should stop.
  ctx.abort(error ?? CALL_ENDED);
  open();
  sink.close(error, ctx.sentTrailers);
  if (ctx.needsCleanup) {
    // Resources a dependency lent the handler are taken back only when it has let go of them.
    await handler.settled.catch(() => {});
    await ctx.cleanup((e) => env.reportError(e, ctx));
  }
  env.untrack(ticket);
}

/**
 * Runs middleware in onion order around the core; `next()` may be called once.
 *
 * A middleware must return (or await) the promise of `next()`: the rest of the call. One that
 * settles first (`(ctx, next) => { void next(); }` in plain JavaScript, or an async middleware that
 * does not await it) has ended the call while it is still running; that is a bug, and the call
 * ends with `internal`. The promise of every `next()` is observed here, so whatever it rejects
 * with later is never an unhandled rejection, whether or not the middleware looks at it.
 */
function runChain(
  chain: readonly Middleware[],
  ctx: Context,
  core: () => Promise<void>,
): Promise<void> {
  const dispatch = (index: number): Promise<void> => {
    if (index === chain.length) return core();
    let inner: Promise<void> | undefined;
    let settled = false;
    const next = () => {
      if (inner) return Promise.reject(new TypeError("A middleware called next() twice"));
      inner = dispatch(index + 1);
      // Registered before the middleware can await it, so this runs first when it settles.
      inner.then(() => (settled = true), () => (settled = true));
      return inner;
    };
    let result: unknown;
    try {
      result = chain[index]!(ctx, next);
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve(result).then(() => {
      if (inner && !settled) {
        throw new TypeError(
          "A middleware returned before the rest of the call ended: return or await next()",
        );
      }
    });
  };
  return dispatch(0);
}

/** Records the first bad message of a streamed input, which decides the call's status. */
class InboundState {
  failure: RpcError | undefined;
}

/**
 * The centre of the onion: reads the input, runs the handler, and streams its output. For unary
 * and client streaming the checked output is returned, to be sent once the middleware is done.
 */
async function invoke(
  call: IncomingCall,
  ctx: CallContext,
  sink: CallSink,
  open: () => void,
  inbound: InboundState,
  handler: HandlerState,
  env: PipelineEnv,
): Promise<{ value: unknown } | undefined> {
  const { method } = call.entry;
  switch (method.pattern) {
    case "unary": {
      const input = await readSingle(call, ctx);
      let output = settle(ctx, callHandler(method, input, ctx, handler));
      if (output instanceof Promise) output = await output;
      let value = checkOutput(method, output, ctx, env);
      if (value instanceof Promise) value = await value;
      return { value };
    }
    case "server_streaming": {
      const input = await readSingle(call, ctx);
      await pump(method, callHandler(method, input, ctx, handler), ctx, sink, open, handler, env);
      return undefined;
    }
    case "client_streaming": {
      const input = inboundStream(call, ctx, inbound, env);
      let output = settle(ctx, callHandler(method, input, ctx, handler));
      if (output instanceof Promise) output = await output;
      if (inbound.failure) throw inbound.failure;
      let value = checkOutput(method, output, ctx, env);
      if (value instanceof Promise) value = await value;
      return { value };
    }
    case "bidi_streaming": {
      const input = inboundStream(call, ctx, inbound, env);
      await pump(method, callHandler(method, input, ctx, handler), ctx, sink, open, handler, env);
      return undefined;
    }
  }
}

function callHandler(
  method: MethodDefinition,
  input: unknown,
  ctx: Context,
  handler: HandlerState,
): unknown {
  try {
    const result = method.handler(input, ctx);
    if (isThenable(result)) {
      // Observed, so a thenable that is not a native promise (wrapped anew by every use) cannot
      // reject unhandled; its failure reaches the call through settle() or pump().
      handler.settled = Promise.resolve(result);
      handler.settled.catch(() => {});
    }
    return result;
  } catch (error) {
    return Promise.reject(error);
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

async function readSingle(call: IncomingCall, ctx: CallContext): Promise<unknown> {
  // A disconnect fails the read by itself; only a deadline needs the race (a slow body).
  const next = call.messages.next();
  const step = await (ctx.deadline === undefined ? next : ctx.race(next));
  const schema = call.entry.method.input;
  if (!schema) return undefined;
  const result = validate(schema, step.done ? undefined : step.value);
  return inputOf(result instanceof Promise ? await ctx.race(result) : result);
}

function inputOf(result: Validation): unknown {
  if (!result.ok) throw invalid("Invalid request", result.issues);
  return result.value;
}

function invalid(prefix: string, issues: Issue[], index?: number): RpcError {
  return new RpcError("invalid_argument", `${prefix}: ${summarizeIssues(issues)}`, {
    details: index === undefined ? { issues } : { index, issues },
  });
}

/**
 * The handler's input stream. Messages are read from the transport only when the handler asks for
 * one, and validated as they are read; the first bad one fails the stream and the call.
 */
function inboundStream(
  call: IncomingCall,
  ctx: CallContext,
  inbound: InboundState,
  env: PipelineEnv,
): Stream<unknown> {
  const schema = call.entry.method.input;
  let index = 0;
  let reading = false;
  const fail = (error: RpcError) => {
    inbound.failure ??= error;
    stream.fail(error);
    ctx.abort(error);
  };
  const deliver = (value: unknown) => {
    try {
      stream.push(value);
    } catch (error) {
      // The handler stopped reading while this message was on its way: drop it.
      if (!(error instanceof StreamClosedError)) throw error;
    }
  };
  const stream: Stream<unknown> = new Stream<unknown>({
    onPull: () => {
      if (reading) return;
      reading = true;
      call.messages.next().then(async (step) => {
        reading = false;
        if (step.done) return stream.end();
        const at = index++;
        if (!schema) return deliver(step.value);
        const result = await validate(schema, step.value);
        if (result.ok) deliver(result.value);
        else fail(invalid(`Invalid message at index ${at}`, result.issues, at));
      }, (error) => {
        reading = false;
        fail(RpcError.is(error) ? error : new RpcError("cancelled", "The client stopped sending"));
      }).catch((error) => {
        // The schema itself threw (a refinement with a bug): a server bug, not the client's.
        env.reportError(error, ctx);
        fail(new RpcError("internal", "internal error"));
      });
    },
  });
  return stream;
}

/**
 * Validates an output message: synchronously when the schema allows (the common case, with no
 * promise to wait for), asynchronously only for async refinements.
 */
function checkOutput(
  method: MethodDefinition,
  value: unknown,
  ctx: CallContext,
  env: PipelineEnv,
): unknown {
  if (!method.output) return null;
  const result = validate(method.output, value);
  if (result instanceof Promise) {
    return ctx.race(result).then((r) => outputOf(r, ctx, env));
  }
  return outputOf(result, ctx, env);
}

function outputOf(result: Validation, ctx: CallContext, env: PipelineEnv): unknown {
  if (result.ok) return result.value;
  const error = new RpcError(
    "internal",
    `The server produced an invalid response message: ${summarizeIssues(result.issues)}`,
  );
  env.reportError(error, ctx);
  throw error;
}

/**
 * Sends what a streaming handler yields, one message at a time, waiting for the transport when it
 * pushes back. If the call ends early (error, cancel, deadline), the generator is told to return,
 * which runs its `finally` blocks.
 */
async function pump(
  method: MethodDefinition,
  result: unknown,
  ctx: CallContext,
  sink: CallSink,
  open: () => void,
  handler: HandlerState,
  env: PipelineEnv,
): Promise<void> {
  if (result instanceof Promise) await result; // a rejected handler surfaces here
  if (typeof result !== "object" || result === null || !(Symbol.asyncIterator in result)) {
    env.reportError(
      new TypeError(
        `Handler of ${routeLabel(ctx)} must return an async iterable (async function*)`,
      ),
      ctx,
    );
    throw new RpcError("internal", "internal error");
  }
  const iterator = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  const finished = Promise.withResolvers<unknown>();
  handler.settled = finished.promise;
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
      let value = checkOutput(method, step.value, ctx, env);
      if (value instanceof Promise) value = await value;
      open();
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

function finalError(
  thrown: unknown,
  ctx: CallContext,
  inbound: InboundState,
  env: PipelineEnv,
): RpcError {
  if (inbound.failure) return inbound.failure;
  if (RpcError.is(thrown)) return thrown;
  // A handler that passed ctx.signal on (to fetch, say) fails with its own abort error.
  if (ctx.abortReason) return ctx.abortReason;
  const error = RpcError.from(thrown);
  if (error.code === "internal") env.reportError(thrown, ctx);
  return error;
}
