/**
 * Calls on one WebSocket and the server's `max_calls`: the server frees a call's slot the moment
 * it reads `cancel` (not when the handler lets go), and the client keeps at most `max_calls`
 * calls open on the socket, queueing the others (bounded), with their deadlines and signals
 * still in force while they wait.
 */
import assert from "node:assert/strict";
import { rejection, sleep, test, within } from "../_harness.ts";
import { fixtureServices } from "../_fixtures.ts";
import { rawSocket } from "../_raw_socket.ts";
import { Connection, MicroAPI, RpcError } from "../../mod.ts";
import type { MicroAPIOptions } from "../../mod.ts";

async function serve(options: Partial<MicroAPIOptions> = {}) {
  const { services, probe } = fixtureServices();
  const server = await new MicroAPI({ services, onError: () => {}, ...options }).serve({
    port: 0,
    hostname: "127.0.0.1",
  });
  return { server, probe, url: server.url, [Symbol.asyncDispose]: () => server.shutdown() };
}

const end = (id: number) => (f: Record<string, unknown>) => f.type === "end" && f.id === id;

test("WebSocket server: a cancelled call frees its slot at once, for an open in the same message", async () => {
  await using s = await serve({ websocket: { maxCalls: 2 } });
  const raw = await rawSocket(s.url);
  // Two calls whose handlers ignore their signal for a while: both slots taken.
  for (const id of [1, 2]) {
    raw.sendFrames({
      type: "open",
      id,
      service: "probes",
      method: "ignore_signal",
      input: { ms: 300 },
    });
  }
  // Cancel one and open another in the same WebSocket message, as a client's batch does.
  raw.send(
    [
      { type: "cancel", id: 1 },
      { type: "open", id: 3, service: "users", method: "get_user", input: { user_id: 1 } },
    ].map((f) => JSON.stringify(f)).join("\n"),
  );
  const third = await raw.frame(end(3));
  assert.equal(third.code, "ok", `the call after a cancel: ${JSON.stringify(third)}`);
  raw.sendFrames({ type: "cancel", id: 2 });
  await raw.close();
});

test(
  "WebSocket: 90 streams at a time under max_calls 100, each cancelled and replaced, none refused",
  async () => {
    // The adversarial test of issue 10 (item 8): 310 of 2 000 were refused before the server freed
    // a slot on reading `cancel`.
    await using s = await serve({ websocket: { maxCalls: 100 } });
    await using connection = new Connection(s.url, { transport: "ws" });
    const codes = new Map<string, number>();
    let started = 0;
    const worker = async () => {
      while (started < 2000) {
        started++;
        const ticks = connection.serverStream("probes/ticks", { every_ms: 1 });
        try {
          await ticks.next();
          await ticks.next();
          ticks.cancel();
          codes.set("read", (codes.get("read") ?? 0) + 1);
        } catch (error) {
          const code = RpcError.is(error) ? error.code : String(error);
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }
      }
    };
    await within(Promise.all(Array.from({ length: 90 }, worker)), 60_000, "2 000 streams");
    assert.deepEqual(Object.fromEntries(codes), { read: 2000 });
  },
  { timeoutMs: 70_000 },
);

/** A stream that holds a slot until the test opens the gate or cancels it. */
async function hold(connection: Connection) {
  const stream = connection.serverStream("probes/gated");
  await stream.next();
  return stream;
}

test("WebSocket client: calls beyond the server's max_calls wait for a slot instead of failing", async () => {
  await using s = await serve({ websocket: { maxCalls: 4 } });
  await using connection = new Connection(s.url, { transport: "ws" });
  const results = await within(
    Promise.all(
      Array.from({ length: 40 }, () =>
        connection.unary("probes/slow", { ms: 20 }).then(
          () => "ok",
          (error) => RpcError.is(error) ? error.code : String(error),
        )),
    ),
    10_000,
    "40 calls through 4 slots",
  );
  assert.deepEqual(results, Array(40).fill("ok"));
});

test("WebSocket client: a cancelled call frees its slot for the call waiting", async () => {
  await using s = await serve({ websocket: { maxCalls: 1 } });
  await using connection = new Connection(s.url, { transport: "ws" });
  const held = await hold(connection);
  let settled = false;
  const waiting = connection.unary("users/get_user", { user_id: 1 });
  waiting.finally(() => settled = true).catch(() => {});
  await sleep(100);
  assert.equal(settled, false, "the second call waits while the first holds the only slot");
  assert.equal(s.probe.contexts.has("get_user"), false, "and has not reached the server");
  held.cancel();
  assert.deepEqual(await within(waiting, 2000, "the waiting call"), { username: "user1", age: 30 });
});

test("WebSocket client: a waiting call's deadline and signal still apply, and it never goes out", async () => {
  await using s = await serve({ websocket: { maxCalls: 1 } });
  await using connection = new Connection(s.url, { transport: "ws" });
  const held = await hold(connection);
  const started = Date.now();
  const timedOut = rejection(
    connection.unary("users/get_user", { user_id: 1 }, { timeoutMs: 100 }),
  );
  const controller = new AbortController();
  const aborted = rejection(
    connection.unary("users/get_user", { user_id: 2 }, { signal: controller.signal }),
  );
  setTimeout(() => controller.abort(), 50);
  const deadline = await within(timedOut, 2000, "the deadline") as RpcError;
  assert.equal(deadline.code, "deadline_exceeded");
  assert.ok(Date.now() - started < 1000, `it failed after ${Date.now() - started} ms`);
  assert.equal((await within(aborted, 2000, "the abort") as RpcError).code, "cancelled");
  // Once the slot frees, the calls that gave up are not sent; the next one is.
  held.cancel();
  assert.equal(await connection.unary("probes/ping"), null);
  assert.equal(s.probe.contexts.has("get_user"), false, "a call that gave up reached the server");
});

test("WebSocket client: a call that waited gives the server what is left of its timeout", async () => {
  await using s = await serve({ websocket: { maxCalls: 1 } });
  await using connection = new Connection(s.url, { transport: "ws" });
  const held = await hold(connection);
  const waiting = connection.unary<{ remaining_ms: number }>("probes/deadline", { ms: 0 }, {
    timeoutMs: 3000,
  });
  await sleep(500);
  held.cancel();
  const { remaining_ms } = await within(waiting, 3000, "the waiting call");
  assert.ok(remaining_ms <= 2600, `the server's deadline was ${remaining_ms} ms away`);
  assert.ok(remaining_ms > 1000, `the server's deadline was ${remaining_ms} ms away`);
});

test("WebSocket client: the queue of waiting calls is bounded; past it a call fails at once", async () => {
  await using s = await serve({ websocket: { maxCalls: 1 } });
  await using connection = new Connection(s.url, { transport: "ws", maxQueuedCalls: 2 });
  const held = await hold(connection);
  const queued = [1, 2].map((user_id) => connection.unary("users/get_user", { user_id }));
  const refused = await within(
    rejection(connection.unary("users/get_user", { user_id: 3 })),
    500,
    "the call past the queue",
  ) as RpcError;
  assert.equal(refused.code, "resource_exhausted");
  assert.equal(
    refused.message,
    "Too many calls on this connection: 1 open (the server's max_calls is 1) and 2 waiting " +
      "(maxQueuedCalls); wait for calls to end, or open another Connection",
  );
  assert.deepEqual(refused.details, { max_calls: 1, max_queued_calls: 2 });
  held.cancel();
  assert.deepEqual((await Promise.all(queued)).length, 2);
});

test("WebSocket client: waiting calls fail with unavailable when the socket goes", async () => {
  const s = await serve({ websocket: { maxCalls: 1 } });
  await using connection = new Connection(s.url, { transport: "ws" });
  const held = await hold(connection);
  const waiting = rejection(connection.unary("users/get_user", { user_id: 1 }));
  const holding = rejection(held.toArray());
  await s.server.shutdown({ gracePeriodMs: 50 });
  assert.equal((await within(waiting, 2000, "the waiting call") as RpcError).code, "unavailable");
  assert.equal((await within(holding, 2000, "the open call") as RpcError).code, "unavailable");
});

test("WebSocket client: maxQueuedCalls must be a whole number", () => {
  for (const bad of [-1, 1.5, Number.NaN]) {
    assert.throws(
      () => new Connection("http://127.0.0.1:1", { transport: "ws", maxQueuedCalls: bad }),
      new RangeError(`Invalid maxQueuedCalls: expected a whole number >= 0, got ${bad}`),
    );
  }
});
