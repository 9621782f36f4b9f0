/** Middleware: onion order, short-circuits, metadata, and the final status of every call. */
import assert from "node:assert/strict";
import { rejection, sleep, waitFor } from "../_harness.ts";
import { connect, eachTransport } from "../_transports.ts";
import {
  type Context,
  MicroAPI,
  type Middleware,
  RpcError,
  Service,
  streaming,
  z,
} from "../../mod.ts";

const Empty = z.object({});
const Count = z.object({ i: z.number() });

/** A middleware that logs around next(), and the final status it saw. */
function tracer(name: string, log: string[]): Middleware {
  return async (_ctx, next) => {
    log.push(`enter ${name}`);
    try {
      await next();
      log.push(`exit ${name} ok`);
    } catch (error) {
      log.push(`exit ${name} ${RpcError.is(error) ? error.code : "?"}`);
      throw error;
    }
  };
}

eachTransport("middleware: app, service and method middleware run in onion order", async (t) => {
  const log: string[] = [];
  const service = new Service("s", { middleware: [tracer("service 1", log)] })
    .method("m", { output: Empty, middleware: [tracer("method", log)] }, () => {
      log.push("handler");
      return {};
    });
  service.use(tracer("service 2", log));
  const app = new MicroAPI({ services: [service], middleware: [tracer("app 1", log)] });
  app.use(tracer("app 2", log));
  await using c = await connect(app, t);
  await c.connection.unary("s/m");
  assert.deepEqual(log, [
    "enter app 1",
    "enter app 2",
    "enter service 1",
    "enter service 2",
    "enter method",
    "handler",
    "exit method ok",
    "exit service 2 ok",
    "exit service 1 ok",
    "exit app 2 ok",
    "exit app 1 ok",
  ]);
});

eachTransport(
  "middleware: throwing before next() refuses the call without reading its input",
  async (t) => {
    let handled = 0;
    const guard: Middleware = (ctx, next) => {
      if (ctx.metadata.get("x-key") !== "open sesame") {
        throw new RpcError("unauthenticated", "Missing or wrong x-key");
      }
      return next();
    };
    const service = new Service("s").method("m", {
      input: z.object({ n: z.number() }),
      output: Empty,
    }, () => {
      handled++;
      return {};
    });
    const app = new MicroAPI({ services: [service], middleware: [guard] });
    await using c = await connect(app, t);
    // The input is invalid: a guard that runs first answers unauthenticated, not invalid_argument.
    const refused = await rejection(c.connection.unary("s/m", { n: "not a number" }));
    assert.ok(RpcError.is(refused));
    assert.equal(refused.code, "unauthenticated");
    assert.equal(refused.message, "Missing or wrong x-key");
    assert.equal(handled, 0);
    await c.connection.unary("s/m", { n: 1 }, { metadata: { "x-key": "open sesame" } });
    assert.equal(handled, 1);
  },
);

eachTransport(
  "middleware: reads metadata, sets headers before and after next(), and trailers",
  async (t) => {
    const stamp: Middleware = async (ctx, next) => {
      ctx.responseHeaders.set("x-before", ctx.metadata.get("x-caller") ?? "nobody");
      await next();
      if (ctx.pattern === "unary") ctx.responseHeaders.set("x-after", "still in time");
      ctx.trailers.set("x-status", "done");
    };
    const service = new Service("s")
      .method("unary", { output: Empty }, () => ({}))
      .method("stream", { output: streaming(Count) }, async function* () {
        yield { i: 1 };
      });
    const app = new MicroAPI({ services: [service], middleware: [stamp] });
    await using c = await connect(app, t);
    const capture = () => {
      const seen: { headers?: Headers; trailers?: Headers } = {};
      const options = {
        metadata: { "x-caller": "tests" },
        onHeaders: (h: Headers) => (seen.headers = h),
        onTrailers: (h: Headers) => (seen.trailers = h),
      };
      return { seen, options };
    };
    const unary = capture();
    await c.connection.unary("s/unary", undefined, unary.options);
    assert.equal(unary.seen.headers?.get("x-before"), "tests");
    assert.equal(unary.seen.headers?.get("x-after"), "still in time");
    assert.equal(unary.seen.trailers?.get("x-status"), "done");
    const stream = capture();
    await c.connection.serverStream("s/stream", {}, stream.options).toArray();
    assert.equal(stream.seen.headers?.get("x-before"), "tests");
    assert.equal(stream.seen.trailers?.get("x-status"), "done");
  },
);

eachTransport(
  "middleware: next() settles after a stream's last message, with its final status",
  async (t) => {
    const log: string[] = [];
    const service = new Service("s")
      .method("three", { output: streaming(Count) }, async function* () {
        for (let i = 1; i <= 3; i++) {
          log.push(`yield ${i}`);
          yield { i };
        }
      })
      .method("broken", { output: streaming(Count) }, async function* () {
        yield { i: 1 };
        throw new RpcError("data_loss", "lost");
      })
      .method("endless", { output: streaming(Count) }, async function* (_input, ctx) {
        for (let i = 0; !ctx.signal.aborted; i++) {
          yield { i };
          await sleep(5);
        }
      });
    const app = new MicroAPI({ services: [service], middleware: [tracer("app", log)] });
    await using c = await connect(app, t);

    await c.connection.serverStream("s/three").toArray();
    assert.deepEqual(log, ["enter app", "yield 1", "yield 2", "yield 3", "exit app ok"]);

    log.length = 0;
    await rejection(c.connection.serverStream("s/broken").toArray());
    assert.deepEqual(log, ["enter app", "exit app data_loss"]);

    log.length = 0;
    const stream = c.connection.serverStream("s/endless");
    await stream.next();
    stream.cancel();
    await waitFor(() => log.length === 2, "the middleware to see the end");
    assert.deepEqual(log, ["enter app", "exit app cancelled"]);

    log.length = 0;
    await rejection(c.connection.serverStream("s/endless", {}, { timeoutMs: 50 }).toArray());
    await waitFor(() => log.length === 2, "the middleware to see the deadline");
    assert.deepEqual(log, ["enter app", "exit app deadline_exceeded"]);
  },
);

eachTransport(
  "middleware: swallowing a unary error, calling next() twice, not waiting for it, and throwing are all errors",
  async (t) => {
    const reported: unknown[] = [];
    const swallow: Middleware = async (_ctx, next) => {
      try {
        await next();
      } catch {
        // swallowed on purpose
      }
    };
    const twice: Middleware = async (_ctx, next) => {
      await next();
      await next();
    };
    const crash: Middleware = () => {
      throw new Error("middleware bug");
    };
    // What plain JavaScript can pass (the type refuses it): the rest of the call runs unwatched.
    const voided = ((_ctx: unknown, next: () => Promise<void>) => {
      void next();
    }) as unknown as Middleware;
    const failing = () => {
      throw new RpcError("not_found", "nothing");
    };
    const service = new Service("s")
      .method("swallowed", { output: Empty, middleware: [swallow] }, failing)
      .method("twice", { output: Empty, middleware: [twice] }, () => ({}))
      .method("crash", { output: Empty, middleware: [crash] }, () => ({}))
      .method("voided", { output: Empty, middleware: [voided] }, async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return {};
      })
      .method(
        "voided_stream",
        { output: streaming(Count), middleware: [voided] },
        async function* () {
          await new Promise((resolve) => setTimeout(resolve, 20));
          yield { i: 0 };
        },
      );
    const app = new MicroAPI({ services: [service], onError: (e) => reported.push(e) });
    await using c = await connect(app, t);
    const swallowed = await rejection(c.connection.unary("s/swallowed"));
    assert.equal((swallowed as RpcError).code, "internal");
    assert.equal(
      (swallowed as Error).message,
      "A middleware ended the call without a response or an error",
    );
    const twiceError = await rejection(c.connection.unary("s/twice"));
    assert.equal((twiceError as RpcError).code, "internal");
    const crashed = await rejection(c.connection.unary("s/crash"));
    assert.equal((crashed as RpcError).code, "internal");
    assert.equal((crashed as Error).message, "internal error");
    for (
      const call of [
        c.connection.unary("s/voided"),
        c.connection.serverStream("s/voided_stream").toArray(),
      ]
    ) {
      const voidedError = await rejection(call);
      assert.equal((voidedError as RpcError).code, "internal");
      assert.equal((voidedError as Error).message, "internal error");
    }
    assert.equal(
      reported.filter((e) =>
        (e as Error).message ===
          "A middleware returned before the rest of the call ended: return or await next()"
      ).length,
      2,
    );
    // The calls' handlers were still running; their end must not surface anywhere later.
    await sleep(50);
    assert.ok(reported.some((e) => (e as Error).message === "A middleware called next() twice"));
    assert.ok(reported.some((e) => (e as Error).message === "middleware bug"));
  },
);

eachTransport("middleware: sees the call's service, method, pattern and transport", async (t) => {
  let seen: Pick<Context, "service" | "method" | "pattern" | "transport" | "version"> | undefined;
  const spy: Middleware = (ctx, next) => {
    seen = {
      service: ctx.service,
      method: ctx.method,
      pattern: ctx.pattern,
      transport: ctx.transport,
      version: ctx.version,
    };
    return next();
  };
  const service = new Service("s", { version: 3 }).method(
    "m",
    { output: streaming(Count) },
    async function* () {
      yield { i: 0 };
    },
  );
  const app = new MicroAPI({ services: [service], middleware: [spy] });
  await using c = await connect(app, t);
  await c.connection.serverStream("v3/s/m").toArray();
  assert.deepEqual(seen, {
    service: "s",
    method: "m",
    pattern: "server_streaming",
    transport: t === "ws" ? "websocket" : t,
    version: 3,
  });
});
