import type { Context } from "../schema/context.ts";
import type { MethodDefinition } from "../schema/service.ts";
import { Stream, StreamClosedError } from "../schema/stream.ts";
import { type Issue, summarizeIssues, validate } from "../schema/validate.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { routeLabel } from "../protocol/route.ts";
import type { CallSink, IncomingCall } from "./call.ts";
import { CallContext } from "./context.ts";

/** What the pipeline needs from the app around it. */
export interface PipelineEnv {
  /**
   * Reports an error the client only sees as `internal` (a handler bug, an invalid response).
   *
   * @param error The original error.
   * @param ctx The call it happened in.
   */
  reportError(error: unknown, ctx: Context): void;
  /**
   * Registers a call as in flight, for graceful shutdown.
   *
   * @param ctx The call.
   * @returns A function that unregisters it.
   */
  track(ctx: CallContext): () => void;
}

/**
 * Runs one call from start to final status: creates its context (signal, deadline, metadata),
 * validates every message in and out, runs the handler, streams its output into the sink, and
 * turns whatever happens into exactly one final status. Never throws: every outcome, including a
 * handler bug or a disconnect, ends in `sink.close()`.
 *
 * @param call The call, from a transport.
 * @param sink Where the response goes.
 * @param env Error reporting and in-flight tracking.
 * @returns When the call has ended (the handler may still be unwinding if it ignored its signal).
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
  });
  const untrack = env.track(ctx);
  const peer = call.signal;
  // A transport may abort with the reason the call should end with (a WebSocket call that broke
  // the protocol); otherwise the peer went away or cancelled.
  const onPeerAbort = () =>
    ctx.abort(
      RpcError.is(peer?.reason)
        ? peer.reason
        : new RpcError("cancelled", "The client cancelled the call"),
    );
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
  let error: RpcError | undefined;
  try {
    await invoke(call, ctx, sink, open, inbound, env);
    if (inbound.failure) throw inbound.failure;
  } catch (thrown) {
    error = finalError(thrown, ctx, inbound, env);
  } finally {
    peer?.removeEventListener("abort", onPeerAbort);
    ctx.dispose();
    call.messages.cancel();
    untrack();
  }
  // The call is over for the handler too: anything it still awaits should stop.
  ctx.abort(error ?? new RpcError("cancelled", "The call has ended"));
  open();
  sink.close(error, ctx.sentTrailers);
}

/** Records the first bad message of a streamed input, which decides the call's status. */
class InboundState {
  failure: RpcError | undefined;
}

async function invoke(
  call: IncomingCall,
  ctx: CallContext,
  sink: CallSink,
  open: () => void,
  inbound: InboundState,
  env: PipelineEnv,
): Promise<void> {
  const { method } = call.entry;
  if (ctx.signal.aborted) throw ctx.signal.reason;
  switch (method.pattern) {
    case "unary": {
      const input = await readSingle(call, ctx);
      const output = await settle(ctx, callHandler(method, input, ctx));
      await sendOne(method, output, ctx, sink, open, env);
      return;
    }
    case "server_streaming": {
      const input = await readSingle(call, ctx);
      await pump(method, callHandler(method, input, ctx), ctx, sink, open, env);
      return;
    }
    case "client_streaming": {
      const input = inboundStream(call, ctx, inbound);
      const output = await settle(ctx, callHandler(method, input, ctx));
      if (inbound.failure) throw inbound.failure;
      await sendOne(method, output, ctx, sink, open, env);
      return;
    }
    case "bidi_streaming": {
      const input = inboundStream(call, ctx, inbound);
      await pump(method, callHandler(method, input, ctx), ctx, sink, open, env);
      return;
    }
  }
}

function callHandler(method: MethodDefinition, input: unknown, ctx: Context): unknown {
  try {
    return method.handler(input, ctx);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Waits for a handler's result, unless the call is aborted first. */
function settle(ctx: CallContext, result: unknown): unknown {
  if (result instanceof Promise || isThenable(result)) return ctx.race(Promise.resolve(result));
  return result;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

async function readSingle(call: IncomingCall, ctx: CallContext): Promise<unknown> {
  const step = await ctx.race(call.messages.next());
  const schema = call.entry.method.input;
  if (!schema) return undefined;
  let result = validate(schema, step.done ? undefined : step.value);
  if (result instanceof Promise) result = await ctx.race(result);
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
      }).catch((error) => {
        reading = false;
        fail(RpcError.is(error) ? error : new RpcError("cancelled", "The client stopped sending"));
      });
    },
  });
  return stream;
}

async function checkOutput(
  method: MethodDefinition,
  value: unknown,
  ctx: CallContext,
  env: PipelineEnv,
): Promise<unknown> {
  if (!method.output) return null;
  let result = validate(method.output, value);
  if (result instanceof Promise) result = await ctx.race(result);
  if (result.ok) return result.value;
  const error = new RpcError(
    "internal",
    `The server produced an invalid response message: ${summarizeIssues(result.issues)}`,
  );
  env.reportError(error, ctx);
  throw error;
}

async function sendOne(
  method: MethodDefinition,
  output: unknown,
  ctx: CallContext,
  sink: CallSink,
  open: () => void,
  env: PipelineEnv,
): Promise<void> {
  const value = await checkOutput(method, await output, ctx, env);
  open();
  const accepted = sink.send(value);
  if (accepted) await ctx.race(accepted);
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
  env: PipelineEnv,
): Promise<void> {
  if (result instanceof Promise) await result; // a rejected handler surfaces here
  if (typeof result !== "object" || result === null || !(Symbol.asyncIterator in result)) {
    const error = new RpcError("internal", "internal error");
    env.reportError(
      new TypeError(
        `Handler of ${routeLabel(ctx)} must return an async iterable (async function*)`,
      ),
      ctx,
    );
    throw error;
  }
  const iterator = (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      const step = await ctx.race(iterator.next());
      if (step.done) {
        finished = true;
        return;
      }
      const value = await checkOutput(method, step.value, ctx, env);
      open();
      const accepted = sink.send(value);
      if (accepted) await ctx.race(accepted);
    }
  } finally {
    if (!finished) {
      // Not awaited: a generator paused inside an await returns when it next yields.
      Promise.resolve().then(() => iterator.return?.()).catch(() => {});
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
  if (ctx.signal.aborted && RpcError.is(ctx.signal.reason)) return ctx.signal.reason;
  const error = RpcError.from(thrown);
  if (error.code === "internal") env.reportError(thrown, ctx);
  return error;
}
