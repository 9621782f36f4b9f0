import type { Context } from "../schema/context.ts";
import type { Dependency, Resolver } from "../schema/dependency.ts";
import { RpcError } from "../protocol/rpc_error.ts";

/** Replacement resolvers, by dependency (for tests: `app.override(db, fakeDb)`). */
export type Overrides = ReadonlyMap<Dependency<unknown>, Resolver<unknown>>;

/**
 * The dependencies of one call: each is made at most once and shared by everything in the call;
 * the ones that need cleaning up (generators) are cleaned up when the call is over, the last made
 * first, by resuming them after their `yield`.
 */
export class DependencyScope {
  #ctx: Context;
  #overrides: Overrides;
  #values = new Map<Dependency<unknown>, Promise<unknown>>();
  #cleanups: { name: string; run: () => unknown }[] = [];
  #closed = false;

  /**
   * Creates the scope of one call.
   *
   * @param ctx The call's context, handed to resolvers.
   * @param overrides Replacement resolvers.
   */
  constructor(ctx: Context, overrides: Overrides) {
    this.#ctx = ctx;
    this.#overrides = overrides;
  }

  /** True when some dependency needs cleaning up. */
  get needsCleanup(): boolean {
    return this.#cleanups.length > 0;
  }

  /**
   * The value of a dependency in this call.
   *
   * @param dependency The dependency.
   * @param path The dependencies being resolved that asked for this one (cycle detection).
   * @returns The value.
   */
  get<T>(dependency: Dependency<T>, path: readonly Dependency<unknown>[] = []): Promise<T> {
    if (typeof dependency !== "object" || dependency?.["~microapi"] !== "dependency") {
      return observed(new TypeError("ctx.get() expects a dependency made by dependency()"));
    }
    if (path.includes(dependency)) {
      const cycle = [...path, dependency].map((d) => d.name).join(" -> ");
      return observed(new TypeError(`Circular dependency: ${cycle}`));
    }
    let value = this.#values.get(dependency);
    if (!value) {
      value = this.#make(dependency, [...path, dependency]);
      // A handler may ask for a dependency and never await it; its failure must not become an
      // unhandled rejection. Whoever awaits it still gets the error.
      value.catch(() => {});
      this.#values.set(dependency, value);
    }
    return value as Promise<T>;
  }

  /**
   * Sets a dependency's value for this call, so its resolver never runs.
   *
   * @param dependency The dependency.
   * @param value Its value.
   * @throws {TypeError} For something that is not a dependency, or one that already has a value
   * in this call (provided or resolved: everything in a call sees one value).
   */
  provide(dependency: Dependency<unknown>, value: unknown): void {
    if (typeof dependency !== "object" || dependency?.["~microapi"] !== "dependency") {
      throw new TypeError("ctx.provide() expects a dependency made by dependency()");
    }
    if (this.#values.has(dependency)) {
      throw new TypeError(
        `Cannot provide dependency ${JSON.stringify(dependency.name)}: it already has a value in ` +
          "this call (provide it before anything asks for it)",
      );
    }
    this.#values.set(dependency, Promise.resolve(value));
  }

  async #make(dependency: Dependency<unknown>, path: Dependency<unknown>[]): Promise<unknown> {
    if (this.#closed) throw new RpcError("cancelled", "The call has ended");
    const resolve = this.#overrides.get(dependency) ?? dependency.resolve;
    const made = resolve(new ResolverContext(this.#ctx, (d) => this.get(d, path)));
    if (isGenerator(made)) {
      const first = await made.next();
      if (first.done) {
        throw new TypeError(
          `Dependency ${JSON.stringify(dependency.name)} ended without yielding a value`,
        );
      }
      this.#cleanups.push({ name: dependency.name, run: () => made.next() });
      return first.value;
    }
    return await made;
  }

  /**
   * Cleans up, the last dependency made first. Never throws: a cleanup that fails is reported and
   * the others still run.
   *
   * @param report Receives cleanup errors.
   */
  async close(report: (error: unknown) => void): Promise<void> {
    this.#closed = true;
    for (const cleanup of this.#cleanups.reverse()) {
      try {
        await cleanup.run();
      } catch (error) {
        report(
          new Error(`Cleanup of dependency ${JSON.stringify(cleanup.name)} failed`, {
            cause: error,
          }),
        );
      }
    }
    this.#cleanups = [];
  }
}

/** A rejected promise that is not an unhandled rejection if nobody awaits it. */
function observed(error: Error): Promise<never> {
  const promise = Promise.reject(error);
  promise.catch(() => {});
  return promise;
}

function isGenerator(
  value: unknown,
): value is AsyncGenerator<unknown, void, undefined> | Generator<unknown, void, undefined> {
  return typeof value === "object" && value !== null &&
    typeof (value as { next?: unknown }).next === "function" &&
    (Symbol.asyncIterator in value || Symbol.iterator in value) &&
    typeof (value as { return?: unknown }).return === "function";
}

/**
 * The context a resolver sees: the call's, except that `get()` remembers which dependencies are
 * being resolved, so a cycle is reported instead of waiting for itself forever.
 */
class ResolverContext implements Context {
  #ctx: Context;
  #get: (dependency: Dependency<unknown>) => Promise<unknown>;

  constructor(ctx: Context, get: (dependency: Dependency<unknown>) => Promise<unknown>) {
    this.#ctx = ctx;
    this.#get = get;
  }

  get service(): string {
    return this.#ctx.service;
  }
  get method(): string {
    return this.#ctx.method;
  }
  get version(): number | undefined {
    return this.#ctx.version;
  }
  get pattern(): Context["pattern"] {
    return this.#ctx.pattern;
  }
  get transport(): string {
    return this.#ctx.transport;
  }
  get signal(): AbortSignal {
    return this.#ctx.signal;
  }
  get deadline(): number | undefined {
    return this.#ctx.deadline;
  }
  get metadata(): Headers {
    return this.#ctx.metadata;
  }
  get responseHeaders(): Headers {
    return this.#ctx.responseHeaders;
  }
  get trailers(): Headers {
    return this.#ctx.trailers;
  }
  get state(): Context["state"] {
    return this.#ctx.state;
  }
  get deps(): Context["deps"] {
    return this.#ctx.deps;
  }
  get<T>(dependency: Dependency<T>): Promise<T> {
    return this.#get(dependency) as Promise<T>;
  }
}
