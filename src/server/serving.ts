import { RpcError } from "../protocol/rpc_error.ts";
import { CloseCode } from "../protocol/ws_frames.ts";
import { listen } from "./adapters/listen.ts";
import type { FetchHandler, Listener } from "./adapters/types.ts";
import type { BodyWatch } from "./body_watch.ts";
import type { InFlight } from "./in_flight.ts";
import { logUncaught } from "./user_callbacks.ts";
import type { WebSocketServer } from "./ws_server.ts";

/** Where and how to serve. */
export interface ServeOptions {
  /** The port; 0 picks a free one. Default 8080. */
  port?: number;
  /** The interface to bind. Default `0.0.0.0`. */
  hostname?: string;
  /** How long shutdown lets calls in flight finish before cancelling them. Default 10 000 ms. */
  gracePeriodMs?: number;
  /**
   * How long a connection may be idle (no request being answered, nothing sent or received)
   * before the server closes it, in milliseconds: keep-alive connections, connections that never
   * finish a request head. Bun only, in whole seconds (rounded up) from 1 to 255 s, or 0 for
   * never; `Deno.serve` has no such setting (docs/security.md says what MicroAPI does there).
   * Streamed calls (NDJSON) are exempt: a stream may be quiet for longer. Default 10 000 ms.
   */
  idleTimeoutMs?: number;
  /** Shuts the server down when aborted. */
  signal?: AbortSignal;
  /**
   * Also answer HTTP/2 without TLS (h2c, prior knowledge) on the same port, for clients that
   * need it: Connect and gRPC-Web clients over HTTP/2, `buf curl --http2-prior-knowledge`
   * (bidi streams and reflection). `Deno.serve` always does; on Bun this turns on
   * `Bun.serve({ http2: true })`. HTTP/1.1 and WebSockets are served as before. Default false.
   */
  http2?: boolean;
}

/** A running server. */
export interface Server {
  /** The bound address. */
  readonly hostname: string;
  /** The bound port. */
  readonly port: number;
  /** The base URL for clients, such as `http://127.0.0.1:8080`. */
  readonly url: string;
  /**
   * Stops the server: new calls get `unavailable` (HTTP 503); calls in flight may finish within
   * the grace period, then the rest are cancelled (their handlers' signals abort with
   * `unavailable`); then WebSockets are closed (1001), the listener stops, idle connections are
   * closed at once (the grace period is for calls only), and the app's shutdown hooks run.
   *
   * @param options Overrides the grace period.
   * @returns When everything is closed. Calling it again returns the same promise.
   */
  shutdown(options?: { gracePeriodMs?: number }): Promise<void>;
  /** Resolves once the server has shut down. */
  readonly finished: Promise<void>;
  /** Shuts down, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** What serving needs from the app (which has started already). */
export interface Served {
  /** Answers HTTP requests. */
  readonly handler: FetchHandler;
  /** The WebSocket endpoint, when the app serves WebSockets. */
  readonly websocket: WebSocketServer | undefined;
  /** The paths the app answers itself (see ListenOptions.paths). */
  readonly paths: readonly string[];
  /** The calls in flight, and the draining switch. */
  readonly inFlight: InFlight;
  /** Times request bodies; it ticks while the app serves. */
  readonly bodyWatch?: BodyWatch;
  /** Called once draining has begun (health watchers hear `not_serving`). */
  readonly onDraining: () => void;
  /** Runs the app's shutdown hooks and lifespan teardown. */
  readonly stop: () => Promise<void>;
}

/**
 * Listens on Deno or Bun, and shuts down in order when asked (or when the signal aborts): see
 * {@linkcode Server.shutdown}.
 *
 * @param app What to serve.
 * @param options Port, hostname, grace period, idle timeout, abort signal.
 * @returns The running server.
 * @throws {Error} When the address is in use.
 * @throws {RangeError} For an idle timeout Bun cannot set.
 */
export async function serve(app: Served, options: ServeOptions = {}): Promise<Server> {
  const listener = await listen({
    port: options.port ?? 8080,
    hostname: options.hostname ?? "0.0.0.0",
    handler: app.handler,
    websocket: app.websocket,
    paths: app.paths,
    http2: options.http2 ?? false,
    idleTimeoutMs: idleTimeout(options.idleTimeoutMs),
    onWarning: warnSometimes(),
  });
  app.bodyWatch?.start();
  const finished = Promise.withResolvers<void>();
  // Rejects when shutdown fails; whoever awaits it sees that, and nobody has to.
  finished.promise.catch(() => {});
  let stopping: Promise<void> | undefined;
  const shutdown = (opts: { gracePeriodMs?: number } = {}) =>
    stopping ??= shutDown(app, listener, opts.gracePeriodMs ?? options.gracePeriodMs ?? 10_000)
      .then(finished.resolve, (error) => {
        finished.reject(error);
        throw error;
      });
  // Nobody awaits a shutdown the signal started, so its failure (a shutdown hook that threw)
  // is printed rather than lost.
  options.signal?.addEventListener(
    "abort",
    () => void shutdown().catch((error) => logUncaught("Shutdown failed", error)),
    { once: true },
  );
  const host = listener.hostname.includes(":") ? `[${listener.hostname}]` : listener.hostname;
  return {
    hostname: listener.hostname,
    port: listener.port,
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${listener.port}`,
    shutdown,
    finished: finished.promise,
    [Symbol.asyncDispose]: () => shutdown(),
  };
}

async function shutDown(app: Served, listener: Listener, gracePeriodMs: number): Promise<void> {
  const { inFlight } = app;
  // New calls are refused from here on (503 / `unavailable`), on connections old and new. The
  // listener stays open until the calls have drained: Deno's server.shutdown() would close
  // WebSockets at once, cutting their calls short of the grace period.
  inFlight.drain();
  app.onDraining();
  if (!(await inFlight.waitIdle(gracePeriodMs))) {
    inFlight.abortAll(new RpcError("unavailable", "The server is shutting down"));
    // Cancelled calls end at once; give their final status a moment to reach the wire.
    await inFlight.waitIdle(1_000);
  }
  app.websocket?.closeAll(CloseCode.goingAway, "The server is shutting down");
  const closed = listener.close();
  const timer = Promise.withResolvers<boolean>();
  const id = setTimeout(() => timer.resolve(false), 1_000);
  const done = await Promise.race([closed.then(() => true), timer.promise]);
  clearTimeout(id);
  if (!done) await listener.terminate();
  app.bodyWatch?.stop();
  await app.stop();
}

/** The longest idle timeout Bun takes, in seconds. */
const MAX_IDLE_SECONDS = 255;

function idleTimeout(ms: number | undefined): number {
  const value = ms ?? 10_000;
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_IDLE_SECONDS * 1000) {
    throw new RangeError(
      `Invalid idleTimeoutMs: expected whole milliseconds from 0 to ${
        MAX_IDLE_SECONDS * 1000
      } (Bun's limit), got ${value}`,
    );
  }
  return value;
}

/** How often the same kind of warning is printed at most. */
const WARNING_INTERVAL_MS = 10_000;

/**
 * Prints an adapter's warnings (a server that ran out of file descriptors and recovered), at most
 * once per interval, with the number of times it happened meanwhile.
 */
function warnSometimes(): (message: string) => void {
  let last = -Infinity;
  let skipped = 0;
  return (message) => {
    const now = Date.now();
    if (now - last < WARNING_INTERVAL_MS) {
      skipped++;
      return;
    }
    last = now;
    const more = skipped > 0 ? ` (${skipped} more times since the last warning)` : "";
    skipped = 0;
    // deno-lint-ignore no-console
    console.error(`[microapi] ${message}${more}`);
  };
}
