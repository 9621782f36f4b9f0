/**
 * What a handler's `ctx` holds: `ctx.deps` typed from the dependencies the method declares,
 * `ctx.get(dependency)` typed by the dependency, `ctx.state` typed by the `AppState` interface the
 * app augments, and the call's own fields.
 */
import { type Context, type Dependency, dependency, MicroAPI, Service, z } from "../../../mod.ts";
import { assertType, type IsExact } from "../_assert.ts";

// One program holds every fixture (and, under `deno task check`, every test), so the augmentation
// is optional and named so that nothing else declares it.
declare module "../../../mod.ts" {
  interface AppState {
    typeFixtureVisits?: number;
  }
}

interface Database {
  query(sql: string): Promise<string[]>;
}

const db = dependency("db", async function* (): AsyncGenerator<Database, void, undefined> {
  yield { query: (sql) => Promise.resolve([sql]) };
});
const requestId = dependency("request_id", (ctx) => ctx.metadata.get("x-request-id") ?? "none");
const limit = dependency("limit", () => Promise.resolve(10));

export const records = new Service("records").method(
  "list",
  { output: z.array(z.string()), deps: { db, requestId } },
  async (_input, ctx) => {
    assertType<IsExact<typeof ctx.deps.db, Database>>();
    assertType<IsExact<typeof ctx.deps.requestId, string>>();
    // A dependency the method did not declare is read with ctx.get(), typed by the dependency.
    const max = await ctx.get(limit);
    assertType<IsExact<typeof max, number>>();
    // KNOWN GAP: a name the method did not declare is `unknown` instead of a compile error,
    // because the handler's ctx.deps is `Context["deps"]` (a string record) intersected with the
    // declared ones. When the types close it, turn this line into a @ts-expect-error.
    assertType<IsExact<typeof ctx.deps.cache, unknown>>();

    assertType<IsExact<typeof ctx.state.typeFixtureVisits, number | undefined>>();
    // @ts-expect-error AppState declares no such field
    ctx.state.typeFixtureUndeclared;

    assertType<IsExact<typeof ctx.signal, AbortSignal>>();
    assertType<IsExact<typeof ctx.deadline, number | undefined>>();
    assertType<IsExact<typeof ctx.metadata, Headers>>();
    // @ts-expect-error the context is read-only
    ctx.service = "other";
    return (await ctx.deps.db.query("select")).slice(0, max);
  },
);

// Dependencies resolve from the same context, state included.
export const visits = dependency("visits", (ctx: Context) => ctx.state.typeFixtureVisits ?? 0);
assertType<IsExact<typeof visits, Dependency<number>>>();

export const app = new MicroAPI({ services: [records], state: { typeFixtureVisits: 0 } });
assertType<IsExact<typeof app.state.typeFixtureVisits, number | undefined>>();
// @ts-expect-error the initial state is checked against AppState
new MicroAPI({ services: [], state: { typeFixtureVisits: "many" } });
