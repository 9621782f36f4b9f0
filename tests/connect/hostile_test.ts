/**
 * Hostile input on the Connect and gRPC-Web framings, against a real server: every bad request
 * gets a typed error in its protocol's format, nothing reaches `onError`, and the calls around it
 * (MicroAPI's and Connect's) carry on.
 */
import assert from "node:assert/strict";
import { test, within } from "../_harness.ts";
import { Connection, MicroAPI } from "../../mod.ts";
import { connect } from "../../src/connect/mod.ts";
import { decodeEndStream as grpcWebEnd } from "../../src/protocol/grpc_web/end_stream.ts";
import { connectServices, envelopes, gzip, readEnvelopes } from "./_helpers.ts";

const LIMIT = 64 * 1024;

async function serve() {
  const reported: unknown[] = [];
  const server = await new MicroAPI({
    services: connectServices().services,
    protocols: [connect()],
    onError: (error) => reported.push(error),
    limits: { maxMessageBytes: LIMIT },
  }).serve({ port: 0, hostname: "127.0.0.1" });
  return { server, reported };
}

function prefix(flags: number, length: number): Uint8Array {
  const out = new Uint8Array(5);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, length);
  return out;
}

function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The error a Connect stream ended with, from its end-stream message. */
async function connectStreamError(response: Response): Promise<{ code: string; message: string }> {
  assert.equal(response.status, 200);
  const last = readEnvelopes(new Uint8Array(await response.arrayBuffer())).at(-1)!;
  assert.equal(last.flags & 0x02, 0x02, "the last envelope is the end-stream message");
  return JSON.parse(last.text).error;
}

/** The status a gRPC-Web call ended with, from its trailers frame. */
async function grpcWebStatus(response: Response): Promise<string | undefined> {
  assert.equal(response.status, 200);
  let bytes = new Uint8Array(await response.arrayBuffer());
  if (response.headers.get("content-type")?.startsWith("application/grpc-web-text")) {
    bytes = Uint8Array.fromBase64(new TextDecoder().decode(bytes));
  }
  const last = readEnvelopes(bytes).at(-1)!;
  assert.equal(last.flags, 0x80);
  return grpcWebEnd(last.data).error?.code;
}

const STREAM = "application/connect+json";

test("connect hostile: bad envelopes are typed errors, the server serves on", async () => {
  const { server, reported } = await serve();
  try {
    const call = (path: string, type: string, body: Uint8Array, headers: HeadersInit = {}) =>
      within(
        fetch(server.url + path, {
          method: "POST",
          headers: { "content-type": type, ...headers },
          body: body as Uint8Array<ArrayBuffer>,
        }),
        5000,
        `${path} with ${body.length} bytes`,
      );
    const cases: [string, Uint8Array, string, RegExp][] = [
      [
        "a truncated prefix",
        new Uint8Array([0, 0, 0]),
        "invalid_argument",
        /inside an envelope prefix/,
      ],
      [
        "a length prefix larger than the body",
        join(prefix(0, 100), new Uint8Array(10)),
        "invalid_argument",
        /declares 100 bytes, 10 arrived/,
      ],
      [
        "an oversize declared length",
        prefix(0, 0xffff_fff0),
        "resource_exhausted",
        /over the limit/,
      ],
      [
        "unknown flags",
        join(prefix(0x40, 2), new TextEncoder().encode("{}")),
        "invalid_argument",
        /unknown flags/,
      ],
      [
        "a compressed envelope without a negotiated compression",
        join(prefix(1, 2), new Uint8Array(2)),
        "internal",
        /no compression was negotiated/,
      ],
      [
        "a JSON message that is not JSON",
        envelopes(new TextEncoder().encode("{nope")),
        "invalid_argument",
        /Malformed JSON/,
      ],
    ];
    for (const [what, body, code, message] of cases) {
      const error = await connectStreamError(
        await call("/analytics.Analytics/Aggregate", STREAM, body),
      );
      assert.equal(error.code, code, what);
      assert.match(error.message, message, what);
    }
    // Malformed protobuf: invalid_argument naming the message type.
    const garbled = await connectStreamError(
      await call(
        "/analytics.Analytics/Aggregate",
        "application/connect+proto",
        envelopes(new Uint8Array([0x0a, 0xff, 0xff])),
      ),
    );
    assert.equal(garbled.code, "invalid_argument");
    assert.match(garbled.message, /^Malformed protobuf message analytics\.AggregateRequest: /);
    const unary = await call("/users.Users/GetUser", "application/proto", new Uint8Array([0x08]));
    assert.equal(unary.status, 400);
    assert.match((await unary.json()).message, /Malformed protobuf message users\.GetUserRequest/);
    // A gzip bomb in one envelope: resource_exhausted once the output passes the limit.
    const bomb = await gzip(`{"value": 1${" ".repeat(20_000_000)}}`);
    const bombed = await connectStreamError(
      await call("/analytics.Analytics/Aggregate", STREAM, join(prefix(1, bomb.length), bomb), {
        "connect-content-encoding": "gzip",
      }),
    );
    assert.equal(bombed.code, "resource_exhausted");
    // A unary body over the limit, and one that only inflates past it.
    const big = await call(
      "/users.Users/GetUser",
      "application/json",
      new Uint8Array(LIMIT + 1).fill(32),
    );
    assert.equal((await big.json()).code, "resource_exhausted");
    const inflating = await call("/users.Users/GetUser", "application/json", bomb, {
      "content-encoding": "gzip",
    });
    assert.equal(inflating.status, 429);
    await inflating.body?.cancel();
    // An unknown compression and a wrong content type.
    const br = await call("/users.Users/GetUser", "application/json", new Uint8Array([123, 125]), {
      "content-encoding": "br",
    });
    assert.equal(br.status, 501);
    assert.equal(br.headers.get("accept-encoding"), "gzip");
    assert.equal((await br.json()).code, "unimplemented");
    const xml = await call("/users.Users/GetUser", "application/xml", new Uint8Array(0));
    assert.equal(xml.status, 415);
    await xml.body?.cancel();

    // gRPC-Web: the same framing errors, in the trailers frame.
    const web = "application/grpc-web+proto";
    assert.equal(
      await grpcWebStatus(
        await call("/analytics.Analytics/Aggregate", web, join(prefix(0, 9), new Uint8Array(3))),
      ),
      "invalid_argument",
    );
    assert.equal(
      await grpcWebStatus(await call("/analytics.Analytics/Aggregate", web, prefix(0x80, 0))),
      "invalid_argument",
    );
    assert.equal(
      await grpcWebStatus(await call("/users.Users/GetUser", web, prefix(0, 0xfffffff0))),
      "resource_exhausted",
    );
    assert.equal(
      await grpcWebStatus(
        await call(
          "/users.Users/GetUser",
          "application/grpc-web-text",
          new TextEncoder().encode("!!!!"),
        ),
      ),
      "invalid_argument",
    );
    // Refused before the call runs, in text mode: the trailers frame is base64 too.
    assert.equal(
      await grpcWebStatus(
        await call("/users.Users/GetUser", "application/grpc-web-text", new Uint8Array(0), {
          "grpc-timeout": "soon",
        }),
      ),
      "invalid_argument",
    );
    assert.equal(
      await grpcWebStatus(
        await call("/users.Users/GetUser", web, envelopes(new Uint8Array([0x08])), {
          "grpc-encoding": "lz4",
        }),
      ),
      "unimplemented",
    );

    assert.deepEqual(reported, [], "nothing reached onError");
    // The server is unharmed: both protocols answer.
    await using connection = new Connection(server.url);
    assert.deepEqual(await connection.unary("users/get_user", { user_id: 1 }), {
      username: "user1",
      age: 30,
    });
    const ok = await call(
      "/users.Users/GetUser",
      "application/json",
      new TextEncoder().encode('{"userId": 2}'),
    );
    assert.deepEqual(await ok.json(), { username: "user2", age: "30" });
  } finally {
    await server.shutdown({ gracePeriodMs: 500 });
  }
});

test("connect hostile: a stream that declares 4 GB fails at once, without waiting for the bytes", async () => {
  const { server, reported } = await serve();
  try {
    // The client sends the 5-byte prefix and then nothing: the answer must not wait for the rest.
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
        c.enqueue(prefix(0, 0xffff_ffff));
      },
    });
    const response = await within(
      fetch(`${server.url}/chat.Chat/Echo`, {
        method: "POST",
        headers: { "content-type": STREAM },
        body,
        duplex: "half",
      } as RequestInit),
      5000,
      "the answer to a 4 GB prefix",
    );
    const error = await within(connectStreamError(response), 5000, "the end-stream message");
    assert.equal(error.code, "resource_exhausted");
    try {
      controller.close();
    } catch {
      // the server cancelled the body already
    }
    // Other calls meanwhile and afterwards are fine.
    const ok = await fetch(`${server.url}/users.Users/ListUsers`, {
      method: "POST",
      headers: { "content-type": STREAM },
      body: envelopes({ json: { limit: 2 } }) as Uint8Array<ArrayBuffer>,
    });
    assert.equal(readEnvelopes(new Uint8Array(await ok.arrayBuffer())).length, 3);
    assert.deepEqual(reported, []);
  } finally {
    await server.shutdown({ gracePeriodMs: 500 });
  }
});
