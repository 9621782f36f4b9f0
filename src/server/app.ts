import type { Context } from "../schema/context.ts";
import type { Service } from "../schema/service.ts";
import { type Limits, resolveLimits } from "../protocol/limits.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { routeLabel } from "../protocol/route.ts";
import { listen } from "./adapters/listen.ts";
import type { CallContext } from "./context.ts";
import { handleHttp, type HttpEnv } from "./http_handler.ts";
import { Router } from "./router.ts";

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
   * Stops the server: new connections are refused and new calls get `unavailable`; calls in
   * flight may finish within the grace period, then the rest are cancelled (their handlers'
   * signals abort with `unavailable`) and the connections closed.
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
  #env: HttpEnv;
  #draining = false;

  /**
   * Creates the app.
   *
   * @param options Services, limits, error reporting.
   * @throws {TypeError} For duplicate services or something that is not a Service.
   */
  constructor(options: MicroAPIOptions) {
    this.#router = new Router(options.services ?? []);
    const basePath = (options.basePath ?? "").replace(/\/+$/, "");
    if (basePath !== "" && !basePath.startsWith("/")) {
      throw new TypeError(
        `Invalid basePath ${JSON.stringify(options.basePath)}: start it with "/"`,
      );
    }
    const onError = options.onError ?? defaultOnError;
    this.#env = {
      router: this.#router,
      limits: resolveLimits(options.limits),
      basePath,
      isDraining: () => this.#draining,
      reportError: onError,
      track: (ctx) => {
        this.#calls.add(ctx);
        return () => {
          this.#calls.delete(ctx);
          if (this.#calls.size === 0) this.#idle?.resolve();
        };
      },
    };
    this.fetch = (request) => Promise.resolve(handleHttp(request, this.#env));
  }

  /** The services, in the order given. */
  get services(): Service[] {
    return this.#router.services;
  }

  /** How many calls are in flight. */
  get activeCalls(): number {
    return this.#calls.size;
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
    this.#draining = true;
    const closed = listener.close();
    if (!(await this.#waitIdle(gracePeriodMs))) {
      const reason = new RpcError("unavailable", "The server is shutting down");
      for (const ctx of this.#calls) ctx.abort(reason);
      // Cancelled calls end at once; give their final status a moment to reach the wire.
      await this.#waitIdle(1_000);
    }
    const timer = Promise.withResolvers<boolean>();
    const id = setTimeout(() => timer.resolve(false), 1_000);
    const done = await Promise.race([closed.then(() => true), timer.promise]);
    clearTimeout(id);
    if (!done) await listener.terminate();
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

function defaultOnError(error: unknown, ctx: Context): void {
  // deno-lint-ignore no-console
  console.error(`[microapi] ${routeLabel(ctx)} failed:`, error);
}
