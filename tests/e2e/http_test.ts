/**
 * Every pattern and every failure path over real sockets (127.0.0.1, port 0), through the runtime
 * client. Runs under Deno and under Bun.
 */
import assert from "node:assert/strict";
import { rejection, sleep, test, waitFor, within } from "../_harness.ts";
import { fixtureServices, gate, type Probe } from "../_fixtures.ts";
import { Connection, MicroAPI, RpcError } from "../../mod.ts";
import type { Server } from "../../mod.ts";

interface Setup {
  server: Server;
  connection: Connection;
  probe: Probe;
  [Symbol.asyncDispose](): Promise<void>;
}

async function start(): Promise<Setup> {
  const { services, probe } = fixtureServices();
  const server = await new MicroAPI({ services, onError: () => {} }).serve({
    port: 0,
    hostname: "127.0.0.1",
  });
  const connection = new Connection(server.url);
  return {
    server,
    connection,
    probe,
    async [Symbol.asyncDispose]() {
      await connection.close();
      await server.shutdown({ gracePeriodMs: 1000 });
    },
  };
}

function code(error: unknown): string {
  assert.ok(RpcError.is(error), `expected an RpcError, got ${error}`);
  return error.code;
}

test("e2e HTTP unary: a call returns the handler's result", async () => {
  await using s = await start();
  assert.deepEqual(await s.connection.unary("users/get_user", { user_id: 3 }), {
    username: "user3",
    age: 30,
  });
  assert.deepEqual(await s.connection.unary("v2/users/get_user", { id: "z" }), { name: "v2:z" });
  assert.equal(await s.connection.unary("probes/ping"), null);
});

test("e2e HTTP unary: errors arrive as RpcError with the server's code and details", async () => {
  await using s = await start();
  const notFound = await rejection(s.connection.unary("users/get_user", { user_id: 404 }));
  assert.equal(code(notFound), "not_found");
  assert.deepEqual((notFound as RpcError).details, { user_id: 404 });
  const invalid = await rejection(s.connection.unary("users/get_user", { user_id: "x" }));
  assert.equal(code(invalid), "invalid_argument");
  const internal = await rejection(s.connection.unary("users/get_user", { user_id: 500 }));
  assert.equal(code(internal), "internal");
  assert.equal((internal as RpcError).message, "internal error");
  const missing = await rejection(s.connection.unary("users/nope", {}));
  assert.equal(code(missing), "not_found");
});

test("e2e HTTP unary: metadata goes out as headers; headers and trailers come back", async () => {
  await using s = await start();
  let headers: Headers | undefined;
  let trailers: Headers | undefined;
  const result = await s.connection.unary("probes/metadata", undefined, {
    metadata: { "x-caller": "e2e" },
    onHeaders: (h) => (headers = h),
    onTrailers: (t) => (trailers = t),
  });
  assert.deepEqual(result, { caller: "e2e" });
  assert.equal(headers?.get("x-served-by"), "probes");
  assert.equal(headers?.get("trailer-x-cost"), null);
  assert.equal(trailers?.get("x-cost"), "7");
});

test("e2e HTTP server stream: every message, then the end", async () => {
  await using s = await start();
  const users = await s.connection.serverStream("users/list_users", { limit: 5 }).toArray();
  assert.deepEqual(users.map((u) => (u as { age: number }).age), [0, 1, 2, 3, 4]);
});

test("e2e HTTP server stream: message 1 reaches the client before the handler yields message 2", async () => {
  await using s = await start();
  const messages = s.connection.serverStream<{ text: string }>("probes/gated");
  // The handler cannot yield "second" until the gate opens, and the gate opens only after the
  // client holds "first": if the server buffered, this would hang and time out.
  const first = await within(messages.next(), 3000, "first message");
  assert.deepEqual(first, { done: false, value: { text: "first" } });
  gate(s.probe, "gated").resolve();
  assert.deepEqual(await messages.next(), { done: false, value: { text: "second" } });
  assert.equal((await messages.next()).done, true);
});

test("e2e HTTP server stream: a failure half way throws after the messages that came before", async () => {
  await using s = await start();
  const seen: unknown[] = [];
  const error = await rejection((async () => {
    for await (const message of s.connection.serverStream("probes/fail_after", { n: 3 })) {
      seen.push(message);
    }
  })());
  assert.deepEqual(seen, [{ i: 0 }, { i: 1 }, { i: 2 }]);
  assert.equal(code(error), "data_loss");
  assert.deepEqual((error as RpcError).details, { after: 3 });
});

test("e2e HTTP server stream: a response cut off without its end line is unavailable, not success", async () => {
  // A fake server that drops the connection after one message.
  const connection = new Connection("http://cut.test", {
    fetch: () =>
      Promise.resolve(
        new Response('{"message":{"i":0}}\n', {
          headers: { "content-type": "application/x-ndjson" },
        }),
      ),
  });
  const stream = connection.serverStream("probes/count", { to: 5 });
  assert.deepEqual(await stream.next(), { done: false, value: { i: 0 } });
  const error = await rejection(stream.next());
  assert.equal(code(error), "unavailable");
  assert.match((error as Error).message, /ended without a final status/);
});

test("e2e HTTP server stream: leaving the loop early cancels the handler and runs its finally", async () => {
  await using s = await start();
  let count = 0;
  for await (const _ of s.connection.serverStream("probes/ticks", { every_ms: 5 })) {
    if (++count === 3) break;
  }
  await waitFor(() => s.probe.finalized.has("ticks"), "the handler's finally");
  const ctx = s.probe.contexts.get("ticks")!;
  assert.equal(ctx.signal.aborted, true);
  assert.equal((ctx.signal.reason as RpcError).code, "cancelled");
});

test("e2e HTTP server stream: aborting the signal cancels the call on both sides", async () => {
  await using s = await start();
  const controller = new AbortController();
  const stream = s.connection.serverStream("probes/ticks", { every_ms: 5 }, {
    signal: controller.signal,
  });
  await stream.next();
  controller.abort();
  const error = await rejection((async () => {
    for await (const _ of stream) { /* drain until the abort is noticed */ }
  })());
  assert.equal(code(error), "cancelled");
  await waitFor(() => s.probe.finalized.has("ticks"), "the handler's finally");
});

test("e2e HTTP server stream: a deadline ends the stream with deadline_exceeded on both sides", async () => {
  await using s = await start();
  const seen: unknown[] = [];
  const error = await within(
    rejection((async () => {
      for await (
        const tick of s.connection.serverStream("probes/ticks", { every_ms: 10 }, {
          timeoutMs: 150,
        })
      ) {
        seen.push(tick);
      }
    })()),
    3000,
    "deadline",
  );
  assert.equal(code(error), "deadline_exceeded");
  assert.ok(seen.length >= 2, `expected some ticks before the deadline, got ${seen.length}`);
  await waitFor(() => s.probe.finalized.has("ticks"), "the handler's finally");
  const reason = s.probe.contexts.get("ticks")!.signal.reason as RpcError;
  assert.equal(reason.code, "deadline_exceeded");
});

test("e2e HTTP unary: a deadline fails the call promptly even if the handler ignores it", async () => {
  await using s = await start();
  const started = Date.now();
  const error = await rejection(
    s.connection.unary("probes/ignore_signal", { ms: 400 }, { timeoutMs: 50 }),
  );
  assert.equal(code(error), "deadline_exceeded");
  assert.ok(Date.now() - started < 350, "the client must not wait for the handler");
  const ctx = s.probe.contexts.get("ignore_signal")!;
  await waitFor(() => ctx.signal.aborted, "the server's deadline");
  await sleep(400); // let the ignored timer finish
});

test("e2e HTTP unary: a client abort aborts the handler's signal", async () => {
  await using s = await start();
  const controller = new AbortController();
  const call = s.connection.unary("probes/slow", { ms: 5000 }, { signal: controller.signal });
  await waitFor(() => s.probe.contexts.has("slow"), "the handler to start");
  controller.abort();
  assert.equal(code(await rejection(call)), "cancelled");
  const ctx = s.probe.contexts.get("slow")!;
  await waitFor(() => ctx.signal.aborted, "the handler's signal to abort");
  assert.equal((ctx.signal.reason as RpcError).code, "cancelled");
});

test("e2e HTTP client stream: send messages, end() returns the response", async () => {
  await using s = await start();
  const call = s.connection.clientStream<{ value: number }, { count: number; sum: number }>(
    "analytics/aggregate",
  );
  for (const value of [1, 2, 3, 4]) await call.send({ value });
  assert.deepEqual(await call.end(), { count: 4, sum: 10 });
});

test("e2e HTTP client stream: the handler sees message 1 before the client sends message 2", async () => {
  await using s = await start();
  const call = s.connection.clientStream("analytics/aggregate");
  await call.send({ value: 1 });
  // Only an incrementally read body lets the handler see this before the client goes on.
  await within(
    waitFor(() => s.probe.received.length === 1, "message 1 at the handler"),
    3000,
    "incremental read",
  );
  assert.deepEqual(s.probe.received, [{ value: 1 }]);
  await call.send({ value: 2 });
  await waitFor(() => s.probe.received.length === 2, "message 2 at the handler");
  assert.deepEqual(await call.end(), { count: 2, sum: 3 });
});

test("e2e HTTP client stream: a rejected message fails the next send() or end() with its index", async () => {
  await using s = await start();
  const call = s.connection.clientStream("analytics/aggregate");
  await call.send({ value: 1 });
  await call.send({ value: "two" });
  const error = await within(
    rejection((async () => {
      for (let i = 0; i < 1000; i++) await call.send({ value: i });
      await call.end();
    })()),
    5000,
    "the failure to reach the sender",
  );
  assert.equal(code(error), "invalid_argument");
  assert.equal(
    (error as RpcError).details && (error as { details: { index: number } }).details.index,
    1,
  );
});

test("e2e HTTP client stream: a handler that stops reading early still answers", async () => {
  await using s = await start();
  const call = s.connection.clientStream("analytics/first_two");
  await call.send({ value: 5 });
  await call.send({ value: 6 });
  assert.deepEqual(await within(call.end(), 5000, "early answer"), { count: 2, sum: 11 });
});

test("e2e HTTP bidi: send, next, send, next, end, as the Python original documents it", async () => {
  await using s = await start();
  const chat = s.connection.bidiStream<{ text: string }, { text: string }>("chat/echo");
  await chat.send({ text: "hello" });
  assert.deepEqual(await within(chat.next(), 3000, "reply 1"), {
    done: false,
    value: { text: "HELLO" },
  });
  await chat.send({ text: "again" });
  assert.deepEqual(await within(chat.next(), 3000, "reply 2"), {
    done: false,
    value: { text: "AGAIN" },
  });
  await chat.end();
  assert.deepEqual(await chat.next(), { done: true, value: undefined });
  assert.ok(s.probe.finalized.has("echo"));
});

test("e2e HTTP bidi: cancelling mid-conversation runs the handler's finally", async () => {
  await using s = await start();
  const chat = s.connection.bidiStream<{ text: string }, { text: string }>("chat/echo");
  await chat.send({ text: "x" });
  await chat.next();
  chat.cancel();
  await waitFor(() => s.probe.finalized.has("echo"), "the handler's finally");
  assert.equal(code(await rejection(chat.next())), "cancelled");
});

test("e2e HTTP: an unreachable server is unavailable, promptly", async () => {
  const { services } = fixtureServices();
  const server = await new MicroAPI({ services }).serve({ port: 0, hostname: "127.0.0.1" });
  const url = server.url;
  await server.shutdown();
  const connection = new Connection(url);
  const error = await within(
    rejection(connection.unary("users/get_user", { user_id: 1 })),
    5000,
    "refused",
  );
  assert.equal(code(error), "unavailable");
  assert.match((error as Error).message, /Cannot reach http:\/\/127\.0\.0\.1:\d+\/users\/get_user/);
});

test("e2e HTTP: a closed connection refuses new calls and cancels calls in flight", async () => {
  await using s = await start();
  const pending = s.connection.unary("probes/slow", { ms: 5000 });
  await waitFor(() => s.probe.contexts.has("slow"), "the handler to start");
  await s.connection.close();
  assert.equal(code(await rejection(pending)), "cancelled");
  assert.throws(() => s.connection.unary("probes/ping"), /is closed/);
});
