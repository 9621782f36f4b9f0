/** Lifespan, startup and shutdown hooks, app state, versions side by side, deprecation, health. */
import assert from "node:assert/strict";
import { rejection, sleep, test, waitFor } from "../_harness.ts";
import { connect, eachTransport } from "../_transports.ts";
import { Connection, MicroAPI, type RpcError, Service, streaming, z } from "../../mod.ts";

declare module "../../mod.ts" {
  interface AppState {
    greeting?: string;
    log?: string[];
  }
}

test("lifecycle: setup runs before the first call; teardown after in-flight calls drain", async () => {
  const log: string[] = [];
  const service = new Service("s").method(
    "slow",
    { output: z.object({ greeting: z.string() }) },
    async (_input, ctx) => {
      log.push("call started");
      await sleep(100);
      log.push("call finished");
      return { greeting: ctx.state.greeting ?? "none" };
    },
  );
  const app = new MicroAPI({
    services: [service],
    state: { log },
    lifespan: async function* (app) {
      log.push("setup");
      app.state.greeting = "hello from the lifespan";
      yield;
      log.push("teardown");
    },
  });
  app.onStartup(() => void log.push("startup hook"));
  app.onShutdown(() => void log.push("shutdown hook"));
  const server = await app.serve({ port: 0, hostname: "127.0.0.1" });
  const connection = new Connection(server.url);
  const call = connection.unary("s/slow");
  await waitFor(() => log.includes("call started"), "the call to start");
  const stopped = server.shutdown({ gracePeriodMs: 2000 });
  assert.deepEqual(await call, { greeting: "hello from the lifespan" });
  await stopped;
  assert.deepEqual(log, [
    "setup",
    "startup hook",
    "call started",
    "call finished",
    "shutdown hook",
    "teardown",
  ]);
  await connection.close();
});

test("lifecycle: a failing setup or startup hook rejects serve(); stop() still tears down", async () => {
  const service = new Service("s").method("m", {}, () => {});
  const broken = new MicroAPI({
    services: [service],
    // deno-lint-ignore require-yield -- its setup fails before it could yield
    lifespan: async function* () {
      await sleep(1);
      throw new Error("no database");
    },
  });
  assert.equal(
    ((await rejection(broken.serve({ port: 0, hostname: "127.0.0.1" }))) as Error).message,
    "no database",
  );
  await broken.stop();

  const log: string[] = [];
  const app = new MicroAPI({
    services: [service],
    lifespan: async function* () {
      log.push("setup");
      yield;
      log.push("teardown");
    },
  });
  app.onStartup(() => {
    throw new Error("bad config");
  });
  const error = await rejection(app.serve({ port: 0, hostname: "127.0.0.1" }));
  assert.equal((error as Error).message, "bad config");
  await app.stop();
  assert.deepEqual(log, ["setup", "teardown"]);
});

test("lifecycle: a failing shutdown hook does not skip the others or the teardown", async () => {
  const log: string[] = [];
  const app = new MicroAPI({
    services: [new Service("s").method("m", {}, () => {})],
    lifespan: async function* () {
      yield;
      log.push("teardown");
      throw new Error("teardown failed");
    },
  });
  app.onShutdown(() => {
    throw new Error("hook failed");
  });
  app.onShutdown(() => void log.push("second hook"));
  const server = await app.serve({ port: 0, hostname: "127.0.0.1" });
  const error = await rejection(server.shutdown());
  assert.ok(error instanceof AggregateError, `got ${error}`);
  assert.deepEqual(error.errors.map((e: Error) => e.message), ["hook failed", "teardown failed"]);
  assert.deepEqual(log, ["second hook", "teardown"]);
  assert.equal(await rejection(server.finished), error);
  assert.equal(await rejection(server.shutdown()), error, "the same outcome every time");
});

eachTransport(
  "lifecycle: handlers, middleware and dependencies read the typed app state",
  async (t) => {
    const service = new Service("s").method(
      "m",
      { output: z.object({ greeting: z.string() }) },
      (_input, ctx) => ({
        greeting: ctx.state.greeting!,
      }),
    );
    const app = new MicroAPI({ services: [service], state: { greeting: "hi" } });
    app.use((ctx, next) => {
      ctx.responseHeaders.set("x-greeting", ctx.state.greeting ?? "");
      return next();
    });
    await using c = await connect(app, t);
    let header: string | null = null;
    assert.deepEqual(
      await c.connection.unary("s/m", undefined, {
        onHeaders: (h) => (header = h.get("x-greeting")),
      }),
      {
        greeting: "hi",
      },
    );
    assert.equal(header, "hi");
  },
);

const v1 = new Service("users", { version: 1, deprecated: "use v2" })
  .method("get_user", {
    input: z.object({ id: z.number() }),
    output: z.object({ name: z.string() }),
  }, ({ id }) => ({
    name: `v1 user ${id}`,
  }));
const v2 = new Service("users", { version: 2 })
  .method("get_user", {
    input: z.object({ id: z.string() }),
    output: z.object({ name: z.string(), email: z.string() }),
  }, ({ id }) => ({
    name: `v2 user ${id}`,
    email: `${id}@example.com`,
  }))
  .method("lookup", {
    input: z.object({ id: z.string() }),
    output: z.object({ name: z.string() }),
    deprecated: "use get_user",
  }, ({ id }) => ({
    name: id,
  }));

eachTransport(
  "versioning: versions side by side; deprecation reaches the client as a header",
  async (t) => {
    await using c = await connect(new MicroAPI({ services: [v1, v2] }), t);
    const headers: Record<string, string | null> = {};
    const watch = (name: string) => ({
      onHeaders: (h: Headers) => (headers[name] = h.get("deprecation")),
    });
    assert.deepEqual(await c.connection.unary("v1/users/get_user", { id: 7 }, watch("v1")), {
      name: "v1 user 7",
    });
    assert.deepEqual(await c.connection.unary("v2/users/get_user", { id: "7" }, watch("v2")), {
      name: "v2 user 7",
      email: "7@example.com",
    });
    assert.deepEqual(await c.connection.unary("v2/users/lookup", { id: "x" }, watch("lookup")), {
      name: "x",
    });
    assert.deepEqual(headers, { v1: "true", v2: null, lookup: "true" });
    // Each version validates with its own schema.
    const wrong = await rejection(c.connection.unary("v2/users/get_user", { id: 7 }));
    assert.equal((wrong as RpcError).code, "invalid_argument");
  },
);

eachTransport("health: the health service answers check, and watch streams changes", async (t) => {
  const users = new Service("users").method("ping", {}, () => {});
  const app = new MicroAPI({ services: [users] });
  await using c = await connect(app, t);
  assert.deepEqual(await c.connection.unary("health/check", {}), { status: "serving" });
  assert.deepEqual(await c.connection.unary("health/check", { service: "users" }), {
    status: "serving",
  });
  const unknown = await rejection(c.connection.unary("health/check", { service: "nope" }));
  assert.equal((unknown as RpcError).code, "not_found");

  const watch = c.connection.serverStream<{ status: string }>("health/watch", { service: "users" });
  assert.deepEqual((await watch.next()).value, { status: "serving" });
  app.health!.set("users", "not_serving");
  assert.deepEqual((await watch.next()).value, { status: "not_serving" });
  app.health!.set("users", "serving");
  assert.deepEqual((await watch.next()).value, { status: "serving" });
  watch.cancel();
});

test("health: GET /_microapi/health for load balancers, per service, and while shutting down", async () => {
  const users = new Service("users").method("slow", {}, () => sleep(200));
  const app = new MicroAPI({ services: [users] });
  const server = await app.serve({ port: 0, hostname: "127.0.0.1" });
  const get = async (query = "") => {
    const response = await fetch(`${server.url}/_microapi/health${query}`);
    return { status: response.status, body: await response.json() };
  };
  assert.deepEqual(await get(), {
    status: 200,
    body: { status: "serving", services: { users: "serving" } },
  });
  app.health!.set("users", "not_serving");
  assert.deepEqual(await get("?service=users"), {
    status: 503,
    body: { service: "users", status: "not_serving" },
  });
  assert.equal((await get("?service=nope")).status, 404);
  // HEAD, as some load balancers check: the same status, no body.
  const head = await fetch(`${server.url}/_microapi/health?service=users`, { method: "HEAD" });
  assert.equal(head.status, 503);
  assert.match(head.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(await head.text(), "");
  app.health!.set("users", "serving");
  const connection = new Connection(server.url);
  const call = connection.unary("users/slow");
  await sleep(20);
  const stopping = server.shutdown({ gracePeriodMs: 1000 });
  assert.equal((await get()).status, 503, "not serving while draining");
  await call;
  await stopping;
  await connection.close();
});

test("health: health: false removes the endpoint and the service", async () => {
  const app = new MicroAPI({
    services: [new Service("health").method("mine", {}, () => {})],
    health: false,
  });
  const response = await app.fetch(new Request("http://x/_microapi/health"));
  assert.equal(response.status, 404);
  await response.body?.cancel();
  assert.throws(
    () => new MicroAPI({ services: [new Service("health")] }),
    /the app has a built-in "health" service; pass health: false/,
  );
  assert.equal(app.health, undefined);
});

test("health: watch ends its stream when the call is cancelled", async () => {
  const app = new MicroAPI({ services: [] });
  await using c = await connect(app, "http");
  const watch = c.connection.serverStream("health/watch", {});
  await watch.next();
  watch.cancel();
  await waitFor(() => app.activeCalls === 0, "the watch call to end");
});

eachTransport("versioning: a streaming method of a deprecated version says so too", async (t) => {
  const old = new Service("feed", { version: 1, deprecated: true }).method(
    "items",
    { output: streaming(z.object({ n: z.number() })) },
    async function* () {
      yield { n: 1 };
    },
  );
  await using c = await connect(new MicroAPI({ services: [old] }), t);
  let deprecation: string | null = null;
  await c.connection.serverStream("v1/feed/items", {}, {
    onHeaders: (h) => (deprecation = h.get("deprecation")),
  }).toArray();
  assert.equal(deprecation, "true");
});
