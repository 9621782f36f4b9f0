import type { AppState, Context } from "../schema/context.ts";
import type { DependencyMap } from "../schema/dependency.ts";
import type { Middleware } from "../schema/middleware.ts";
import type { Service } from "../schema/service.ts";
import type { Limits } from "../protocol/limits.ts";
import type { MicroAPI } from "./app.ts";
import type { CorsOptions } from "./cors.ts";
import type { Protocol } from "./protocol.ts";
import type { WebSocketSettings } from "./ws_session.ts";

/**
 * WebSocket settings of an app. Which pages may open a socket is not one of them: the app's own
 * origin may, and the origins its `cors` option lists (one list for HTTP and WebSocket).
 */
export interface WebSocketOptions {
  /** Messages a client may send on one call before it needs credit. Default 256. */
  window?: number;
  /**
   * How much the messages a client sends on one call before it needs credit may add up to, in
   * characters of their JSON frames (bytes, for ASCII), the one that crosses it included. Default
   * 1 MiB (1 048 576).
   */
  windowBytes?: number;
  /**
   * The most messages of one call the server sends ahead of a client's credit, whatever window
   * the client asks for. Default 1024.
   */
  maxWindow?: number;
  /**
   * The most the messages of one call that the server sends ahead of a client's credit may add up
   * to (as `windowBytes` counts), whatever the client asks for. Default 1 MiB (1 048 576).
   */
  maxWindowBytes?: number;
  /** Calls that may be open at once on one socket. Default 100. */
  maxCalls?: number;
  /**
   * WebSockets that may be open at once on the server; an upgrade beyond it is refused with
   * `503 resource_exhausted` and `retry-after: 1`. Default 500, which leaves room on a host
   * limited to 1024 file descriptors (one per socket) for HTTP connections and the app's own.
   * Raise it with the descriptor limit (`ulimit -Hn`) and memory (README, "Memory per socket and
   * per call").
   */
  maxSockets?: number;
  /**
   * How much a socket may hold for a client that does not read, beyond one message of the
   * largest size, in characters of JSON text: frames that cannot wait for the socket to drain
   * (credit, call ends, answers to the client's frames). Past it the socket is closed with 1008.
   * Default 1 MiB.
   */
  maxQueuedBytes?: number;
}

/**
 * Server-wide limits and timeouts that keep one peer, or many, from using up the server
 * (docs/security.md, "Resource limits and timeouts").
 */
export interface ResourceOptions {
  /**
   * Calls in flight at once, on every transport (HTTP, WebSocket, in memory). Beyond it a call is
   * refused with `resource_exhausted` (over HTTP: 503 with `retry-after: 1`; on a WebSocket: an
   * `end` frame for that call). Default 10 000.
   */
  maxCallsInFlight?: number;
  /**
   * How long a request body may take to arrive, in milliseconds: a unary (or JSON-array) body
   * from when the server starts reading it, each message of a streamed (NDJSON) body from its
   * first byte. A client that is slower fails its call with `deadline_exceeded`. Quiet time
   * between the messages of a stream does not count. Applies when the app serves (`serve()`);
   * behind another host, that host's timeouts apply. Default 30 000 (30 s); 0 turns it off.
   */
  bodyTimeoutMs?: number;
}

/**
 * Setup and teardown around the app's life: code before `yield` runs before the server accepts
 * calls, code after it once the calls in flight have drained.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Lifespan, MicroAPI } from "../../mod.ts";
 *
 * const log: string[] = [];
 * const lifespan: Lifespan = async function* () {
 *   log.push("connect"); // open the database, say, and put it in app.state
 *   yield;
 *   log.push("close");
 * };
 * const app = new MicroAPI({ services: [], lifespan });
 * await app.start(); // app.serve() starts the app too
 * await app.stop();
 * assert.deepEqual(log, ["connect", "close"]);
 * ```
 */
export type Lifespan = (app: MicroAPI) => AsyncGenerator<unknown, void, undefined>;

/** How an app is set up. */
export interface MicroAPIOptions {
  /** The services to serve. */
  services: Iterable<Service>;
  /** Middleware around every call, outermost first (see {@linkcode Middleware}). */
  middleware?: Middleware[];
  /** Dependencies resolved before every method of every service. */
  deps?: DependencyMap;
  /** The initial state, which handlers read as `ctx.state` (see {@linkcode AppState}). */
  state?: Partial<AppState>;
  /** Setup and teardown around the app's life. */
  lifespan?: Lifespan;
  /** Input limits; see {@linkcode Limits} for the defaults. */
  limits?: Partial<Limits>;
  /** Server-wide limits and timeouts; see {@linkcode ResourceOptions} for the defaults. */
  resources?: ResourceOptions;
  /** A path prefix for every route, such as `/rpc`. Default none. */
  basePath?: string;
  /**
   * Called with errors the client only sees as `internal`: a handler that threw something other
   * than an RpcError, an invalid response message, a failed cleanup, a middleware that did not
   * return `next()`'s result. Default: `console.error`. It may be async; if it throws or rejects, that
   * failure and the error it was given go to `console.error` instead (the call is not affected).
   */
  onError?: (error: unknown, ctx: Context) => void;
  /**
   * The WebSocket transport, served at `<basePath>/_microapi/ws` by `serve()`; `false` turns it
   * off. Default: on, with the defaults of {@linkcode WebSocketOptions}.
   */
  websocket?: WebSocketOptions | false;
  /**
   * Health checking: `GET <basePath>/_microapi/health` and the `health` service (`check`,
   * `watch`). Default on; `false` turns both off.
   */
  health?: boolean;
  /**
   * Answers requests that are not calls (no method at that path, and not a built-in endpoint):
   * static files, a page of your own. Default: a `404 not_found` error body. If it throws,
   * rejects or returns something other than a Response, the request is answered
   * `500 internal` and the error goes to `console.error` (it belongs to no call, so `onError`
   * does not see it).
   */
  fallback?: (request: Request) => Response | Promise<Response>;
  /**
   * Publish the introspection document (services, methods, message schemas; what
   * `microapi generate <url>` reads) at `GET <basePath>/_microapi/introspection`, and name what
   * exists in not-found errors (`did you mean "get_user"?`). Default: on in development, off in
   * production: `MICROAPI_ENV=production`, or `NODE_ENV=production` when `MICROAPI_ENV` is unset.
   * When the environment cannot be read (Deno without `--allow-env`), production is assumed: off.
   */
  introspection?: boolean;
  /**
   * Serve the dev console, a page to call every method from a browser, at
   * `GET <basePath>/_microapi/console` (docs/console.md). Default: on when introspection is and
   * the environment says development (not production, and readable); `true` serves it anyway (it
   * needs introspection on), `false` turns it off alone.
   */
  console?: boolean;
  /**
   * Names for the schemas in the introspection document, by identity, such as the export names of
   * the modules they come from. A schema's `.meta({ id })` takes precedence; unnamed method
   * schemas are called `<Method>Request` and `<Method>Response`.
   */
  schemaNames?: ReadonlyMap<object, string>;
  /**
   * Lets web pages from other origins call the app: over HTTP (CORS: preflights are answered and
   * response headers exposed) and over WebSocket (upgrades from these origins are accepted).
   * Default: only pages of the app's own origin (the Origin header's host is the request's Host);
   * requests without an Origin header come from no browser and are not affected.
   */
  cors?: CorsOptions;
  /**
   * More wire protocols to serve on the same port, next to MicroAPI's own, such as Connect and
   * gRPC-Web: `protocols: [connect()]` with `connect` from `@microapi/core/connect`
   * (docs/connect.md). They see only requests that MicroAPI's own routes do not answer, in the
   * order given. Default none.
   */
  protocols?: readonly Protocol[];
}

/**
 * Reads and checks the base path option.
 *
 * @param basePath The option.
 * @returns The prefix without trailing slashes (`""` for none).
 * @throws {TypeError} For a base path that does not start with `/`.
 */
export function resolveBasePath(basePath: string | undefined): string {
  const trimmed = (basePath ?? "").replace(/\/+$/, "");
  if (trimmed !== "" && !trimmed.startsWith("/")) {
    throw new TypeError(`Invalid basePath ${JSON.stringify(basePath)}: start it with "/"`);
  }
  return trimmed;
}

/**
 * Reads and checks the WebSocket options, with their defaults.
 *
 * @param options The option (`false` for off).
 * @returns The settings, or undefined when WebSockets are off.
 * @throws {RangeError} For a window, window limit or call limit that is not a positive integer.
 * @throws {TypeError} For `allowedOrigins`, which `cors.origins` replaced.
 */
export function resolveWebSocketSettings(
  options: WebSocketOptions | false | undefined,
): WebSocketSettings | undefined {
  if (options === false) return undefined;
  if (options && "allowedOrigins" in options) {
    throw new TypeError(
      "Invalid websocket.allowedOrigins: the origins that may call are listed once, in " +
        "cors: { origins }, for HTTP and WebSocket alike (pages of the app's own origin always may)",
    );
  }
  return {
    window: positive("websocket.window", options?.window ?? 256),
    windowBytes: positive("websocket.windowBytes", options?.windowBytes ?? 1024 * 1024),
    maxWindow: positive("websocket.maxWindow", options?.maxWindow ?? 1024),
    maxWindowBytes: positive("websocket.maxWindowBytes", options?.maxWindowBytes ?? 1024 * 1024),
    maxCalls: positive("websocket.maxCalls", options?.maxCalls ?? 100),
    maxQueuedBytes: positive("websocket.maxQueuedBytes", options?.maxQueuedBytes ?? 1024 * 1024),
  };
}

/** Sockets that may be open at once, by default. */
export const DEFAULT_MAX_SOCKETS = 500;

/**
 * Reads and checks the socket limit.
 *
 * @param options The WebSocket option.
 * @returns The limit.
 * @throws {RangeError} For a limit that is not a positive integer.
 */
export function resolveMaxSockets(options: WebSocketOptions | false | undefined): number {
  return positive(
    "websocket.maxSockets",
    (options || undefined)?.maxSockets ?? DEFAULT_MAX_SOCKETS,
  );
}

/** The server-wide limits, with their defaults. */
export interface Resources {
  /** Calls in flight at once. */
  maxCallsInFlight: number;
  /** How long a body (or one streamed message) may take to arrive; 0 for no limit. */
  bodyTimeoutMs: number;
}

/**
 * Reads and checks the resource options, with their defaults.
 *
 * @param options The option.
 * @returns The limits.
 * @throws {RangeError} For a limit that is not a positive integer, or a timeout that is not a
 * whole number of milliseconds (0 for none) a timer can wait.
 */
export function resolveResources(options: ResourceOptions | undefined): Resources {
  const bodyTimeoutMs = options?.bodyTimeoutMs ?? 30_000;
  if (!Number.isSafeInteger(bodyTimeoutMs) || bodyTimeoutMs < 0 || bodyTimeoutMs > 2 ** 31 - 1) {
    throw new RangeError(
      `Invalid resources.bodyTimeoutMs: expected whole milliseconds from 0 to ${
        2 ** 31 - 1
      }, got ${bodyTimeoutMs}`,
    );
  }
  return {
    maxCallsInFlight: positive("resources.maxCallsInFlight", options?.maxCallsInFlight ?? 10_000),
    bodyTimeoutMs,
  };
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`Invalid ${name}: expected a positive integer, got ${value}`);
  }
  return value;
}
