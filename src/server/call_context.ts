import type { AppState } from "../schema/context.ts";
import type { Dependency } from "../schema/dependency.ts";
import type { MiddlewareContext } from "../schema/middleware.ts";
import type { Pattern } from "../schema/pattern.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { DependencyScope, type Overrides } from "./dependencies.ts";

/** Response headers that refuse changes once they have been sent. */
class ResponseHeaders extends Headers {
  #sent = false;

  seal(): void {
    this.#sent = true;
  }

  override set(name: string, value: string): void {
    this.#check(name);
    super.set(name, value);
  }

  override append(name: string, value: string): void {
    this.#check(name);
    super.append(name, value);
  }

  override delete(name: string): void {
    this.#check(name);
    super.delete(name);
  }

  #check(name: string): void {
    if (this.#sent) {
      throw new TypeError(
        `Cannot change response header ${JSON.stringify(name)}: the headers were sent with the ` +
          "first message; use ctx.trailers instead",
      );
    }
  }
}

/** What admission knows about a new call. */
export interface CallInit {
  /** The service's name. */
  service: string;
  /** The method's name. */
  method: string;
  /** The service version. */
  version: number | undefined;
  /** The method's pattern. */
  pattern: Pattern;
  /** `"http"`, `"websocket"`, `"memory"`. */
  transport: string;
  /**
   * Request metadata; a record (a WebSocket or NATS frame's) is made into Headers when the call
   * first reads it, undefined for none.
   */
  metadata: Headers | Record<string, string> | undefined;
  /** The timeout the client asked for, in milliseconds, as readTimeout() read it. */
  timeoutMs: number | undefined;
  /** Starts watching for the client going away; see RunOptions.watchPeer. */
  watchPeer?: (abort: () => void) => void;
  /** The app's state. */
  state: AppState;
  /** Dependency overrides. */
  overrides: Overrides;
}

/**
 * The reason a call ends with when its client went away.
 *
 * @returns A new `cancelled` error.
 */
export function peerGone(): RpcError {
  return new RpcError("cancelled", "The client cancelled the call");
}

/** The headers of a call that set none: shared, never changed. */
export const EMPTY_HEADERS: Headers = new Headers();

/**
 * The server's implementation of {@linkcode MiddlewareContext} (the {@linkcode Context} handlers
 * see, plus `provide()`): owns the call's abort state and its deadline timer. What a call may
 * never use is made on first use: the AbortSignal (and the transport's watch for a disconnect,
 * which on Deno costs a listener on `request.signal`), response headers, trailers, dependencies.
 * A unary call whose handler reads none of them allocates none of them.
 */
export class CallContext implements MiddlewareContext {
  readonly service: string;
  readonly method: string;
  readonly version: number | undefined;
  readonly pattern: Pattern;
  readonly transport: string;
  readonly deadline: number | undefined;
  #metadata: Headers | Record<string, string> | undefined;
  #controller: AbortController | undefined;
  #reason: RpcError | undefined;
  #watchPeer: ((abort: () => void) => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #responseHeaders: ResponseHeaders | undefined;
  #trailers: Headers | undefined;
  #waiters: Set<(reason: RpcError) => void> | undefined;
  #state: AppState;
  #overrides: Overrides;
  #scope: DependencyScope | undefined;
  #deps: Record<string, unknown> = {};
  #pastMiddleware = false;

  /** Request metadata (made from the frame's record on first use, for a WebSocket or NATS call). */
  get metadata(): Headers {
    const metadata = this.#metadata;
    if (metadata instanceof Headers) return metadata;
    const headers = new Headers(metadata);
    this.#metadata = headers;
    return headers;
  }

  /**
   * Creates the context and starts the deadline timer.
   *
   * @param init What the transport knows about the call.
   */
  constructor(init: CallInit) {
    this.service = init.service;
    this.method = init.method;
    this.version = init.version;
    this.pattern = init.pattern;
    this.transport = init.transport;
    this.#metadata = init.metadata;
    this.#state = init.state;
    this.#overrides = init.overrides;
    this.#watchPeer = init.watchPeer;
    if (init.timeoutMs !== undefined) {
      // Admission read it with readTimeout(), which caps it at what a timer can wait.
      const ms = init.timeoutMs;
      this.deadline = Date.now() + ms;
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.abort(new RpcError("deadline_exceeded", `The deadline of ${ms} ms expired`));
      }, ms);
    }
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#reason) this.#controller.abort(this.#reason);
      const watch = this.#watchPeer;
      this.#watchPeer = undefined;
      watch?.(() => this.abort(peerGone()));
    }
    return this.#controller.signal;
  }

  /** Why the call was aborted, or undefined while it has not been. */
  get abortReason(): RpcError | undefined {
    return this.#reason;
  }

  get responseHeaders(): Headers {
    return this.#responseHeaders ??= new ResponseHeaders();
  }

  get trailers(): Headers {
    return this.#trailers ??= new Headers();
  }

  get state(): AppState {
    return this.#state;
  }

  get deps(): Readonly<Record<string, unknown>> {
    return this.#deps;
  }

  get<T>(dependency: Dependency<T>): Promise<T> {
    this.#scope ??= new DependencyScope(this, this.#overrides);
    return this.#scope.get(dependency);
  }

  provide<T>(dependency: Dependency<T>, value: NoInfer<T>): void {
    if (this.#pastMiddleware) {
      throw new TypeError(
        `Cannot provide dependency ${
          JSON.stringify((dependency as { name?: unknown } | undefined)?.name)
        }: the call has passed its middleware (call ctx.provide() before next())`,
      );
    }
    this.#scope ??= new DependencyScope(this, this.#overrides);
    this.#scope.provide(dependency, value);
  }

  /** The call has passed its middleware: from now on, `provide()` throws. */
  endMiddleware(): void {
    this.#pastMiddleware = true;
  }

  /**
   * Resolves declared dependencies, in order, into `ctx.deps` (a later name hides an earlier one).
   *
   * @param declared Lists of named dependencies: the app's, the service's, the method's.
   */
  async resolveDeclared(
    declared: readonly Readonly<Record<string, Dependency<unknown>>>[],
  ): Promise<void> {
    for (const map of declared) {
      for (const name in map) this.#deps[name] = await this.get(map[name]!);
    }
  }

  /** True when dependencies made during the call need cleaning up. */
  get needsCleanup(): boolean {
    return this.#scope?.needsCleanup ?? false;
  }

  /**
   * Cleans up the call's dependencies.
   *
   * @param report Receives cleanup errors.
   */
  cleanup(report: (error: unknown) => void): Promise<void> {
    return this.#scope?.close(report) ?? Promise.resolve();
  }

  /** The response headers as they are now (a shared empty Headers when none were set). */
  get sentHeaders(): Headers {
    return this.#responseHeaders ?? EMPTY_HEADERS;
  }

  /** The trailers as they are now (a shared empty Headers when none were set). */
  get sentTrailers(): Headers {
    return this.#trailers ?? EMPTY_HEADERS;
  }

  /** Freezes the response headers: they are on the wire. */
  sealHeaders(): void {
    this.#responseHeaders?.seal();
  }

  /**
   * Ends the call for the handler: the signal aborts with `reason`. Later calls do nothing.
   *
   * @param reason Why, as the status the call ends with.
   */
  abort(reason: RpcError): void {
    if (this.#reason) return;
    this.#reason = reason;
    this.#watchPeer = undefined;
    this.#controller?.abort(reason);
    for (const reject of this.#waiters ?? []) reject(reason);
    this.#waiters = undefined;
  }

  /**
   * Waits for a promise, or for the call to be aborted, whichever comes first; so that a handler
   * that ignores its signal cannot keep a cancelled call open.
   *
   * @param promise What to wait for.
   * @returns The promise's value.
   * @throws {RpcError} The abort reason, if the call is aborted first.
   */
  race<T>(promise: Promise<T>): Promise<T> {
    if (this.#reason) {
      promise.catch(() => {});
      return Promise.reject(this.#reason);
    }
    return new Promise<T>((resolve, reject) => {
      const waiters = this.#waiters ??= new Set();
      waiters.add(reject);
      promise.then(
        (value) => {
          waiters.delete(reject);
          resolve(value);
        },
        (error) => {
          waiters.delete(reject);
          reject(error);
        },
      );
    });
  }

  /** Stops the deadline timer; the call is over. */
  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
