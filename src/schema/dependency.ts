import type { Context } from "./context.ts";

/**
 * What a dependency's resolver receives: the call's context, from which it can read metadata,
 * state, and other dependencies (`await ctx.get(db)`), which is how dependencies nest.
 */
export type DependencyContext = Context;

/**
 * How a dependency makes its value, once per call:
 * - a function returning the value (or a promise of it);
 * - a generator or async generator that yields the value once; the code after `yield` runs when
 *   the call ends, whether it succeeded, failed or was cancelled (put it in `finally` to run it
 *   also when the call failed).
 */
export type Resolver<T> = (
  ctx: DependencyContext,
) => T | Promise<T> | AsyncGenerator<T, void, undefined> | Generator<T, void, undefined>;

/** A dependency: a named value that handlers, middleware and other dependencies can ask for. */
export interface Dependency<T> {
  /** Marks dependencies structurally, so copies of the library recognise each other's. */
  readonly "~microapi": "dependency";
  /** Names the dependency in errors (`Dependency "db" failed`). */
  readonly name: string;
  /** Makes the value. */
  readonly resolve: Resolver<T>;
}

/**
 * Declares a dependency, in the spirit of FastAPI's `Depends`: its value is made at most once per
 * call and shared by everything in that call that asks for it.
 *
 * @param name A name for errors and logs.
 * @param resolve Makes the value; an (async) generator cleans up after its `yield`.
 * @returns The dependency, to declare in `deps` or to pass to `ctx.get()`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dependency } from "../../mod.ts";
 * const db = dependency("db", async function* () {
 *   const connection = { open: true };
 *   try {
 *     yield connection;
 *   } finally {
 *     connection.open = false; // runs when the call ends, however it ends
 *   }
 * });
 * assert.equal(db.name, "db");
 * ```
 */
export function dependency<T>(name: string, resolve: Resolver<T>): Dependency<T> {
  if (typeof resolve !== "function") {
    throw new TypeError(`Invalid dependency ${JSON.stringify(name)}: expected a function`);
  }
  return Object.freeze({ "~microapi": "dependency" as const, name, resolve });
}

/** The values of declared dependencies, by the names they were declared under. */
export type ResolvedDeps<D> = {
  readonly [K in keyof D]: D[K] extends Dependency<infer T> ? T : never;
};

/** Dependencies declared on an app, a service or a method, by name. */
export type DependencyMap = Record<string, Dependency<unknown>>;
