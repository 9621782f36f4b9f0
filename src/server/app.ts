import type { Context } from "../schema/context.ts";
import { buildIntrospection, type IntrospectionDocument } from "../schema/introspection.ts";
import type { Service } from "../schema/service.ts";
import { type Limits, resolveLimits } from "../protocol/limits.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { routeLabel } from "../protocol/route.ts";
import { CloseCode, WS_PATH, WS_PROTOCOL } from "../protocol/ws_frames.ts";
import { isProduction } from "./adapters/env.ts";
import { listen } from "./adapters/listen.ts";
import type { WebSocketEndpoint } from "./adapters/types.ts";
import { handleBuiltIn } from "./built_in.ts";
import type { CallContext } from "./context.ts";
import { type CorsOptions, createCors } from "./cors.ts";
import { errorResponse, handleHttp, type HttpEnv, pathOf } from "./http_handler.ts";
import { Router } from "./router.ts";
import { type WsEnv, WsSession } from "./ws_session.ts";

/** WebSocket settings of an app. */
export interface WebSocketOptions {
  /**
   * Origins allowed to open a WebSocket from a browser (`https://app.example.com`). Requests
   * without an Origin header (not from a browser) are always allowed. Default: any origin. Set
   * this when browsers authenticate with cookies, so other sites cannot open sockets as your
   * users.
   */
  allowedOrigins?: string[];
  /** Messages a client may send on one call before it needs credit. Default 64. */
  window?: number;
  /** Calls that may be open at once on one socket. Default 100. */
  maxCalls?: number;
}

/** How an app is set up. */
export interface MicroAPIOptions {
  /** The services to serve. */
  services: Iterable<Service>;
  /** Input limits; see {@linkcode Limits} for the defaults. */
  limits?: Partial<Limits>;
  /** A path prefix for every route, such as `/rpc`. Default none. */
  basePath?: string;
  /**
   * Called with errors the client only sees as `internal`: a handler that threw something other
   * than an RpcError, an invalid response message. Default: `console.error`.
   */
  onError?: (error: unknown, ctx: Context) => void;
  /**
   * The WebSocket transport, served at `<basePath>/_microapi/ws` by `serve()`; `false` turns it
   * off. Default: on, with the defaults of {@linkcode WebSocketOptions}.
   */
  websocket?: WebSocketOptions | false;
  /**
   * Answers requests that are not calls (no method at that path, and not a built-in endpoint):
   * static files, a health check of your own. Default: a `404 not_found` error body.
   */
  fallback?: (request: Request) => Response | Promise<Response>;
  /**
   * Publish the introspection document (services, methods, message schemas; what
   * `microapi generate <url>` reads) at `GET <basePath>/_microapi/introspection`. Default: on,
   * unless the environment says production: `MICROAPI_ENV=production`, or `NODE_ENV=production`
   * when `MICROAPI_ENV` is unset.
   */
  introspection?: boolean;
  /**
   * Names for the schemas in the introspection document, by identity, such as the export names of
   * the modules they come from. A schema's `.meta({ id })` takes precedence; unnamed method
   * schemas are called `<Method>Request` and `<Method>Response`.
   */
  schemaNames?: ReadonlyMap<object, string>;
  /**
   * Lets web pages from other origins make HTTP calls (CORS): answers preflights and exposes the
   * response headers. Default: no cross-origin access. (WebSockets have their own
   * `websocket.allowedOrigins`.)
   */
  cors?: CorsOptions;
}

/** Where and how to serve. */
export interface ServeOptions {
  /** The port; 0 picks a free one. Default 8080. */
  port?: number;
  /** The interface to bind. Default `0.0.0.0`. */
  hostname?: string;
  /** How long shutdown lets calls in flight finish before cancelling them. Default 10 000 ms. */
  gracePeriodMs?: number;
  /** Shuts the server down when aborted. */
  signal?: AbortSignal;
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
   * `unavailable`); then WebSockets are closed (1001) and the listener stops.
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

/**
 * An app: services behind one web-standard handler. Use {@linkcode MicroAPI.fetch} with any
 * fetch-style host, or {@linkcode MicroAPI.serve} to listen on Deno or Bun.
 *
 * @example
 * ```ts ignore
 * import { MicroAPI, Service, z } from "../../mod.ts";
 * const hello = new Service("hello").method(
 *   "greet",
 *   { input: z.object({ name: z.string() }), output: z.object({ text: z.string() }) },
 *   ({ name }) => ({ text: `Hello, ${name}` }),
 * );
 * await using server = await new MicroAPI({ services: [hello] }).serve({ port: 8080 });
 * ```
 */
export class MicroAPI {
  /** Marks apps structurally, so that two copies of the library recognise each other's. */
  readonly "~microapi": "app" = "app";
  /**
   * Answers one HTTP request. Bound to the app, so it can be passed around as a function.
   *
   * @param request The request.
   * @returns The response.
   */
  readonly fetch: (request: Request) => Promise<Response>;
  #router: Router;
  #calls = new Set<CallContext>();
  #idle: PromiseWithResolvers<void> | undefined;
  #env: HttpEnv & WsEnv;
  #draining = false;
  #sessions = new Set<WsSession>();
  #websocket: WebSocketEndpoint | undefined;
  #options: Readonly<MicroAPIOptions>;
  #introspection: IntrospectionDocument | undefined;

  /**
   * Creates the app.
   *
   * @param options Services, limits, error reporting, WebSocket, introspection, CORS.
   * @throws {TypeError} For duplicate services, something that is not a Service, or an invalid
   * CORS origin.
   */
  constructor(options: MicroAPIOptions) {
    this.#router = new Router(options.services ?? []);
    this.#options = Object.freeze({ ...options, services: this.#router.services });
    const basePath = (options.basePath ?? "").replace(/\/+$/, "");
    if (basePath !== "" && !basePath.startsWith("/")) {
      throw new TypeError(
        `Invalid basePath ${JSON.stringify(options.basePath)}: start it with "/"`,
      );
    }
    const onError = options.onError ?? defaultOnError;
    const ws = options.websocket === false ? undefined : options.websocket ?? {};
    const publish = options.introspection ?? !isProduction();
    this.#env = {
      router: this.#router,
      limits: resolveLimits(options.limits),
      basePath,
      fallback: options.fallback,
      ws: {
        window: positive("websocket.window", ws?.window ?? 64),
        maxCalls: positive("websocket.maxCalls", ws?.maxCalls ?? 100),
      },
      isDraining: () => this.#draining,
      builtIn: (request, path) =>
        handleBuiltIn(request, {
          path,
          introspection: () => (publish ? this.describe() : undefined),
        }),
      reportError: onError,
      track: (ctx) => {
        this.#calls.add(ctx);
        return () => {
          this.#calls.delete(ctx);
          if (this.#calls.size === 0) this.#idle?.resolve();
        };
      },
    };
    const cors = options.cors ? createCors(options.cors) : undefined;
    this.fetch = cors
      ? async (request) =>
        cors.preflight(request) ?? cors.decorate(request, await handleHttp(request, this.#env))
      : (request) => Promise.resolve(handleHttp(request, this.#env));
    if (ws) this.#websocket = this.#endpoint(basePath + WS_PATH, ws.allowedOrigins);
  }

  /** The options the app was made with (its services as a list); for tools that rebuild it. */
  get options(): Readonly<MicroAPIOptions> {
    return this.#options;
  }

  /**
   * Describes the app: what `GET /_microapi/introspection` publishes, built on first use.
   *
   * @returns The introspection document.
   */
  describe(): IntrospectionDocument {
    return this.#introspection ??= buildIntrospection(this.#router.services, {
      schemaNames: this.#options.schemaNames,
      basePath: this.#env.basePath,
    });
  }

  /** The services, in the order given. */
  get services(): Service[] {
    return this.#router.services;
  }

  /** How many calls are in flight, on every transport. */
  get activeCalls(): number {
    return this.#calls.size;
  }

  /** How many WebSocket connections are open. */
  get activeSockets(): number {
    return this.#sessions.size;
  }

  /**
   * Listens for HTTP on Deno or Bun.
   *
   * @param options Port, hostname, grace period, abort signal.
   * @returns The running server.
   * @throws {Error} When the address is in use.
   */
  async serve(options: ServeOptions = {}): Promise<Server> {
    const listener = await listen({
      port: options.port ?? 8080,
      hostname: options.hostname ?? "0.0.0.0",
      handler: this.fetch,
      websocket: this.#websocket,
    });
    const finished = Promise.withResolvers<void>();
    let stopping: Promise<void> | undefined;
    const shutdown = (opts: { gracePeriodMs?: number } = {}) =>
      stopping ??= this.#shutdown(listener, opts.gracePeriodMs ?? options.gracePeriodMs ?? 10_000)
        .then(finished.resolve, (error) => {
          finished.reject(error);
          throw error;
        });
    options.signal?.addEventListener("abort", () => void shutdown().catch(() => {}), {
      once: true,
    });
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

  async #shutdown(
    listener: { close(): Promise<void>; terminate(): Promise<void> },
    gracePeriodMs: number,
  ): Promise<void> {
    // New calls are refused from here on (503 / `unavailable`), on connections old and new. The
    // listener stays open until the calls have drained: Deno's server.shutdown() would close
    // WebSockets at once, cutting their calls short of the grace period.
    this.#draining = true;
    if (!(await this.#waitIdle(gracePeriodMs))) {
      const reason = new RpcError("unavailable", "The server is shutting down");
      for (const ctx of this.#calls) ctx.abort(reason);
      // Cancelled calls end at once; give their final status a moment to reach the wire.
      await this.#waitIdle(1_000);
    }
    for (const session of this.#sessions) {
      session.close(CloseCode.goingAway, "The server is shutting down");
    }
    const closed = listener.close();
    const timer = Promise.withResolvers<boolean>();
    const id = setTimeout(() => timer.resolve(false), 1_000);
    const done = await Promise.race([closed.then(() => true), timer.promise]);
    clearTimeout(id);
    if (!done) await listener.terminate();
  }

  /** The WebSocket endpoint adapters upgrade requests for. */
  #endpoint(path: string, allowedOrigins: string[] | undefined): WebSocketEndpoint {
    const origins = allowedOrigins && new Set(allowedOrigins);
    return {
      matches: (request) => pathOf(request.url, "") === path,
      accept: (request) => {
        const origin = request.headers.get("origin");
        if (origins && origin !== null && !origins.has(origin)) {
          return errorResponse(
            new RpcError("permission_denied", `Origin ${origin} may not open a WebSocket here`),
          );
        }
        if (this.#draining) {
          return errorResponse(
            new RpcError("unavailable", "The server is shutting down; try again"),
          );
        }
        const offered = request.headers.get("sec-websocket-protocol");
        if (offered === null) return { protocol: undefined };
        if (offered.split(",").some((p) => p.trim() === WS_PROTOCOL)) {
          return { protocol: WS_PROTOCOL };
        }
        return errorResponse(
          new RpcError(
            "invalid_argument",
            `Unsupported WebSocket subprotocol ${JSON.stringify(offered)}: offer ${WS_PROTOCOL}`,
          ),
        );
      },
      open: (socket) => {
        const session: WsSession = new WsSession(socket, this.#env, () => {
          this.#sessions.delete(session);
        });
        this.#sessions.add(session);
        return {
          message: (data) => session.receive(data),
          close: (code, reason) => session.closed(code, reason),
        };
      },
    };
  }

  /** Waits until no call is in flight, for at most `ms`; tells whether that happened. */
  async #waitIdle(ms: number): Promise<boolean> {
    if (this.#calls.size === 0) return true;
    this.#idle ??= Promise.withResolvers<void>();
    const idle = this.#idle.promise;
    let id: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<boolean>((resolve) => (id = setTimeout(() => resolve(false), ms)));
    const result = await Promise.race([idle.then(() => true), timeout]);
    clearTimeout(id);
    if (result) this.#idle = undefined;
    return result;
  }
}

/**
 * Tells whether a value is a MicroAPI app, also one made by another copy of this library.
 *
 * @param value Anything, such as a module export.
 * @returns `true` for apps.
 */
export function isMicroAPI(value: unknown): value is MicroAPI {
  return typeof value === "object" && value !== null &&
    (value as Record<string, unknown>)["~microapi"] === "app";
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`Invalid ${name}: expected a positive integer, got ${value}`);
  }
  return value;
}

function defaultOnError(error: unknown, ctx: Context): void {
  // deno-lint-ignore no-console
  console.error(`[microapi] ${routeLabel(ctx)} failed:`, error);
}
