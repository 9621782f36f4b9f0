import type { AppState, Context } from "../schema/context.ts";
import type { Dependency, DependencyMap, Resolver } from "../schema/dependency.ts";
import { buildIntrospection, type IntrospectionDocument } from "../schema/introspection.ts";
import type { Middleware } from "../schema/middleware.ts";
import type { Pattern } from "../schema/pattern.ts";
import type { Service } from "../schema/service.ts";
import { Registry } from "../_util/registry.ts";
import { type Limits, resolveLimits } from "../protocol/limits.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { type Route, routeLabel, routePath } from "../protocol/route.ts";
import { CloseCode, WS_PATH, WS_PROTOCOL } from "../protocol/ws_frames.ts";
import { INTROSPECTION_PATH } from "../schema/introspection.ts";
import { isProduction } from "./adapters/env.ts";
import { listen } from "./adapters/listen.ts";
import type { FetchHandler, WebSocketEndpoint } from "./adapters/types.ts";
import { introspectionResponse } from "./built_in.ts";
import { registerConsole } from "./console.ts";
import type { CallSink, IncomingCall, MethodEntry } from "./call.ts";
import type { CallContext } from "./context.ts";
import { type CorsOptions, createCors } from "./cors.ts";
import { Health, healthService } from "./health.ts";
import { errorResponse, handleHttp, type HttpEnv, pathOf } from "./http_handler.ts";
import { runCall } from "./pipeline.ts";
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
  /** Messages a client may send on one call before it needs credit. Default 256. */
  window?: number;
  /** Calls that may be open at once on one socket. Default 100. */
  maxCalls?: number;
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
  /** A path prefix for every route, such as `/rpc`. Default none. */
  basePath?: string;
  /**
   * Called with errors the client only sees as `internal`: a handler that threw something other
   * than an RpcError, an invalid response message, a failed cleanup, a middleware that did not
   * wait for `next()`. Default: `console.error`. It may be async; if it throws or rejects, that
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
   * `microapi generate <url>` reads) at `GET <basePath>/_microapi/introspection`. Default: on,
   * unless the environment says production: `MICROAPI_ENV=production`, or `NODE_ENV=production`
   * when `MICROAPI_ENV` is unset.
   */
  introspection?: boolean;
  /**
   * Serve the dev console, a page to call every method from a browser, at
   * `GET <basePath>/_microapi/console` (docs/console.md). Default: on when introspection is and
   * the environment does not say production; `true` serves it anyway (it needs introspection on),
   * `false` turns it off alone.
   */
  console?: boolean;
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

/**
 * An app: services behind one web-standard handler. Use {@linkcode MicroAPI.fetch} with any
 * fetch-style host, or {@linkcode MicroAPI.serve} to listen on Deno or Bun (HTTP and WebSocket).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MicroAPI, Service, z } from "../../mod.ts";
 * const hello = new Service("hello").method(
 *   "greet",
 *   { input: z.object({ name: z.string() }), output: z.object({ text: z.string() }) },
 *   ({ name }) => ({ text: `Hello, ${name}` }),
 * );
 * const app = new MicroAPI({ services: [hello] });
 * // To listen on Deno or Bun: `await using server = await app.serve({ port: 8080 });`
 * const response = await app.fetch(
 *   new Request("http://localhost/hello/greet", {
 *     method: "POST",
 *     headers: { "content-type": "application/json" },
 *     body: JSON.stringify({ name: "Ada" }),
 *   }),
 * );
 * assert.deepEqual(await response.json(), { text: "Hello, Ada" });
 * ```
 */
export class MicroAPI {
  /** Marks apps structurally, so copies of the library recognise each other's. */
  readonly "~microapi": "app" = "app";
  /**
   * Answers one HTTP request. Bound to the app, so it can be passed around as a function.
   *
   * @param request The request.
   * @returns The response.
   */
  readonly fetch: (request: Request) => Promise<Response>;
  /** The app's shared state (`ctx.state` in handlers). */
  readonly state: AppState;
  /** Serving status of the app and its services, or undefined when health is off. */
  readonly health: Health | undefined;
  #router: Router;
  #handle: FetchHandler;
  #calls = new Registry<CallContext>();
  #idle: PromiseWithResolvers<void> | undefined;
  #env: HttpEnv & WsEnv;
  #middleware: Middleware[];
  #overrides = new Map<Dependency<unknown>, Resolver<unknown>>();
  #draining = false;
  #sessions = new Set<WsSession>();
  #websocket: WebSocketEndpoint | undefined;
  #lifespan: Lifespan | undefined;
  #startup: (() => unknown)[] = [];
  #shutdownHooks: (() => unknown)[] = [];
  #started: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;
  #teardown: AsyncGenerator<unknown, void, undefined> | undefined;
  #options: Readonly<MicroAPIOptions>;
  #builtinServices = new Set<Service>();
  #introspection: IntrospectionDocument | undefined;

  /**
   * Creates the app.
   *
   * @param options Services, middleware, dependencies, state, lifespan, limits, transports,
   * introspection, CORS.
   * @throws {TypeError} For duplicate services, something that is not a Service, or an invalid
   * CORS origin.
   */
  constructor(options: MicroAPIOptions) {
    const services = [...(options.services ?? [])];
    this.#options = Object.freeze({ ...options, services: [...services] });
    const healthOn = options.health !== false;
    this.health = healthOn
      ? new Health(services.map((s) => s.name), () => this.#draining)
      : undefined;
    if (this.health) {
      if (services.some((s) => s.name === "health" && s.version === undefined)) {
        throw new TypeError(
          'Duplicate service health: the app has a built-in "health" service; pass health: false ' +
            "to serve your own",
        );
      }
      const health = healthService(this.health);
      this.#builtinServices.add(health);
      services.push(health);
    }
    const publish = options.introspection ?? !isProduction();
    this.#router = new Router(services, { hints: publish });
    const basePath = (options.basePath ?? "").replace(/\/+$/, "");
    if (basePath !== "" && !basePath.startsWith("/")) {
      throw new TypeError(
        `Invalid basePath ${JSON.stringify(options.basePath)}: start it with "/"`,
      );
    }
    this.#middleware = [...(options.middleware ?? [])];
    this.#lifespan = options.lifespan;
    this.state = { ...options.state } as AppState;
    const onError = safeOnError(options.onError ?? defaultOnError);
    const ws = options.websocket === false ? undefined : options.websocket ?? {};
    const builtins = new Map<string, (request: Request) => Response | Promise<Response>>();
    if (this.health) {
      const health = this.health;
      builtins.set("/_microapi/health", (request) => health.respond(request));
    }
    builtins.set(
      INTROSPECTION_PATH,
      () => introspectionResponse(publish ? this.describe() : undefined),
    );
    registerConsole(builtins, options.console, publish);
    this.#env = {
      router: this.#router,
      limits: resolveLimits(options.limits),
      basePath,
      fallback: options.fallback && safeFallback(options.fallback),
      builtins,
      ws: {
        window: positive("websocket.window", ws?.window ?? 256),
        maxCalls: positive("websocket.maxCalls", ws?.maxCalls ?? 100),
      },
      middleware: this.#middleware,
      deps: { ...options.deps },
      declaresDeps: Object.keys(options.deps ?? {}).length > 0,
      state: this.state,
      overrides: this.#overrides,
      isDraining: () => this.#draining,
      reportError: onError,
      track: (ctx) => this.#calls.add(ctx),
      untrack: (ticket) => {
        this.#calls.delete(ticket);
        if (this.#calls.size === 0) this.#idle?.resolve();
      },
    };
    const cors = options.cors ? createCors(options.cors) : undefined;
    this.#handle = cors
      ? async (request, hooks) =>
        cors.preflight(request) ??
          cors.decorate(request, await handleHttp(request, this.#env, hooks))
      : (request, hooks) => handleHttp(request, this.#env, hooks);
    this.fetch = (request) => {
      try {
        return Promise.resolve(this.#handle(request));
      } catch (error) {
        return Promise.reject(error);
      }
    };
    if (ws) this.#websocket = this.#endpoint(basePath + WS_PATH, ws.allowedOrigins);
  }

  /** The services, in the order given (and the built-in `health` service last). */
  get services(): Service[] {
    return this.#router.services;
  }

  /** The options the app was made with (its own services, without built-in ones). */
  get options(): Readonly<MicroAPIOptions> {
    return this.#options;
  }

  /**
   * Describes the app: what `GET /_microapi/introspection` publishes, built on first use. The
   * built-in `health` service is left out (it is the same in every app; see docs/codegen.md).
   *
   * @returns The introspection document.
   */
  describe(): IntrospectionDocument {
    return this.#introspection ??= buildIntrospection(
      this.#router.services.filter((service) => !this.#builtinServices.has(service)),
      { schemaNames: this.#options.schemaNames, basePath: this.#env.basePath },
    );
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
   * Adds middleware around every call, inside what is already there.
   *
   * @param middleware The middleware, outermost first.
   * @returns This app.
   */
  use(...middleware: Middleware[]): this {
    for (const m of middleware) {
      if (typeof m !== "function") throw new TypeError("Invalid middleware: expected a function");
    }
    this.#middleware.push(...middleware);
    return this;
  }

  /**
   * Replaces a dependency's resolver everywhere in this app (for tests: a fake database, a fixed
   * user). Calls already running keep what they resolved.
   *
   * @param dependency The dependency to replace.
   * @param resolve The replacement, or undefined to restore the original.
   * @returns This app.
   */
  override<T>(dependency: Dependency<T>, resolve: Resolver<T> | undefined): this {
    if (resolve === undefined) this.#overrides.delete(dependency);
    else this.#overrides.set(dependency, resolve as Resolver<unknown>);
    return this;
  }

  /**
   * Registers code to run before the app accepts calls (after the lifespan's setup).
   *
   * @param hook The code.
   * @returns This app.
   */
  onStartup(hook: () => unknown): this {
    this.#startup.push(hook);
    return this;
  }

  /**
   * Registers code to run when the app stops, after the calls in flight have drained (before the
   * lifespan's teardown).
   *
   * @param hook The code.
   * @returns This app.
   */
  onShutdown(hook: () => unknown): this {
    this.#shutdownHooks.push(hook);
    return this;
  }

  /**
   * Runs the lifespan's setup and the startup hooks, once. `serve()` does this; call it yourself
   * when you use `fetch` or a test connection directly.
   *
   * @returns When the app is ready.
   */
  start(): Promise<void> {
    return this.#started ??= (async () => {
      if (this.#lifespan) {
        this.#teardown = this.#lifespan(this);
        await this.#teardown.next();
      }
      for (const hook of this.#startup) await hook();
    })();
  }

  /**
   * Runs the shutdown hooks and the lifespan's teardown, once (only if the app was started).
   * `server.shutdown()` does this after the calls in flight have drained. A hook that fails does
   * not stop the others, nor the teardown.
   *
   * @returns When torn down.
   * @throws {Error} What a hook or the teardown threw (an AggregateError when several did), once
   * all of them have run.
   */
  stop(): Promise<void> {
    if (!this.#started) return Promise.resolve();
    return this.#stopped ??= (async () => {
      await this.#started?.catch(() => {});
      const failures: unknown[] = [];
      for (const hook of this.#shutdownHooks) {
        try {
          await hook();
        } catch (error) {
          failures.push(error);
        }
      }
      try {
        await this.#teardown?.next();
      } catch (error) {
        failures.push(error);
      }
      if (failures.length === 1) throw failures[0];
      if (failures.length > 1) {
        throw new AggregateError(failures, "Shutdown hooks and the lifespan's teardown failed");
      }
    })();
  }

  /**
   * For transport authors: finds the method a route names, and checks that the client calls it
   * with its pattern.
   *
   * @param route The service, method and version.
   * @param pattern The pattern the client calls it with, if the client said.
   * @returns The method, or the error a caller should get: `not_found` (saying what does exist
   * when the app publishes its introspection), or `unimplemented` for the wrong pattern (naming
   * the method's pattern and the client call to use).
   */
  resolve(route: Route, pattern?: Pattern): MethodEntry | RpcError {
    return this.#router.resolve(routePath(route), pattern);
  }

  /**
   * For transport authors: runs a call through the app's pipeline (middleware, dependencies,
   * validation, the handler, errors, deadlines), exactly as HTTP and WebSocket calls run. While the
   * app shuts down, the call ends at once with `unavailable`.
   *
   * @param call The call, as the transport received it.
   * @param sink Where the response goes.
   * @returns When the call has ended.
   */
  dispatch(call: IncomingCall, sink: CallSink): Promise<void> {
    if (this.#draining) {
      sink.open(new Headers());
      sink.close(
        new RpcError("unavailable", "The server is shutting down; try again"),
        new Headers(),
      );
      return Promise.resolve();
    }
    return runCall(call, sink, this.#env);
  }

  /**
   * Starts the app (lifespan, startup hooks) and listens for HTTP and WebSocket on Deno or Bun.
   *
   * @param options Port, hostname, grace period, abort signal.
   * @returns The running server.
   * @throws {Error} When the address is in use.
   */
  async serve(options: ServeOptions = {}): Promise<Server> {
    await this.start();
    const listener = await listen({
      port: options.port ?? 8080,
      hostname: options.hostname ?? "0.0.0.0",
      handler: this.#handle,
      websocket: this.#websocket,
    });
    const finished = Promise.withResolvers<void>();
    // Rejects when shutdown fails; whoever awaits it sees that, and nobody has to.
    finished.promise.catch(() => {});
    let stopping: Promise<void> | undefined;
    const shutdown = (opts: { gracePeriodMs?: number } = {}) =>
      stopping ??= this.#shutdown(listener, opts.gracePeriodMs ?? options.gracePeriodMs ?? 10_000)
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

  async #shutdown(
    listener: { close(): Promise<void>; terminate(): Promise<void> },
    gracePeriodMs: number,
  ): Promise<void> {
    // New calls are refused from here on (503 / `unavailable`), on connections old and new. The
    // listener stays open until the calls have drained: Deno's server.shutdown() would close
    // WebSockets at once, cutting their calls short of the grace period.
    this.#draining = true;
    this.health?.notifyDraining();
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
    await this.stop();
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
      open: (socket, request) => {
        const ack = new URL(request.url).searchParams.get("ack") === "1";
        const session: WsSession = new WsSession(socket, this.#env, () => {
          this.#sessions.delete(session);
        }, { ack });
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
export function isApp(value: unknown): value is MicroAPI {
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

/** Prints an error that no onError can take: it belongs to no call, or onError itself failed. */
function logUncaught(what: string, error: unknown): void {
  // deno-lint-ignore no-console
  console.error(`[microapi] ${what}:`, error);
}

/**
 * The app's onError, made safe to call from anywhere in a call: one that throws, or returns a
 * promise that rejects, neither disturbs the call nor becomes an unhandled rejection.
 */
function safeOnError(onError: (error: unknown, ctx: Context) => unknown) {
  return (error: unknown, ctx: Context): void => {
    const failed = (failure: unknown) => {
      logUncaught(`onError failed while reporting an error of ${routeLabel(ctx)}`, failure);
      logUncaught(`${routeLabel(ctx)} failed`, error);
    };
    try {
      const result = onError(error, ctx);
      if (isThenable(result)) Promise.resolve(result).catch(failed);
    } catch (failure) {
      failed(failure);
    }
  };
}

/**
 * The app's fallback, answering `500 internal` when it throws, rejects or returns something that
 * is not a Response, instead of leaving the host runtime to deal with it.
 */
function safeFallback(
  fallback: (request: Request) => Response | Promise<Response>,
): (request: Request) => Response | Promise<Response> {
  const failed = (error: unknown): Response => {
    logUncaught("The fallback failed", error);
    return errorResponse(new RpcError("internal", "internal error"));
  };
  const checked = (response: unknown): Response =>
    response instanceof Response
      ? response
      : failed(new TypeError(`The fallback must return a Response, got ${typeof response}`));
  return (request) => {
    try {
      const result: unknown = fallback(request);
      return isThenable(result) ? Promise.resolve(result).then(checked, failed) : checked(result);
    } catch (error) {
      return failed(error);
    }
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}
