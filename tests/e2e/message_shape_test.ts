/**
 * The shape limits of one message (depth, object keys, array items; docs/security.md) on every
 * transport: in memory, HTTP and WebSocket on real sockets. A message over them is refused with
 * `resource_exhausted` naming the limit and where it was passed, before the handler (or zod)
 * sees it; a message at the limits goes through. Long texts are refused by the scan before they
 * are parsed, shorter ones once parsed: both paths are exercised.
 */
import assert from "node:assert/strict";
import { rejection, runtime, test } from "../_harness.ts";
import { rawSocket } from "../_raw_socket.ts";
import { Connection, MicroAPI, RpcError, Service, stream, z } from "../../mod.ts";
import type { Limits } from "../../src/protocol/limits.ts";
import { createTestConnection } from "../../src/testing/mod.ts";

function shapes(limits?: Partial<Limits>) {
  const ran: string[] = [];
  const service = new Service("shapes")
    .method("take", {
      input: z.object({ m: z.unknown() }),
      output: z.object({ ok: z.boolean() }),
    }, () => {
      ran.push("take");
      return { ok: true };
    })
    .method("collect", {
      input: stream(z.object({ m: z.unknown() })),
      output: z.object({ n: z.number() }),
    }, async (messages) => {
      let n = 0;
      for await (const _ of messages) {
        ran.push(`collect ${n}`);
        n++;
      }
      return { n };
    });
  return { app: new MicroAPI({ services: [service], limits, onError: () => {} }), ran };
}

/** `levels` nested arrays: `[[[]]]` for 3. */
function nested(levels: number): unknown {
  let value: unknown = [];
  for (let i = 1; i < levels; i++) value = [value];
  return value;
}

function keys(count: number): Record<string, number> {
  const record: Record<string, number> = {};
  for (let i = 0; i < count; i++) record[`k${i}`] = i;
  return record;
}

function details(error: unknown): Record<string, unknown> {
  assert.ok(RpcError.is(error), `expected an RpcError, got ${error}`);
  assert.equal(error.code, "resource_exhausted", error.message);
  return error.details as Record<string, unknown>;
}

type Transport = "memory" | "http" | "ws";

async function connect(app: MicroAPI, transport: Transport) {
  if (transport === "memory") {
    const connection = await createTestConnection(app);
    return { connection, url: "", [Symbol.asyncDispose]: () => connection.close() };
  }
  const server = await app.serve({ port: 0, hostname: "127.0.0.1" });
  const connection = new Connection(server.url, { transport });
  return {
    connection,
    url: server.url,
    async [Symbol.asyncDispose]() {
      await connection.close();
      await server.shutdown({ gracePeriodMs: 500 });
    },
  };
}

for (const transport of ["memory", "http", "ws"] as const) {
  test(`shape limits (${runtime} ${transport}): nesting past maxDepth is refused, 64 levels pass`, async () => {
    const { app, ran } = shapes();
    await using target = await connect(app, transport);
    // The message is one level ({"m": ...}), so m may nest 63 more.
    assert.deepEqual(await target.connection.unary("shapes/take", { m: nested(63) }), { ok: true });
    const error = await rejection(target.connection.unary("shapes/take", { m: nested(64) }));
    assert.deepEqual(details(error), {
      limit: 64,
      limit_name: "maxDepth",
      path: ["m", ...Array(63).fill(0)],
    });
    assert.match((error as Error).message, /nests deeper than 64 levels, at m\[0\]/);
    assert.deepEqual(ran, ["take"]);
  });

  test(`shape limits (${runtime} ${transport}): a record past maxKeys is refused unparsed, one at it passes`, async () => {
    const { app, ran } = shapes();
    await using target = await connect(app, transport);
    // 50 000 keys in all: "m" and 49 999 in the record. The text is long: the scan decides.
    assert.ok(JSON.stringify({ m: keys(49_999) }).length > 64 * 1024);
    assert.deepEqual(await target.connection.unary("shapes/take", { m: keys(49_999) }), {
      ok: true,
    });
    const error = await rejection(target.connection.unary("shapes/take", { m: keys(50_000) }));
    assert.deepEqual(details(error), {
      limit: 50_000,
      limit_name: "maxKeys",
      path: ["m", "k49999"],
    });
    assert.deepEqual(ran, ["take"]);
  });

  test(`shape limits (${runtime} ${transport}): a streamed message past maxItems fails the call at its index`, async () => {
    const { app, ran } = shapes({ maxItems: 10 });
    await using target = await connect(app, transport);
    const call = target.connection.clientStream("shapes/collect");
    await call.send({ m: Array(10).fill(0) });
    // Short, so it is parsed first and walked.
    await call.send({ m: [Array(5).fill(0), Array(5).fill(0)] }).catch(() => {});
    const error = await rejection(call.end());
    assert.deepEqual(details(error), {
      limit: 10,
      limit_name: "maxItems",
      path: ["m", 1, 3],
      index: 1,
    });
    assert.match((error as Error).message, /^The message at index 1 has more than 10 array items/);
    assert.deepEqual(ran, ["collect 0"]);
  });
}

test(`shape limits (${runtime} http): the body of the adversarial test is refused, with curl's framings too`, async () => {
  const { app, ran } = shapes();
  await using server = await app.serve({ port: 0, hostname: "127.0.0.1" });
  const post = async (path: string, type: string, body: string) => {
    const response = await fetch(server.url + path, {
      method: "POST",
      headers: { "content-type": type },
      body,
    });
    return { status: response.status, body: await response.json() };
  };
  // 200 000 keys against a record: 3.2 MB, refused before JSON.parse.
  const record = await post(
    "/shapes/take",
    "application/json",
    JSON.stringify({ m: keys(200_000) }),
  );
  assert.equal(record.status, 429);
  assert.equal(record.body.code, "resource_exhausted");
  assert.deepEqual(record.body.details.path, ["m", "k49999"]);
  // A client stream as a JSON array: each message on its own, the index in the details.
  const messages = [{ m: keys(40_000) }, { m: keys(40_000) }, { m: keys(50_000) }];
  const array = await post("/shapes/collect", "application/json", JSON.stringify(messages));
  assert.equal(array.status, 429);
  assert.deepEqual(array.body.details, {
    limit: 50_000,
    limit_name: "maxKeys",
    path: ["m", "k49999"],
    index: 2,
  });
  // The same over NDJSON, one message per line.
  const lines = messages.map((m) => JSON.stringify(m)).join("\n");
  const ndjson = await post("/shapes/collect", "application/x-ndjson", lines);
  assert.equal(ndjson.status, 429);
  assert.equal(ndjson.body.details.index, 2);
  // The JSON array is read whole, so none of its messages ran; NDJSON's first two did.
  assert.deepEqual(ran, ["collect 0", "collect 1"]);
});

test(`shape limits (${runtime} ws): a long frame over the limits that names no call closes the socket`, async () => {
  const { app } = shapes();
  await using server = await app.serve({ port: 0, hostname: "127.0.0.1" });
  const raw = await rawSocket(server.url);
  // Attributable: the call fails, the socket stays.
  raw.sendFrames({
    type: "open",
    id: 1,
    service: "shapes",
    method: "take",
    input: { m: keys(50_000) },
  });
  const end = await raw.frame((f) => f.type === "end" && f.id === 1);
  assert.equal(end.code, "resource_exhausted");
  assert.deepEqual((end.details as { path: unknown }).path, ["m", "k49999"]);
  // Not attributable (the id comes last): the socket is closed, as for an oversize message.
  raw.send(
    JSON.stringify({
      input: { m: keys(50_000) },
      method: "take",
      service: "shapes",
      type: "open",
      id: 2,
    }),
  );
  const closed = await raw.closed;
  assert.equal(closed.code, 1009);
});
