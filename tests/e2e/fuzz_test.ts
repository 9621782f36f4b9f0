/**
 * Random bad input, from a fixed seed so a failure can be replayed: every HTTP request gets a typed
 * answer in time (MicroAPI's protocol, Connect and gRPC-Web), every WebSocket gets a typed end
 * frame or a proper close, nothing reaches onError as a crash, and the server still answers
 * normal calls afterwards.
 */
import assert from "node:assert/strict";
import { test, within } from "../_harness.ts";
import { fixtureServices } from "../_fixtures.ts";
import { Connection, isCode, MicroAPI } from "../../mod.ts";
import { connect } from "../../src/connect/mod.ts";

/** mulberry32: a small seeded PRNG. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID = [
  '{"user_id":7}',
  '{"limit":3}',
  '{"value":1.5}',
  '{"text":"hi"}',
  '{"to":3,"size":2}',
  "[1,2,3]",
];

function garbage(next: () => number): string {
  const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)]!;
  const base = pick(VALID);
  switch (Math.floor(next() * 8)) {
    case 0: // truncated
      return base.slice(0, Math.floor(next() * base.length));
    case 1: // a byte flipped to something else
    {
      const at = Math.floor(next() * base.length);
      return base.slice(0, at) + pick(["{", "}", '"', ":", ",", "\\", "\u0000", "é"]) +
        base.slice(at + 1);
    }
    case 2: // deep nesting
      return "[".repeat(1 + Math.floor(next() * 5000)) + "]".repeat(Math.floor(next() * 5000));
    case 3: // wrong types
      return pick([
        '{"user_id":"7"}',
        '{"user_id":null}',
        '{"user_id":1e400}',
        '{"limit":-1}',
        "null",
        "true",
        '"x"',
      ]);
    case 4: // many lines, some bad
      return Array.from(
        { length: 1 + Math.floor(next() * 20) },
        () => (next() < 0.8 ? base : garbage(next)),
      ).join("\n");
    case 5: // random printable noise
      return Array.from(
        { length: Math.floor(next() * 200) },
        () => String.fromCharCode(32 + Math.floor(next() * 95)),
      ).join("");
    case 6: // huge key count
      return "{" + Array.from({ length: 2000 }, (_, i) => `"k${i}":${i}`).join(",") + "}";
    default:
      return base;
  }
}

const PATHS = [
  "/users/get_user",
  "/users/list_users",
  "/analytics/aggregate",
  "/chat/echo",
  "/probes/count",
  "/probes/ping",
  "/v2/users/get_user",
  "/nope/nope",
  "/users",
  "/_microapi/health",
];
const TYPES = [
  "application/json",
  "application/x-ndjson",
  "text/plain",
  "",
  "application/json; charset=utf-8",
];

test("fuzz: random bad HTTP requests all get a typed answer, and the server lives on", async () => {
  const next = random(20261123);
  const reported: unknown[] = [];
  const { services } = fixtureServices();
  await using server = await new MicroAPI({
    services,
    onError: (e) => reported.push(e),
    limits: { maxMessageBytes: 64 * 1024 },
  })
    .serve({ port: 0, hostname: "127.0.0.1" });
  const statuses = new Map<number, number>();
  for (let i = 0; i < 300; i++) {
    const path = PATHS[Math.floor(next() * PATHS.length)]!;
    const type = TYPES[Math.floor(next() * TYPES.length)]!;
    const body = garbage(next);
    const post = next() < 0.9;
    const response = await within(
      fetch(server.url + path, {
        method: post ? "POST" : "GET",
        headers: type ? { "content-type": type } : {},
        body: post ? body : undefined,
      }),
      5000,
      `request ${i} to ${path}`,
    );
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    const text = await within(response.text(), 5000, `the body of request ${i}`);
    const media = response.headers.get("content-type") ?? "";
    if (media.includes("ndjson")) {
      const last = JSON.parse(text.trim().split("\n").at(-1)!);
      assert.ok(
        isCode(last.end?.code),
        `request ${i}: the stream must end with a status: ${text.slice(-200)}`,
      );
    } else {
      const parsed = JSON.parse(text);
      if (response.status >= 400) {
        assert.ok(isCode(parsed.code), `request ${i} (${response.status}): ${text.slice(0, 200)}`);
        assert.equal(typeof parsed.message, "string");
      }
    }
    assert.ok(
      response.status < 500 || response.status === 503 || response.status === 501,
      `request ${i} to ${path} with ${
        JSON.stringify(body.slice(0, 80))
      }: status ${response.status}: ${text.slice(0, 200)}`,
    );
  }
  assert.deepEqual(reported, [], "no handler or pipeline error was reported");
  // The input reached every kind of answer: success, bad input, unknown path, wrong type, limits.
  for (const status of [200, 400, 404, 405, 415]) {
    assert.ok(statuses.has(status), `no request got ${status}: ${JSON.stringify([...statuses])}`);
  }
  await using connection = new Connection(server.url);
  assert.deepEqual(await connection.unary("users/get_user", { user_id: 1 }), {
    username: "user1",
    age: 30,
  });
});

test("fuzz: random bad WebSocket frames end calls or close sockets, and the server lives on", async () => {
  const next = random(42);
  const reported: unknown[] = [];
  const { services } = fixtureServices();
  await using server = await new MicroAPI({ services, onError: (e) => reported.push(e) })
    .serve({ port: 0, hostname: "127.0.0.1" });
  const frames = [
    { type: "open", id: 0, service: "users", method: "get_user", input: { user_id: 1 } },
    { type: "open", id: 0, service: "chat", method: "echo" },
    { type: "message", id: 0, data: { text: "x" } },
    { type: "half_close", id: 0 },
    { type: "credit", id: 0, n: 3 },
    { type: "cancel", id: 0 },
  ];
  for (let socketIndex = 0; socketIndex < 10; socketIndex++) {
    const socket = new WebSocket(server.url.replace("http", "ws") + "/_microapi/ws", [
      "microapi.v1",
    ]);
    const closed = new Promise<number>((resolve) => (socket.onclose = (e) => resolve(e.code)));
    await new Promise((resolve) => (socket.onopen = resolve));
    let id = 0;
    for (let i = 0; i < 40 && socket.readyState === WebSocket.OPEN; i++) {
      const frame = { ...frames[Math.floor(next() * frames.length)]! } as Record<string, unknown>;
      id += next() < 0.8 ? 1 : 0;
      frame.id = next() < 0.9 ? id : Math.floor(next() * 10) - 2;
      let text = JSON.stringify(frame);
      if (next() < 0.2) text = garbage(next);
      socket.send(text);
    }
    socket.close();
    const code = await within(closed, 5000, `socket ${socketIndex} to close`);
    assert.ok(
      [1000, 1002, 1003, 1005, 1007, 1009].includes(code),
      `socket ${socketIndex} closed with ${code}`,
    );
  }
  assert.deepEqual(reported, [], "no handler or pipeline error was reported");
  await using connection = new Connection(server.url, { transport: "ws" });
  assert.deepEqual(await connection.unary("users/get_user", { user_id: 2 }), {
    username: "user2",
    age: 30,
  });
});

const CONNECT_PATHS = [
  "/users.Users/GetUser",
  "/users.Users/ListUsers",
  "/analytics.Analytics/Aggregate",
  "/chat.Chat/Echo",
  "/probes.Probes/Count",
  "/users.v2.Users/GetUser",
  "/users.Users/Nope",
  "/nope.v1.Nope/Nope",
  "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
];

const CONNECT_TYPES = [
  "application/json",
  "application/proto",
  "application/connect+json",
  "application/connect+proto",
  "application/grpc-web+proto",
  "application/grpc-web+json",
  "application/grpc-web-text",
  "text/plain",
  "",
];

const CONNECT_HEADERS: [string, string[]][] = [
  ["connect-content-encoding", ["gzip", "br", "identity", "???"]],
  ["content-encoding", ["gzip", "zstd", ""]],
  ["grpc-encoding", ["gzip", "lz4"]],
  ["connect-timeout-ms", ["50", "-1", "99999999999", "x"]],
  ["grpc-timeout", ["5S", "1n", "9999999999H", "soon"]],
  ["connect-protocol-version", ["1", "2", ""]],
];

/** An envelope stream, valid or broken in one of the ways a hostile peer might break it. */
function connectBody(next: () => number): Uint8Array {
  const encoder = new TextEncoder();
  const message = next() < 0.5
    ? encoder.encode(garbage(next))
    : Uint8Array.from({ length: Math.floor(next() * 40) }, () => Math.floor(next() * 256));
  const envelope = (flags: number, length: number, data: Uint8Array) => {
    const out = new Uint8Array(5 + data.length);
    out[0] = flags;
    new DataView(out.buffer).setUint32(1, length);
    out.set(data, 5);
    return out;
  };
  switch (Math.floor(next() * 7)) {
    case 0: // a bare message (unary), or noise
      return message;
    case 1: // a length prefix larger than the body
      return envelope(0, message.length + 1 + Math.floor(next() * 1000), message);
    case 2: // a declared length far over the limit
      return envelope(0, 0xffff_ffff - Math.floor(next() * 1000), message.subarray(0, 3));
    case 3: // flags nobody defined, or the compressed bit
      return envelope(1 << Math.floor(next() * 8), message.length, message);
    case 4: // truncated inside a prefix
      return envelope(0, message.length, message).subarray(0, Math.floor(next() * 5));
    case 5: // several envelopes
      return new Uint8Array([
        ...envelope(0, message.length, message),
        ...envelope(0, message.length, message),
      ]);
    default: // a well-framed envelope around whatever the message is
      return envelope(0, message.length, message);
  }
}

/** Whether a response body ends the call with a typed status, in its protocol's format. */
function typedEnd(type: string, status: number, headers: Headers, bytes: Uint8Array): string {
  if (headers.get("grpc-status") !== null) return `grpc-status ${headers.get("grpc-status")}`;
  if (type.startsWith("application/grpc-web") || type.startsWith("application/connect+")) {
    let body = bytes;
    if (type.startsWith("application/grpc-web-text")) {
      body = Uint8Array.fromBase64(new TextDecoder().decode(bytes));
    }
    let at = 0;
    let last: { flags: number; data: Uint8Array } | undefined;
    while (at + 5 <= body.length) {
      const length = new DataView(body.buffer, body.byteOffset + at + 1, 4).getUint32(0);
      last = { flags: body[at]!, data: body.subarray(at + 5, at + 5 + length) };
      at += 5 + length;
    }
    assert.equal(at, body.length, "the response is whole envelopes");
    assert.ok(last, "the response ends with an envelope");
    const text = new TextDecoder().decode(last.data);
    if (type.startsWith("application/grpc-web")) {
      assert.equal(last.flags, 0x80);
      const code = /grpc-status: (\d+)/.exec(text)?.[1];
      assert.ok(code !== undefined, text);
      return `grpc-status ${code}`;
    }
    assert.equal(last.flags & 0x02, 0x02);
    const end = JSON.parse(text);
    assert.ok(
      end.error === undefined ||
        isCode(end.error.code === "canceled" ? "cancelled" : end.error.code),
      text,
    );
    return end.error?.code ?? "ok";
  }
  const text = new TextDecoder().decode(bytes);
  if (status === 200) return "ok";
  const error = JSON.parse(text);
  assert.ok(isCode(error.code === "canceled" ? "cancelled" : error.code), text);
  assert.equal(typeof error.message, "string");
  return error.code;
}

test("fuzz: random bad Connect and gRPC-Web requests all get a typed answer, and the server lives on", async () => {
  const next = random(20261203);
  const reported: unknown[] = [];
  const { services } = fixtureServices();
  await using server = await new MicroAPI({
    services,
    protocols: [connect()],
    onError: (e) => reported.push(e),
    limits: { maxMessageBytes: 64 * 1024 },
  }).serve({ port: 0, hostname: "127.0.0.1" });
  const outcomes = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    const path = CONNECT_PATHS[Math.floor(next() * CONNECT_PATHS.length)]!;
    const type = CONNECT_TYPES[Math.floor(next() * CONNECT_TYPES.length)]!;
    const headers: Record<string, string> = type ? { "content-type": type } : {};
    for (const [name, values] of CONNECT_HEADERS) {
      if (next() < 0.15) headers[name] = values[Math.floor(next() * values.length)]!;
    }
    let body = connectBody(next);
    if (type === "application/grpc-web-text" && next() < 0.7) {
      body = new TextEncoder().encode(body.toBase64());
    }
    const response = await within(
      fetch(server.url + path, { method: "POST", headers, body: body as Uint8Array<ArrayBuffer> }),
      5000,
      `request ${i} to ${path}`,
    );
    const bytes = new Uint8Array(await within(response.arrayBuffer(), 5000, `body ${i}`));
    const what = `request ${i} (${path}, ${type}, ${JSON.stringify(headers)}): ${response.status}`;
    assert.ok(response.status < 500 || response.status === 501 || response.status === 504, what);
    const media = response.headers.get("content-type") ?? "";
    let outcome: string;
    try {
      outcome = typedEnd(media, response.status, response.headers, bytes);
    } catch (error) {
      throw new Error(`${what}: ${(error as Error).message}`, { cause: error });
    }
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  assert.deepEqual(reported, [], "no handler or pipeline error was reported");
  // The input reached every kind of answer.
  for (
    const outcome of ["invalid_argument", "resource_exhausted", "unimplemented", "grpc-status 3"]
  ) {
    assert.ok(outcomes.has(outcome), `no request got ${outcome}: ${JSON.stringify([...outcomes])}`);
  }
  const ok = await fetch(`${server.url}/users.Users/GetUser`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"userId": 1}',
  });
  assert.deepEqual(await ok.json(), { username: "user1", age: "30" });
  await using connection = new Connection(server.url);
  assert.deepEqual(await connection.unary("users/get_user", { user_id: 1 }), {
    username: "user1",
    age: 30,
  });
});
