/**
 * Hostile input on the WebSocket transport: every bad frame gets a clear error for its call, or a
 * close with the right code when the connection itself cannot go on. The server never crashes, and
 * other calls on the same socket keep working when only one call misbehaved.
 */
import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { fixtureServices } from "../_fixtures.ts";
import { rawHttp, upgradeRequest } from "../_raw_http.ts";
import { rawSocket } from "../_raw_socket.ts";
import { MicroAPI } from "../../mod.ts";
import type { MicroAPIOptions } from "../../mod.ts";
import { MAX_TIMEOUT_MS } from "../../src/protocol/timeout.ts";

async function serve(options: Partial<MicroAPIOptions> = {}) {
  const { services } = fixtureServices();
  return await new MicroAPI({ services, onError: () => {}, ...options }).serve({
    port: 0,
    hostname: "127.0.0.1",
  });
}

const end = (id: number) => (f: Record<string, unknown>) => f.type === "end" && f.id === id;

/** Opens a bidi call (id 1) that stays healthy, to check it survives what happens next. */
async function healthyCall(raw: Awaited<ReturnType<typeof rawSocket>>) {
  raw.sendFrames({ type: "open", id: 1, service: "chat", method: "echo", window: 8 });
  raw.sendFrames({ type: "message", id: 1, data: { text: "before" } });
  await raw.frame((f) => f.type === "message" && f.id === 1);
  return async () => {
    raw.sendFrames({ type: "message", id: 1, data: { text: "after" } });
    await raw.frame((f) =>
      f.type === "message" && f.id === 1 && (f.data as { text: string }).text === "AFTER"
    );
    raw.sendFrames({ type: "half_close", id: 1 });
    assert.equal((await raw.frame(end(1))).code, "ok");
  };
}

test("WebSocket: the server greets with its window and limits", async () => {
  await using server = await serve({
    websocket: { window: 5, windowBytes: 6000, maxWindow: 8, maxWindowBytes: 9000, maxCalls: 7 },
  });
  const raw = await rawSocket(server.url);
  assert.deepEqual(raw.frames[0], {
    type: "hello",
    protocol: 2,
    window: 5,
    window_bytes: 6000,
    max_window: 8,
    max_window_bytes: 9000,
    max_message_bytes: 4194304,
    max_calls: 7,
    parts: true,
  });
  assert.equal(raw.socket.protocol, "microapi.v1");
  await raw.close();
});

test("WebSocket: a malformed frame closes the socket with 1007", async () => {
  await using server = await serve();
  const raw = await rawSocket(server.url);
  raw.send("{not json");
  const closed = await raw.closed;
  assert.equal(closed.code, 1007);
  assert.equal(closed.reason, "Bad frame: a frame is not valid JSON");
});

test("WebSocket: a frame of unknown type without a call id closes with 1002", async () => {
  await using server = await serve();
  const raw = await rawSocket(server.url);
  raw.sendFrames({ type: "subscribe", topic: "x" });
  const closed = await raw.closed;
  assert.equal(closed.code, 1002);
  assert.match(closed.reason, /frame "subscribe" needs an "id"/);
});

test("WebSocket: a binary message closes with 1003", async () => {
  await using server = await serve();
  const raw = await rawSocket(server.url);
  raw.socket.send(new Uint8Array([1, 2, 3]));
  assert.equal((await raw.closed).code, 1003);
});

test("WebSocket: call ids must increase; reusing one closes with 1002", async () => {
  await using server = await serve();
  const raw = await rawSocket(server.url);
  raw.sendFrames({ type: "open", id: 5, service: "probes", method: "ping" });
  await raw.frame(end(5));
  raw.sendFrames({ type: "open", id: 5, service: "probes", method: "ping" });
  const closed = await raw.closed;
  assert.equal(closed.code, 1002);
  assert.equal(closed.reason, "Call ids must increase: got 5 after 5");
});

test("WebSocket: an unknown frame type on a call fails that call only", async () => {
  await using server = await serve();
  const raw = await rawSocket(server.url);
  const stillWorks = await healthyCall(raw);
  raw.sendFrames({ type: "open", id: 2, service: "chat", method: "echo" });
  raw.sendFrames({ type: "shout", id: 2 });
  const ended = await raw.frame(end(2));
  assert.equal(ended.code, "invalid_argument");
  assert.equal(ended.message, 'Bad frame: unknown frame type "shout"');
  await stillWorks();
  await raw.close();
});

test("WebSocket: a message for a call never opened is answered on that id", async () => {
  await using server = await serve();
  const raw = await rawSocket(server.url);
  const stillWorks = await healthyCall(raw);
  raw.sendFrames({ type: "message", id: 9, data: {} });
  const ended = await raw.frame(end(9));
  assert.equal(ended.code, "invalid_argument");
  assert.equal(ended.message, 'No call with id 9: send "open" first');
  await stillWorks();
  await raw.close();
});

test("WebSocket: a message after half_close fails that call only", async () => {
  await using server = await serve();
  const raw = await rawSocket(server.url);
  const stillWorks = await healthyCall(raw);
  // slow_reader waits (on a gate nobody opens) after its first message, so the call is still
  // open when the late message arrives.
  raw.sendFrames({ type: "open", id: 2, service: "probes", method: "slow_reader" });
  raw.sendFrames({ type: "message", id: 2, data: { i: 0, pad: "" } });
  raw.sendFrames({ type: "half_close", id: 2 });
  raw.sendFrames({ type: "message", id: 2, data: { i: 1, pad: "" } });
  const ended = await raw.frame(end(2));
  assert.equal(ended.code, "invalid_argument");
  assert.equal(ended.message, "A message arrived after half_close");
  await stillWorks();
  await raw.close();
});

test("WebSocket: a message over the size limit fails its call only", async () => {
  await using server = await serve({ limits: { maxMessageBytes: 1024 } });
  const raw = await rawSocket(server.url);
  const stillWorks = await healthyCall(raw);
  raw.sendFrames({ type: "open", id: 2, service: "analytics", method: "aggregate" });
  // Over the limit, within the 16 KiB allowance for the frame around a message.
  raw.sendFrames({ type: "message", id: 2, data: { value: 1, pad: "x".repeat(10_000) } });
  const ended = await raw.frame(end(2));
  assert.equal(ended.code, "resource_exhausted");
  assert.equal(ended.message, "A message exceeds the limit of 1024 bytes");
  assert.deepEqual(ended.details, { limit: 1024 });
  await stillWorks();
  await raw.close();
});

test("WebSocket: the limit is on the message, not on the frame around it", async () => {
  await using server = await serve({ limits: { maxMessageBytes: 1024 } });
  const raw = await rawSocket(server.url);
  // A message of exactly `bytes` bytes as JSON; its frame is a few dozen bytes more.
  const sized = (bytes: number, fields: Record<string, unknown>) => {
    const pad = "é".repeat(8) +
      "x".repeat(bytes - JSON.stringify({ ...fields, pad: "" }).length - 16);
    const message = { ...fields, pad };
    assert.equal(new TextEncoder().encode(JSON.stringify(message)).length, bytes);
    return message;
  };
  raw.sendFrames({ type: "open", id: 1, service: "analytics", method: "aggregate" });
  raw.sendFrames({ type: "message", id: 1, data: sized(1024, { value: 1 }) });
  raw.sendFrames({ type: "half_close", id: 1 });
  assert.equal((await raw.frame(end(1))).code, "ok", "a message at the limit is accepted");

  raw.sendFrames({ type: "open", id: 2, service: "analytics", method: "aggregate" });
  raw.sendFrames({ type: "message", id: 2, data: sized(1025, { value: 1 }) });
  const over = await raw.frame(end(2));
  assert.equal(over.code, "resource_exhausted");
  assert.equal(over.message, "A message exceeds the limit of 1024 bytes");
  assert.deepEqual(over.details, { limit: 1024 });

  // The input of an open frame is a message too.
  const open = (id: number, input: unknown) => ({
    type: "open",
    id,
    service: "users",
    method: "get_user",
    input,
  });
  raw.sendFrames(open(3, sized(1024, { user_id: 1 })));
  assert.equal((await raw.frame(end(3))).code, "ok");
  raw.sendFrames(open(4, sized(1025, { user_id: 1 })));
  const overOpen = await raw.frame(end(4));
  assert.equal(overOpen.code, "resource_exhausted");
  assert.deepEqual(overOpen.details, { limit: 1024 });
  await raw.close();
});

test("WebSocket: a message past the frame allowance closes with 1009, named call or not", async () => {
  await using server = await serve({ limits: { maxMessageBytes: 1024 } });
  // Bun refuses it while reading (its maxPayloadLength is the limit plus the allowance); Deno
  // reads it whole, and the session closes the same way.
  for (
    const text of [
      JSON.stringify({ pad: "x".repeat(100_000), type: "message", id: 1 }),
      JSON.stringify({
        type: "open",
        id: 1,
        service: "users",
        method: "get_user",
        pad: "x".repeat(1024 + 16 * 1024),
      }),
    ]
  ) {
    const raw = await rawSocket(server.url);
    raw.send(text);
    assert.equal((await raw.closed).code, 1009);
  }
});

test("WebSocket: too many concurrent calls are resource_exhausted, the open ones go on", async () => {
  await using server = await serve({ websocket: { maxCalls: 2 } });
  const raw = await rawSocket(server.url);
  const stillWorks = await healthyCall(raw);
  raw.sendFrames({
    type: "open",
    id: 2,
    service: "probes",
    method: "ticks",
    input: { every_ms: 50 },
  });
  raw.sendFrames({
    type: "open",
    id: 3,
    service: "users",
    method: "get_user",
    input: { user_id: 1 },
  });
  const ended = await raw.frame(end(3));
  assert.equal(ended.code, "resource_exhausted");
  assert.equal(ended.message, "Too many concurrent calls on this connection (limit 2)");
  raw.sendFrames({ type: "cancel", id: 2 });
  await raw.frame(end(2));
  await stillWorks();
  await raw.close();
});

test("WebSocket: a client sending beyond its credit fails its call", async () => {
  await using server = await serve({ websocket: { window: 4 } });
  const raw = await rawSocket(server.url);
  raw.sendFrames({ type: "open", id: 1, service: "probes", method: "slow_reader" });
  for (let i = 0; i < 10; i++) raw.sendFrames({ type: "message", id: 1, data: { i, pad: "" } });
  const ended = await raw.frame(end(1));
  assert.equal(ended.code, "resource_exhausted");
  assert.equal(
    ended.message,
    "The client sent more than its credit allows (window 4 messages, 1048576 bytes)",
  );
  await raw.close();
});

test("WebSocket: bad open frames and bad input are answered on their call", async () => {
  await using server = await serve();
  const raw = await rawSocket(server.url);
  raw.sendFrames({ type: "open", id: 1, service: 7, method: "x" });
  assert.equal(
    (await raw.frame(end(1))).message,
    'Bad frame: an "open" frame needs "service" and "method" strings',
  );
  raw.sendFrames({ type: "open", id: 2, service: "users", method: "nope" });
  assert.equal((await raw.frame(end(2))).code, "not_found");
  raw.sendFrames({
    type: "open",
    id: 3,
    service: "users",
    method: "get_user",
    input: { user_id: "x" },
  });
  const invalid = await raw.frame(end(3));
  assert.equal(invalid.code, "invalid_argument");
  assert.equal(invalid.message, "Invalid request: user_id: expected number, received string");
  raw.sendFrames({ type: "open", id: 4, service: "chat", method: "echo", input: { text: "x" } });
  assert.match(
    String((await raw.frame(end(4))).message),
    /streamed input is sent in "message" frames/,
  );
  raw.sendFrames({
    type: "open",
    id: 5,
    service: "users",
    method: "get_user",
    input: { user_id: 1 },
    timeout_ms: -1,
  });
  assert.match(String((await raw.frame(end(5))).message), /"timeout_ms" must be a whole number/);
  // And the socket is still fine.
  raw.sendFrames({
    type: "open",
    id: 6,
    service: "users",
    method: "get_user",
    input: { user_id: 1 },
  });
  assert.equal((await raw.frame(end(6))).code, "ok");
  await raw.close();
});

test("WebSocket: a timeout_ms past what a timer can wait is capped, not fired at once", async () => {
  await using server = await serve();
  const raw = await rawSocket(server.url);
  for (const [id, timeout_ms] of [[1, 2_592_000_000], [2, Number.MAX_SAFE_INTEGER]] as const) {
    raw.sendFrames({
      type: "open",
      id,
      service: "probes",
      method: "deadline",
      input: { ms: 30 },
      timeout_ms,
    });
    assert.equal((await raw.frame(end(id))).code, "ok", `timeout_ms ${timeout_ms}`);
    const message = raw.frames.find((f) => f.type === "message" && f.id === id);
    const remaining = (message?.data as { remaining_ms: number }).remaining_ms;
    assert.ok(
      remaining > MAX_TIMEOUT_MS - 5_000 && remaining <= MAX_TIMEOUT_MS,
      `timeout_ms ${timeout_ms}: the deadline is ${remaining} ms away`,
    );
  }
  await raw.close();
});

test("WebSocket: an open frame's pattern must be the method's; without one it is not checked", async () => {
  await using server = await serve();
  const raw = await rawSocket(server.url);
  const open = { type: "open", service: "users", method: "list_users", input: { limit: 1 } };
  raw.sendFrames({ ...open, id: 1, pattern: "unary" });
  const mismatch = await raw.frame(end(1));
  assert.equal(mismatch.code, "unimplemented");
  assert.equal(
    mismatch.message,
    "users.list_users is a server streaming method, but it was called as unary: call it with " +
      "serverStream()",
  );
  assert.deepEqual(mismatch.details, { pattern: "server_streaming", requested: "unary" });
  assert.equal(raw.frames.some((f) => f.type === "message" && f.id === 1), false);
  raw.sendFrames({ ...open, id: 2, pattern: "streaming" });
  const bad = await raw.frame(end(2));
  assert.equal(bad.code, "invalid_argument");
  assert.equal(
    bad.message,
    'Bad frame: "pattern" must be one of unary, server_streaming, client_streaming, ' +
      "bidi_streaming",
  );
  raw.sendFrames({ ...open, id: 3, pattern: "server_streaming" });
  assert.equal((await raw.frame(end(3))).code, "ok");
  raw.sendFrames({ ...open, id: 4 });
  assert.equal((await raw.frame(end(4))).code, "ok");
  await raw.close();
});

test("WebSocket: ping is answered with pong", async () => {
  await using server = await serve();
  const raw = await rawSocket(server.url);
  raw.sendFrames({ type: "ping" });
  await raw.frame((f) => f.type === "pong");
  await raw.close();
});

test("WebSocket: a page of another site is refused by default; the server's own pages and non-browsers are not", async () => {
  await using server = await serve();
  const host = `127.0.0.1:${server.port}`;
  const status = async (extra: Record<string, string>, hostHeader = host) =>
    (await rawHttp(server.port, upgradeRequest("/_microapi/ws", hostHeader, extra))).status;
  // A page on another site (with cookie auth, it would call as the signed-in user).
  const refused = await rawHttp(
    server.port,
    upgradeRequest("/_microapi/ws", host, { origin: "https://evil.example" }),
  );
  assert.equal(refused.status, 403);
  const body = JSON.parse(refused.body);
  assert.equal(body.code, "permission_denied");
  assert.match(body.message, /^Origin https:\/\/evil\.example may not open a WebSocket here/);
  assert.match(body.message, /cors\.origins/);
  // The same host on another port is another origin; so are opaque ones.
  assert.equal(await status({ origin: "http://127.0.0.1:1" }), 403);
  assert.equal(await status({ origin: "null" }), 403);
  // The server's own pages: the Origin's host and port are the Host header's, whatever the scheme
  // (a proxy that ends TLS passes Host on); default ports match a Host without one.
  assert.equal(await status({ origin: `http://${host}` }), 101);
  assert.equal(await status({ origin: "https://api.example" }, "api.example"), 101);
  assert.equal(await status({ origin: "https://api.example" }, "API.example:443"), 101);
  assert.equal(await status({ origin: "https://api.example" }, "api.example:8443"), 403);
  // No Origin: not a browser (a CLI, a server).
  assert.equal(await status({}), 101);
  const raw = await rawSocket(server.url);
  await raw.close();
});

test("WebSocket: cors.origins decides for sockets as for HTTP; websocket.allowedOrigins is gone", async () => {
  {
    await using server = await serve({ cors: { origins: ["https://app.example"] } });
    const host = `127.0.0.1:${server.port}`;
    const status = async (origin: string) =>
      (await rawHttp(server.port, upgradeRequest("/_microapi/ws", host, { origin }))).status;
    assert.equal(await status("https://app.example"), 101);
    assert.equal(await status("https://APP.example"), 101);
    assert.equal(await status("https://evil.example"), 403);
    assert.equal(await status(`http://${host}`), 101);
  }
  {
    await using server = await serve({ cors: { origins: "*" } });
    const upgrade = upgradeRequest("/_microapi/ws", "x", { origin: "https://anyone.example" });
    assert.equal((await rawHttp(server.port, upgrade)).status, 101);
  }
  assert.throws(
    () =>
      new MicroAPI({
        services: [],
        websocket: { allowedOrigins: ["https://app.example"] } as never,
      }),
    /Invalid websocket\.allowedOrigins: the origins that may call are listed once, in cors/,
  );
});

test("WebSocket: a subprotocol other than microapi.v1 is refused", async () => {
  await using server = await serve();
  const error = await rawSocket(server.url, ["graphql-ws"]).then(
    (raw) => raw.close().then(() => "opened"),
    (e: Error) => e.message,
  );
  assert.equal(error, "raw socket failed to open");
});

test("WebSocket: app.fetch alone answers the endpoint with 426", async () => {
  const { services } = fixtureServices();
  const response = await new MicroAPI({ services }).fetch(
    new Request("http://x/_microapi/ws", { headers: { upgrade: "websocket" } }),
  );
  assert.equal(response.status, 426);
  assert.match((await response.json()).message, /WebSocket upgrades need app.serve\(\)/);
});

test("WebSocket: metadata that cannot be headers fails that call with invalid_argument", async () => {
  const errors: unknown[] = [];
  await using server = await serve({ onError: (error) => errors.push(error) });
  const raw = await rawSocket(server.url);
  const stillHealthy = await healthyCall(raw);
  const bad = [{ "bad name": "x" }, { "x-a": "line\nbreak" }, { "x-b": "\u20ac" }];
  for (const [i, metadata] of bad.entries()) {
    raw.sendFrames({ type: "open", id: 2 + i, service: "probes", method: "metadata", metadata });
    const ended = await raw.frame(end(2 + i));
    assert.equal(ended.code, "invalid_argument", JSON.stringify(ended));
    assert.match(String(ended.message), /"metadata" has an invalid/);
  }
  raw.sendFrames({
    type: "open",
    id: 9,
    service: "probes",
    method: "metadata",
    metadata: { "x-caller": "  caf\u00e9  " },
  });
  const message = await raw.frame((f) => f.type === "message" && f.id === 9);
  assert.deepEqual(message.data, { caller: "caf\u00e9" });
  await stillHealthy();
  assert.deepEqual(errors, [], "no server error");
  await raw.close();
});
