import { Registry } from "../_util/registry.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import type { CallContext } from "./call_context.ts";

/**
 * The calls in flight on every transport, and whether the app is draining: what a graceful
 * shutdown waits on. Admission adds a call when it runs it (so no transport can forget to) and
 * refuses new ones once draining has begun; the pipeline removes a call when it has ended and its
 * dependencies are cleaned up. Adding and removing allocate nothing once warm (see Registry).
 * Admission also refuses new calls while `max` are in flight (see {@linkcode InFlight.full}).
 */
export class InFlight {
  #calls = new Registry<CallContext>();
  #idle: PromiseWithResolvers<void> | undefined;
  #draining = false;
  /** The most calls in flight at once, on every transport. */
  readonly max: number;

  /**
   * Creates the registry.
   *
   * @param max The most calls in flight at once. Default: no limit.
   */
  constructor(max: number = Infinity) {
    this.max = max;
  }

  /** How many calls are in flight. */
  get size(): number {
    return this.#calls.size;
  }

  /** True when `max` calls are in flight: new calls are refused with `resource_exhausted`. */
  get full(): boolean {
    return this.#calls.size >= this.max;
  }

  /** True once shutdown has begun: new calls are refused with `unavailable`. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Refuses new calls from now on; the ones in flight carry on. */
  drain(): void {
    this.#draining = true;
  }

  /**
   * Counts a call as in flight.
   *
   * @param ctx The call.
   * @returns A ticket for {@linkcode InFlight.delete}.
   */
  add(ctx: CallContext): number {
    return this.#calls.add(ctx);
  }

  /**
   * A call has ended.
   *
   * @param ticket What `add` returned.
   */
  delete(ticket: number): void {
    this.#calls.delete(ticket);
    if (this.#calls.size === 0) this.#idle?.resolve();
  }

  /**
   * Ends every call in flight for its handler: their signals abort with the reason.
   *
   * @param reason The status the calls end with.
   */
  abortAll(reason: RpcError): void {
    for (const ctx of this.#calls) ctx.abort(reason);
  }

  /**
   * Waits until no call is in flight, for at most `ms`.
   *
   * @param ms The longest wait.
   * @returns Whether the calls ended in time.
   */
  async waitIdle(ms: number): Promise<boolean> {
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
 * The error a new call (or WebSocket) gets once shutdown has begun.
 *
 * @returns A new `unavailable` error.
 */
export function drainingError(): RpcError {
  return new RpcError("unavailable", "The server is shutting down; try again");
}

/**
 * The error a call (or WebSocket) gets when the server is at one of its server-wide limits: the
 * server, not the client, is out of room, so the client may retry shortly (or elsewhere).
 *
 * @param what What is at its limit, in the plural: `"calls in flight"`, `"WebSockets"`.
 * @param limit The limit.
 * @returns A new `resource_exhausted` error, with the limit in its details.
 */
export function overloaded(what: string, limit: number): RpcError {
  return new RpcError(
    "resource_exhausted",
    `The server is at its limit of ${limit} ${what}; try again shortly`,
    { details: { limit } },
  );
}
