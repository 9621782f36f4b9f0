/** Dependencies: made once per call, nested, cleaned up however the call ends, overridable. */
import assert from "node:assert/strict";
import { rejection, sleep, waitFor } from "../_harness.ts";
import { connect, eachTransport } from "../_transports.ts";
import { dependency, MicroAPI, RpcError, Service, stream, streaming, z } from "../../mod.ts";

const Out = z.object({ value: z.string() });

eachTransport("dependencies: made once per call and shared by everything that asks", async (t) => {
  let made = 0;
  const counter = dependency("counter", () => ({ id: ++made }));
  const first = dependency("first", async (ctx) => `first sees ${(await ctx.get(counter)).id}`);
  const second = dependency("second", async (ctx) => `second sees ${(await ctx.get(counter)).id}`);
  const service = new Service("s").method(
    "m",
    { output: Out, deps: { first, second } },
    async (_input, ctx) => {
      const again = await ctx.get(counter);
      return { value: `${ctx.deps.first}, ${ctx.deps.second}, handler sees ${again.id}` };
    },
  );
  await using c = await connect(new MicroAPI({ services: [service] }), t);
  assert.deepEqual(await c.connection.unary("s/m"), {
    value: "first sees 1, second sees 1, handler sees 1",
  });
  assert.deepEqual(await c.connection.unary("s/m"), {
    value: "first sees 2, second sees 2, handler sees 2",
  });
});

eachTransport(
  "dependencies: sync, async and nested dependencies read the call's context",
  async (t) => {
    const token = dependency(
      "token",
      (ctx) => ctx.metadata.get("authorization")?.replace(/^Bearer /, ""),
    );
    const user = dependency("user", async (ctx) => {
      const value = await ctx.get(token);
      await sleep(1);
      if (!value) {
        throw new RpcError("unauthenticated", "No token");
      }
      return { name: value === "t-ada" ? "ada" : "someone" };
    });
    const service = new Service("s").method(
      "whoami",
      { output: Out, deps: { user } },
      (_input, ctx) => {
        // ctx.deps.user is typed: { name: string }
        return { value: ctx.deps.user.name };
      },
    );
    await using c = await connect(new MicroAPI({ services: [service] }), t);
    assert.deepEqual(
      await c.connection.unary("s/whoami", undefined, {
        metadata: { authorization: "Bearer t-ada" },
      }),
      {
        value: "ada",
      },
    );
    const refused = await rejection(c.connection.unary("s/whoami"));
    assert.equal((refused as RpcError).code, "unauthenticated");
  },
);

/** A dependency that logs when it is made and when it is cleaned up. */
function tracked(name: string, log: string[]) {
  return dependency(name, async function* () {
    log.push(`open ${name}`);
    try {
      yield name;
    } finally {
      log.push(`close ${name}`);
    }
  });
}

eachTransport(
  "dependencies: generators are cleaned up last-made-first after a successful call",
  async (t) => {
    const log: string[] = [];
    const a = tracked("a", log);
    const b = dependency("b", async function* (ctx) {
      log.push(`open b (uses ${await ctx.get(a)})`);
      yield "b";
      log.push("close b"); // plain code after yield runs too
    });
    const service = new Service("s").method("m", { output: Out, deps: { b } }, () => {
      log.push("handler");
      return { value: "ok" };
    });
    await using c = await connect(new MicroAPI({ services: [service] }), t);
    await c.connection.unary("s/m");
    await waitFor(() => log.length === 5, "the cleanups");
    assert.deepEqual(log, ["open a", "open b (uses a)", "handler", "close b", "close a"]);
  },
);

eachTransport("dependencies: cleaned up when the handler fails", async (t) => {
  const log: string[] = [];
  const a = tracked("a", log);
  const service = new Service("s").method("m", { output: Out, deps: { a } }, () => {
    throw new RpcError("failed_precondition", "no");
  });
  await using c = await connect(new MicroAPI({ services: [service] }), t);
  assert.equal(
    (await rejection(c.connection.unary("s/m")) as RpcError).code,
    "failed_precondition",
  );
  await waitFor(() => log.length === 2, "the cleanup");
  assert.deepEqual(log, ["open a", "close a"]);
});

eachTransport(
  "dependencies: cleaned up when the client cancels a stream, after the handler let go",
  async (t) => {
    const log: string[] = [];
    const a = tracked("a", log);
    const service = new Service("s").method("ticks", {
      output: streaming(z.object({ i: z.number() })),
      deps: { a },
    }, async function* (_input, ctx) {
      try {
        for (let i = 0;; i++) {
          yield { i };
          await sleep(5);
          if (ctx.signal.aborted) return;
        }
      } finally {
        log.push("handler finally");
      }
    });
    await using c = await connect(new MicroAPI({ services: [service] }), t);
    const ticks = c.connection.serverStream("s/ticks");
    await ticks.next();
    await ticks.next();
    ticks.cancel();
    await waitFor(() => log.length === 3, "the cleanup");
    assert.deepEqual(log, ["open a", "handler finally", "close a"]);
  },
);

eachTransport(
  "dependencies: a client stream's dependencies are cleaned up at its end",
  async (t) => {
    const log: string[] = [];
    const a = tracked("a", log);
    const service = new Service("s").method("sum", {
      input: stream(z.object({ n: z.number() })),
      output: z.object({ total: z.number() }),
      deps: { a },
    }, async (items) => {
      let total = 0;
      for await (const item of items) total += item.n;
      log.push(`handler ${total}`);
      return { total };
    });
    await using c = await connect(new MicroAPI({ services: [service] }), t);
    const call = c.connection.clientStream("s/sum");
    await call.send({ n: 2 });
    await call.send({ n: 3 });
    assert.deepEqual(await call.end(), { total: 5 });
    await waitFor(() => log.length === 3, "the cleanup");
    assert.deepEqual(log, ["open a", "handler 5", "close a"]);
  },
);

eachTransport(
  "dependencies: app and service dependencies run for every method; failures stop the call",
  async (t) => {
    const log: string[] = [];
    const app_ = dependency("app", () => void log.push("app dep"));
    const svc = dependency("svc", (ctx) => {
      log.push("service dep");
      if (ctx.metadata.get("x-block") === "yes") throw new RpcError("permission_denied", "blocked");
    });
    const service = new Service("s", { deps: { svc } })
      .method("a", { output: Out }, () => ({ value: "a" }))
      .method("b", { output: Out }, () => ({ value: "b" }));
    await using c = await connect(new MicroAPI({ services: [service], deps: { app: app_ } }), t);
    await c.connection.unary("s/a");
    await c.connection.unary("s/b");
    assert.deepEqual(log, ["app dep", "service dep", "app dep", "service dep"]);
    const blocked = await rejection(
      c.connection.unary("s/a", undefined, { metadata: { "x-block": "yes" } }),
    );
    assert.equal((blocked as RpcError).code, "permission_denied");
  },
);

eachTransport(
  "dependencies: a circular dependency is an internal error naming the cycle",
  async (t) => {
    const reported: unknown[] = [];
    // deno-lint-ignore prefer-const
    let b: ReturnType<typeof dependency<number>>;
    const a = dependency("a", (ctx) => ctx.get(b));
    b = dependency("b", (ctx) => ctx.get(a));
    const service = new Service("s").method(
      "m",
      { output: Out, deps: { a } },
      () => ({ value: "x" }),
    );
    await using c = await connect(
      new MicroAPI({ services: [service], onError: (e) => reported.push(e) }),
      t,
    );
    const error = await rejection(c.connection.unary("s/m"));
    assert.equal((error as RpcError).code, "internal");
    assert.equal((reported[0] as Error).message, "Circular dependency: a -> b -> a");
  },
);

eachTransport(
  "dependencies: app.override() replaces a dependency, and can be undone",
  async (t) => {
    const db = dependency("db", () => ({ name: "real database" }));
    const service = new Service("s").method("m", { output: Out, deps: { db } }, (_input, ctx) => ({
      value: ctx.deps.db.name,
    }));
    const app = new MicroAPI({ services: [service] });
    await using c = await connect(app, t);
    app.override(db, () => ({ name: "fake database" }));
    assert.deepEqual(await c.connection.unary("s/m"), { value: "fake database" });
    app.override(db, undefined);
    assert.deepEqual(await c.connection.unary("s/m"), { value: "real database" });
  },
);

eachTransport(
  "dependencies: a cleanup that fails is reported, and the others still run",
  async (t) => {
    const log: string[] = [];
    const reported: unknown[] = [];
    const a = tracked("a", log);
    const broken = dependency("broken", async function* () {
      yield 1;
      throw new Error("could not close");
    });
    const service = new Service("s").method(
      "m",
      { output: Out, deps: { a, broken } },
      () => ({ value: "ok" }),
    );
    await using c = await connect(
      new MicroAPI({ services: [service], onError: (e) => reported.push(e) }),
      t,
    );
    assert.deepEqual(await c.connection.unary("s/m"), { value: "ok" });
    await waitFor(() => log.includes("close a"), "the other cleanup");
    assert.equal((reported[0] as Error).message, 'Cleanup of dependency "broken" failed');
  },
);
