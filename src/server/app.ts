import type { AppState } from "../schema/context.ts";
import type { Dependency, Resolver } from "../schema/dependency.ts";
import { buildIntrospection, type IntrospectionDocument } from "../schema/introspection.ts";
import { INTROSPECTION_PATH } from "../schema/introspection.ts";
import type { Middleware } from "../schema/middleware.ts";
import type { Service } from "../schema/service.ts";
import { resolveLimits } from "../protocol/limits.ts";
import { routePath } from "../protocol/route.ts";
import { WS_PATH } from "../protocol/ws_frames.ts";
import { readEnv } from "./adapters/env.ts";
import type { FetchHandler } from "./adapters/types.ts";
import { Admission } from "./admission.ts";
import {
  type Lifespan,
  type MicroAPIOptions,
  resolveBasePath,
  resolveMaxSockets,
  resolveResources,
  resolveWebSocketSettings,
} from "./app_options.ts";
import { BodyWatch } from "./body_watch.ts";
import { introspectionResponse } from "./built_in.ts";
import { registerConsole } from "./console.ts";
import { createCors } from "./cors.ts";
import { Health, healthService } from "./health.ts";
import { handleHttp, type HttpEnv } from "./http_handler.ts";
import { InFlight } from "./in_flight.ts";
import { createOriginPolicy } from "./origins.ts";
import { environmentFrom, resolvePublishing } from "./publishing.ts";
import { Router } from "./router.ts";
import { serve, type ServeOptions, type Server } from "./serving.ts";
import { defaultOnError, safeFallback, safeOnError } from "./user_callbacks.ts";
import { WebSocketServer } from "./ws_server.ts";

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
  /**
   * For transport authors (unstable): the one step before the pipeline, which every transport
   * (HTTP, WebSocket, in memory, yours) uses to find a method, refuse calls while the app shuts
   * down, read timeouts, and run calls. See {@linkcode Admission} and docs/architecture.md.
   */
  readonly admission: Admission;
  #router: Router;
  #handle: FetchHandler;
  #inFlight: InFlight;
  #bodyWatch: BodyWatch;
  #basePath: string;
  #middleware: Middleware[];
  #overrides = new Map<Dependency<unknown>, Resolver<unknown>>();
  #websocket: WebSocketServer | undefined;
  #lifespan: Lifespan | undefined;
  #startup: (() => unknown)[] = [];
  #shutdownHooks: (() => unknown)[] = [];
  #started: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;
  #teardown: AsyncGenerator<unknown, void, undefined> | undefined;
  #options: Readonly<MicroAPIOptions>;
  #builtinServices = new Set<Service>();
  #introspection: IntrospectionDocument | undefined;
  /** The paths the app answers itself, with the base path (for adapters; see ListenOptions). */
  #paths: readonly string[];

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
    const resources = resolveResources(options.resources);
    const inFlight = this.#inFlight = new InFlight(resources.maxCallsInFlight);
    this.#bodyWatch = new BodyWatch(resources.bodyTimeoutMs);
    this.health = options.health !== false
      ? new Health(services.map((s) => s.name), () => inFlight.draining)
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
    // Introspection, the console and not-found hints: by default only where the environment says
    // development; one that cannot be read counts as production.
    const publishing = resolvePublishing(options, environmentFrom(readEnv));
    const publish = publishing.introspection;
    this.#router = new Router(services, { hints: publish });
    this.#basePath = resolveBasePath(options.basePath);
    this.#middleware = [...(options.middleware ?? [])];
    this.#lifespan = options.lifespan;
    this.state = { ...options.state } as AppState;
    const websocket = resolveWebSocketSettings(options.websocket);
    const limits = resolveLimits(options.limits);
    this.admission = new Admission(this.#router, {
      reportError: safeOnError(options.onError ?? defaultOnError),
      inFlight,
      middleware: this.#middleware,
      deps: { ...options.deps },
      declaresDeps: Object.keys(options.deps ?? {}).length > 0,
      state: this.state,
      overrides: this.#overrides,
    });
    const builtins = new Map<string, (request: Request) => Response | Promise<Response>>();
    if (this.health) {
      const health = this.health;
      builtins.set("/_microapi/health", (request) => health.respond(request));
    }
    builtins.set(
      INTROSPECTION_PATH,
      () => introspectionResponse(publish ? this.describe() : undefined),
    );
    if (publishing.console) registerConsole(builtins);
    const protocolEnv = {
      admission: this.admission,
      limits,
      basePath: this.#basePath,
      services: services.filter((service) => !this.#builtinServices.has(service)),
      schemaNames: options.schemaNames,
      publish,
    };
    const protocols = (options.protocols ?? []).map((protocol) => protocol.setup(protocolEnv));
    const http: HttpEnv = {
      admission: this.admission,
      limits,
      bodyWatch: this.#bodyWatch,
      basePath: this.#basePath,
      fallback: options.fallback && safeFallback(options.fallback),
      builtins,
      protocols,
    };
    // One policy for HTTP CORS and WebSocket upgrades alike.
    const origins = createOriginPolicy(options.cors?.origins);
    const cors = options.cors ? createCors(options.cors, origins) : undefined;
    this.#handle = cors
      ? async (request, hooks) =>
        cors.preflight(request) ?? cors.decorate(request, await handleHttp(request, http, hooks))
      : (request, hooks) => handleHttp(request, http, hooks);
    this.fetch = (request) => {
      try {
        return Promise.resolve(this.#handle(request));
      } catch (error) {
        return Promise.reject(error);
      }
    };
    this.#paths = [
      ...this.#router.entries.map((entry) =>
        this.#basePath +
        routePath({ service: entry.service, method: entry.method.name, version: entry.version })
      ),
      ...[...builtins.keys()].map((path) => this.#basePath + path),
      ...protocols.flatMap((handler) => handler.paths ?? []).map((path) => this.#basePath + path),
      ...(websocket ? [this.#basePath + WS_PATH] : []),
    ];
    if (websocket && options.websocket !== false) {
      this.#websocket = new WebSocketServer(
        { admission: this.admission, limits, settings: websocket },
        {
          basePath: this.#basePath,
          origins,
          inFlight,
          maxSockets: resolveMaxSockets(options.websocket),
        },
      );
    }
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
      { schemaNames: this.#options.schemaNames, basePath: this.#basePath },
    );
  }

  /** How many calls are in flight, on every transport. */
  get activeCalls(): number {
    return this.#inFlight.size;
  }

  /** How many WebSocket connections are open. */
  get activeSockets(): number {
    return this.#websocket?.size ?? 0;
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
   * Starts the app (lifespan, startup hooks) and listens for HTTP and WebSocket on Deno or Bun.
   *
   * @param options Port, hostname, grace period, abort signal.
   * @returns The running server.
   * @throws {Error} When the address is in use.
   */
  async serve(options: ServeOptions = {}): Promise<Server> {
    await this.start();
    return await serve({
      handler: this.#handle,
      websocket: this.#websocket,
      paths: this.#paths,
      inFlight: this.#inFlight,
      bodyWatch: this.#bodyWatch,
      onDraining: () => this.health?.notifyDraining(),
      stop: () => this.stop(),
    }, options);
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
