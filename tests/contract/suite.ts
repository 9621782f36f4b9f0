/**
 * The transport contract: what every transport promises, written once and run against each
 * (HTTP and WebSocket; servers in this runtime and in the other one). A target starts a fresh
 * server for every test, and the tests observe the server only through RPC (`inspect/state`),
 * so they work the same against a server in another process.
 */
import assert from "node:assert/strict";
import { rejection, sleep, test, within } from "../_harness.ts";
import type { ProbeStateData } from "../_fixtures.ts";
import { type Connection, RpcError } from "../../mod.ts";
import { MAX_TIMEOUT_MS } from "../../src/protocol/timeout.ts";

/** One running server and a connection to it. */
export interface Target {
  /** The connection under test. */
  connection: Connection;
  /** The server's base URL. */
  url: string;
  /** Makes another connection to the same server, with the same transport. */
  connect(): Connection;
  /** Stops everything. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts a target. */
export type StartTarget = () => Promise<Target>;

async function state(target: Target): Promise<ProbeStateData> {
  // A separate connection: the one under test may be closed or cancelled.
  await using probe = target.connect();
  return await probe.unary<ProbeStateData>("inspect/state");
}

async function until(
  target: Target,
  condition: (s: ProbeStateData) => boolean,
  what: string,
): Promise<ProbeStateData> {
  const started = Date.now();
  for (;;) {
    const s = await state(target);
    if (condition(s)) return s;
    if (Date.now() - started > 5000) {
      throw new Error(`Timed out waiting for ${what}; server state: ${JSON.stringify(s)}`);
    }
    await sleep(10);
  }
}

function code(error: unknown): string {
  assert.ok(RpcError.is(error), `expected an RpcError, got ${error}`);
  return error.code;
}

/**
 * Registers the contract's tests for one target.
 *
 * @param label Prefixed to every test name, such as `deno->bun ws`.
 * @param start Starts a fresh server and connection.
 */
export function contract(label: string, start: StartTarget): void {
  const it = (name: string, fn: (t: Target) => Promise<void>) =>
    test(`[${label}] ${name}`, async () => {
      await using target = await start();
      await fn(target);
    });

  it("unary: a call returns the handler's result", async ({ connection }) => {
    assert.deepEqual(await connection.unary("users/get_user", { user_id: 3 }), {
      username: "user3",
      age: 30,
    });
    assert.deepEqual(await connection.unary("v2/users/get_user", { id: "z" }), { name: "v2:z" });
    assert.equal(await connection.unary("probes/ping"), null);
  });

  it("unary: errors carry the server's code, message and details", async ({ connection }) => {
    const notFound = await rejection(connection.unary("users/get_user", { user_id: 404 }));
    assert.equal(code(notFound), "not_found");
    assert.equal((notFound as Error).message, "No user 404");
    assert.deepEqual((notFound as RpcError).details, { user_id: 404 });
    const invalid = await rejection(connection.unary("users/get_user", { user_id: "x" }));
    assert.equal(code(invalid), "invalid_argument");
    assert.equal(
      (invalid as Error).message,
      "Invalid request: user_id: expected number, received string",
    );
    const internal = await rejection(connection.unary("users/get_user", { user_id: 500 }));
    assert.equal(code(internal), "internal");
    assert.equal((internal as Error).message, "internal error");
    const missing = await rejection(connection.unary("users/nope", {}));
    assert.equal(code(missing), "not_found");
    assert.equal(
      (missing as Error).message,
      'Service users has no method "nope"; its methods are get_user, list_users',
    );
  });

  it("not found: says what is missing, and the closest name or what exists", async ({ connection }) => {
    const cases: [string, string][] = [
      ["users/get_usr", 'Service users has no method "get_usr"; did you mean "get_user"?'],
      [
        "users/delete",
        'Service users has no method "delete"; its methods are get_user, list_users',
      ],
      [
        "v2/users/list_users",
        'Service v2/users has no method "list_users"; its methods are get_user',
      ],
      ["userz/get_user", 'No service at "/userz/get_user"; did you mean "/users/get_user"?'],
      [
        "v3/users/get_user",
        'No service at "/v3/users/get_user"; did you mean "/users/get_user" or "/v2/users/get_user"?',
      ],
      [
        "billing/charge",
        'No service at "/billing/charge"; the services are users, analytics, chat, probes, ' +
        "inspect, v2/users, health",
      ],
    ];
    for (const [route, message] of cases) {
      const error = await rejection(connection.unary(route, {}));
      assert.equal(code(error), "not_found", route);
      assert.equal((error as Error).message, message);
    }
    // Streaming calls get the same answer.
    const stream = await rejection(connection.serverStream("users/list_user", {}).toArray());
    assert.equal(
      (stream as Error).message,
      'Service users has no method "list_user"; did you mean "list_users"?',
    );
  });

  it("a call with the wrong pattern fails at once, naming the method's pattern and the call to use", async ({ connection }) => {
    const cases: [string, () => Promise<unknown>, string][] = [
      [
        "unary() on a server-streaming method",
        () => connection.unary("users/list_users", { limit: 2 }),
        "users.list_users is a server streaming method, but it was called as unary: call it " +
        "with serverStream()",
      ],
      [
        "serverStream() on a unary method",
        () => connection.serverStream("users/get_user", { user_id: 1 }).toArray(),
        "users.get_user is a unary method, but it was called as server streaming: call it with " +
        "unary()",
      ],
      [
        "clientStream() on a bidi method",
        () => connection.clientStream("chat/echo").end(),
        "chat.echo is a bidi streaming method, but it was called as client streaming: call it " +
        "with bidiStream()",
      ],
      [
        "bidiStream() on a client-streaming method",
        () => connection.bidiStream("analytics/aggregate").next(),
        "analytics.aggregate is a client streaming method, but it was called as bidi streaming: " +
        "call it with clientStream()",
      ],
    ];
    for (const [what, call, message] of cases) {
      const error = await within(rejection(call()), 3000, what);
      assert.equal(code(error), "unimplemented", what);
      assert.equal((error as Error).message, message, what);
    }
    const details = (await rejection(connection.unary("users/list_users"))) as RpcError;
    assert.deepEqual(details.details, { pattern: "server_streaming", requested: "unary" });
    // The connection is fine afterwards.
    assert.deepEqual(await connection.unary("users/get_user", { user_id: 2 }), {
      username: "user2",
      age: 30,
    });
  });

  it("metadata goes out; response headers and trailers come back", async ({ connection }) => {
    let headers: Headers | undefined;
    let trailers: Headers | undefined;
    const result = await connection.unary("probes/metadata", undefined, {
      metadata: { "x-caller": "contract" },
      onHeaders: (h) => (headers = h),
      onTrailers: (t) => (trailers = t),
    });
    assert.deepEqual(result, { caller: "contract" });
    assert.equal(headers?.get("x-served-by"), "probes");
    assert.equal(trailers?.get("x-cost"), "7");
  });

  it("onHeaders and onTrailers fire once per call, also when the server sets none", async ({ connection }) => {
    let headers = 0;
    let trailers = 0;
    const options = { onHeaders: () => headers++, onTrailers: () => trailers++ };
    await connection.unary("users/get_user", { user_id: 1 }, options);
    await connection.serverStream("users/list_users", { limit: 2 }, options).toArray();
    await rejection(connection.unary("users/get_user", { user_id: 404 }, options));
    assert.deepEqual({ headers, trailers }, { headers: 3, trailers: 3 });
  });

  it("server stream: headers before the first message, trailers at the end", async ({ connection }) => {
    let headers: Headers | undefined;
    let trailers: Headers | undefined;
    const texts = await connection.serverStream<{ text: string }>("probes/stream_metadata", {}, {
      onHeaders: (h) => (headers = h),
      onTrailers: (t) => (trailers = t),
    }).toArray();
    assert.equal(headers?.get("x-before"), "yes");
    assert.equal(headers?.get("x-after"), null);
    assert.match(texts[1]!.text, /Cannot change response header "x-after"/);
    assert.equal(trailers?.get("x-total"), "3");
  });

  it("server stream: every message, then the end", async ({ connection }) => {
    const users = await connection.serverStream("users/list_users", { limit: 5 }).toArray();
    assert.deepEqual(users.map((u) => (u as { age: number }).age), [0, 1, 2, 3, 4]);
    const many = await connection.serverStream("probes/count", { to: 1000 }).toArray();
    assert.equal(many.length, 1000);
    assert.deepEqual(many.at(-1), { i: 999, pad: "" });
  });

  it("server stream: message 1 reaches the client before the handler yields message 2", async (t) => {
    const messages = t.connection.serverStream<{ text: string }>("probes/gated");
    // The handler cannot yield "second" until the gate opens, and the gate opens only after the
    // client holds "first": a server that buffered would make this time out.
    const first = await within(messages.next(), 3000, "first message");
    assert.deepEqual(first, { done: false, value: { text: "first" } });
    await t.connect().unary("inspect/open_gate", { name: "gated" });
    assert.deepEqual(await messages.next(), { done: false, value: { text: "second" } });
    assert.equal((await messages.next()).done, true);
  });

  it("server stream: a failure half way throws after the earlier messages", async ({ connection }) => {
    const seen: unknown[] = [];
    const error = await rejection((async () => {
      for await (const message of connection.serverStream("probes/fail_after", { n: 3 })) {
        seen.push(message);
      }
    })());
    assert.deepEqual(seen, [{ i: 0 }, { i: 1 }, { i: 2 }]);
    assert.equal(code(error), "data_loss");
    assert.deepEqual((error as RpcError).details, { after: 3 });
    const crash = await rejection(
      connection.serverStream("probes/crash_after", { n: 1 }).toArray(),
    );
    assert.equal(code(crash), "internal");
    assert.equal((crash as Error).message, "internal error");
  });

  it("server stream: leaving the loop early cancels the handler and runs its finally", async (t) => {
    let count = 0;
    for await (const _ of t.connection.serverStream("probes/ticks", { every_ms: 5 })) {
      if (++count === 3) break;
    }
    const s = await until(t, (s) => s.finalized.includes("ticks"), "the handler's finally");
    assert.equal(s.reasons.ticks, "cancelled");
  });

  it("server stream: aborting the call's signal cancels it on both sides", async (t) => {
    const controller = new AbortController();
    const stream = t.connection.serverStream("probes/ticks", { every_ms: 5 }, {
      signal: controller.signal,
    });
    await stream.next();
    controller.abort();
    const error = await rejection((async () => {
      for await (const _ of stream) { /* until the abort is noticed */ }
    })());
    assert.equal(code(error), "cancelled");
    await until(t, (s) => s.finalized.includes("ticks"), "the handler's finally");
  });

  it("server stream: a deadline ends it with deadline_exceeded on both sides", async (t) => {
    const seen: unknown[] = [];
    const error = await within(
      rejection((async () => {
        const ticks = t.connection.serverStream("probes/ticks", { every_ms: 10 }, {
          timeoutMs: 150,
        });
        for await (const tick of ticks) seen.push(tick);
      })()),
      3000,
      "the deadline",
    );
    assert.equal(code(error), "deadline_exceeded");
    assert.ok(seen.length >= 2, `expected ticks before the deadline, got ${seen.length}`);
    const s = await until(t, (s) => s.finalized.includes("ticks"), "the handler's finally");
    assert.equal(s.reasons.ticks, "deadline_exceeded");
  });

  it("unary: a deadline fails the call promptly even if the handler ignores it", async (t) => {
    const started = Date.now();
    const error = await rejection(
      t.connection.unary("probes/ignore_signal", { ms: 400 }, { timeoutMs: 50 }),
    );
    assert.equal(code(error), "deadline_exceeded");
    assert.ok(Date.now() - started < 350, "the client must not wait for the handler");
    const s = await until(t, (s) => s.reasons.ignore_signal !== null, "the server's deadline");
    assert.equal(s.reasons.ignore_signal, "deadline_exceeded");
    await sleep(400); // the ignored timer finishes before the server stops
  });

  it("deadline: a timeout longer than a timer can wait is capped, not fired at once", async (t) => {
    // 30 days, and the most the HTTP header can say: both past 2^31-1 ms, where setTimeout fires
    // at once. Client and server both cap them at 2^31-1 ms.
    for (const timeoutMs of [30 * 86_400_000, 9_999_999_999]) {
      const { remaining_ms } = await t.connection.unary<{ remaining_ms: number }>(
        "probes/deadline",
        { ms: 30 },
        { timeoutMs },
      );
      assert.ok(
        remaining_ms > MAX_TIMEOUT_MS - 5_000 && remaining_ms <= MAX_TIMEOUT_MS,
        `timeout ${timeoutMs}: the deadline is ${remaining_ms} ms away`,
      );
      const ticks = t.connection.serverStream("probes/ticks", { every_ms: 20 }, { timeoutMs });
      let seen = 0;
      for await (const _ of ticks) if (++seen === 3) break;
      assert.equal(seen, 3);
    }
  });

  it("unary: a client abort aborts the handler's signal", async (t) => {
    const controller = new AbortController();
    const call = t.connection.unary("probes/slow", { ms: 5000 }, { signal: controller.signal });
    await until(t, (s) => s.started.includes("slow"), "the handler to start");
    controller.abort();
    assert.equal(code(await rejection(call)), "cancelled");
    const s = await until(t, (s) => s.reasons.slow !== null, "the handler's signal");
    assert.equal(s.reasons.slow, "cancelled");
  });

  it("client stream: send messages, end() returns the response", async ({ connection }) => {
    const call = connection.clientStream<{ value: number }, { count: number; sum: number }>(
      "analytics/aggregate",
    );
    for (const value of [1, 2, 3, 4]) await call.send({ value });
    assert.deepEqual(await call.end(), { count: 4, sum: 10 });
    const empty = connection.clientStream("analytics/aggregate");
    assert.deepEqual(await empty.end(), { count: 0, sum: 0 });
  });

  it("client stream: the handler sees message 1 before the client sends message 2", async (t) => {
    const call = t.connection.clientStream("analytics/aggregate");
    await call.send({ value: 1 });
    // Only a transport that delivers messages as they come lets the handler see this now.
    const s = await until(t, (s) => s.received.length === 1, "message 1 at the handler");
    assert.deepEqual(s.received, [{ value: 1 }]);
    await call.send({ value: 2 });
    await until(t, (s) => s.received.length === 2, "message 2 at the handler");
    assert.deepEqual(await call.end(), { count: 2, sum: 3 });
  });

  it("client stream: a rejected message fails the call with its index", async ({ connection }) => {
    const call = connection.clientStream("analytics/aggregate");
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
      (error as Error).message,
      "Invalid message at index 1: value: expected number, received string",
    );
    assert.equal((error as { details: { index: number } }).details.index, 1);
  });

  it("client stream: a handler that stops reading early still answers", async ({ connection }) => {
    const call = connection.clientStream("analytics/first_two");
    await call.send({ value: 5 });
    await call.send({ value: 6 });
    assert.deepEqual(await within(call.end(), 5000, "early answer"), { count: 2, sum: 11 });
  });

  it("bidi: send, next, send, next, end, as the Python original documents it", async (t) => {
    const chat = t.connection.bidiStream<{ text: string }, { text: string }>("chat/echo");
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
    await until(t, (s) => s.finalized.includes("echo"), "the handler's finally");
  });

  it("bidi: for await over the replies while sending", async ({ connection }) => {
    const chat = connection.bidiStream<{ text: string }, { text: string }>("chat/echo");
    const words = ["a", "b", "c", "d"];
    const sending = (async () => {
      for (const text of words) await chat.send({ text });
      await chat.end();
    })();
    const replies: string[] = [];
    for await (const reply of chat) replies.push(reply.text);
    await sending;
    assert.deepEqual(replies, ["A", "B", "C", "D"]);
  });

  it("bidi: cancelling mid-conversation runs the handler's finally", async (t) => {
    const chat = t.connection.bidiStream<{ text: string }, { text: string }>("chat/echo");
    await chat.send({ text: "x" });
    await chat.next();
    chat.cancel();
    await until(t, (s) => s.finalized.includes("echo"), "the handler's finally");
    assert.equal(code(await rejection(chat.next())), "cancelled");
  });

  it("bidi: a bad message ends the call after the replies to the good ones", async ({ connection }) => {
    const chat = connection.bidiStream<{ text: unknown }, { text: string }>("chat/echo");
    await chat.send({ text: "ok" });
    assert.deepEqual(await chat.next(), { done: false, value: { text: "OK" } });
    await chat.send({ text: 5 });
    const error = await rejection(chat.next());
    assert.equal(code(error), "invalid_argument");
    assert.equal((error as { details: { index: number } }).details.index, 1);
  });

  it("many calls at once on one connection each get their own answer", async ({ connection }) => {
    const calls = Array.from(
      { length: 50 },
      (_, i) => connection.unary("users/get_user", { user_id: i + 1 }),
    );
    const streams = Array.from(
      { length: 5 },
      (_, i) => connection.serverStream("users/list_users", { limit: i + 1 }).toArray(),
    );
    const results = await Promise.all(calls);
    assert.deepEqual(
      results.map((u) => (u as { username: string }).username),
      calls.map((_, i) => `user${i + 1}`),
    );
    assert.deepEqual((await Promise.all(streams)).map((s) => s.length), [1, 2, 3, 4, 5]);
  });

  it("a closed connection cancels calls in flight and refuses new ones", async (t) => {
    const pending = t.connection.unary("probes/slow", { ms: 5000 });
    await until(t, (s) => s.started.includes("slow"), "the handler to start");
    await t.connection.close();
    assert.equal(code(await rejection(pending)), "cancelled");
    assert.throws(() => t.connection.unary("probes/ping"), /is closed/);
    await until(t, (s) => s.reasons.slow !== null, "the handler's signal");
  });
}
