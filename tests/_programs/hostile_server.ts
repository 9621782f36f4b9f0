/**
 * Serves two apps full of user code that fails in every way a user callback can (middleware that
 * does not return next()'s outcome, handlers and generators that throw or reject, dependencies that fail
 * to resolve or clean up, a schema that throws, a fallback that throws, shutdown hooks and a
 * lifespan teardown that throw) and whose onError itself fails: asynchronously in app "a" (with
 * CORS), synchronously in app "b". Prints {"a": url, "b": url, "runtime": ...}. SIGTERM shuts
 * both down; the process then exits on its own, with code 0 unless something crashed it.
 */
import process from "node:process";
import { dependency, MicroAPI, type Middleware, Service, stream, streaming, z } from "../../mod.ts";

const Empty = z.object({});
const Tick = z.object({ i: z.number() });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Plain JavaScript could pass these; the Middleware type refuses them all (it needs next()'s
// outcome back).
const voidNext = ((_ctx: unknown, next: () => Promise<unknown>) => {
  void next();
}) as unknown as Middleware;
// deno-lint-ignore require-await
const asyncVoidNext = (async (_ctx: unknown, next: () => Promise<unknown>) => {
  void next();
}) as unknown as Middleware;
const lateNext = ((_ctx: unknown, next: () => Promise<unknown>) => {
  setTimeout(() => void next(), 10);
  return Promise.resolve();
}) as unknown as Middleware;
const awaitedNext = (async (_ctx: unknown, next: () => Promise<unknown>) => {
  await next();
}) as unknown as Middleware;
const swallowed = (async (_ctx: unknown, next: () => Promise<unknown>) => {
  try {
    return await next();
  } catch {
    return { output: "forged" };
  }
}) as unknown as Middleware;

const failing = dependency("failing", async () => {
  await sleep(5);
  throw new Error("the dependency failed");
});
const dirty = dependency("dirty", function* () {
  yield "value";
  throw new Error("the cleanup failed");
});

function services(): Service[] {
  const mw = new Service("mw")
    .method("void_next", { output: Empty, middleware: [voidNext] }, async () => {
      await sleep(20);
      return {};
    })
    .method(
      "void_next_stream",
      { output: streaming(Tick), middleware: [voidNext] },
      async function* () {
        for (let i = 0; i < 5; i++) {
          await sleep(10);
          yield { i };
        }
      },
    )
    .method("async_void_next", { output: Empty, middleware: [asyncVoidNext] }, async () => {
      await sleep(20);
      return {};
    })
    .method("late_next", { output: Empty, middleware: [lateNext] }, async () => {
      await sleep(20);
      return {};
    })
    .method("awaited_next", { output: Empty, middleware: [awaitedNext] }, async () => {
      await sleep(5);
      return {};
    })
    .method("swallowed", { output: Empty, middleware: [swallowed] }, async () => {
      await sleep(5);
      throw new Error("the handler failed under a middleware that swallows it");
    });

  const handlers = new Service("handlers")
    .method("throws", { output: Empty }, () => {
      throw new Error("the handler failed");
    })
    .method("thenable", { output: Empty }, () =>
      ({
        // Not a native promise: every use wraps it anew.
        then(_resolve: unknown, reject: (error: unknown) => void) {
          setTimeout(() => reject(new Error("the thenable failed")), 5);
        },
      }) as never)
    .method("stream_throws", { output: streaming(Tick) }, async function* () {
      yield { i: 0 };
      await sleep(5);
      throw new Error("the generator failed");
    })
    .method("bad_output", { output: Tick }, () => ({ i: "one" }) as never);

  const deps = new Service("deps")
    .method("ignored", { output: Empty }, (_input, ctx) => {
      void ctx.get(failing);
      return {};
    })
    .method("declared", { output: Empty, deps: { failing } }, () => ({}))
    .method("cleanup", { output: Empty, deps: { dirty } }, () => ({}));

  const schemas = new Service("schemas")
    .method("refine_throws", {
      input: stream(
        z.object({ n: z.number() }).refine(() => {
          throw new Error("the refinement failed");
        }),
      ),
      output: Empty,
    }, async (messages) => {
      for await (const _ of messages) { /* the first one fails */ }
      return {};
    })
    .method("ok", { output: z.object({ ok: z.boolean() }) }, () => ({ ok: true }));

  return [mw, handlers, deps, schemas];
}

const fallback = (request: Request): Response | Promise<Response> => {
  const path = new URL(request.url).pathname;
  if (path === "/fallback/throws") throw new Error("the fallback failed");
  if (path === "/fallback/rejects") return Promise.reject(new Error("the fallback rejected"));
  if (path === "/fallback/nothing") return undefined as never;
  return new Response("not here", { status: 404 });
};

function app(name: string, onError: (error: unknown) => void, cors: boolean): MicroAPI {
  const created = new MicroAPI({
    services: services(),
    onError,
    fallback,
    ...(cors ? { cors: { origins: "*" as const } } : {}),
    lifespan: async function* () {
      yield;
      console.error(`${name}: teardown ran`);
      throw new Error(`${name}: the teardown failed`);
    },
  });
  created.onShutdown(() => {
    throw new Error(`${name}: a shutdown hook failed`);
  });
  created.onShutdown(() => void console.error(`${name}: the next shutdown hook ran`));
  return created;
}

const controller = new AbortController();
const serve = (created: MicroAPI) =>
  created.serve({ port: 0, hostname: "127.0.0.1", signal: controller.signal, gracePeriodMs: 500 });
const a = await serve(app("a", async () => {
  await sleep(1);
  throw new Error("onError rejected");
}, true));
const b = await serve(app("b", () => {
  throw new Error("onError threw");
}, false));

const stop = () => {
  // Nothing may keep the process alive once the servers are down.
  process.off("SIGTERM", stop);
  controller.abort();
};
process.on("SIGTERM", stop);
console.log(JSON.stringify({ a: a.url, b: b.url, runtime: "Bun" in globalThis ? "bun" : "deno" }));
