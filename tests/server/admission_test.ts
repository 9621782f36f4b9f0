/**
 * Admission, the one step before the pipeline, as a transport author uses it: a transport of a
 * few lines here (messages from an array, a sink that records) gets lookup, the pattern check,
 * draining, timeouts, default input and in-flight counting from `app.admission` alone.
 */
import assert from "node:assert/strict";
import { sleep, test } from "../_harness.ts";
import { MicroAPI, RpcError, Service, streaming, z } from "../../mod.ts";
import type { AdmittedCall, CallSink, MessageSource } from "../../src/server/call.ts";

const users = new Service("users", { version: 2 })
  .method(
    "get_user",
    { input: z.object({ id: z.number().default(7) }), output: z.object({ id: z.number() }) },
    ({ id }) => ({ id }),
  )
  .method("count", { output: streaming(z.object({ i: z.number() })) }, async function* () {
    for (let i = 0; i < 3; i++) yield { i };
  })
  .method("slow", { output: z.object({}) }, async () => {
    await sleep(100);
    return {};
  })
  .method(
    "remaining",
    { output: z.object({ ms: z.number() }) },
    (_input, ctx) => ({ ms: ctx.deadline === undefined ? -1 : ctx.deadline - Date.now() }),
  );

/** Messages from an array: what a transport decodes. */
function source(messages: unknown[]): MessageSource & { cancelled: boolean } {
  let index = 0;
  return {
    cancelled: false,
    next() {
      return Promise.resolve(
        index < messages.length
          ? { done: false, value: messages[index++] }
          : { done: true, value: undefined },
      );
    },
    cancel() {
      this.cancelled = true;
    },
  };
}

/** A sink that records what the pipeline sends. */
function recorder(): CallSink & { sent: unknown[]; error?: RpcError; closed: boolean } {
  return {
    sent: [],
    closed: false,
    open() {},
    send(message) {
      this.sent.push(message);
      return undefined;
    },
    close(error) {
      this.error = error;
      this.closed = true;
    },
  };
}

function admitted(call: AdmittedCall | RpcError): AdmittedCall {
  assert.ok(!(call instanceof RpcError), `not admitted: ${call}`);
  return call;
}

test("admission: finds a method by route or by path, and runs it with the app's pipeline", async () => {
  const app = new MicroAPI({ services: [users] });
  const metadata = new Headers();
  for (
    const route of [{ service: "users", method: "get_user", version: 2 }, "/v2/users/get_user"]
  ) {
    const call = admitted(app.admission.admit({ route, transport: "custom", metadata }));
    assert.equal(call.entry.method.name, "get_user");
    assert.equal(call.timeoutMs, undefined);
    const sink = recorder();
    await call.run(source([{ id: 1 }]), sink);
    assert.deepEqual(sink.sent, [{ id: 1 }]);
    assert.equal(sink.error, undefined);
  }
  const stream = admitted(
    app.admission.admit({ route: "/v2/users/count", transport: "custom", metadata }),
  );
  const sink = recorder();
  await stream.run(source([{}]), sink);
  assert.deepEqual(sink.sent, [{ i: 0 }, { i: 1 }, { i: 2 }]);
});

test("admission: no input message means {} for a method with an input schema", async () => {
  const app = new MicroAPI({ services: [users] });
  const call = admitted(
    app.admission.admit({
      route: "/v2/users/get_user",
      transport: "custom",
      metadata: new Headers(),
    }),
  );
  const sink = recorder();
  await call.run(source([]), sink);
  assert.deepEqual(sink.sent, [{ id: 7 }], "the schema's default, applied to {}");
});

test("admission: not_found, the pattern check, and the timeout check, one error each", () => {
  const app = new MicroAPI({ services: [users] });
  const metadata = new Headers();
  const error = (call: AdmittedCall | RpcError): RpcError => {
    assert.ok(call instanceof RpcError, "admitted, but should not be");
    return call;
  };
  const missing = error(
    app.admission.admit({ route: "/v2/users/get_usr", transport: "t", metadata }),
  );
  assert.equal(missing.code, "not_found");
  assert.match(missing.message, /did you mean "get_user"\?/);
  assert.equal(
    app.admission.notFound({ service: "users", method: "get_usr", version: 2 }).message,
    missing.message,
  );
  assert.equal(app.admission.find("/v2/users/get_usr"), undefined);
  assert.equal(
    app.admission.find({ service: "users", method: "count", version: 2 })?.method.name,
    "count",
  );

  const mismatch = error(
    app.admission.admit({ route: "/v2/users/count", pattern: "unary", transport: "t", metadata }),
  );
  assert.equal(mismatch.code, "unimplemented");
  assert.equal(
    mismatch.message,
    "v2/users.count is a server streaming method, but it was called as unary: call it with " +
      "serverStream()",
  );
  assert.ok(
    !(app.admission.admit({
      route: "/v2/users/count",
      pattern: "server_streaming",
      transport: "t",
      metadata,
    }) instanceof RpcError),
  );

  const header = error(
    app.admission.admit({
      route: "/v2/users/get_user",
      transport: "t",
      metadata,
      timeout: "soon",
      timeoutSource: "header",
      timeoutName: "x-my-timeout",
    }),
  );
  assert.equal(header.code, "invalid_argument");
  assert.match(header.message, /^Header x-my-timeout must be a whole number of milliseconds/);
  const frame = error(
    app.admission.admit({ route: "/v2/users/get_user", transport: "t", metadata, timeout: -1 }),
  );
  assert.match(frame.message, /^"timeout_ms" must be a whole number of milliseconds/);
  const capped = admitted(
    app.admission.admit({
      route: "/v2/users/get_user",
      transport: "t",
      metadata,
      timeout: "9999999999",
      timeoutSource: "header",
    }),
  );
  assert.equal(capped.timeoutMs, 2_147_483_647);
});

test("admission: the timeout it read is the call's deadline", async () => {
  const app = new MicroAPI({ services: [users] });
  const call = admitted(
    app.admission.admit({
      route: "/v2/users/remaining",
      transport: "t",
      metadata: new Headers(),
      timeout: "5000",
      timeoutSource: "header",
    }),
  );
  const sink = recorder();
  await call.run(source([]), sink);
  const { ms } = sink.sent[0] as { ms: number };
  assert.ok(ms > 4_000 && ms <= 5_000, `the deadline is ${ms} ms away`);
});

test("admission: running a call counts it in flight; once shutdown begins, calls are refused", async () => {
  const app = new MicroAPI({ services: [users] });
  const server = await app.serve({ port: 0, hostname: "127.0.0.1", gracePeriodMs: 2_000 });
  const metadata = new Headers();
  const announce = () => app.admission.admit({ route: "/v2/users/slow", transport: "t", metadata });
  try {
    const running = admitted(announce());
    // Admitted before shutdown, run after it began: refused too.
    const late = admitted(announce());
    assert.equal(app.activeCalls, 0, "admitting alone counts nothing");
    const sink = recorder();
    const done = running.run(source([]), sink);
    assert.equal(app.activeCalls, 1);
    const rerun = await running.run(source([]), recorder()).then(() => undefined, (e) => e);
    assert.ok(rerun instanceof TypeError, "a call runs once");
    const shutdown = server.shutdown(); // draining begins at once
    const refused = announce();
    assert.ok(refused instanceof RpcError);
    assert.equal(refused.code, "unavailable");
    assert.equal(refused.message, "The server is shutting down; try again");
    const lateSink = recorder();
    const lateSource = source([]);
    await late.run(lateSource, lateSink);
    assert.equal(lateSink.error?.code, "unavailable");
    assert.equal(lateSource.cancelled, true);
    assert.equal(app.activeCalls, 1, "shutdown waits for the call in flight");
    await done;
    assert.equal(sink.error, undefined, "it finished within the grace period");
    await shutdown;
    assert.equal(app.activeCalls, 0);
  } finally {
    await server.shutdown();
  }
});

test("admission: cancel() ends a running call, with its RpcError or as cancelled; before run(), at once", async () => {
  let aborted: unknown;
  let started = 0;
  const waits = new Service("waits").method("wait", { output: z.object({}) }, async (_i, ctx) => {
    started++;
    await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
    aborted = ctx.signal.reason;
    return {};
  });
  const app = new MicroAPI({ services: [waits] });
  const announce = () =>
    admitted(
      app.admission.admit({ route: "/waits/wait", transport: "t", metadata: new Headers() }),
    );

  // While it runs, a plain cancel is the peer going away.
  const running = announce();
  const sink = recorder();
  const done = running.run(source([]), sink);
  await sleep(10);
  assert.equal(started, 1);
  running.cancel();
  await done;
  assert.equal(sink.error?.code, "cancelled");
  assert.equal(sink.error?.message, "The client cancelled the call");
  assert.equal(aborted, sink.error, "the handler's signal aborted with the call's status");
  running.cancel(new RpcError("internal", "late")); // after the end: nothing happens
  assert.equal(sink.error?.code, "cancelled");

  // An RpcError is the status the call ends with (a call that broke the transport's protocol).
  const broken = announce();
  const brokenSink = recorder();
  const brokenDone = broken.run(source([]), brokenSink);
  await sleep(10);
  broken.cancel(new RpcError("invalid_argument", "Bad frame: out of credit"));
  await brokenDone;
  assert.equal(brokenSink.error?.code, "invalid_argument");
  assert.equal(brokenSink.error?.message, "Bad frame: out of credit");

  // Cancelled before it runs: it ends at once, and the handler never starts.
  const early = announce();
  early.cancel();
  const earlySink = recorder();
  const earlySource = source([]);
  await early.run(earlySource, earlySink);
  assert.equal(earlySink.error?.code, "cancelled");
  assert.equal(earlySource.cancelled, true);
  assert.equal(started, 2, "the handler of the early cancelled call never ran");
  assert.equal(app.activeCalls, 0);
});
